package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/ledgerrecord"
	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/monitor"
	"github.com/slipway-ml/slipway/internal/prodlog"
	qualitypkg "github.com/slipway-ml/slipway/internal/quality"
)

// appendMonitoring signs a monitoring record of credit-default in env at
// at, with debt_ratio's PSI psi and accuracy acc; a psi over 0.2 is a
// breach.
func appendMonitoring(t *testing.T, root, env string, at time.Time, psi, acc float64) string {
	t.Helper()
	verdict, results := "pass", []attest.Result{{Rule: "monitoring.drift", Severity: "deny", Outcome: "pass"}}
	var issue *monitor.Issue
	if psi > 0.2 {
		verdict = "deny"
		results = []attest.Result{{Rule: "monitoring.drift", Severity: "deny", Outcome: "deny", Message: "feature debt_ratio drifted"}}
		// monitor --github opened the issue before signing the record.
		issue = &monitor.Issue{Action: "opened", Number: 7, URL: "https://github.test/acme/credit-risk/issues/7"}
	}
	// accuracy = (tp+tn)/100
	tp := acc * 50
	live := metrics.LiveBinary(metrics.Config{MinGroupSize: 30}, metrics.LiveCounts{Overall: metrics.Confusion{TP: tp, TN: acc*100 - tp, FP: 100 - acc*100}})
	fig := monitor.Figures{Window: prodlog.Window{From: at.Add(-time.Hour), To: at}, Rows: 1000,
		Drift: map[string]qualitypkg.FeatureDrift{
			"debt_ratio": {Kind: "numeric", PSI: &psi},
			"income":     {Kind: "numeric", PSI: new(float64)},
		}, Outcomes: &live}
	sub, err := attest.NewSubject("credit-default.onnx", "sha256:"+strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	e, err := ledgerrecord.Append(context.Background(), root, released.signer, ledgerrecord.Record{
		Kind: ledger.Monitoring, Environment: env, Model: attest.ModelRef{Name: "credit-default", Version: "2.3.0"}, Now: at, Subject: sub,
		Predicate: func(h attest.RecordHeader) any {
			return monitor.Predicate{RecordHeader: h, Window: fig.Window, Figures: fig, Verdict: verdict, Results: results, Issue: issue}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e.Path
}

// TestMonitoringSection checks the dossier's post-market section reads
// the verified monitoring records only, charts them, lists the breaches,
// and that the portfolio flags a model as stale exactly when
// monitoring.fresh would.
func TestMonitoringSection(t *testing.T) {
	root := releasedExample(t)
	day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	appendMonitoring(t, root, "staging", day(24, 10, 0), 0.01, 0.9)
	appendMonitoring(t, root, "staging", day(24, 22, 0), 0.12, 0.88)
	last := appendMonitoring(t, root, "staging", day(25, 7, 30), 0.34, 0.8)
	// The example's schedule is hourly and slack one hour: staging is due
	// at 09:30, production (never monitored) long overdue.
	rep := build(t, root, reportAt, func(o *Options) { o.Model = "credit-default" })
	if !rep.Ledger.OK {
		t.Fatalf("ledger does not verify: %+v", rep.Ledger)
	}
	want := []MonitoredStatus{
		{Environment: "staging", LastMonitored: "2026-11-25T07:30:00Z", Due: "2026-11-25T09:30:00Z"},
		{Environment: "production", Due: "2026-11-24T11:30:00Z", Stale: true},
	}
	if d := cmp.Diff(want, rep.Portfolio[0].LastMonitored); d != "" {
		t.Errorf("portfolio last monitored (-want +got):\n%s", d)
	}
	sec := rep.Models[0].Monitoring
	if sec == nil || len(sec.Environments) != 2 || sec.Environments[0].Environment != "staging" {
		t.Fatalf("monitoring section %+v", sec)
	}
	st := sec.Environments[0]
	if len(st.Runs) != 3 || *st.Runs[2].Drift["debt_ratio"] != 0.34 || *st.Runs[0].Live["accuracy"] != 0.9 {
		t.Errorf("runs %+v", st.Runs)
	}
	if d := cmp.Diff([]Breach{{Record: last, RecordedAt: "2026-11-25T07:30:00Z", Rule: "monitoring.drift", Message: "feature debt_ratio drifted",
		Issue: "https://github.test/acme/credit-risk/issues/7"}}, st.Breaches); d != "" {
		t.Errorf("breaches (-want +got):\n%s", d)
	}
	html := string(render(t, rep, FormatHTML))
	for _, s := range []string{"Input drift (PSI) by monitoring run, staging", "Live performance by monitoring run, staging",
		`class="point s0 breach"`, "feature debt_ratio drifted", `<a href="https://github.test/acme/credit-risk/issues/7">`, "stale: due 2026-11-24T11:30:00Z", "<th>Last monitored</th>"} {
		if !strings.Contains(html, s) {
			t.Errorf("html lacks %q", s)
		}
	}
	mdText := string(render(t, rep, FormatMarkdown))
	for _, s := range []string{"### Post-market monitoring", "| `" + last + "` | `monitoring.drift` | feature debt_ratio drifted | <https://github.test/acme/credit-risk/issues/7> |", "❌ production: never (stale: due 2026-11-24T11:30:00Z)"} {
		if !strings.Contains(mdText, s) {
			t.Errorf("markdown lacks %q:\n%s", s, mdText[strings.Index(mdText, "### Post-market"):])
		}
	}

	// A record that no longer verifies is not a fact: its run and breach
	// drop out, and the model's last verified run is the one before.
	b, err := os.ReadFile(filepath.Join(root, last))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, last), bytes.Replace(b, []byte(`"payload":"`), []byte(`"payload":"eyJ4IjoxfQ`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	rep = build(t, root, reportAt, func(o *Options) { o.Model = "credit-default" })
	st = rep.Models[0].Monitoring.Environments[0]
	if len(st.Runs) != 2 || len(st.Breaches) != 0 || rep.Portfolio[0].LastMonitored[0].LastMonitored != "2026-11-24T22:00:00Z" || !rep.Portfolio[0].LastMonitored[0].Stale {
		t.Errorf("tampered record still counted: runs %d breaches %d status %+v", len(st.Runs), len(st.Breaches), rep.Portfolio[0].LastMonitored[0])
	}
}
