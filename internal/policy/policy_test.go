package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/policies"
)

// TestRegoTests runs the packs' own Rego tests through OPA's test runner,
// so that `go test ./...` fails when a policy test fails.
func TestRegoTests(t *testing.T) {
	rep, err := RunTests(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed < 50 {
		t.Errorf("only %d Rego tests passed; were the tests loaded?", rep.Passed)
	}
	for _, r := range rep.Results {
		if r.Outcome == "fail" || r.Outcome == "error" {
			t.Errorf("%s %s.%s: %s %s", r.Location, r.Package, r.Name, r.Outcome, r.Error)
		}
	}
	if rep.Coverage < 90 {
		t.Errorf("coverage of the built-in policies is %.1f%%, want >= 90%%", rep.Coverage)
	}
}

// TestOPACLI checks the built-in packs with the real OPA command when it is
// installed, as CI does.
func TestOPACLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the opa CLI on the built-in policies; skipped under -short")
	}
	opa, err := exec.LookPath("opa")
	if err != nil {
		home, _ := os.UserHomeDir()
		opa = filepath.Join(home, "go", "bin", "opa")
		if _, err := os.Stat(opa); err != nil {
			t.Skip("opa not installed (go install github.com/open-policy-agent/opa@v1.22.2)")
		}
	}
	dir, err := filepath.Abs("../../policies")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "--strict", dir}, {"test", dir}, {"fmt", "--fail", "-l", dir}} {
		out, err := exec.Command(opa, args...).CombinedOutput()
		if err != nil {
			t.Errorf("opa %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestCatalogue(t *testing.T) {
	rules, err := Catalogue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) < 40 {
		t.Errorf("catalogue has %d rules", len(rules))
	}
	for _, r := range rules {
		if r.Title == "" || r.Description == "" {
			t.Errorf("%s: no title or description", r.ID)
		}
		if r.Package == "engine" {
			continue
		}
		fws := map[string]bool{}
		for _, c := range r.Controls {
			fws[c.Framework] = true
		}
		for _, fw := range []string{FrameworkEUAIAct, FrameworkNISTRMF, FrameworkISO42001} {
			if !fws[fw] {
				t.Errorf("%s (%s): no %s control", r.ID, r.Location, fw)
			}
		}
		if !strings.HasPrefix(r.Package, "slipway.") || !strings.HasPrefix(r.ID, strings.TrimPrefix(r.Package, "slipway.")+".") {
			t.Errorf("%s: id does not start with its pack %s", r.ID, r.Package)
		}
	}
}

// TestEmittedIDsAreCatalogued makes sure every rule id the packs can emit
// has a METADATA entry, so no finding lacks its controls.
func TestEmittedIDsAreCatalogued(t *testing.T) {
	e := newEngine(t, "")
	lit := regexp.MustCompile(`(?:lib\.result|lib\.spec_result)\("([a-z_.]+)"`)
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "_test.rego") || !strings.HasSuffix(path, ".rego") {
			return err
		}
		b, _ := fs.ReadFile(policies.FS, path)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if _, ok := e.Rule(m[1]); !ok {
				t.Errorf("%s emits %s, which has no METADATA", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"fairness.demographic_parity", "fairness.equalized_odds", "fairness.equal_opportunity", "fairness.threshold"} {
		if _, ok := e.Rule(id); !ok {
			t.Errorf("%s not catalogued", id)
		}
	}
}

func newEngine(t testing.TB, repo string) *Engine {
	t.Helper()
	if repo == "" {
		// The built-in engine is immutable once compiled, and compiling
		// it is most of what a unit test here costs: compile it once.
		builtinOnce.Do(func() { builtin, builtinErr = New(context.Background(), "") })
		if builtinErr != nil {
			t.Fatal(builtinErr)
		}
		return builtin
	}
	e, err := New(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	builtinOnce sync.Once
	builtin     *Engine
	builtinErr  error
)

// fixture returns the passing unit of policies/fixtures_test.rego, so the Go
// and Rego tests share one input.
func fixture(t testing.TB) Input {
	t.Helper()
	mods, _, err := loadModules("", true)
	if err != nil {
		t.Fatal(err)
	}
	var opts []func(*rego.Rego)
	for _, m := range mods {
		opts = append(opts, rego.ParsedModule(m))
	}
	opts = append(opts, rego.Query("data.slipway.fixtures_test.unit"))
	rs, err := rego.New(opts...).Eval(context.Background())
	if err != nil || len(rs) == 0 {
		t.Fatalf("fixture: %v", err)
	}
	b, err := json.Marshal(rs[0].Expressions[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ReadInput(b)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// patch applies a JSON merge of v at the slash path of the input document.
func patch(t testing.TB, in Input, path string, v any) Input {
	t.Helper()
	doc, err := inputDocument(in)
	if err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(strings.Trim(path, "/"), "/")
	cur := doc
	for _, k := range keys[:len(keys)-1] {
		cur = cur[k].(map[string]any)
	}
	if v == nil {
		delete(cur, keys[len(keys)-1])
	} else {
		cur[keys[len(keys)-1]] = v
	}
	b, _ := json.Marshal(doc)
	out, err := ReadInput(b)
	if err != nil {
		t.Fatal(err)
	}
	if v == nil && path == "/evidence" {
		out.Evidence = nil
	}
	out.waiverPos = in.waiverPos
	return out
}

// paths records the CUE paths positions were asked for.
type paths struct{ asked map[string]bool }

func (p *paths) Pos(path string) spec.Position {
	p.asked[path] = true
	return spec.Position{File: "models/x.cue", Line: len(path), Column: 1}
}

func outcomes(rs []Result) map[string]Outcome {
	m := map[string]Outcome{}
	for _, r := range rs {
		if prev, ok := m[r.Rule]; !ok || r.Outcome.Rank() < prev.Rank() {
			m[r.Rule] = r.Outcome
		}
	}
	return m
}

func TestEvaluatePassingUnit(t *testing.T) {
	e := newEngine(t, "")
	rs := e.Evaluate(context.Background(), nil, fixture(t))
	if v := Verdict(rs); v != OutcomePass {
		for _, r := range rs {
			if r.Outcome != OutcomePass {
				t.Logf("%s %s: %s", r.Outcome, r.Rule, r.Message)
			}
		}
		t.Fatalf("verdict %s, want pass", v)
	}
	got := outcomes(rs)
	for _, r := range e.Rules() {
		if r.Package == "engine" {
			if _, ok := got[r.ID]; ok {
				t.Errorf("engine rule %s reported for a passing unit", r.ID)
			}
			continue
		}
		if r.Package == "slipway.monitoring" {
			// Judged on monitor runs and deployed models' monitoring
			// status, neither of which the fixture has: TestMonitoringUnit.
			if _, ok := got[r.ID]; ok {
				t.Errorf("%s reported for a unit without monitoring figures", r.ID)
			}
			continue
		}
		want := OutcomePass
		if got[r.ID] != want {
			t.Errorf("%s: %s, want %s", r.ID, got[r.ID], want)
		}
	}
}

// TestApprovalsKnownOrNot checks that release.approvals applies only when
// the reviews are known, and release.approvals_pending only when not.
func TestApprovalsKnownOrNot(t *testing.T) {
	e := newEngine(t, "")
	in := fixture(t)
	in.Approvals = nil
	got := outcomes(e.Evaluate(context.Background(), nil, in))
	if _, ok := got["release.approvals"]; ok {
		t.Errorf("release.approvals reported without reviews: %s", got["release.approvals"])
	}
	if got["release.approvals_pending"] != OutcomeWarn {
		t.Errorf("release.approvals_pending: %s, want warn", got["release.approvals_pending"])
	}
	in.Approvals = []Approval{}
	got = outcomes(e.Evaluate(context.Background(), nil, in))
	if got["release.approvals"] != OutcomeDeny || got["release.approvals_pending"] != OutcomePass {
		t.Errorf("no approvals: release.approvals %s, pending %s; want deny, pass", got["release.approvals"], got["release.approvals_pending"])
	}
}

func TestEvaluateFailClosed(t *testing.T) {
	e := newEngine(t, "")
	base := fixture(t)
	tests := []struct {
		name  string
		in    Input
		want  string
		field string
	}{
		{"no evidence", patch(t, base, "/evidence", nil), RuleEvidenceMissing, "evaluation.predictions"},
		{"evidence problem", patch(t, base, "/evidence/problems", []any{map[string]any{"kind": "tests", "path": "junit.xml", "message": "XML syntax error on line 3"}}), RuleEvidenceUnreadable, "tests.reports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := e.Evaluate(context.Background(), nil, tt.in)
			if Verdict(rs) != OutcomeDeny {
				t.Fatalf("verdict %s, want deny", Verdict(rs))
			}
			if rs[0].Rule != tt.want {
				t.Errorf("first result %s, want the engine's %s, which explains the rest", rs[0].Rule, tt.want)
			}
			found := false
			for _, r := range rs {
				if r.Rule == tt.want {
					found = true
					if r.Field != tt.field {
						t.Errorf("field %q, want %q", r.Field, tt.field)
					}
				}
			}
			if !found {
				t.Errorf("no %s result", tt.want)
			}
		})
	}
}

func TestEvaluatePositions(t *testing.T) {
	e := newEngine(t, "")
	in := patch(t, fixture(t), "/evidence/evaluation/fairness/age_band/demographic_parity_difference", json.Number("0.2"))
	in = patch(t, in, "/data_sources/applications-gold/version", "v1")
	loc := &paths{asked: map[string]bool{}}
	rs := e.Evaluate(context.Background(), loc, in)
	var denies []string
	for _, r := range rs {
		if r.Outcome == OutcomeDeny {
			denies = append(denies, r.Rule+" "+r.Field)
		}
	}
	sort.Strings(denies)
	want := []string{
		"data.source_metadata dataSources.applications-gold.version",
		"evaluation.gold_dataset evaluation.data",
		"fairness.demographic_parity fairness.thresholds.demographic_parity_difference",
	}
	if d := cmp.Diff(want, denies); d != "" {
		t.Errorf("denies (-want +got):\n%s", d)
	}
	for _, p := range []string{
		`models."credit-default".fairness.thresholds.demographic_parity_difference`,
		`dataSources."applications-gold".version`,
		`models."credit-default".evaluation.data`,
	} {
		if !loc.asked[p] {
			t.Errorf("position of %s not looked up; asked %v", p, loc.asked)
		}
	}
}

func TestSplitField(t *testing.T) {
	got := spec.ModelPath("m", splitField("handover.alerts[0].severity")...)
	if want := `models.m.handover.alerts[0].severity`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := cuePath(splitField("dataSources.app-gold.quality")), `dataSources."app-gold".quality`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestWaivers(t *testing.T) {
	e := newEngine(t, "")
	base := patch(t, fixture(t), "/rollback_rehearsals", []any{})
	waiver := func(approver, expires string) Input {
		in := base
		in.Waivers = []spec.Waiver{{Rule: "handover.rollback_tested", Model: "credit-default", Environment: "production",
			Reason: "rehearsal booked for next week", ApprovedBy: approver, Expires: expires, Ticket: "OPS-1"}}
		in.waiverPos = []spec.Position{{File: "waivers.cue", Line: 3, Column: 2}}
		return in
	}
	tests := []struct {
		name        string
		in          Input
		wantVerdict Outcome
		wantRules   map[string]Outcome
	}{
		{"active", waiver("ops@example.com", "2026-11-30"), OutcomePass, map[string]Outcome{"handover.rollback_tested": OutcomeWaived}},
		{"expires today is still active", waiver("ops@example.com", "2026-11-23"), OutcomePass, map[string]Outcome{"handover.rollback_tested": OutcomeWaived}},
		{"expired", waiver("ops@example.com", "2026-11-22"), OutcomeDeny, map[string]Outcome{"handover.rollback_tested": OutcomeDeny, RuleWaiverExpired: OutcomeDeny}},
		{"unapproved", waiver("", "2026-11-30"), OutcomeDeny, map[string]Outcome{"handover.rollback_tested": OutcomeDeny, RuleWaiverUnapproved: OutcomeDeny}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := e.Evaluate(context.Background(), nil, tt.in)
			if v := Verdict(rs); v != tt.wantVerdict {
				t.Errorf("verdict %s, want %s", v, tt.wantVerdict)
			}
			got := outcomes(rs)
			for id, want := range tt.wantRules {
				if got[id] != want {
					t.Errorf("%s: %s, want %s", id, got[id], want)
				}
			}
			for _, r := range rs {
				if r.Outcome == OutcomeWaived && (r.Waiver == nil || r.Waiver.Ticket != "OPS-1" || r.Waiver.Pos.Line != 3) {
					t.Errorf("waived result without its waiver: %+v", r.Waiver)
				}
				if strings.HasPrefix(r.Rule, "waiver.") && r.Pos.File != "waivers.cue" {
					t.Errorf("%s at %v, want the waiver's position", r.Rule, r.Pos)
				}
			}
		})
	}
}

func TestRepoPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: compiles an engine per repository layout; skipped under -short")
	}
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, src := range files {
			p := filepath.Join(dir, "policies", name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	custom := `package slipway.team

# METADATA
# title: Owner is on the risk team
# description: Models are owned by the risk team's address.
# custom:
#   id: team.owner
#   severity: deny
#   controls:
#     - {framework: NIST AI RMF, id: GOVERN 2.1}
deny contains {"id": "team.owner", "msg": "owner is not risk-ml", "field": "owner"} if input.model.owner != "risk-ml@example.com"
`
	customTest := `package slipway.team_test

import data.slipway.team

test_owner if {
	count(team.deny) == 1 with input as {"model": {"owner": "x@example.com"}}
}
`
	t.Run("custom rule", func(t *testing.T) {
		dir := write(t, map[string]string{"team.rego": custom, "team_test.rego": customTest})
		e := newEngine(t, dir)
		r, ok := e.Rule("team.owner")
		if !ok || r.Builtin || r.Location != "policies/team.rego:3" {
			t.Fatalf("team.owner: %+v %v", r, ok)
		}
		in := patch(t, fixture(t), "/model/owner", "someone@example.com")
		got := outcomes(e.Evaluate(context.Background(), nil, in))
		if got["team.owner"] != OutcomeDeny {
			t.Errorf("team.owner: %s", got["team.owner"])
		}
		rep, err := RunTests(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rep.Results {
			if r.Package == "slipway.team_test" {
				names = append(names, r.Name+" "+r.Outcome)
			}
		}
		if d := cmp.Diff([]string{"test_owner pass"}, names); d != "" {
			t.Errorf("repo tests (-want +got):\n%s", d)
		}
	})
	t.Run("policy error denies", func(t *testing.T) {
		dir := write(t, map[string]string{"broken.rego": "package slipway.broken\n\nx := 1 if input.phase\n\nx := 2 if input.phase\n\ndeny contains {\"id\": \"broken.x\", \"msg\": \"x\"} if x == 3\n"})
		e := newEngine(t, dir)
		got := outcomes(e.Evaluate(context.Background(), nil, fixture(t)))
		if got[RulePolicyError] != OutcomeDeny {
			t.Errorf("policy.error: %q", got[RulePolicyError])
		}
	})
	t.Run("undefined decision denies", func(t *testing.T) {
		dir := write(t, map[string]string{"undef.rego": "package slipway.undef\n\ndeny := input.nothing\n"})
		e := newEngine(t, dir)
		got := outcomes(e.Evaluate(context.Background(), nil, fixture(t)))
		if got[RulePolicyUndefined] != OutcomeDeny {
			t.Errorf("policy.undefined: %q", got[RulePolicyUndefined])
		}
	})
	t.Run("malformed result denies", func(t *testing.T) {
		dir := write(t, map[string]string{"bad.rego": "package slipway.bad\n\ndeny contains \"just a string\"\n"})
		e := newEngine(t, dir)
		got := outcomes(e.Evaluate(context.Background(), nil, fixture(t)))
		if got[RulePolicyError] != OutcomeDeny {
			t.Errorf("policy.error: %q", got[RulePolicyError])
		}
	})
	t.Run("syntax error is a load error", func(t *testing.T) {
		dir := write(t, map[string]string{"bad.rego": "package slipway.bad\n\ndeny contains x if {\n"})
		_, err := New(context.Background(), dir)
		if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), "policies/bad.rego") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad metadata is a load error", func(t *testing.T) {
		src := "package slipway.bad\n\n# METADATA\n# title: T\n# custom:\n#   id: bad.rule\n#   severity: warn\ndeny contains {\"id\": \"bad.rule\", \"msg\": \"m\"} if false\n"
		dir := write(t, map[string]string{"bad.rego": src})
		_, err := New(context.Background(), dir)
		if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), `custom.severity "warn" must be "deny"`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestEvaluateAllKeepsOrder(t *testing.T) {
	e := newEngine(t, "")
	base := fixture(t)
	var ins []Input
	n := 100
	if testing.Short() {
		// Still more units than workers, so the order is at stake.
		n = 16
	}
	for i := range n {
		in := base
		in.Model.Name = fmt.Sprintf("m%02d", i)
		ins = append(ins, in)
	}
	out, err := e.EvaluateAll(context.Background(), nil, ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range out {
		if rs := j.Results; len(rs) == 0 || rs[0].Model != ins[i].Model.Name {
			t.Fatalf("results %d are not for %s", i, ins[i].Model.Name)
		}
	}
}

func TestWaiverStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 59, 0, 0, time.UTC)
	for _, tt := range []struct {
		w    checkresult.Waiver
		want string
	}{
		{checkresult.Waiver{ApprovedBy: "a@b.c", Expires: "2026-11-23"}, WaiverActive},
		{checkresult.Waiver{ApprovedBy: "a@b.c", Expires: "2026-11-22"}, WaiverExpired},
		{checkresult.Waiver{Expires: "2027-01-01"}, WaiverUnapproved},
	} {
		if got := WaiverStatus(tt.w, now); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.w, got, tt.want)
		}
	}
}

// TestInputValue keeps the OPA value built part by part equal to the
// input's JSON form.
func TestInputValue(t *testing.T) {
	in := fixture(t)
	doc, err := inputDocument(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ast.InterfaceToValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&valueCache{m: map[string]ast.Value{}}).input(in)
	if err != nil {
		t.Fatal(err)
	}
	if want.Compare(got) != 0 {
		t.Errorf("input value differs from the JSON document:\n%v\n%v", want, got)
	}
}

func TestFindPlaceholders(t *testing.T) {
	m := fixture(t).Model
	if got := FindPlaceholders(m); len(got) != 0 {
		t.Errorf("a complete model has placeholders: %v", got)
	}
	m.Owner = "TODO(slipway)@example.com"
	m.Handover.ErrorTypes = append([]spec.ErrorType(nil), m.Handover.ErrorTypes...)
	m.Handover.ErrorTypes[0].Action = "TODO(slipway): what to do"
	m.Deployment.Resolved.Name = "TODO(slipway)"
	want := []string{"handover.errorTypes[0].action", "owner"}
	if d := cmp.Diff(want, FindPlaceholders(m)); d != "" {
		t.Errorf("placeholders (-want +got):\n%s", d)
	}
}

func TestWaives(t *testing.T) {
	w := checkresult.Waiver{Rule: "handover.slos", Model: "churn", Environment: "production"}
	any := checkresult.Waiver{Rule: "handover.slos", Model: "churn", Environment: "*"}
	tests := []struct {
		name             string
		w                checkresult.Waiver
		rule, model, env string
		want             bool
	}{
		{"exact", w, "handover.slos", "churn", "production", true},
		{"other rule", w, "handover.on_call", "churn", "production", false},
		{"other model", w, "handover.slos", "fraud", "production", false},
		{"other environment", w, "handover.slos", "churn", "staging", false},
		{"any environment", any, "handover.slos", "churn", "staging", true},
		{"unit listing: any rule", w, "", "churn", "production", true},
		{"unit listing: any environment", w, "", "churn", "", true},
		{"unit listing: other model", w, "", "fraud", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Waives(tt.w, tt.rule, tt.model, tt.env); got != tt.want {
				t.Errorf("Waives = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOrphanAndSharedUnits checks that a stack without a model is judged
// by the rules that list its kind only, without evidence, and that a
// waiver governs the verdict as for any other unit.
func TestOrphanAndSharedUnits(t *testing.T) {
	e := newEngine(t, "")
	base := fixture(t)
	plan := map[string]any{"stack": "production/credit-default", "changes": map[string]any{"create": 0, "update": 0, "delete": 2, "replace": 0}, "resources": []any{}}
	for _, kind := range []string{KindOrphan, KindShared} {
		t.Run(kind, func(t *testing.T) {
			in := base
			in.Kind = kind
			in.Evidence = nil
			in.Plan = plan
			got := outcomes(e.Evaluate(context.Background(), nil, in))
			if d := cmp.Diff(map[string]Outcome{"infrastructure.no_destroy": OutcomeDeny}, got); d != "" {
				t.Errorf("results (-want +got):\n%s", d)
			}
			in.Waivers = []spec.Waiver{{Rule: "infrastructure.no_destroy", Model: in.Model.Name, Environment: "production", ApprovedBy: "ops@example.com", Expires: "2026-12-31", Ticket: "CHG-1"}}
			got = outcomes(e.Evaluate(context.Background(), nil, in))
			if got["infrastructure.no_destroy"] != OutcomeWaived {
				t.Errorf("waived: %v", got)
			}
		})
	}
}

// TestMonitoringUnit checks that a monitoring unit is judged by the
// monitoring pack alone, and that monitoring.fresh judges a model unit
// once its monitoring status is known.
func TestMonitoringUnit(t *testing.T) {
	e := newEngine(t, "")
	in := fixture(t)
	in.Kind = KindMonitoring
	in.Monitoring = map[string]any{"rows": 0, "drift": map[string]any{}, "versions": map[string]any{}, "outcomes": nil}
	got := outcomes(e.Evaluate(context.Background(), nil, in))
	want := map[string]Outcome{
		"monitoring.drift": OutcomeDeny, "monitoring.performance": OutcomeDeny, "monitoring.fairness": OutcomeDeny,
		"monitoring.unreleased_version": OutcomePass, "monitoring.model_age": OutcomePass,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("monitoring unit outcomes (-want +got):\n%s", d)
	}
	in = fixture(t)
	in.MonitoringStatus = &MonitoringStatus{Last: "", MaxGapSeconds: 3600, Since: "2026-01-01T00:00:00Z", Due: "2026-01-01T01:00:00Z", Overdue: true}
	if got := outcomes(e.Evaluate(context.Background(), nil, in)); got["monitoring.fresh"] != OutcomeDeny {
		t.Errorf("never-monitored model: monitoring.fresh %q, want deny", got["monitoring.fresh"])
	}
}

// TestInsufficientEvidence checks that a finding a rule marks as
// insufficient evidence keeps that outcome, denies in a protected
// environment and warns elsewhere.
func TestInsufficientEvidence(t *testing.T) {
	e := newEngine(t, "")
	in := patch(t, fixture(t), "/evidence/evaluation/groups/age_band/60+/count", 12)
	for _, tc := range []struct {
		protected bool
		severity  Severity
		verdict   Outcome
	}{{true, SeverityDeny, OutcomeDeny}, {false, SeverityWarn, OutcomeWarn}} {
		unit := patch(t, in, "/environment/protected", tc.protected)
		rs := e.Evaluate(context.Background(), nil, unit)
		var got []Result
		for _, r := range rs {
			if r.Rule == "fairness.min_group_size" {
				got = append(got, r)
			}
		}
		if len(got) != 1 || got[0].Outcome != OutcomeInsufficient || got[0].Severity != tc.severity {
			t.Errorf("protected %v: fairness.min_group_size results %+v, want one insufficient_evidence with severity %s", tc.protected, got, tc.severity)
		}
		if v := Verdict(rs); v != tc.verdict {
			t.Errorf("protected %v: verdict %s, want %s", tc.protected, v, tc.verdict)
		}
	}
}
