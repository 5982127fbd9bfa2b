package spec

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDefaultPolicyIsLoaded: a platform that sets no policy loads with
// exactly DefaultPolicy, so what Go and the Rego packs take for a missing
// field is what CUE fills in.
func TestDefaultPolicyIsLoaded(t *testing.T) {
	fs := readBase(t)
	p, err := Load(context.Background(), fs.write(t))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fs["platform.cue"], "policy:") {
		t.Fatal("testdata/base.txtar sets platform.policy: this test wants a platform that sets none")
	}
	if d := cmp.Diff(DefaultPolicy(), p.Policy); d != "" {
		t.Errorf("loaded policy differs from DefaultPolicy (-default +loaded):\n%s", d)
	}
	m, d := p.Models["a"].Monitoring, DefaultModel().Monitoring
	if m.MinRows != d.MinRows || m.Slack != d.Slack || m.Drift.Metric != d.Drift.Metric || d.MinRows == 0 || d.Drift.Metric == "" {
		t.Errorf("loaded monitoring minRows %d, slack %q, drift.metric %q; DefaultModel's %d, %q, %q", m.MinRows, m.Slack, m.Drift.Metric, d.MinRows, d.Slack, d.Drift.Metric)
	}
}

// TestDefaultsFollowSchema: the defaults are read from the schema, not
// retyped: a schema with other defaults yields them.
func TestDefaultsFollowSchema(t *testing.T) {
	src := string(mustReadSchema())
	for _, s := range []struct{ old, new string }{
		{"minGroupSize:            *30 |", "minGroupSize:            *45 |"},
		{"driftThreshold:       *0.2 |", "driftThreshold:       *0.35 |"},
		{"minRows: *100 |", "minRows: *250 |"},
		{`connectTimeout:   *"10s" |`, `connectTimeout:   *"4s" |`},
	} {
		if !strings.Contains(src, s.old) {
			t.Fatalf("schema no longer holds %q: update the test", s.old)
		}
		src = strings.Replace(src, s.old, s.new, 1)
	}
	d, err := DefaultsOf([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"minGroupSize":   d.Policy["minGroupSize"],
		"driftThreshold": d.Policy["driftThreshold"],
		"minRows":        d.Model["monitoring"].(map[string]any)["minRows"],
		"connectTimeout": d.PGState["connectTimeout"],
	}
	want := map[string]any{"minGroupSize": 45.0, "driftThreshold": 0.35, "minRows": 250.0, "connectTimeout": "4s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults of an edited schema (-want +got):\n%s", diff)
	}
}

// TestDefaultsSkipOpenLists: a list with required elements has no
// default, so no incomplete value reaches the Rego data.
func TestDefaultsSkipOpenLists(t *testing.T) {
	d := SchemaDefaults()
	if _, ok := d.Model["training"]; ok {
		t.Errorf("training has a default: %v", d.Model["training"])
	}
	if _, ok := d.Model["environments"]; ok {
		t.Errorf("environments has a default: %v", d.Model["environments"])
	}
}

// TestFillPolicy: a policy document written by hand gets what loading the
// specs would give it: the schema's defaults where it is silent, CUE's
// unification where it is not (a fairness threshold keeps the default's
// other bound), and an error naming the field where it breaks the schema.
func TestFillPolicy(t *testing.T) {
	for _, raw := range []string{"", "null", "{}"} {
		p, err := FillPolicy([]byte(raw))
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if d := cmp.Diff(DefaultPolicy(), p); d != "" {
			t.Errorf("%q (-default +filled):\n%s", raw, d)
		}
	}
	p, err := FillPolicy([]byte(`{"minGroupSize": 50, "fairness": {"demographic_parity_difference": {"min": 0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPolicy()
	want.MinGroupSize = 50
	zero := 0.0
	want.Fairness["demographic_parity_difference"] = Threshold{Min: &zero, Max: want.Fairness["demographic_parity_difference"].Max}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := FillPolicy([]byte(`{"minGroupSize": -1}`)); err == nil || !strings.Contains(err.Error(), "minGroupSize") {
		t.Errorf("minGroupSize -1: err = %v, want one naming the field", err)
	}
}

// TestModelFallsBackToPlatform: a model that writes a fairness block or a
// baseline without minGroupSize or tolerance gets no value of its own (the
// schema's default used to fill in 30 and 0.01, silently overriding a
// stricter platform), and MinGroupSize reads the platform's; a value the
// model sets, 0 tolerance included, is its own.
func TestModelFallsBackToPlatform(t *testing.T) {
	fs := readBase(t)
	fs["platform.cue"] += "platform: policy: {minGroupSize: 50, baselineTolerance: 0.005}\n"
	applySubs(t, fs, `sub models/a/model.cue: metrics: roc_auc: min: 0.7 => metrics: roc_auc: min: 0.7
		baseline: metrics: roc_auc: 0.7
	}
	fairness: {sensitive: ["id"]`)
	b := strings.Replace(fs["models/a/model.cue"], "models: a:", "models: b:", 1)
	b = strings.Replace(b, "baseline: metrics: roc_auc: 0.7", "baseline: {metrics: roc_auc: 0.7, tolerance: 0}", 1)
	fs["models/b/model.cue"] = strings.Replace(b, `sensitive: ["id"]`, `sensitive: ["id"], minGroupSize: 20`, 1)
	p, err := Load(context.Background(), fs.write(t))
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Own, Effective int
		Tolerance      *float64
	}
	zero := 0.0
	want := map[string]got{"a": {0, 50, nil}, "b": {20, 20, &zero}}
	for name, w := range want {
		m := p.Models[name]
		if m.Fairness == nil || m.Evaluation.Baseline == nil {
			t.Fatalf("model %s: fairness %v, baseline %v: want both", name, m.Fairness, m.Evaluation.Baseline)
		}
		g := got{m.Fairness.MinGroupSize, m.MinGroupSize(p.Policy), m.Evaluation.Baseline.Tolerance}
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf("model %s (-want +got):\n%s", name, d)
		}
	}
}
