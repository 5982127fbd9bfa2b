package release

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

var signedAt = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var (
	exampleOnce sync.Once
	example     *spec.Platform
	exampleErr  error
)

var (
	keyOnce    sync.Once
	testKeys   sign.KeyPair
	testSigner *sign.Signer
)

type fixture struct {
	root    string
	p       *spec.Platform
	signer  *sign.Signer
	keys    []*sign.PublicKey
	privPEM []byte
	pubPEM  []byte
}

// newFixture copies the example platform, gives it a trusted key and
// stands in saved plans and evidence the way check leaves them.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{root: filepath.Join(t.TempDir(), "repo")}
	if err := os.CopyFS(f.root, os.DirFS("../../examples/credit-risk")); err != nil {
		t.Fatal(err)
	}
	// Key generation and decryption run scrypt: do them once per binary.
	keyOnce.Do(func() {
		var err error
		if testKeys, err = sign.GenerateKeyPair([]byte("pw")); err != nil {
			panic(err)
		}
		if testSigner, err = sign.LoadPrivateKey(testKeys.Private, []byte("pw")); err != nil {
			panic(err)
		}
	})
	f.privPEM, f.pubPEM, f.signer = testKeys.Private, testKeys.Public, testSigner
	f.write(t, "keys/release.pub", testKeys.Public)
	// Every fixture's tree is the same until its test changes it, so the
	// spec is loaded through CUE once per binary and each fixture gets a
	// copy rooted in its own tree; tests that edit the spec load it again.
	exampleOnce.Do(func() { example, exampleErr = spec.Load(context.Background(), f.root) })
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	p := *example
	p.Root = f.root
	f.p = &p
	var err error
	if f.keys, err = verify.TrustedKeys(f.p); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"staging", "production"} {
		for _, s := range []string{"credit-default", "fraud", "_shared"} {
			f.write(t, ".slipway/plans/"+env+"/"+s+".tfplan", []byte("plan "+env+"/"+s))
		}
		f.write(t, ".slipway/stacks/"+env+"/credit-default/main.tf.json", []byte(`{}`))
	}
	for _, m := range []string{"credit-default", "fraud"} {
		f.write(t, ".slipway/evidence/"+m+".json", []byte(`{"model":"`+m+`","inputs":[{"path":"models/`+m+`/evidence/predictions.csv","sha256":"sha256:`+strings.Repeat("c", 64)+`"}]}`))
	}
	return f
}

