package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
)

func writeFile(t *testing.T, dir, name, src string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInputReads(t *testing.T) {
	e := newEngine(t, "")
	got := map[string][]string{}
	for _, p := range e.packs {
		got[p.name] = p.reads
	}
	want := map[string][]string{
		"slipway.data":     {"data_sources", "evidence", "model", "platform"},
		"slipway.declared": {"environment", "evidence", "model", "now", "rules"},
		// Thresholds decide on the interval in protected environments.
		"slipway.evaluation":     {"data_sources", "environment", "evidence", "model", "platform", "previous_release"},
		"slipway.fairness":       {"environment", "evidence", "model", "platform"},
		"slipway.handover":       {"acceptance", "accepted_release", "alerts", "environment", "evidence", "model", "now", "phase", "placeholders", "platform", "rollback_rehearsals"},
		"slipway.infrastructure": {"environment", "kind", "model", "plan", "plan_expected"},
		"slipway.monitoring":     {"environment", "model", "monitoring", "monitoring_status", "now", "platform"},
		"slipway.policy":         {"base", "environment", "model", "platform"},
		"slipway.release":        {"approvals", "authors", "code_owners", "environment", "model", "phase", "releases", "trust_root"},
		"slipway.testing":        {"evidence", "model"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("input reads (-want +got):\n%s", d)
	}
}

func TestInputReadsOfDynamicAccess(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "policies/dyn.rego", "package slipway.dyn\n\nk := \"model\"\n\ndeny contains {\"id\": \"dyn.x\", \"msg\": \"x\"} if not input[k]\n")
	e := newEngine(t, dir)
	for _, p := range e.packs {
		if p.name == "slipway.dyn" && (len(p.reads) != 1 || p.reads[0] != readsAll) {
			t.Errorf("dynamic input access reads %v, want everything", p.reads)
		}
	}
}

// TestBatchMatchesSingle checks that findings and facts shared between the
// units of one model in a batch are exactly those each unit gets on its own.
func TestBatchMatchesSingle(t *testing.T) {
	e := newEngine(t, "")
	p, ins := generatedUnits(t, 6)
	// Break one model in one environment only, and another everywhere.
	ins[1].Model.Handover.Rollback.Tested = false
	ins[4].Environment.Limits = &spec.Limits{CPU: 0.5}
	batch, err := e.EvaluateAll(context.Background(), p, ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range ins {
		single := e.evaluate(context.Background(), p, in, nil)
		if single.Facts.BaselineSource == "" {
			t.Errorf("unit %d: the evaluation pack stated no baseline source", i)
		}
		if d := cmp.Diff(single, batch[i]); d != "" {
			t.Errorf("unit %d (%s@%s): batch differs from single (-single +batch):\n%s", i, in.Model.Name, in.Environment.Name, d)
		}
	}
}

// TestSessionSharesAcrossBatches: a check judges environment after
// environment in one session; the second batch reuses what packs that do
// not read the environment decided in the first, and judges as a unit
// alone would.
func TestSessionSharesAcrossBatches(t *testing.T) {
	e := newEngine(t, "")
	p, ins := generatedUnits(t, 6)
	ins[1].Model.Handover.Rollback.Tested = false
	var byEnv [2][]Input
	var at [2][]int
	for i, in := range ins {
		k := 0
		if in.Environment.Protected {
			k = 1
		}
		byEnv[k] = append(byEnv[k], in)
		at[k] = append(at[k], i)
	}
	if len(byEnv[0]) == 0 || len(byEnv[1]) == 0 {
		t.Fatal("want units in an unprotected and a protected environment")
	}
	s := e.Session()
	got := make([]Judgement, len(ins))
	for k := range byEnv {
		before := s.cache.hits.Load()
		out, err := s.EvaluateAll(context.Background(), p, byEnv[k])
		if err != nil {
			t.Fatal(err)
		}
		if k == 1 && s.cache.hits.Load() == before {
			t.Error("the second batch reused no pack's decision from the first")
		}
		for j, i := range at[k] {
			got[i] = out[j]
		}
	}
	for i, in := range ins {
		single := e.evaluate(context.Background(), p, in, nil)
		if d := cmp.Diff(single, got[i]); d != "" {
			t.Errorf("unit %d (%s@%s): session differs from single (-single +session):\n%s", i, in.Model.Name, in.Environment.Name, d)
		}
	}
}
