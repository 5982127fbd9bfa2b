package monitor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/pgtest"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/prodlog"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/synth"
	"github.com/slipway-ml/slipway/internal/verify"
)

// copyExample copies examples/credit-risk into a temporary directory.
func copyExample(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "credit-risk")
	if out, err := exec.Command("cp", "-R", "../../examples/credit-risk", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the example: %v\n%s", err, out)
	}
	os.RemoveAll(filepath.Join(dir, ".slipway"))
	return dir
}

// loadLogs starts PostgreSQL and COPY-loads the example's generated
// traffic, as `make demo` does.
func loadLogs(t *testing.T, rows int) *pgtest.Server {
	t.Helper()
	pg := pgtest.Start(t)
	cfg, err := synth.CreditDefaultTraffic("../../examples/credit-risk", rows)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lf, _ := os.Create(filepath.Join(dir, "logs.csv"))
	of, _ := os.Create(filepath.Join(dir, "outcomes.csv"))
	if err := cfg.Write(7, lf, of); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	of.Close()
	pg.Query(t, "postgres", `CREATE TABLE prediction_logs (request_id text PRIMARY KEY, ts timestamptz NOT NULL, model_version text,
		income double precision, debt_ratio double precision, credit_history_months integer, loan_amount double precision,
		employment_type text, sex text, age_band text, score double precision, predicted_default integer);
		CREATE TABLE outcomes (request_id text PRIMARY KEY, defaulted integer)`)
	pg.Query(t, "postgres", `\copy prediction_logs FROM '`+filepath.Join(dir, "logs.csv")+`' WITH (FORMAT csv, HEADER true)`)
	pg.Query(t, "postgres", `\copy outcomes FROM '`+filepath.Join(dir, "outcomes.csv")+`' WITH (FORMAT csv, HEADER true)`)
	return pg
}

func options(t *testing.T, repo string, conn string) Options {
	t.Helper()
	p, err := spec.Load(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Platform: p, Env: "staging", Model: "credit-default",
		Since: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), Now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
		Getenv: func(k string) string {
			if k == "PREDICTION_LOGS_DB" {
				return conn
			}
			return ""
		},
		Trust: verify.TrustRoot{Root: repo, Load: func(context.Context) (*spec.Platform, error) { return p, nil }},
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
	}
}

func rules(rs []policy.Result, id string) []policy.Result {
	var out []policy.Result
	for _, r := range rs {
		if r.Rule == id {
			out = append(out, r)
		}
	}
	return out
}

