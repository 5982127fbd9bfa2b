package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/check"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/release"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	stagingAt    = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	productionAt = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	reportAt     = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
)

// released is the example platform after real releases: `slipway check`
// (evidence, Terraform plans, policies) and `slipway release` to staging
// for every model, then to production for credit-default and fraud with
// two approvals. It is built once and copied for each test.
var released struct {
	once sync.Once
	dir  string
	err  error
	// signer signed the fixture; tests appending records to a copy sign
	// with it.
	signer *sign.Signer
}

// fixtureSigner is the key buildReleased signed with last.
var fixtureSigner *sign.Signer

func releasedExample(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: checks, releases and signs the example; skipped under -short")
	}
	released.once.Do(func() {
		dir, err := os.MkdirTemp("", "slipway-report-fixture-")
		if err != nil {
			released.err = err
			return
		}
		released.dir = filepath.Join(dir, "repo")
		released.err = buildReleased(released.dir)
		released.signer = fixtureSigner
	})
	if released.err != nil {
		t.Fatalf("fixture: %v", released.err)
	}
	dst := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dst, os.DirFS(released.dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if released.dir != "" {
		os.RemoveAll(filepath.Dir(released.dir))
	}
	if portfolio.dir != "" {
		os.RemoveAll(portfolio.dir)
	}
	os.Exit(code)
}

func buildReleased(root string) error {
	ctx := context.Background()
	if err := os.CopyFS(root, os.DirFS("../../examples/credit-risk")); err != nil {
		return err
	}
	// A throw-away key, trusted under the id the example names.
	kp, err := sign.GenerateKeyPair([]byte("throwaway"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "keys", "release.pub"), kp.Public, 0o644); err != nil {
		return err
	}
	signer, err := sign.LoadPrivateKey(kp.Private, []byte("throwaway"))
	if err != nil {
		return err
	}
	fixtureSigner = signer
	approvals := []policy.Approval{
		{User: "head-of-risk", State: "APPROVED", SubmittedAt: "2026-11-24T09:00:00Z"},
		{User: "model-risk-officer", State: "APPROVED", SubmittedAt: "2026-11-24T09:10:00Z"},
	}
	for _, step := range []struct {
		env       string
		at        time.Time
		approvals []policy.Approval
		models    []string
	}{
		{"staging", stagingAt, nil, []string{""}},
		{"production", productionAt, approvals, []string{"credit-default", "fraud"}},
	} {
		res, err := check.Run(ctx, check.Options{Repo: root, Envs: []string{step.env}, Approvals: step.approvals, Now: step.at, Version: "test", Getenv: os.Getenv})
		if err != nil {
			return fmt.Errorf("check %s: %w", step.env, err)
		}
		p, err := spec.Load(ctx, root)
		if err != nil {
			return err
		}
		in, err := checkresult.Read(filepath.Join(root, ".slipway", filepath.FromSlash(checkresult.File)))
		if err != nil {
			return err
		}
		// The release confirms the reviews on GitHub (release --github),
		// which lists the ones the check counted.
		reviews := func(context.Context) (*checkresult.Reviews, error) {
			out := &checkresult.Reviews{Authors: in.Authors}
			for _, a := range step.approvals {
				out.Approvals = append(out.Approvals, checkresult.Approval{User: a.User, State: a.State, SubmittedAt: a.SubmittedAt})
			}
			return out, nil
		}
		for _, m := range step.models {
			out, err := release.Release(ctx, release.Options{Platform: p, Input: in, WorkDir: filepath.Join(root, ".slipway"),
				Environment: step.env, Model: m, Signer: signer, Version: "test", Now: step.at, Reviews: reviews})
			if err != nil {
				return fmt.Errorf("release %s %s: %w", step.env, m, err)
			}
			if len(out.Refused) > 0 {
				return fmt.Errorf("release %s %s refused (check verdict %s): %+v", step.env, m, res.Verdict, out.Refused)
			}
		}
	}
	return nil
}