func (f *fixture) write(t testing.TB, rel string, b []byte) {
	t.Helper()
	full := filepath.Join(f.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) digest(t testing.TB, rel string) string {
	t.Helper()
	d, err := digest.File(filepath.Join(f.root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) plan(t testing.TB, env, stack string) *checkresult.Plan {
	rel := ".slipway/plans/" + env + "/" + stack + ".tfplan"
	return &checkresult.Plan{Stack: env + "/" + stack, Environment: env, Model: strings.TrimPrefix(stack, "_shared"), PlanFile: rel, PlanSHA256: f.digest(t, rel), Changes: checkresult.Changes{Create: 1}}
}

func (f *fixture) unit(t testing.TB, env, model string, results ...checkresult.Finding) checkresult.Unit {
	pl := f.plan(t, env, model)
	ev := ".slipway/evidence/" + model + ".json"
	auc := 0.91
	if results == nil {
		results = []checkresult.Finding{{Rule: "evaluation.min_metric", Severity: "deny", Outcome: "pass", Message: "roc_auc 0.91 >= 0.85",
			Controls: []checkresult.Control{{Framework: "EU AI Act", ID: "Art. 15"}}}}
	}
	return checkresult.Unit{Model: model, ModelVersion: f.p.Models[model].Version, Environment: env, Verdict: "pass", Plan: pl,
		Evidence: &checkresult.EvidenceRef{Path: ev, SHA256: f.digest(t, ev), Headline: map[string]*float64{"roc_auc": &auc}}, Results: results}
}

func (f *fixture) input(t testing.TB, units ...checkresult.Unit) *checkresult.Result {
	in := &checkresult.Result{Verdict: "pass", Platform: "credit-risk", GeneratedAt: signedAt.Format(time.RFC3339), Units: units,
		Approvals: []checkresult.Approval{{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-23T10:00:00Z"}}}
	for _, env := range []string{"staging", "production"} {
		in.Shared = append(in.Shared, f.plan(t, env, "_shared"))
	}
	var err error
	if in.SpecDigest, err = f.p.Digest(); err != nil {
		t.Fatal(err)
	}
	if in.PolicyDigest, err = policy.BundleDigest(f.root); err != nil {
		t.Fatal(err)
	}
	return in
}

func (f *fixture) release(t *testing.T, in *checkresult.Result, env, model string, at time.Time) (*Outcome, error) {
	t.Helper()
	return Release(context.Background(), Options{Platform: f.p, Input: in, WorkDir: filepath.Join(f.root, ".slipway"),
		Environment: env, Model: model, Signer: f.signer, Version: "test", Now: at,
		Reviews: github(checkresult.Reviews{Approvals: in.Approvals, Authors: in.Authors})})
}

// onGitHub stands in for GitHub's list of the pull request's reviews.
func onGitHub(as ...checkresult.Approval) func(context.Context) (*checkresult.Reviews, error) {
	return github(checkresult.Reviews{Approvals: as})
}

// github stands in for what GitHub says of the pull request.
func github(rv checkresult.Reviews) func(context.Context) (*checkresult.Reviews, error) {
	return func(context.Context) (*checkresult.Reviews, error) {
		rv.Approvals = slices.Clone(rv.Approvals)
		return &rv, nil
	}
}

func (f *fixture) verify(t *testing.T, o verify.Options) *verify.Report {
	t.Helper()
	o.Root, o.Keys = f.root, f.keys
	if o.Now.IsZero() {
		o.Now = signedAt.Add(time.Hour)
	}
	rep, err := verify.Ledger(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestReleaseVerifyGate(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: signs, verifies and gates a release; skipped under -short")
	}
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"), f.unit(t, "staging", "fraud"))
	out, err := f.release(t, in, "staging", "", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Released) != 2 || len(out.Refused) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if out.Released[0].Path != "releases/staging/credit-default/2.3.0.intoto.json" {
		t.Fatalf("path %s", out.Released[0].Path)
	}
	rep := f.verify(t, verify.Options{Artifact: filepath.Join(f.root, "artifacts/credit-default-2.3.0.onnx"), Model: "credit-default"})
	if !rep.OK {
		t.Fatalf("verify: %+v", rep)
	}
	r := rep.Records[0]
	if r.KeyID != "release-2026" || r.Decision != "pass" {
		t.Fatalf("record %+v", r)
	}

	// The record carries what the issue lists.
	b, _ := os.ReadFile(filepath.Join(f.root, r.Path))
	e, _ := sign.ParseEnvelope(b)
	st, err := attest.Parse(e.Payload)
	if err != nil {
		t.Fatal(err)
	}
	p := st.Predicate
	if p.Spec.Digest == "" || len(p.Stacks) != 2 || p.Stacks[0].Rendered == "" || p.Evidence == nil || len(p.Evidence.Inputs) != 1 ||
		len(p.Results) != 1 || len(p.Approvals) != 1 || p.ReleasedAt != "2026-11-23T12:00:00Z" || p.Previous != "" {
		t.Fatalf("predicate %+v", p)
	}
	if len(st.Subject) != 3 {
		t.Fatalf("subjects %+v", st.Subject)
	}

	// Gate.
	q := GateQuery{Root: f.root, Keys: f.keys, Environment: "staging", Stack: "credit-default", PlanSHA256: f.digest(t, ".slipway/plans/staging/credit-default.tfplan"), Now: signedAt}
	if c, err := Gate(context.Background(), q); err != nil || !c.Covered {
		t.Fatalf("gate model stack: %+v %v", c, err)
	}
	q.Stack, q.PlanSHA256 = "_shared", f.digest(t, ".slipway/plans/staging/_shared.tfplan")
	if c, _ := Gate(context.Background(), q); !c.Covered {
		t.Fatalf("gate shared stack: %+v", c)
	}
	q.Stack, q.PlanSHA256 = "credit-default", digest.Bytes([]byte("another plan"))
	if c, _ := Gate(context.Background(), q); c.Covered || !strings.Contains(c.Reason, "differs from the plan release") {
		t.Fatalf("gate other plan: %+v", c)
	}
	q.Environment = "production"
	if c, _ := Gate(context.Background(), q); c.Covered || !strings.Contains(c.Reason, "no release covers production/credit-default") {
		t.Fatalf("gate unreleased env: %+v", c)
	}

	// Releasing the same version with the same plans is a no-op.
	out, err = f.release(t, in, "staging", "credit-default", signedAt.Add(time.Hour))
	if err != nil || len(out.Skipped) != 1 || len(out.Released) != 0 {
		t.Fatalf("re-release: %+v %v", out, err)
	}
}

func TestReleaseRefusesDeny(t *testing.T) {
	f := newFixture(t)
	deny := f.unit(t, "staging", "fraud", checkresult.Finding{Rule: "fairness.demographic_parity", Severity: "deny", Outcome: "deny", Message: "gap 0.12 > 0.05"})
	deny.Verdict = "deny"
	in := f.input(t, f.unit(t, "staging", "credit-default"), deny)
	out, err := f.release(t, in, "staging", "", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Refused) != 1 || out.Refused[0].Model != "fraud" || !strings.Contains(out.Refused[0].Reason, "fairness.demographic_parity") {
		t.Fatalf("refused %+v", out.Refused)
	}
	if _, err := os.Stat(filepath.Join(f.root, "releases")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused release wrote releases/: %v", err)
	}
}

func TestReleaseStale(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: a release per way a check result goes stale; skipped under -short")
	}
	tests := []struct {
		name string
		mod  func(t *testing.T, f *fixture, in *checkresult.Result)
	}{
		{"plan changed after check", func(t *testing.T, f *fixture, _ *checkresult.Result) {
			f.write(t, ".slipway/plans/staging/credit-default.tfplan", []byte("changed"))
		}},
		{"evidence changed after check", func(t *testing.T, f *fixture, _ *checkresult.Result) {
			f.write(t, ".slipway/evidence/credit-default.json", []byte(`{"inputs":[]}`))
		}},
		{"other model version", func(t *testing.T, f *fixture, in *checkresult.Result) { in.Units[0].ModelVersion = "2.2.0" }},
		{"specs changed", func(t *testing.T, f *fixture, in *checkresult.Result) { in.SpecDigest = digest.Bytes(nil) }},
		{"no spec digest", func(t *testing.T, f *fixture, in *checkresult.Result) { in.SpecDigest = "" }},
		{"no policy digest", func(t *testing.T, f *fixture, in *checkresult.Result) { in.PolicyDigest = "" }},
		{"policies changed", func(t *testing.T, f *fixture, in *checkresult.Result) {
			f.write(t, "policies/extra.rego", []byte("package slipway.repo.extra\n\nlimit := 3\n"))
		}},
		{"environment not judged", func(t *testing.T, f *fixture, in *checkresult.Result) { in.Units[0].Environment = "production" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.input(t, f.unit(t, "staging", "credit-default"))
			tt.mod(t, f, in)
			_, err := f.release(t, in, "staging", "", signedAt)
			if !errors.Is(err, checkresult.ErrStale) {
				t.Fatalf("got %v, want checkresult.ErrStale", err)
			}
		})
	}
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"))
	if _, err := f.release(t, in, "staging", "", signedAt); err != nil {
		t.Fatalf("matching digests: %v", err)
	}
}

// TestReleaseRejudged signs a saved result only when judging it again
// finds it no more lenient than the policies are now.
func TestReleaseRejudged(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: judges a release again per edit; skipped under -short")
	}
	finding := func(rule string, o checkresult.Outcome) checkresult.Finding {
		return checkresult.Finding{Rule: rule, Severity: "deny", Outcome: o, Message: rule}
	}
	tests := []struct {
		name         string
		saved, again []checkresult.Finding
		want         string // "" when the release is made
	}{
		{"agrees", []checkresult.Finding{finding("evaluation.min_metric", "pass")}, []checkresult.Finding{finding("evaluation.min_metric", "pass")}, ""},
		{"deny edited to pass", []checkresult.Finding{finding("evaluation.min_metric", "pass")}, []checkresult.Finding{finding("evaluation.min_metric", "deny")},
			"staging/credit-default: the policies say evaluation.min_metric is deny, the result says pass"},
		{"denial dropped", []checkresult.Finding{finding("fairness.x", "pass")}, []checkresult.Finding{finding("evaluation.min_metric", "deny"), finding("fairness.x", "pass")},
			"the policies say evaluation.min_metric is deny, the result says nothing"},
		{"finding added", []checkresult.Finding{finding("evaluation.min_metric", "pass"), finding("repo.extra", "pass")}, []checkresult.Finding{finding("evaluation.min_metric", "pass")},
			"the result has repo.extra (pass), which the policies do not report"},
		// Facts read from the ledger change between a check and its
		// release: a result stricter than the policies now is signed.
		{"stricter than now", []checkresult.Finding{finding("handover.rollback_rehearsal_pending", "warn")}, []checkresult.Finding{finding("handover.rollback_tested", "pass")}, ""},
		{"pass not in the result", []checkresult.Finding{finding("evaluation.min_metric", "pass")}, []checkresult.Finding{finding("evaluation.min_metric", "pass"), finding("monitoring.fresh", "pass")}, ""},
		{"review rule kept", []checkresult.Finding{finding("release.approvals_pending", "pass")}, []checkresult.Finding{finding("release.approvals_pending", "warn")}, ""},
		{"release phase denies", []checkresult.Finding{finding("release.approvals_pending", "warn")}, []checkresult.Finding{finding("release.approvals", "deny")},
			"refused: release.approvals: release.approvals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.input(t, f.unit(t, "staging", "credit-default", tt.saved...))
			out, err := Release(context.Background(), Options{Platform: f.p, Input: in, WorkDir: filepath.Join(f.root, ".slipway"),
				Environment: "staging", Signer: f.signer, Version: "test", Now: signedAt,
				Rejudge: func(_ context.Context, saved *checkresult.Result) (*checkresult.Result, error) {
					again := *saved
					again.Units = []checkresult.Unit{f.unit(t, "staging", "credit-default", tt.again...)}
					return &again, nil
				}})
			refused, isRefusal := strings.CutPrefix(tt.want, "refused: ")
			switch {
			case isRefusal:
				if err != nil || len(out.Refused) != 1 || out.Refused[0].Reason != refused || len(out.Released) != 0 {
					t.Fatalf("got %+v, %v, want the refusal %q", out, err, refused)
				}
			case tt.want == "" && err != nil:
				t.Fatalf("release: %v", err)
			case tt.want != "" && (!errors.Is(err, ErrRejudged) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want ErrRejudged: ...%s...", err, tt.want)
			}
		})
	}
}

func TestVerifyTamper(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: a signed release per tampering; skipped under -short")
	}
	const rec = "releases/staging/credit-default/2.3.0.intoto.json"
	tests := []struct {
		name   string
		tamper func(t *testing.T, f *fixture) verify.Options
		want   string // substring of the record's problems
	}{
		{"artifact does not match", func(t *testing.T, f *fixture) verify.Options {
			return verify.Options{Model: "credit-default", Artifact: filepath.Join(f.root, "artifacts/fraud-4.1.2.xgb")}
		}, "artifact: "},
		{"edited predicate byte", func(t *testing.T, f *fixture) verify.Options {
			full := filepath.Join(f.root, rec)
			b, _ := os.ReadFile(full)
			var m map[string]any
			json.Unmarshal(b, &m)
			p, _ := base64.StdEncoding.DecodeString(m["payload"].(string))
			p = bytes.Replace(p, []byte(`"decision":"pass"`), []byte(`"decision":"pasS"`), 1)
			m["payload"] = base64.StdEncoding.EncodeToString(p)
			b, _ = json.Marshal(m)
			os.WriteFile(full, b, 0o644)
			return verify.Options{}
		}, "edited: record was edited after signing"},
		{"untrusted key", func(t *testing.T, f *fixture) verify.Options {
			kp, _ := sign.GenerateKeyPair([]byte("x"))
			f.write(t, "keys/release.pub", kp.Public)
			p, _ := spec.Load(context.Background(), f.root)
			f.keys, _ = verify.TrustedKeys(p)
			return verify.Options{}
		}, "replaced: signed by an untrusted key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.input(t, f.unit(t, "staging", "credit-default"))
			if _, err := f.release(t, in, "staging", "", signedAt); err != nil {
				t.Fatal(err)
			}
			o := tt.tamper(t, f)
			rep := f.verify(t, o)
			if rep.OK {
				t.Fatal("tampering went unnoticed")
			}
			got := strings.Join(rep.Records[0].Problems, "\n")
			if rep.Records[0].Path != rec || !strings.Contains(got, tt.want) {
				t.Fatalf("problems of %s:\n%s\nwant %q", rep.Records[0].Path, got, tt.want)
			}
		})
	}
}

func TestWaiverExpiredAfterSigning(t *testing.T) {
	f := newFixture(t)
	w := attest.Waiver{Rule: "data.pii_feature", Model: "fraud", Environment: "*", Reason: "DPIA approved", ApprovedBy: "privacy-office@example.com", Expires: "2027-03-31", Ticket: "PRIV-1207"}
	in := f.input(t, f.unit(t, "staging", "fraud", checkresult.Finding{Rule: "data.pii_feature", Severity: "deny", Outcome: "waived", Message: "postcode is PII", Waiver: &checkresult.AppliedWaiver{Waiver: checkresult.Waiver(w)}}))
	if _, err := f.release(t, in, "staging", "fraud", signedAt); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t, verify.Options{Now: time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)})
	if !rep.OK {
		t.Fatalf("verify: %+v", rep)
	}
	notes := strings.Join(rep.Records[0].Notes, "\n")
	if !strings.Contains(notes, "waiver data.pii_feature (PRIV-1207) expired on 2027-03-31, after the release was signed on 2026-11-23: it was valid when signed") {
		t.Fatalf("notes: %s", notes)
	}
}

func TestReleaseChain(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"))
	first, err := f.release(t, in, "staging", "", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	// A new model version with a new plan chains onto the first release.
	b, _ := os.ReadFile(filepath.Join(f.root, "models/credit-default/model.cue"))
	f.write(t, "models/credit-default/model.cue", bytes.Replace(b, []byte(`version: "2.3.0"`), []byte(`version: "2.4.0"`), 1))
	f.p, _ = spec.Load(context.Background(), f.root)
	f.write(t, ".slipway/plans/staging/credit-default.tfplan", []byte("plan 2.4.0"))
	in = f.input(t, f.unit(t, "staging", "credit-default"))
	second, err := f.release(t, in, "staging", "", signedAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := ledger.Open(f.root).Entries()
	if len(entries) != 2 || entries[1].Previous != first.Released[0].Record || second.Released[0].Seq != 2 {
		t.Fatalf("entries %+v", entries)
	}
	if rep := f.verify(t, verify.Options{}); !rep.OK {
		t.Fatalf("verify %+v", rep)
	}
}

// TestGateIndexDamage: damage to the index covers nothing anywhere, while a
// damaged record only uncovers its own stack.
func TestGateIndexDamage(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"), f.unit(t, "staging", "fraud"), f.unit(t, "production", "credit-default"))
	for _, env := range []string{"staging", "production"} {
		if _, err := f.release(t, in, env, "", signedAt); err != nil {
			t.Fatal(err)
		}
	}
	q := GateQuery{Root: f.root, Keys: f.keys, Environment: "staging", Stack: "fraud", PlanSHA256: f.digest(t, ".slipway/plans/staging/fraud.tfplan"), Now: signedAt}
	// A damaged record of another model leaves fraud covered.
	f.write(t, "releases/production/credit-default/2.3.0.intoto.json", []byte(`{}`))
	if c, err := Gate(context.Background(), q); err != nil || !c.Covered {
		t.Fatalf("other record damaged: %+v %v", c, err)
	}
	// An index entry removed before another record uncovers everything.
	idx := filepath.Join(f.root, "releases", "ledger.jsonl")
	b, _ := os.ReadFile(idx)
	lines := strings.SplitAfter(string(b), "\n")
	f.write(t, "releases/ledger.jsonl", []byte(lines[0]+lines[2]))
	if c, _ := Gate(context.Background(), q); c.Covered || !strings.Contains(c.Reason, "the release ledger does not verify") {
		t.Fatalf("index damaged: %+v", c)
	}
}

func TestLedgerState(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"))
	if _, err := f.release(t, in, "staging", "", signedAt); err != nil {
		t.Fatal(err)
	}
	st, err := verify.LedgerState(context.Background(), f.root, f.keys, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	want := verify.State{Version: "2.3.0", Decision: "pass", Verified: true, Record: "releases/staging/credit-default/2.3.0.intoto.json"}
	if got := st["credit-default"]["staging"]; got != want {
		t.Fatalf("state %+v, want %+v", got, want)
	}
	f.write(t, "releases/staging/credit-default/2.3.0.intoto.json", []byte(`{}`))
	st, _ = verify.LedgerState(context.Background(), f.root, f.keys, signedAt)
	if got := st["credit-default"]["staging"]; got.Verified || got.Version != "2.3.0" {
		t.Fatalf("damaged record state %+v", got)
	}
}

func TestReleaseRemovedModel(t *testing.T) {
	f := newFixture(t)
	gone := f.unit(t, "staging", "fraud")
	gone.Model = "retired"
	in := f.input(t, f.unit(t, "staging", "credit-default"), gone)
	out, err := f.release(t, in, "staging", "", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Released) != 1 || len(out.Removed) != 1 || out.Removed[0] != "retired" {
		t.Fatalf("outcome %+v", out)
	}
}

// TestReleaseRevision: the same model version with a changed plan (say the
// environment's limits changed) is released again as a new revision, and
// the gate then covers the new plan only.
func TestReleaseRevision(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"))
	if _, err := f.release(t, in, "staging", "", signedAt); err != nil {
		t.Fatal(err)
	}
	old := f.digest(t, ".slipway/plans/staging/credit-default.tfplan")
	f.write(t, ".slipway/plans/staging/credit-default.tfplan", []byte("plan with new limits"))
	in = f.input(t, f.unit(t, "staging", "credit-default"))
	out, err := f.release(t, in, "staging", "", signedAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Released) != 1 || out.Released[0].Revision != 2 || out.Released[0].Path != "releases/staging/credit-default/2.3.0_r2.intoto.json" {
		t.Fatalf("outcome %+v", out)
	}
	rep := f.verify(t, verify.Options{})
	if !rep.OK || len(rep.Records) != 2 || rep.Records[1].Revision != 2 {
		t.Fatalf("verify %+v", rep)
	}
	q := GateQuery{Root: f.root, Keys: f.keys, Environment: "staging", Stack: "credit-default", PlanSHA256: f.digest(t, ".slipway/plans/staging/credit-default.tfplan"), Now: signedAt}
	if c, _ := Gate(context.Background(), q); !c.Covered || c.Record != "releases/staging/credit-default/2.3.0_r2.intoto.json" {
		t.Fatalf("gate new plan: %+v", c)
	}
	q.PlanSHA256 = old
	if c, _ := Gate(context.Background(), q); c.Covered {
		t.Fatalf("gate old plan: %+v", c)
	}

	// After apply, a new plan of the same version changes nothing: no
	// third revision.
	f.write(t, ".slipway/plans/staging/credit-default.tfplan", []byte("plan without changes"))
	in = f.input(t, f.unit(t, "staging", "credit-default"))
	in.Units[0].Plan.Changes = checkresult.Changes{}
	for i := range in.Shared {
		in.Shared[i].Changes = checkresult.Changes{}
	}
	out, err = f.release(t, in, "staging", "", signedAt.Add(2*time.Hour))
	if err != nil || len(out.Released) != 0 || len(out.Skipped) != 1 {
		t.Fatalf("no-change re-release: %+v %v", out, err)
	}
}

// A re-plan after a release rewrites the work dir's plan files: the
// record still verifies, and its pinned plan is kept by digest.
func TestVerifyAfterReplan(t *testing.T) {
	f := newFixture(t)
	in := f.input(t, f.unit(t, "staging", "credit-default"))
	pinned := f.digest(t, ".slipway/plans/staging/credit-default.tfplan")
	if _, err := f.release(t, in, "staging", "", signedAt); err != nil {
		t.Fatal(err)
	}
	f.write(t, ".slipway/plans/staging/credit-default.tfplan", []byte("re-planned, no changes"))
	if rep := f.verify(t, verify.Options{}); !rep.OK {
		t.Fatalf("verify after a re-plan: %+v", rep.Records)
	}
	wd := filepath.Join(f.root, ".slipway")
	p, err := render.PinnedPlan(wd, pinned)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if diff := cmp.Diff("plan staging/credit-default", string(b)); diff != "" {
		t.Fatalf("pinned plan (-want +got):\n%s", diff)
	}
	// A pinned copy that was edited is not handed out.
	if err := os.WriteFile(p, []byte("edited"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := render.PinnedPlan(wd, pinned); err == nil {
		t.Fatal("an edited pinned plan was accepted")
	}
	if _, err := render.PinnedPlan(wd, "sha256:../../etc"); err == nil {
		t.Fatal("a malformed digest named a path")
	}
}

// A release dated before the ledger's newest entry (a clock that runs
// backwards) is refused, unless forced with a reason the record keeps.
func TestReleaseClockBehindLedger(t *testing.T) {
	f := newFixture(t)
	if _, err := f.release(t, f.input(t, f.unit(t, "staging", "credit-default")), "staging", "", signedAt); err != nil {
		t.Fatal(err)
	}
	f.write(t, ".slipway/plans/staging/fraud.tfplan", []byte("fraud plan"))
	in := f.input(t, f.unit(t, "staging", "fraud"))
	if _, err := f.release(t, in, "staging", "", signedAt.Add(-time.Hour)); !errors.Is(err, ErrClock) {
		t.Fatalf("release behind the ledger: %v, want ErrClock", err)
	}
	out, err := Release(context.Background(), Options{Platform: f.p, Input: in, WorkDir: filepath.Join(f.root, ".slipway"),
		Environment: "staging", Signer: f.signer, Version: "test", Now: signedAt.Add(-time.Hour), Backdated: "NTP outage, INC-7"})
	if err != nil || len(out.Released) != 1 {
		t.Fatalf("forced release: %+v %v", out, err)
	}
	b, _ := os.ReadFile(filepath.Join(f.root, out.Released[0].Path))
	e, _ := sign.ParseEnvelope(b)
	st, _ := attest.Parse(e.Payload)
	if diff := cmp.Diff("NTP outage, INC-7", st.Predicate.Backdated); diff != "" {
		t.Fatalf("backdated (-want +got):\n%s", diff)
	}
}

// Release judges waivers at its own time: checked at 23:59 on the last
// day, released at 00:00:30 the next, the waiver is not signed.
func TestReleaseRefusesExpiredWaiver(t *testing.T) {
	f := newFixture(t)
	w := &attest.Waiver{Rule: "data.pii_feature", Model: "credit-default", Environment: "staging", Reason: "r", ApprovedBy: "a@example.com", Expires: "2026-11-23", Ticket: "PRIV-1"}
	u := f.unit(t, "staging", "credit-default", checkresult.Finding{Rule: w.Rule, Severity: "deny", Outcome: "waived", Message: "m", Waiver: &checkresult.AppliedWaiver{Waiver: checkresult.Waiver(*w)}})
	at := time.Date(2026, 11, 24, 0, 0, 30, 0, time.UTC)
	out, err := f.release(t, f.input(t, u), "staging", "", at)
	if err != nil {
		t.Fatal(err)
	}
	want := []Denial{{Model: "credit-default", Reason: "waiver data.pii_feature (PRIV-1) expired on 2026-11-23, before this release: renew it or fix the finding"}}
	if diff := cmp.Diff(want, out.Refused); diff != "" || len(out.Released) != 0 {
		t.Fatalf("refused (-want +got):\n%s\nreleased %+v", diff, out.Released)
	}
	// On its last day it still holds.
	if out, err := f.release(t, f.input(t, u), "staging", "", at.Add(-time.Minute)); err != nil || len(out.Released) != 1 {
		t.Fatalf("release on the waiver's last day: %+v %v", out, err)
	}
}

// Run takes the check result as the mode says and refuses a signing key
// the platform does not trust.
func TestRunCheckModes(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: a release per --check mode; skipped under -short")
	}
	f := newFixture(t)
	ran := 0
	req := func(mode string) Request {
		return Request{
			Options:   Options{Platform: f.p, WorkDir: filepath.Join(f.root, ".slipway"), Environment: "staging", Signer: f.signer, Now: signedAt},
			CheckMode: mode, KeyName: "release.key",
			RunCheck: func(context.Context) error { ran++; return nil },
		}
	}
	tests := []struct {
		mode    string
		wantRan int
	}{
		{CheckReuse, 0}, // a missing result is an error, never a check
		{CheckAuto, 1},  // a missing result runs the check
		{CheckRun, 1},
	}
	for _, tt := range tests {
		ran = 0
		_, err := Run(context.Background(), req(tt.mode))
		if !errors.Is(err, checkresult.ErrNoCheck) || ran != tt.wantRan {
			t.Errorf("mode %s: err %v, check ran %d times, want ErrNoCheck and %d", tt.mode, err, ran, tt.wantRan)
		}
	}
	if _, err := Run(context.Background(), req("sometimes")); err == nil {
		t.Error("an unknown mode was accepted")
	}
	other, err := sign.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sign.LoadPrivateKey(other.Private, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	r := req(CheckReuse)
	r.Signer = signer
	if _, err := Run(context.Background(), r); err == nil || !strings.Contains(err.Error(), "key release.key (") {
		t.Errorf("untrusted signer: %v", err)
	}
}

// TestApplyGate: --allow-unreleased lets an unreleased plan run only where
// the environment is not protected, without looking at the ledger.
func TestApplyGate(t *testing.T) {
	plan := digest.Bytes([]byte("a plan"))
	tests := []struct {
		name    string
		env     string
		allow   bool
		wantErr string // "" when the plan runs unchecked
	}{
		{"unprotected, allowed", "staging", true, ""},
		{"unprotected, not allowed", "staging", false, "no release covers staging/credit-default"},
		{"protected, allowed", "production", true, "no release covers production/credit-default: run `slipway release --env production` (--allow-unreleased does not apply: production is protected)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			asked := false
			g := &ApplyGate{Platform: f.p, AllowUnreleased: tt.allow, Now: signedAt, Trust: verify.TrustRoot{Root: f.root, Load: func(context.Context) (*spec.Platform, error) {
				asked = true
				return f.p, nil
			}}}
			c, err := g.Admit(context.Background(), tt.env, "credit-default", plan)
			if tt.wantErr == "" {
				if err != nil || c != nil || asked {
					t.Fatalf("got %+v, %v (ledger read: %v), want an unchecked run", c, err, asked)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %+v, %v, want %q", c, err, tt.wantErr)
			}
		})
	}
}

// TestApprovalsConfirmed: a release signs only approvals GitHub confirms.
// A check result is a file anyone who can write the work dir can edit, so
// an approval it records is a claim: without GitHub none is counted or
// signed; with GitHub one GitHub does not list refuses the release, and
// GitHub's list is what is signed.
func TestApprovalsConfirmed(t *testing.T) {
	alice := checkresult.Approval{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-23T10:00:00Z"}
	bob := checkresult.Approval{User: "bob", State: "APPROVED", SubmittedAt: "2026-11-23T11:00:00Z"}
	tests := []struct {
		name     string
		recorded []checkresult.Approval
		reviews  func(context.Context) (*checkresult.Reviews, error)
		want     []attest.Approval
		wantErr  string
	}{
		{"no github: recorded approvals are not signed", []checkresult.Approval{alice}, nil, []attest.Approval{}, ""},
		{"confirmed", []checkresult.Approval{alice}, onGitHub(alice), []attest.Approval{{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-23T10:00:00Z"}}, ""},
		{"github's list is signed", nil, onGitHub(alice, bob), []attest.Approval{
			{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-23T10:00:00Z"}, {User: "bob", State: "APPROVED", SubmittedAt: "2026-11-23T11:00:00Z"}}, ""},
		{"forged approval", []checkresult.Approval{alice, bob}, onGitHub(alice), nil, `records an approval by "bob" that the pull request does not have on GitHub`},
		{"github unreadable", []checkresult.Approval{alice}, func(context.Context) (*checkresult.Reviews, error) { return nil, errors.New("503") }, nil, "read the pull request's reviews"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.input(t, f.unit(t, "staging", "credit-default"))
			in.Approvals = tt.recorded
			out, err := Release(context.Background(), Options{Platform: f.p, Input: in, WorkDir: filepath.Join(f.root, ".slipway"),
				Environment: "staging", Signer: f.signer, Version: "test", Now: signedAt, Reviews: tt.reviews})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				if tt.name == "forged approval" && !errors.Is(err, ErrApprovals) {
					t.Errorf("err %v is not ErrApprovals", err)
				}
				if _, serr := os.Stat(filepath.Join(f.root, "releases/staging")); serr == nil {
					t.Error("a record was signed")
				}
				return
			}
			if err != nil || len(out.Released) != 1 {
				t.Fatalf("release: %+v %v", out, err)
			}
			b, err := os.ReadFile(filepath.Join(f.root, out.Released[0].Path))
			if err != nil {
				t.Fatal(err)
			}
			e, err := sign.ParseEnvelope(b)
			if err != nil {
				t.Fatal(err)
			}
			st, err := attest.Parse(e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, st.Predicate.Approvals); diff != "" {
				t.Errorf("signed approvals (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunRefusesTrackedWorkDir: a work dir with files in git could hold a
// check result a pull request committed; a release refuses it.
func TestRunRefusesTrackedWorkDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs git; skipped under -short")
	}
	f := newFixture(t)
	wd := filepath.Join(f.root, ".slipway")
	f.write(t, ".slipway/check/result.json", []byte("{}"))
	for _, args := range [][]string{{"init", "-q"}, {"add", "-f", "."}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "x"}} {
		if out, err := exec.Command("git", append([]string{"-C", f.root}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	req := Request{Options: Options{Platform: f.p, WorkDir: wd, Environment: "staging", Signer: f.signer, Now: signedAt}, CheckMode: CheckReuse, KeyName: "release.key"}
	_, err := Run(context.Background(), req)
	if !errors.Is(err, ErrTrackedWorkDir) || !strings.Contains(err.Error(), ".slipway/check/result.json is tracked") {
		t.Fatalf("err %v, want ErrTrackedWorkDir naming the file", err)
	}
	// Untracked again, the release goes on to read the result.
	if out, err := exec.Command("git", "-C", f.root, "rm", "-r", "-q", "--cached", ".slipway").CombinedOutput(); err != nil {
		t.Fatalf("git rm: %v\n%s", err, out)
	}
	if _, err := Run(context.Background(), req); errors.Is(err, ErrTrackedWorkDir) {
		t.Fatalf("untracked work dir refused: %v", err)
	}
}
