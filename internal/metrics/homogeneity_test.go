package metrics

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChi2Crit95(t *testing.T) {
	// Published 95th percentiles of chi-square.
	for _, tc := range []struct {
		df   int
		want float64
	}{{1, 3.841}, {2, 5.991}, {4, 9.488}, {10, 18.307}, {11, 19.675}, {20, 31.410}, {30, 43.773}, {60, 79.082}} {
		if got := chi2Crit95(tc.df); math.Abs(got-tc.want)/tc.want > 0.005 {
			t.Errorf("chi2Crit95(%d) = %.3f, want %.3f within 0.5%%", tc.df, got, tc.want)
		}
	}
}

func TestWithEqualValue(t *testing.T) {
	for _, tc := range []struct {
		metric string
		iv     Interval
		want   Interval
	}{
		{"demographic_parity_difference", Interval{0.01, 0.05}, Interval{0, 0.05}},
		{"equalized_odds_ratio", Interval{0.8, 0.95}, Interval{0.8, 1}},
		{"disparate_impact", Interval{1.05, 1.3}, Interval{1, 1.3}},
		{"disparate_impact", Interval{0.7, 0.9}, Interval{0.7, 1}},
	} {
		if diff := cmp.Diff(tc.want, withEqualValue(tc.iv, tc.metric)); diff != "" {
			t.Errorf("%s %v (-want +got):\n%s", tc.metric, tc.iv, diff)
		}
	}
}