func build(t *testing.T, root string, now time.Time, mod func(*Options)) *Report {
	t.Helper()
	ctx := context.Background()
	p, err := spec.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := verify.TrustedKeys(p)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(ctx, p.Root)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Platform: p, Keys: keys, Rules: eng.Rules(), Now: now, Version: "test"}
	if mod != nil {
		mod(&o)
	}
	rep, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func render(t *testing.T, rep *Report, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(context.Background(), &buf, rep, format); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// volatile finds what differs between two runs of the fixture: the
// throw-away key signs with a random nonce, so the ledger head differs,
// and Terraform's saved plan files carry timestamps.
func scrub(rep *Report, b []byte) []byte {
	repl := map[string]string{}
	if rep.Ledger.Head != "" {
		repl[rep.Ledger.Head] = "sha256:<ledger-head>"
	}
	n := 0
	for _, d := range rep.Models {
		for _, i := range d.Infrastructure {
			if _, ok := repl[i.PlanSHA256]; !ok {
				n++
				repl[i.PlanSHA256] = fmt.Sprintf("sha256:<plan-%d>", n)
			}
		}
	}
	for _, f := range rep.Coverage {
		for _, it := range f.Items {
			for _, c := range it.Models {
				if _, ok := repl[c.RecordDigest]; c.RecordDigest != "" && !ok {
					n++
					repl[c.RecordDigest] = fmt.Sprintf("sha256:<record-%d>", n)
				}
			}
		}
	}
	// The throw-away key differs per run, and so does its fingerprint.
	for _, k := range rep.Ledger.Fingerprints {
		for _, fp := range []string{k.Fingerprint, strings.ReplaceAll(k.Fingerprint, "+", "&#43;"), strings.ReplaceAll(k.Fingerprint, "/", "&#x2F;")} {
			b = bytes.ReplaceAll(b, []byte(fp), []byte("<key-fingerprint-"+k.ID+">"))
		}
	}
	re := regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	return re.ReplaceAllFunc(b, func(m []byte) []byte {
		if r, ok := repl[string(m)]; ok {
			return []byte(r)
		}
		return m
	})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// TestGolden renders the example after a release in every format, for
// the portfolio and for one model.
func TestGolden(t *testing.T) {
	root := releasedExample(t)
	for _, tc := range []struct {
		name  string
		model string
	}{
		{"portfolio", ""},
		{"credit-default", "credit-default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := build(t, root, reportAt, func(o *Options) { o.Model = tc.model })
			if !rep.Ledger.OK {
				t.Fatalf("ledger does not verify: %+v", rep.Ledger)
			}
			// A second build of the same ledger and clock, rendered in
			// every format (one build serves all three).
			second := build(t, root, reportAt, func(o *Options) { o.Model = tc.model })
			for _, f := range []string{FormatJSON, FormatMarkdown, FormatHTML} {
				got := render(t, rep, f)
				if again := render(t, second, f); !bytes.Equal(got, again) {
					t.Errorf("%s: two reports of the same ledger and clock differ", f)
				}
				golden(t, tc.name+"."+f, scrub(rep, got))
			}
		})
	}
}

// TestTamperExpiredNoFairness: a ledger with a tampered record, a waiver
// that expired since it was signed and a model without fairness evidence.
// The report shows all three plainly in every format.
func TestTamperExpiredNoFairness(t *testing.T) {
	root := releasedExample(t)
	tamper(t, root)
	// The example's waiver for fraud expires on 2027-03-31.
	later := time.Date(2027, 4, 15, 9, 0, 0, 0, time.UTC)
	rep := build(t, root, later, nil)

	if rep.Ledger.OK || rep.Ledger.Failed != 1 || len(rep.Failed) != 1 || rep.Failed[0].Record != "releases/production/credit-default/2.3.0.intoto.json" {
		t.Fatalf("tampered record not reported: ledger %+v failed %+v", rep.Ledger, rep.Failed)
	}
	if rep.Failed[0].Verified || len(rep.Failed[0].Problems) == 0 {
		t.Errorf("failed record: %+v", rep.Failed[0])
	}
	// Its figures are not used: credit-default's current production
	// version is gone, staging is the reference.
	cd := dossierOf(t, rep, "credit-default")
	if cd.Reference == nil || cd.Reference.Environment != "staging" {
		t.Errorf("credit-default reference = %+v, want the staging release", cd.Reference)
	}
	if !hasPrefix(cd.Gaps, "release record releases/production/credit-default/2.3.0.intoto.json FAILS VERIFICATION") {
		t.Errorf("credit-default gaps lack the failing record: %q", cd.Gaps)
	}
	var expired *WaiverRow
	for i := range rep.Waivers {
		if rep.Waivers[i].Model == "fraud" && rep.Waivers[i].Rule == "data.pii_feature" {
			expired = &rep.Waivers[i]
		}
	}
	if expired == nil || expired.Status != WaiverExpired || expired.Source != SourceSigned || len(expired.Signed) != 2 {
		t.Errorf("fraud's waiver = %+v, want expired and signed into both releases", expired)
	}
	if rep.Summary.ExpiredWaivers != 1 {
		t.Errorf("summary expired waivers = %d", rep.Summary.ExpiredWaivers)
	}
	if diff := cmp.Diff([]string{"churn"}, rep.Summary.LackingFairness); diff != "" {
		t.Errorf("lacking fairness (-want +got):\n%s", diff)
	}
	churn := dossierOf(t, rep, "churn")
	if churn.Fairness == nil || churn.Fairness.Missing == "" {
		t.Errorf("churn fairness = %+v, want missing", churn.Fairness)
	}
	for _, f := range rep.Coverage {
		for _, it := range f.Items {
			if it.ID != "MEASURE 2.11" {
				continue
			}
			for _, c := range it.Models {
				// Churn names no groups: its fairness rules say they had
				// nothing to judge, which never covers the item.
				if c.Model == "churn" && c.Status != StatusNotApplicable {
					t.Errorf("churn MEASURE 2.11 = %+v, want not applicable", c)
				}
			}
		}
	}
	wantAttention := []string{
		"1 release record(s) FAIL VERIFICATION: releases/production/credit-default/2.3.0.intoto.json",
		"waiver of data.pii_feature for fraud (PRIV-1207) EXPIRED on 2027-03-31",
		"no fairness evidence: churn",
	}
	for _, w := range wantAttention {
		if !contains(rep.Summary.Attention, w) {
			t.Errorf("summary attention lacks %q: %q", w, rep.Summary.Attention)
		}
	}
	// Plainly in every format.
	for f, wants := range map[string][]string{
		FormatMarkdown: {"❌ FAILS VERIFICATION", "❌ EXPIRED", "❌ **No fairness evidence**", "1 release record(s) FAIL VERIFICATION"},
		FormatHTML: {`<use href="#icon-bad"/></svg>FAILS VERIFICATION`, `<use href="#icon-bad"/></svg>EXPIRED`,
			`<use href="#icon-bad"/></svg> No fairness evidence`, "1 release record(s) FAIL VERIFICATION"},
		FormatJSON: {`"verified": false`, `"status": "expired"`, `"lacking_fairness": [`, `"missing": "the released spec declares no sensitive attributes`},
	} {
		out := string(render(t, rep, f))
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s report lacks %q", f, w)
			}
		}
	}
	golden(t, "tampered.md", scrub(rep, render(t, rep, FormatMarkdown)))
}

