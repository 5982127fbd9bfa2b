package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
)

const (
	benchModels   = 1000
	benchReleases = 10000
)

// portfolio is a platform of 1,000 models with 10,000 signed releases,
// generated once per test binary: signing 10,000 envelopes takes longer
// than the report.
var portfolio struct {
	once  sync.Once
	dir   string
	p     *spec.Platform
	keys  []*sign.PublicKey
	rules []policy.Rule
	err   error
}

func benchPortfolio(b *testing.B) {
	b.Helper()
	portfolio.once.Do(func() { portfolio.err = writePortfolio() })
	if portfolio.err != nil {
		b.Fatal(portfolio.err)
	}
}

// writePortfolio builds the platform in memory from the example's
// credit-default model (renamed 1,000 times) and writes 10 releases per
// model, 5 to staging then 5 to production, as full records: the resolved
// spec, two stacks, evidence inputs and headline, one result per rule of
// the catalogue with its controls, approvals and, for every tenth model, a
// waiver (some expired, some expiring). Records go straight to disk with
// their index: going through ledger.Append would rewrite the index 10,000
// times. Three records are tampered with.
func writePortfolio() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "slipway-report-bench-")
	if err != nil {
		return err
	}
	portfolio.dir = dir
	example, err := spec.Load(ctx, "../../examples/credit-risk")
	if err != nil {
		return err
	}
	rules, err := policy.Catalogue(ctx)
	if err != nil {
		return err
	}
	kp, err := sign.GenerateKeyPair([]byte("bench"))
	if err != nil {
		return err
	}
	signer, err := sign.LoadPrivateKey(kp.Private, []byte("bench"))
	if err != nil {
		return err
	}
	pub, err := sign.ParsePublicKey("bench", kp.Public)
	if err != nil {
		return err
	}
	base := example.Models["credit-default"]
	p := &spec.Platform{Root: dir, Name: "bench", Policy: example.Policy, Environments: example.Environments,
		DataSources: example.DataSources, Templates: example.Templates, Models: map[string]spec.Model{}}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := 0; i < benchModels; i++ {
		m := base
		m.Name = fmt.Sprintf("model-%04d", i)
		if i%7 == 0 {
			m.Fairness = nil // some models without fairness evidence
		}
		p.Models[m.Name] = m
		if i%10 == 0 {
			expires := now.AddDate(0, 0, i%90-30).Format("2006-01-02")
			p.Waivers = append(p.Waivers, spec.Waiver{Rule: "data.pii_feature", Model: m.Name, Environment: "*", Reason: "DPIA approved for a limited time",
				ApprovedBy: "privacy@example.com", Expires: expires, Ticket: fmt.Sprintf("PRIV-%d", i)})
		}
	}
	var results []attest.Result
	for _, r := range rules {
		res := attest.Result{Rule: r.ID, Severity: string(r.Severity), Outcome: "pass", Message: r.Title}
		for _, c := range r.Controls {
			res.Controls = append(res.Controls, attest.Control{Framework: c.Framework, ID: c.ID})
		}
		results = append(results, res)
	}
	auc, f1 := 0.93, 0.77
	var index bytes.Buffer
	prevLine := ""
	prev := map[string]string{}
	seq := 0
	perModel := benchReleases / benchModels
	for v := 0; v < perModel; v++ {
		env := "staging"
		if v >= perModel/2 {
			env = "production"
		}
		for i := 0; i < benchModels; i++ {
			seq++
			name := fmt.Sprintf("model-%04d", i)
			m := p.Models[name]
			m.Version = fmt.Sprintf("1.%d.0", v%(perModel/2))
			modelJSON := spec.RawJSON(m)
			at := now.Add(time.Duration(seq) * time.Minute)
			r := attest.Release{
				Model: attest.ModelRef{Name: name, Version: m.Version}, Environment: env, Decision: attest.DecisionPass, Verdict: "pass",
				Artifact: attest.Artifact{URI: m.Artifact.URI, Digest: m.Artifact.Digest, Format: m.Artifact.Format},
				Spec:     attest.Spec{Platform: p.Name, Digest: digest.Bytes(modelJSON), Model: modelJSON},
				Stacks: []attest.Stack{
					{ID: env + "/" + name, PlanFile: fmt.Sprintf(".slipway/plans/%s/%s.tfplan", env, name), PlanSHA256: digest.Bytes([]byte(fmt.Sprint(seq))), Changes: attest.Changes{Create: 8}},
					{ID: env + "/_shared", PlanFile: ".slipway/plans/" + env + "/_shared.tfplan", PlanSHA256: digest.Bytes([]byte("shared" + env))},
				},
				Evidence: &attest.Evidence{Path: ".slipway/evidence/" + name + ".json", SHA256: digest.Bytes([]byte(name)),
					Inputs:   []attest.Input{{Path: m.Evaluation.Predictions, SHA256: digest.Bytes([]byte("p" + name))}, {Path: m.Handover.Runbook, SHA256: digest.Bytes([]byte("r" + name))}},
					Headline: map[string]*float64{"roc_auc": &auc, "f1": &f1}},
				Results:   results,
				Waivers:   []attest.Waiver{},
				Approvals: []attest.Approval{{User: "alice", State: "APPROVED", SubmittedAt: at.Format(time.RFC3339)}, {User: "bob", State: "APPROVED", SubmittedAt: at.Format(time.RFC3339)}},
				Check:     attest.CheckRef{Verdict: "pass"}, Slipway: attest.Tool{Version: "bench"},
				ReleasedAt: at.Format(time.RFC3339), Previous: prev[env+"/"+name],
			}
			st, err := attest.NewStatement(r)
			if err != nil {
				return err
			}
			payload, err := st.Marshal()
			if err != nil {
				return err
			}
			envelope, err := signer.Sign(ctx, payload)
			if err != nil {
				return err
			}
			rel, err := ledger.RecordPath(env, name, m.Version)
			if err != nil {
				return err
			}
			e := ledger.Entry{Seq: seq, Environment: env, Model: name, Version: m.Version, Path: rel, Record: digest.Bytes(envelope),
				Payload: digest.Bytes(payload), Previous: prev[env+"/"+name], PrevEntry: prevLine, RecordedAt: r.ReleasedAt}
			if seq%3333 == 0 {
				envelope = bytes.Replace(envelope, []byte(`"sig":"`), []byte(`"sig":"AAAA`), 1)
			}
			full := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(full, envelope, 0o644); err != nil {
				return err
			}
			line, err := json.Marshal(e)
			if err != nil {
				return err
			}
			prevLine, prev[env+"/"+name] = digest.Bytes(line), e.Record
			index.Write(line)
			index.WriteByte('\n')
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ledger.Dir, ledger.IndexFile), index.Bytes(), 0o644); err != nil {
		return err
	}
	portfolio.p, portfolio.keys, portfolio.rules = p, []*sign.PublicKey{pub}, rules
	return nil
}