// TestMonitorExample is the end-to-end run of the example: its traffic,
// with debt_ratio drifting in the second week, is loaded into PostgreSQL;
// monitor flags debt_ratio, and only it, signs a record that verifies, and
// starts the next window where the record's ended.
func TestMonitorExample(t *testing.T) {
	ctx := context.Background()
	repo := copyExample(t)
	pg := loadLogs(t, 40000)
	// A throw-away key signs; the copy trusts it.
	pair, err := sign.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "keys", "release.pub"), pair.Public, 0o644); err != nil {
		t.Fatal(err)
	}
	signer, err := sign.LoadPrivateKey(pair.Private, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	o := options(t, repo, pg.ConnString("postgres"))
	o.Signer = signer
	// --github: the breach opens an issue before the record is signed.
	fake := &fakeIssues{t: t}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	o.Issues = githubClient(t, srv.URL)
	res, err := Monitor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	run := res.Runs[0]
	if run.Figures.Rows != 40000 {
		t.Errorf("rows %d, want 40000", run.Figures.Rows)
	}
	drift := rules(run.Results, "monitoring.drift")
	var denied []string
	for _, r := range drift {
		if r.Outcome == policy.OutcomeDeny {
			denied = append(denied, r.Message)
		}
	}
	if len(denied) != 1 || !strings.HasPrefix(denied[0], "feature debt_ratio drifted: psi ") {
		t.Errorf("drift denials %q, want debt_ratio alone", denied)
	}
	for _, f := range []string{"income", "loan_amount", "credit_history_months", "employment_type"} {
		if psi := run.Figures.Drift[f].PSI; psi == nil || *psi > 0.05 {
			t.Errorf("%s: psi %v, want < 0.05 (not drifted)", f, psi)
		}
	}
	if psi := run.Figures.Drift["debt_ratio"].PSI; psi == nil || *psi < 0.2 {
		t.Errorf("debt_ratio psi %v, want > 0.2", psi)
	}
	for _, r := range run.Results {
		if r.Outcome == policy.OutcomeDeny && r.Rule != "monitoring.drift" && r.Rule != "monitoring.unreleased_version" && r.Rule != "monitoring.model_age" {
			t.Errorf("unexpected denial %s: %s", r.Rule, r.Message)
		}
	}
	if l := run.Figures.Outcomes; l == nil || l.Labelled < 30000 {
		t.Errorf("live outcomes %+v", l)
	}
	// No release is in the copy's ledger: every request is unreleased.
	if run.Figures.UnreleasedShare != 1 || len(rules(run.Results, "monitoring.unreleased_version")) == 0 {
		t.Errorf("unreleased share %v", run.Figures.UnreleasedShare)
	}
	if !strings.HasPrefix(run.Record, "releases/staging/credit-default/monitoring/") {
		t.Fatalf("record %q", run.Record)
	}
	rep, err := verify.Ledger(ctx, verify.Options{Root: repo, Now: o.Now, Keys: []*sign.PublicKey{mustKey(t, pair.Public)}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Records) != 1 || rep.Records[0].Kind != ledger.Monitoring {
		t.Fatalf("verify: %+v", rep)
	}
	var pred Predicate
	if err := rep.Records[0].LedgerRecord().Decode(&pred); err != nil {
		t.Fatal(err)
	}
	if pred.Verdict != "deny" || pred.Source.Table != "prediction_logs" || !pred.Window.To.Equal(o.Now) || pred.Figures.Rows != 40000 {
		t.Errorf("signed predicate: verdict %s source %+v window %+v rows %d", pred.Verdict, pred.Source, pred.Window, pred.Figures.Rows)
	}
	// The signed record holds the issue it opened, and the issue links
	// the record.
	wantIssue := &Issue{Action: "opened", Number: 1, URL: "https://github.test/acme/credit-risk/issues/1"}
	if d := cmp.Diff(wantIssue, pred.Issue); d != "" {
		t.Errorf("signed issue (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantIssue, run.Issue); d != "" {
		t.Errorf("run issue (-want +got):\n%s", d)
	}
	if len(fake.issues) != 1 || !strings.Contains(fake.issues[0]["body"].(string), "Signed monitoring record: `"+run.Record+"`") {
		t.Errorf("issue does not link the record %s: %v", run.Record, fake.issues)
	}
	if b, _ := os.ReadFile(filepath.Join(repo, filepath.FromSlash(run.Record))); strings.Contains(string(b), "127.0.0.1") {
		t.Error("the record names the database server")
	}
	// A GitHub error fails the run before anything is signed: no record.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"Server Error"}`, http.StatusBadGateway)
	}))
	defer down.Close()
	before, _ := os.ReadFile(filepath.Join(repo, ledger.Dir, ledger.IndexFile))
	failed := o
	failed.Since, failed.Now, failed.Issues = time.Time{}, o.Now.Add(time.Hour), githubClient(t, down.URL)
	if _, err := Monitor(ctx, failed); err == nil || !strings.Contains(err.Error(), "github issue (no record is written)") {
		t.Errorf("github down: error %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(repo, ledger.Dir, ledger.IndexFile))
	if len(before) == 0 || string(before) != string(after) {
		t.Errorf("a run whose issue failed changed the ledger index:\n%s\n->\n%s", before, after)
	}
	if m, _ := filepath.Glob(filepath.Join(repo, "releases", "staging", "credit-default", "monitoring", "*")); len(m) != 1 {
		t.Errorf("monitoring records %q, want the first alone", m)
	}
	// The next run starts where the record's window ended: nothing new.
	o.Issues = nil
	o.Since, o.Now = time.Time{}, o.Now.Add(time.Hour)
	res, err = Monitor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Runs[0].Figures; got.Rows != 0 || !got.Window.From.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("second window %+v, %d rows", got.Window, got.Rows)
	}
}

func mustKey(t *testing.T, pemBytes []byte) *sign.PublicKey {
	k, err := sign.ParsePublicKey("test", pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestMonitorFailsWithoutRecord checks that a run that cannot read its
// logs returns an error and appends nothing.
func TestMonitorFailsWithoutRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: monitors the example against an unreachable database; skipped under -short")
	}
	repo := copyExample(t)
	pair, _ := sign.GenerateKeyPair([]byte("pw"))
	os.WriteFile(filepath.Join(repo, "keys", "release.pub"), pair.Public, 0o644)
	signer, _ := sign.LoadPrivateKey(pair.Private, []byte("pw"))
	o := options(t, repo, "postgres://monitor:hunter2-secret@127.0.0.1:1/logs?connect_timeout=2")
	o.Signer = signer
	_, err := Monitor(context.Background(), o)
	if !errors.Is(err, prodlog.ErrUnreachable) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v, want unreachable without the password", err)
	}
	if _, err := os.Stat(filepath.Join(repo, "releases")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed run wrote to the ledger: %v", err)
	}
}
