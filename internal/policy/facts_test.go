package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ml/slipway/internal/spec"
)

// TestFacts checks that the engine reports the baseline source and the
// fairness thresholds the rules decided on, so the check result can show
// them without deciding them again.
func TestFacts(t *testing.T) {
	e := newEngine(t, "")
	base := fixture(t)
	lo, hi := 0.8, 0.15
	platform := map[string]any{"demographic_parity_difference": map[string]any{"max": hi}}
	// The platform's thresholds are the schema's with its own unified in,
	// as CUE has them: demographic_parity_difference replaced, the rest
	// the defaults.
	merged := spec.DefaultPolicy().Fairness
	merged["demographic_parity_difference"] = spec.Threshold{Max: &hi}
	own := map[string]any{"disparate_impact": map[string]any{"min": lo, "decideOn": "estimate"}}
	release := func(verified bool) map[string]any {
		return map[string]any{"version": "1.0.0", "record": "ledger/x.json", "released_at": "2026-01-01T00:00:00Z", "verified": verified, "headline": map[string]any{}}
	}
	tests := []struct {
		name    string
		patches map[string]any
		want    Facts
	}{
		{"first release, platform thresholds", map[string]any{
			"/evidence/baseline": nil, "/previous_release": nil, "/model/evaluation/baseline": nil, "/model/fairness/thresholds": map[string]any{},
			"/platform/policy/fairness": platform,
		}, Facts{BaselineSource: "none", FairnessThresholds: merged}},
		{"verified release, the model's thresholds", map[string]any{
			"/evidence/baseline": nil, "/previous_release": release(true), "/model/evaluation/baseline": nil, "/model/fairness/thresholds": own,
			"/platform/policy/fairness": platform,
		}, Facts{BaselineSource: "release", FairnessThresholds: map[string]spec.Threshold{"disparate_impact": {Min: &lo, DecideOn: "estimate"}}}},
		{"unverified release", map[string]any{
			"/evidence/baseline": nil, "/previous_release": release(false), "/model/evaluation/baseline": nil, "/model/fairness/thresholds": own,
		}, Facts{BaselineSource: "unverified", FairnessThresholds: map[string]spec.Threshold{"disparate_impact": {Min: &lo, DecideOn: "estimate"}}}},
		{"declared baseline", map[string]any{
			"/evidence/baseline": nil, "/previous_release": release(true), "/model/evaluation/baseline": map[string]any{"metrics": map[string]any{"accuracy": 0.8}},
			"/model/fairness/thresholds": own,
		}, Facts{BaselineSource: "declared", FairnessThresholds: map[string]spec.Threshold{"disparate_impact": {Min: &lo, DecideOn: "estimate"}}}},
		{"measured baseline", map[string]any{
			"/evidence/baseline":         map[string]any{"predictions": "champion.csv", "overall": map[string]any{"accuracy": 0.8}},
			"/model/evaluation/baseline": map[string]any{"metrics": map[string]any{"accuracy": 0.8}},
			"/model/fairness/thresholds": own,
		}, Facts{BaselineSource: "measured", FairnessThresholds: map[string]spec.Threshold{"disparate_impact": {Min: &lo, DecideOn: "estimate"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			for path, v := range tt.patches {
				in = patch(t, in, path, v)
			}
			got := e.evaluate(context.Background(), nil, in, nil).Facts
			// The outcomes have a test of their own.
			if d := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Facts{}, "FairnessOutcomes")); d != "" {
				t.Errorf("facts (-want +got):\n%s", d)
			}
		})
	}
}

// TestFairnessOutcomes checks that the engine reports, per attribute and
// metric, what the fairness rules decided of each figure.
func TestFairnessOutcomes(t *testing.T) {
	e := newEngine(t, "")
	in := patch(t, fixture(t), "/model/fairness/thresholds", map[string]any{
		"demographic_parity_difference": map[string]any{"max": 0.05, "decideOn": "interval"},
		"disparate_impact":              map[string]any{"min": 0.82, "decideOn": "interval"},
		"equalized_odds_ratio":          map[string]any{"min": 0.8},
	})
	want := map[string]map[string]Outcome{
		// 0.03 [0.01, 0.05] and 0.92 [0.85, 0.98] are within; the ratio
		// was not computed.
		"sex": {"demographic_parity_difference": OutcomePass, "disparate_impact": OutcomePass, "equalized_odds_ratio": OutcomeDeny},
		// 0.06 is over 0.05; 0.85 is within 0.82, its interval
		// [0.81, 0.9] is not.
		"age_band": {"demographic_parity_difference": OutcomeDeny, "disparate_impact": OutcomeInsufficient, "equalized_odds_ratio": OutcomeDeny},
	}
	got := e.evaluate(context.Background(), nil, in, nil).Facts.FairnessOutcomes
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("fairness outcomes (-want +got):\n%s", d)
	}
}

func TestFairnessThresholds(t *testing.T) {
	lo, hi := 0.8, 0.15
	defaults := spec.PolicyDefaults{Fairness: map[string]spec.Threshold{"demographic_parity_difference": {Max: &hi}}}
	// Where the platform's fairness is silent, the schema's defaults hold.
	merged := spec.DefaultPolicy().Fairness
	merged["demographic_parity_difference"] = spec.Threshold{Max: &hi}
	own := map[string]spec.Threshold{"disparate_impact": {Min: &lo, DecideOn: "interval"}}
	tests := []struct {
		name  string
		model spec.Model
		want  map[string]spec.Threshold
	}{
		{"no fairness block", spec.Model{}, merged},
		{"no thresholds of its own", spec.Model{Fairness: &spec.Fairness{Sensitive: []string{"sex"}}}, merged},
		{"its own", spec.Model{Fairness: &spec.Fairness{Sensitive: []string{"sex"}, Thresholds: own}}, own},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FairnessThresholds(context.Background(), &tt.model, defaults)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("thresholds (-want +got):\n%s", d)
			}
		})
	}
}