// TestExpiringWaiver: within 30 days of its expiry a waiver is flagged.
func TestExpiringWaiver(t *testing.T) {
	root := releasedExample(t)
	rep := build(t, root, time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC), nil)
	if rep.Summary.ExpiringWaivers != 1 || rep.Waivers[0].Status != WaiverExpiring || rep.Waivers[0].DaysLeft != 17 {
		t.Errorf("waivers = %+v", rep.Waivers)
	}
	var fraud PortfolioRow
	for _, p := range rep.Portfolio {
		if p.Model == "fraud" {
			fraud = p
		}
	}
	// fraud's other waiver, of the rollback rehearsal in production, runs
	// until 2027-06-30.
	if fraud.OpenWaivers != 2 || fraud.ExpiringWaivers != 1 {
		t.Errorf("fraud portfolio row = %+v", fraud)
	}
}

// TestScope: --env, --since/--until and --model narrow the report.
func TestScope(t *testing.T) {
	root := releasedExample(t)
	rep := build(t, root, reportAt, func(o *Options) { o.Environment = "production" })
	if rep.Summary.Releases != 2 || len(rep.Environments) != 1 {
		t.Errorf("production: %d releases, environments %q", rep.Summary.Releases, rep.Environments)
	}
	if diff := cmp.Diff([]string{"churn"}, rep.Summary.Unreleased); diff != "" {
		t.Errorf("production unreleased (-want +got):\n%s", diff)
	}
	// Until the end of 2026-11-23: production had nothing yet.
	rep = build(t, root, reportAt, func(o *Options) { o.Until = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) })
	if rep.Scope.Until != "2026-11-23" {
		t.Errorf("scope until = %q, want the last day included", rep.Scope.Until)
	}
	for _, p := range rep.Portfolio {
		for _, c := range p.Current {
			if c.Environment != "staging" {
				t.Errorf("%s current in %s before it was released there", p.Model, c.Environment)
			}
		}
	}
	rep = build(t, root, reportAt, func(o *Options) { o.Since = productionAt })
	if rep.Summary.Releases != 2 {
		t.Errorf("since production release: %d releases, want 2", rep.Summary.Releases)
	}
	_, err := Build(context.Background(), Options{Platform: mustLoad(t, root), Model: "nope", Now: reportAt})
	if err == nil || !strings.Contains(err.Error(), `unknown model "nope"`) {
		t.Errorf("unknown model: %v", err)
	}
}