// BenchmarkPortfolioReport is `slipway report` without --model over 1,000
// models and 10,000 releases: "build" verifies the whole ledger and builds
// every dossier and the coverage tables; the format sub-benchmarks build
// and render, which is what the command does. cpu-s/op is the process's
// CPU time, which says more than wall time on a shared machine.
func BenchmarkPortfolioReport(b *testing.B) {
	benchPortfolio(b)
	ctx := context.Background()
	o := Options{Platform: portfolio.p, Keys: portfolio.keys, Rules: portfolio.rules, Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Version: "bench"}
	for _, format := range []string{"build", FormatHTML, FormatMarkdown, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			var size int
			cpu0 := cpuTime()
			for b.Loop() {
				rep, err := Build(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Models) != benchModels || rep.Ledger.Records != benchReleases || rep.Ledger.Failed != 3 {
					b.Fatalf("models %d records %d failed %d", len(rep.Models), rep.Ledger.Records, rep.Ledger.Failed)
				}
				if format == "build" {
					continue
				}
				cw := &countWriter{}
				if err := Render(context.Background(), cw, rep, format); err != nil {
					b.Fatal(err)
				}
				size = cw.n
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			if size > 0 {
				b.ReportMetric(float64(size)/(1<<20), "MiB/report")
			}
		})
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
