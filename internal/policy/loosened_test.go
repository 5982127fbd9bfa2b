package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
)

func TestLoosened(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	model := func(auc spec.Threshold, dp *spec.Threshold, drift float64) *spec.Model {
		m := &spec.Model{}
		m.Evaluation.Metrics = map[string]spec.Threshold{"roc_auc": auc}
		if dp != nil {
			m.Fairness = &spec.Fairness{Thresholds: map[string]spec.Threshold{"demographic_parity_difference": *dp}, MinGroupSize: 30}
		}
		m.Monitoring.Drift.Threshold = drift
		return m
	}
	estimate := spec.Threshold{Min: f(0.8), DecideOn: "estimate"}
	for _, tc := range []struct {
		name      string
		prev, cur *spec.Model
		protected bool
		want      []Loosening
	}{
		{"same", model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), false, []Loosening{}},
		{"tightened", model(spec.Threshold{Min: f(0.8)}, nil, 0.2), model(spec.Threshold{Min: f(0.85)}, nil, 0.1), false, []Loosening{}},
		{"loosened fairness bound", model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.1)}, 0.2), false, []Loosening{
			{Field: "fairness.thresholds.demographic_parity_difference", Was: "<= 0.05", Now: "<= 0.1"},
		}},
		{"bounds removed, drift raised", model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), model(spec.Threshold{}, nil, 0.3), false, []Loosening{
			{Field: "evaluation.metrics.roc_auc", Was: ">= 0.8", Now: "none"},
			{Field: "fairness.minGroupSize", Was: "30", Now: "0"},
			{Field: "fairness.thresholds.demographic_parity_difference", Was: "<= 0.05", Now: "removed"},
			{Field: "monitoring.drift.threshold", Was: "0.2", Now: "0.3"},
		}},
		{"interval to estimate in a protected environment", model(spec.Threshold{Min: f(0.8)}, nil, 0.2), model(estimate, nil, 0.2), true, []Loosening{
			{Field: "evaluation.metrics.roc_auc", Was: ">= 0.8", Now: ">= 0.8 (decideOn estimate)"},
		}},
		{"estimate stays estimate elsewhere", model(spec.Threshold{Min: f(0.8)}, nil, 0.2), model(estimate, nil, 0.2), false, []Loosening{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Loosened(context.Background(), ThresholdPair{Before: tc.prev, After: tc.cur, Protected: tc.protected})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestThresholdFields(t *testing.T) {
	got, err := ThresholdFields(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"evaluation.metrics", "evaluation.baseline.tolerance", "fairness.thresholds", "fairness.minGroupSize", "monitoring.drift.threshold"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}
