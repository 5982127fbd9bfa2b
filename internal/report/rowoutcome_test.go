package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRowOutcome: a row shows what its rule signed for it, found by the
// finding's field (or, for records without a bundle, its message), never a
// comparison of its own.
func TestRowOutcome(t *testing.T) {
	drift := []finding{
		{rule: "data.drift", outcome: "deny", field: "monitoring.drift.features[1]", message: "feature b drifted: psi 0.3 over threshold 0.25"},
		{rule: "evaluation.metric_threshold", outcome: "insufficient_evidence", field: "evaluation.metrics.recall", message: "recall is 0.71, within >= 0.7, but its 95% interval crosses the bound"},
		{rule: "fairness.demographic_parity", outcome: "waived", field: "fairness.thresholds.disparate_impact", message: "disparate_impact for age_band is 0.7, threshold >= 0.8 (spec)"},
		{rule: "fairness.equalized_odds", outcome: "pass"},
	}
	unbundled := []finding{
		{rule: "data.drift", outcome: "deny", message: "feature b drifted: psi 0.3 over threshold 0.25"},
		{rule: "evaluation.metric_threshold", outcome: "deny", message: "f1 was not computed (no positives)"},
	}
	passed := []finding{{rule: "data.drift", outcome: "pass"}}
	notApplicable := []finding{{rule: "data.drift", outcome: "not_applicable", message: "no snapshots to compare"}}
	for _, tc := range []struct {
		name  string
		fs    []finding
		rule  string
		about func(string, string) bool
		want  string
	}{
		{"the feature denied", drift, "data.drift", aboutFeature(1, "b"), "deny"},
		{"another feature passes the same rule", drift, "data.drift", aboutFeature(0, "a"), "pass"},
		{"insufficient evidence is not a pass", drift, "evaluation.metric_threshold", aboutMetric("recall"), "insufficient_evidence"},
		{"a metric the rule found nothing on", drift, "evaluation.metric_threshold", aboutMetric("f1"), "pass"},
		{"waived, for its attribute", drift, "fairness.", aboutFairness("age_band", "disparate_impact"), "waived"},
		{"another attribute of the same metric", drift, "fairness.", aboutFairness("region", "disparate_impact"), "pass"},
		{"no bundle: by the message", unbundled, "data.drift", aboutFeature(1, "b"), "deny"},
		{"no bundle: another feature", unbundled, "data.drift", aboutFeature(0, "a"), "pass"},
		{"no bundle: a metric not computed", unbundled, "evaluation.metric_threshold", aboutMetric("f1"), "deny"},
		{"the rule passed", passed, "data.drift", aboutFeature(0, "a"), "pass"},
		{"the rule judged nothing", notApplicable, "data.drift", aboutFeature(0, "a"), ""},
		{"the rule gave no outcome", drift, "data.min_rows", aboutFeature(0, "a"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rowOutcome(tc.fs, tc.rule, tc.about)); diff != "" {
				t.Errorf("rowOutcome (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct{ rule, outcome, want string }{
		{"data.drift", "", "not judged by data.drift"},
		{"fairness.", "", "not judged by the fairness rules"},
		{"", "", ""},
		{"data.drift", "insufficient_evidence", "🔍 insufficient evidence"},
	} {
		if diff := cmp.Diff(tc.want, rowMark(tc.rule, tc.outcome)); diff != "" {
			t.Errorf("rowMark(%q, %q) (-want +got):\n%s", tc.rule, tc.outcome, diff)
		}
	}
}
