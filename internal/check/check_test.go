package check

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// copyDir copies the example trees into a fresh repository.
func copyDir(t *testing.T, dst string, srcs ...string) {
	t.Helper()
	if err := copyTrees(dst, srcs...); err != nil {
		t.Fatal(err)
	}
}

func copyTrees(dst string, srcs ...string) error {
	for _, src := range srcs {
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, path)
			if d.IsDir() {
				if d.Name() == ".slipway" || d.Name() == "generate" {
					return filepath.SkipDir
				}
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// run checks the example with the overlays copied over it and returns the
// result, as decoded from the result.json the check saved. A whole check
// of the example costs seconds, and the tests only read its result: each
// example tree is checked once per test binary, and every caller gets its
// own copy to change.
func run(t *testing.T, overlays ...string) *Result {
	t.Helper()
	v, _ := checks.LoadOrStore(strings.Join(overlays, "\x00"), &checked{})
	c := v.(*checked)
	c.once.Do(func() { c.doc, c.rules, c.err = runOnce(overlays) })
	if c.err != nil {
		t.Fatal(c.err)
	}
	res := &Result{Rules: c.rules}
	if err := json.Unmarshal(c.doc, &res.Result); err != nil {
		t.Fatal(err)
	}
	res.Commit = ""
	return res
}

var checks sync.Map // overlays -> *checked

// checked is one check of an example tree, run once.
type checked struct {
	once  sync.Once
	doc   []byte
	rules []policy.Rule
	err   error
}

func runOnce(overlays []string) ([]byte, []policy.Rule, error) {
	repo, err := os.MkdirTemp("", "slipway-check-test-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(repo)
	if err := copyTrees(repo, append([]string{"../../examples/credit-risk"}, overlays...)...); err != nil {
		return nil, nil, err
	}
	res, err := Run(context.Background(), Options{Repo: repo, NoPlan: true, Now: now, Version: "test"})
	if err != nil {
		return nil, nil, err
	}
	// The check's own document, as it saved it, is what the tests read.
	saved, err := os.ReadFile(filepath.Join(repo, ".slipway", "check", "result.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("result not saved: %w", err)
	}
	doc, err := json.Marshal(&res.Result)
	if err != nil {
		return nil, nil, err
	}
	var a, b any
	if err := json.Unmarshal(saved, &a); err != nil {
		return nil, nil, fmt.Errorf("saved result: %w", err)
	}
	_ = json.Unmarshal(doc, &b)
	if d := cmp.Diff(a, b); d != "" {
		return nil, nil, fmt.Errorf("saved result differs from the one returned (-saved +returned):\n%s", d)
	}
	return doc, res.Rules, nil
}

// denies lists "rule file:line (model@env)" of every denial, sorted.
func denies(r *Result) []string {
	var out []string
	for _, u := range r.Units {
		for _, res := range u.Results {
			if res.Outcome == policy.OutcomeDeny {
				out = append(out, res.Rule+" "+res.Pos.File+" ("+u.Model+"@"+u.Environment+")")
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestExamplePasses(t *testing.T) {
	res := run(t)
	if res.Verdict != policy.OutcomeWarn {
		t.Errorf("verdict %s, want warn; denies: %v", res.Verdict, denies(res))
	}
	if len(res.Units) != 6 {
		t.Errorf("%d units, want 6", len(res.Units))
	}
	for _, u := range res.Units {
		if u.Evidence == nil || u.Evidence.SHA256 == "" || u.Evidence.Headline["roc_auc"] == nil {
			t.Errorf("%s@%s: evidence ref %+v", u.Model, u.Environment, u.Evidence)
		}
	}
}

func TestRejectedExample(t *testing.T) {
	res := run(t, "../../examples/credit-risk-rejected")
	want := []string{
		// The rejected predictions regress against the champion's,
		// measured on the same gold rows.
		"evaluation.baseline_regression models/credit-default/model.cue (credit-default@production)",
		"evaluation.baseline_regression models/credit-default/model.cue (credit-default@production)",
		"evaluation.baseline_regression models/credit-default/model.cue (credit-default@production)",
		"evaluation.baseline_regression models/credit-default/model.cue (credit-default@staging)",
		"evaluation.baseline_regression models/credit-default/model.cue (credit-default@staging)",
		"evaluation.baseline_regression models/credit-default/model.cue (credit-default@staging)",
		"evaluation.baseline_required models/fraud/model.cue (fraud@production)",
		"evaluation.held_out models/churn/model.cue (churn@staging)",
		"fairness.demographic_parity models/credit-default/model.cue (credit-default@production)",
		"fairness.demographic_parity models/credit-default/model.cue (credit-default@production)",
		"fairness.demographic_parity models/credit-default/model.cue (credit-default@staging)",
		"fairness.demographic_parity models/credit-default/model.cue (credit-default@staging)",
		"fairness.equalized_odds models/credit-default/model.cue (credit-default@production)",
		"fairness.equalized_odds models/credit-default/model.cue (credit-default@staging)",
		"handover.alert_conditions models/churn/model.cue (churn@staging)",
		"handover.error_coverage models/credit-default/model.cue (credit-default@production)",
		"handover.error_coverage models/credit-default/model.cue (credit-default@production)",
		"handover.error_coverage models/credit-default/model.cue (credit-default@production)",
		"handover.error_coverage models/credit-default/model.cue (credit-default@staging)",
		"handover.error_coverage models/credit-default/model.cue (credit-default@staging)",
		"handover.error_coverage models/credit-default/model.cue (credit-default@staging)",
		"handover.placeholder models/credit-default/model.cue (credit-default@production)",
		"handover.placeholder models/credit-default/model.cue (credit-default@staging)",
		"handover.rollback_tested models/fraud/model.cue (fraud@production)",
		"handover.runbook_content models/churn/model.cue (churn@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@production)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_content models/credit-default/model.cue (credit-default@staging)",
		"handover.runbook_sections models/churn/model.cue (churn@staging)",
		"release.promotion_order models/credit-default/model.cue (credit-default@production)",
	}
	if d := cmp.Diff(want, denies(res)); d != "" {
		t.Errorf("denials (-want +got):\n%s", d)
	}
	if res.Verdict != policy.OutcomeDeny || res.Units[0].Verdict != policy.OutcomeDeny {
		t.Errorf("verdict %s, first unit %s: denied units come first", res.Verdict, res.Units[0].Verdict)
	}
}

// TestFormats compares every output format of the rejected example with
// its golden file (go test ./internal/check -run TestFormats -update).
func TestFormats(t *testing.T) {
	res := run(t, "../../examples/credit-risk-rejected")
	// The policy digest changes with every edit of a built-in rule: the
	// golden files pin that it is there, not its value.
	if !strings.HasPrefix(res.PolicyDigest, "sha256:") {
		t.Errorf("policy_digest %q: want a sha256 digest", res.PolicyDigest)
	}
	res.PolicyDigest = "sha256:(policy bundle digest)"
	// The evidence engine owns the summaries' bytes and the metrics' last
	// digits; the golden files pin what this package prints.
	for _, u := range res.Units {
		if u.Evidence == nil {
			continue
		}
		u.Evidence.SHA256 = "sha256:(evidence summary digest)"
		for k, v := range u.Evidence.Headline {
			if v != nil {
				r := math.Round(*v*1e4) / 1e4
				u.Evidence.Headline[k] = &r
			}
		}
		for _, figs := range u.Evidence.Fairness {
			for k, f := range figs {
				if f.Value != nil {
					r := math.Round(*f.Value*1e4) / 1e4
					f.Value = &r
					figs[k] = f
				}
			}
		}
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, res, format, res.Rules); err != nil {
				t.Fatal(err)
			}
			ext := map[string]string{"text": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "github": "github.txt"}[format]
			golden := filepath.Join("testdata", "rejected."+ext)
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), buf.String()); d != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", format, golden, d)
			}
			switch format {
			case "json", "sarif":
				var v any
				if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
					t.Errorf("invalid JSON: %v", err)
				}
			case "junit":
				var v junitSuites
				if err := xml.Unmarshal(buf.Bytes(), &v); err != nil {
					t.Errorf("invalid XML: %v", err)
				}
			}
		})
	}
}

func TestSARIFShape(t *testing.T) {
	res := run(t, "../../examples/credit-risk-rejected")
	var buf bytes.Buffer
	if err := Write(&buf, res, "sarif", res.Rules); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %d (%s)", r.RuleID, r.RuleIndex, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
		if len(r.Locations) == 0 || r.Locations[0].PhysicalLocation.Region == nil {
			t.Errorf("result %s has no line", r.RuleID)
		}
	}
}