// TestNoKeys: without a trusted key every record is shown, failing.
func TestNoKeys(t *testing.T) {
	root := releasedExample(t)
	rep := build(t, root, reportAt, func(o *Options) { o.Keys = nil })
	if rep.Ledger.OK || rep.Ledger.Failed != 5 || len(rep.Failed) != 5 {
		t.Errorf("ledger = %+v", rep.Ledger)
	}
}

func mustLoad(t *testing.T, root string) *spec.Platform {
	p, err := spec.Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func dossierOf(t *testing.T, rep *Report, model string) Dossier {
	t.Helper()
	for _, d := range rep.Models {
		if d.Model == model {
			return d
		}
	}
	t.Fatalf("no dossier of %s", model)
	return Dossier{}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefix(list []string, prefix string) bool {
	for _, x := range list {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}

// TestHTMLEscapes: text from records (messages, reasons, problems) never
// becomes markup, whether the template or Go writes the row.
func TestHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>`
	rep := &Report{Schema: SchemaVersion, Platform: evil, Environments: []string{"staging"},
		Waivers: []WaiverRow{{Rule: evil, Reason: evil, Status: WaiverExpired}},
		Failed:  []ReleaseRow{{Record: evil, Problems: []string{evil}}},
		Models: []Dossier{{Model: "m", Releases: []ReleaseRow{{Record: evil, Problems: []string{evil}, Notes: []string{evil}}},
			Results:        []PolicyResult{{Rule: evil, Title: evil, Message: evil, Outcome: "deny", Waiver: evil, Controls: []Control{{Framework: evil, ID: evil}}}},
			Approvals:      []ApprovalRow{{User: evil}},
			Signatures:     []SignatureRow{{KeyID: evil, Record: evil}},
			Infrastructure: []InfraRow{{Stack: evil, PlanSHA256: evil}},
			Gaps:           []string{evil},
			coverage: []Framework{{Framework: evil, Items: []CoverageItem{{ID: evil, Models: []CoverageCell{{Model: "m", Status: StatusGap, Note: evil,
				Results: []RuleOutcome{{Rule: evil, Outcome: "deny", Message: evil}}}}}}}}}},
	}
	out := string(render(t, rep, FormatHTML))
	if strings.Contains(out, "<script") {
		t.Fatalf("a record's text became markup:\n%s", out)
	}
	if n := strings.Count(out, "&lt;script&gt;"); n < 15 {
		t.Errorf("escaped text appears %d times, want every field", n)
	}
}
