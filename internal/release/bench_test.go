package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/verify"
)

// writeRecords writes n full release records with their index, as n
// releases in a row would have left them (going through Release would
// rewrite the index n times). Each record is shaped like a real one of the
// example: its resolved spec, stacks, evidence, 36 policy results with four
// or five controls each, a waiver: ≈24 KB.
func writeRecords(b *testing.B, f *fixture, n int) int {
	ctx := context.Background()
	w := attest.Waiver{Rule: "data.pii_feature", Model: "fraud", Environment: "*", Reason: "Postcode is a strong fraud signal; DPIA-2026-031 approved its use until the region feature ships.",
		ApprovedBy: "privacy-office@example.com", Expires: "2027-03-31", Ticket: "PRIV-1207"}
	results := []checkresult.Finding{{Rule: "data.pii_feature", Severity: "deny", Outcome: "waived", Message: "feature billing_postcode is personal data (PII) in a data source it reads", Waiver: &checkresult.AppliedWaiver{Waiver: checkresult.Waiver(w)},
		Controls: []checkresult.Control{{Framework: "EU AI Act", ID: "Annex IV 2(d)"}, {Framework: "NIST AI RMF", ID: "MEASURE 2.10"}, {Framework: "ISO/IEC 42001", ID: "A.7.2"}, {Framework: "ISO/IEC 42001", ID: "A.5.4"}}}}
	for i := 1; i < 36; i++ {
		results = append(results, checkresult.Finding{Rule: fmt.Sprintf("evaluation.rule_%02d", i), Severity: "deny", Outcome: "pass", Message: "Evidence is for this model version",
			Controls: []checkresult.Control{{Framework: "EU AI Act", ID: "Annex IV 2(g)"}, {Framework: "NIST AI RMF", ID: "MEASURE 2.1"}, {Framework: "ISO/IEC 42001", ID: "A.6.2.4"}, {Framework: "ISO/IEC 42001", ID: "A.6.2.7"}}})
	}
	in := f.input(b, f.unit(b, "staging", "fraud", results...))
	base, err := predicate(f.p, in, Options{Now: signedAt, Version: "bench", WorkDir: filepath.Join(f.root, ".slipway")}, in.Units[0], in.Shared[:1], checkresult.Reviews{Approvals: in.Approvals})
	if err != nil {
		b.Fatal(err)
	}
	var index bytes.Buffer
	prevLine, size := "", 0
	prev := map[string]string{}
	for i := 0; i < n; i++ {
		r := base
		r.Environment = []string{"staging", "production"}[i%2]
		r.Model.Version = fmt.Sprintf("4.%d.%d", i/100, i%100)
		k := r.Environment
		r.Previous = prev[k]
		r.Stacks = []attest.Stack{{ID: r.Environment + "/fraud", PlanFile: fmt.Sprintf(".slipway/plans/%s/fraud-%d.tfplan", r.Environment, i), PlanSHA256: digest.Bytes([]byte(fmt.Sprint(i)))}}
		st, err := attest.NewStatement(r)
		if err != nil {
			b.Fatal(err)
		}
		payload, _ := st.Marshal()
		env, err := f.signer.Sign(ctx, payload)
		if err != nil {
			b.Fatal(err)
		}
		size += len(env)
		rel, _ := ledger.RecordPath(r.Environment, "fraud", r.Model.Version)
		f.write(b, rel, env)
		e := ledger.Entry{Seq: i + 1, Environment: r.Environment, Model: "fraud", Version: r.Model.Version, Path: rel,
			Record: digest.Bytes(env), Payload: digest.Bytes(payload), Previous: prev[k], PrevEntry: prevLine, RecordedAt: signedAt.Format(time.RFC3339)}
		line, _ := json.Marshal(e)
		prevLine, prev[k] = digest.Bytes(line), e.Record
		index.Write(line)
		index.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(f.root, ledger.Dir, ledger.IndexFile), index.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return size / n
}

// BenchmarkVerifyLedger10k is `slipway verify` on a ledger of 10,000 full
// release records: index chain, record digests, signatures, predicates,
// signed chains, content checks (decision, subjects, waivers, plan files).
func BenchmarkVerifyLedger10k(b *testing.B) {
	f := newFixture(b)
	avg := writeRecords(b, f, 10000)
	b.ReportMetric(float64(avg), "B/record")
	ctx := context.Background()
	o := verify.Options{Root: f.root, Keys: f.keys, Now: signedAt}
	// CPU time per verification is the figure that holds on a busy
	// machine, where wall time stretches with the load.
	start := cpuTime()
	for b.Loop() {
		rep, err := verify.Ledger(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK || len(rep.Records) != 10000 {
			b.Fatalf("ok=%v records=%d problems=%v", rep.OK, len(rep.Records), rep.Problems)
		}
	}
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
