package policy

import (
	"context"
	"fmt"
	"testing"
)

// generatedUnits is a repository of n models, each in staging and
// production, with an evidence summary and a plan summary per unit.
func generatedUnits(b *testing.B, n int) []Input {
	base := fixture(b)
	staging := base
	staging.Environment = base.Environments["staging"]
	staging.Releases = map[string]Release{}
	var ins []Input
	for i := range n {
		for _, env := range []Input{staging, base} {
			in := env
			m := in.Model
			m.Name = fmt.Sprintf("model-%04d", i)
			in.Model = m
			ev := map[string]any{}
			for k, v := range base.Evidence.(map[string]any) {
				ev[k] = v
			}
			ev["model"] = m.Name
			in.Evidence = ev
			ins = append(ins, in)
		}
	}
	return ins
}

// BenchmarkDecisions1000Models judges 2,000 units (1,000 models in two
// environments) with every built-in pack; one iteration is all decisions.
func BenchmarkDecisions1000Models(b *testing.B) {
	e := newEngine(b, "")
	ins := generatedUnits(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		out, err := e.EvaluateAll(ctx, nil, ins)
		if err != nil {
			b.Fatal(err)
		}
		if Verdict(out[0]) == OutcomeDeny {
			b.Fatalf("unit 0 denied: %+v", out[0][0])
		}
	}
	b.ReportMetric(float64(len(ins)), "units/op")
}

// BenchmarkCompile is the one-time cost of loading and preparing the packs.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		if _, err := New(context.Background(), ""); err != nil {
			b.Fatal(err)
		}
	}
}
