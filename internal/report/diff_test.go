package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
)

func TestThresholdChanges(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	model := func(auc spec.Threshold, dp *spec.Threshold, drift float64) *spec.Model {
		m := &spec.Model{}
		m.Evaluation.Metrics = map[string]spec.Threshold{"roc_auc": auc}
		if dp != nil {
			m.Fairness = &spec.Fairness{Thresholds: map[string]spec.Threshold{"demographic_parity_difference": *dp}}
		}
		m.Monitoring.Drift.Threshold = drift
		return m
	}
	for _, tc := range []struct {
		name      string
		prev, cur *spec.Model
		want      []ThresholdChange
	}{
		{"same", model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), []ThresholdChange{}},
		{"tightened", model(spec.Threshold{Min: f(0.8)}, nil, 0.2), model(spec.Threshold{Min: f(0.85)}, nil, 0.1), []ThresholdChange{
			{Threshold: "evaluation.metrics.roc_auc", Before: ">= 0.8", After: ">= 0.85"},
			{Threshold: "monitoring.drift.threshold", Before: "0.2", After: "0.1"},
		}},
		{"loosened fairness bound", model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.1)}, 0.2), []ThresholdChange{
			{Threshold: "fairness.thresholds.demographic_parity_difference", Before: "<= 0.05", After: "<= 0.1", Loosened: true},
		}},
		{"bound removed", model(spec.Threshold{Min: f(0.8)}, &spec.Threshold{Max: f(0.05)}, 0.2), model(spec.Threshold{}, nil, 0.3), []ThresholdChange{
			{Threshold: "evaluation.metrics.roc_auc", Before: ">= 0.8", After: "none", Loosened: true},
			{Threshold: "fairness.thresholds.demographic_parity_difference", Before: "<= 0.05", After: "none", Loosened: true},
			{Threshold: "monitoring.drift.threshold", Before: "0.2", After: "0.3", Loosened: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, thresholdChanges(tc.prev, tc.cur)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
