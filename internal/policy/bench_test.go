package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/spec"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// generatedUnits is a platform of n models cloned from the example's three
// (real specs, real evidence summaries computed from the example's files,
// a plan summary per unit), each in staging and production: 2n inputs built
// the way slipway check builds them.
func generatedUnits(b testing.TB, n int) (*spec.Platform, []Input) {
	ctx := context.Background()
	p, err := spec.Load(ctx, "../../examples/credit-risk")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	base := p.ModelNames()
	docs := map[string]map[string]any{}
	for _, name := range base {
		sum, err := evidence.Evaluate(ctx, p, name, evidence.Options{Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := json.Marshal(sum)
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			b.Fatal(err)
		}
		docs[name] = doc
	}
	var ins []Input
	for i := range n {
		src := base[i%len(base)]
		m := p.Models[src]
		m.Name = fmt.Sprintf("%s-%04d", src, i)
		p.Models[m.Name] = m
		// Each model has a summary of its own, as check reads one file per model.
		ev := map[string]any{}
		for k, v := range docs[src] {
			ev[k] = v
		}
		ev["model"] = m.Name
		for _, env := range m.Environments {
			plan := planSummary(m, env)
			ins = append(ins, NewInput(p, Unit{Model: m.Name, Environment: env, Evidence: ev, Plan: plan, Now: now,
				Releases: map[string]Release{"staging": {Version: m.Version, Decision: "pass"}}}))
		}
	}
	return p, ins
}

// planSummary is a plan summary of docs/contracts.md creating a model's
// deployment, as the reconciler writes it.
func planSummary(m spec.Model, env string) map[string]any {
	stack := env + "/" + m.Name
	var resources []any
	for _, r := range []string{"deployment", "workload", "monitoring", `alert["Errors"]`, `alert["Drift"]`, "slo"} {
		resources = append(resources, map[string]any{"address": "module.deployment.terraform_data." + r, "type": "terraform_data", "actions": []any{"create"}, "changed": []any{"input"}})
	}
	return map[string]any{
		"stack": stack, "environment": env, "model": m.Name, "mode": "plan",
		"reasons":   []any{"full plan: no --base given"},
		"changes":   map[string]any{"create": 6, "update": 0, "delete": 0, "replace": 0},
		"resources": resources,
		"deployment": map[string]any{
			"kind": m.Deployment.Resolved.Kind, "model": m.Name, "model_version": m.Version, "environment": env,
			"artifact_uri": m.Artifact.URI, "artifact_digest": m.Artifact.Digest, "artifact_format": m.Artifact.Format,
			"resources": map[string]any{"cpu": m.Deployment.Resolved.Resources.CPU, "memory_mib": m.Deployment.Resolved.Resources.MemoryMiB},
			"labels":    map[string]any{"model": m.Name, "team": m.Team},
		},
		"plan_file": ".slipway/plans/" + stack + ".tfplan", "plan_sha256": "sha256:" + fmt.Sprintf("%064x", len(stack)),
	}
}

// BenchmarkDecisions1000Models judges 2,000 units (1,000 models in two
// environments) with every built-in pack; one iteration is all decisions.
func BenchmarkDecisions1000Models(b *testing.B) {
	e := newEngine(b, "")
	_, ins := generatedUnits(b, 1000)
	ctx := context.Background()
	// The CLI's GC target (cli.Main): the engine leaves the collector alone.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		out, err := e.EvaluateAll(ctx, nil, ins)
		if err != nil {
			b.Fatal(err)
		}
		if v := Verdict(out[0].Results); v == OutcomeDeny {
			b.Fatalf("unit 0 denied: %+v", out[0].Results[0])
		}
	}
	b.ReportMetric(float64(len(ins)), "units/op")
	// CPU time is steadier than wall time on a shared machine; on an idle
	// 2-core machine wall time is about half of it.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkCompile is the one-time cost of loading and preparing the packs.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		if _, err := New(context.Background(), ""); err != nil {
			b.Fatal(err)
		}
	}
}