func TestGitHubEscaping(t *testing.T) {
	r := &Result{Result: checkresult.Result{Verdict: policy.OutcomeDeny, Units: []Unit{{Model: "m", Environment: "e", Results: []checkresult.Finding{{
		Rule: "x.y", Severity: policy.SeverityDeny, Outcome: policy.OutcomeDeny, Model: "m", Environment: "e",
		Message: "100% bad\nsecond line",
	}}}}}}
	r.Units[0].Results[0].Pos.File = "a,b:c.cue"
	r.Units[0].Results[0].Pos.Line = 3
	var buf bytes.Buffer
	if err := Write(&buf, r, "github", nil); err != nil {
		t.Fatal(err)
	}
	want := "::error file=a%2Cb%3Ac.cue,line=3,title=x.y (m @ e)::100%25 bad%0Asecond line\nslipway check: deny (1 unit(s))\n"
	if got := buf.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestHeadCommitArgs(t *testing.T) {
	got := strings.Join(headCommitArgs("/repo"), " ")
	if want := "git -C /repo rev-parse --verify -q HEAD"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestHugeMessageClipped: a policy message built from unbounded input
// (here a repository rule's 2 MB message) is clipped, so result.json stays
// small.
func TestHugeMessageClipped(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: a whole check of the example with a 2 MB denial; skipped under -short")
	}
	repo := t.TempDir()
	copyDir(t, repo, "../../examples/credit-risk")
	rule := `package slipway.team

deny contains {"id": "team.huge", "msg": msg} if {
	msg := concat("", [x | some i in numbers.range(1, 200000); x := "0123456789"])
}
`
	if err := os.MkdirAll(filepath.Join(repo, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "policies", "huge.rego"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Repo: repo, NoPlan: true, Now: now, Version: "test", Envs: []string{"staging"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range res.Units {
		for _, r := range u.Results {
			if len(r.Message) > 4096 {
				t.Errorf("%s: message is %d bytes", r.Rule, len(r.Message))
			}
			found = found || r.Rule == "team.huge"
		}
	}
	if !found {
		t.Errorf("the repository rule did not deny")
	}
	fi, err := os.Stat(filepath.Join(repo, ".slipway", "check", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20 {
		t.Errorf("result.json is %d bytes", fi.Size())
	}
}

// TestTrustChangedFromPullRequest judges a pull request's files (--github):
// a key under keys/ denies every unit until a security owner approved.
func TestTrustChangedFromPullRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: three whole checks of the example; skipped under -short")
	}
	tests := []struct {
		name      string
		changed   []string
		approvers []string
		authors   []string
		// wantDenied is how many units release.trust_changed denies,
		// wantPassed how many it passes.
		wantDenied, wantPassed int
	}{
		{name: "key added, no owner approved", changed: []string{"keys/attacker.pub"}, approvers: []string{"alice"}, authors: []string{"erin"}, wantDenied: 6},
		{name: "key added, owner approved", changed: []string{"keys/attacker.pub"}, approvers: []string{"alice", "carol"}, authors: []string{"erin"}, wantPassed: 6},
		// An owner who wrote a commit of the change cannot approve it.
		{name: "key added, owner approved own change", changed: []string{"keys/attacker.pub"}, approvers: []string{"Carol"}, authors: []string{"erin", "carol"}, wantDenied: 6},
		// Nobody's approval is independent when the authors are unknown.
		{name: "key added, authors unknown", changed: []string{"keys/attacker.pub"}, approvers: []string{"carol"}, wantDenied: 6},
		{name: "no trust root change", changed: []string{"models/fraud/RUNBOOK.md"}, authors: []string{"erin"}, wantPassed: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := t.TempDir()
			copyDir(t, repo, "../../examples/credit-risk")
			pc := filepath.Join(repo, "platform.cue")
			b, err := os.ReadFile(pc)
			if err != nil {
				t.Fatal(err)
			}
			b = []byte(strings.Replace(string(b), "minGroupSize: 50", "minGroupSize: 50\n\t\tsecurityOwners: [\"carol\", \"@acme/security\"]", 1))
			if err := os.WriteFile(pc, b, 0o644); err != nil {
				t.Fatal(err)
			}
			approvals := []policy.Approval{}
			for _, u := range tt.approvers {
				approvals = append(approvals, policy.Approval{User: u, State: "APPROVED"})
			}
			var asked []string
			res, err := Run(context.Background(), Options{
				Repo: repo, NoPlan: true, Now: now, Version: "test",
				ChangedFiles: tt.changed,
				Approvals:    approvals,
				Authors:      tt.authors,
				OwnersApproved: func(_ context.Context, owners []string, approvals []policy.Approval) []string {
					asked = owners
					approved := []string{}
					for _, o := range owners {
						for _, a := range approvals {
							if strings.EqualFold(o, a.User) {
								approved = append(approved, o)
							}
						}
					}
					return approved
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			denied, passed := 0, 0
			for _, u := range res.Units {
				for _, r := range u.Results {
					if r.Rule != "release.trust_changed" {
						continue
					}
					switch r.Outcome {
					case policy.OutcomeDeny:
						denied++
						if want := "the trust root changed (keys/attacker.pub): an approval from a security owner (carol, @acme/security) is needed, and none is recorded"; r.Message != want {
							t.Errorf("message %q, want %q", r.Message, want)
						}
						if r.Pos.File != "waivers.cue" {
							t.Errorf("denial at %s, want waivers.cue (signing.trustedKeys)", r.Pos.File)
						}
					case policy.OutcomePass:
						passed++
					}
				}
			}
			if denied != tt.wantDenied || passed != tt.wantPassed {
				t.Errorf("release.trust_changed denied %d and passed %d units, want %d and %d", denied, passed, tt.wantDenied, tt.wantPassed)
			}
			if len(tt.changed) > 0 && tt.changed[0] == "keys/attacker.pub" {
				if diff := cmp.Diff([]string{"carol", "@acme/security"}, asked); diff != "" {
					t.Errorf("owners asked (-want +got):\n%s", diff)
				}
			}
		})
	}
}
