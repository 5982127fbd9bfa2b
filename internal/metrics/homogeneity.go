package metrics

import (
	"math"
	"slices"
)

// equalRatesHeld reports whether a 5% Wald test does not reject that the
// groups of attr share the rates a fairness metric compares: the selection
// rate (demographic parity, disparate impact), the true positive rate
// (equal opportunity), or both the true and false positive rates
// (equalized odds). Each group's rate is its estimate and its variance is
// the variance of its own bootstrap replicates, so weighted rows count as
// the bootstrap counts them. The fairness interval then reaches the
// metric's value for equal groups (0 for a difference, 1 for a ratio):
// where groups tie, max minus min over noisy groups always exceeds the
// truth, and no bootstrap of the statistic itself reaches 0; inverting the
// test of equal rates does, 95% of the time when the rates are equal.
func equalRatesHeld(metric, attr string, minSize int, groups []groupDef, groupSamples [][][]float64) bool {
	var rates []string
	switch metric {
	case "demographic_parity_difference", "demographic_parity_ratio", "disparate_impact":
		rates = []string{"selection_rate"}
	case "equal_opportunity_difference", "equal_opportunity_ratio":
		rates = []string{"tpr"}
	case "equalized_odds_difference", "equalized_odds_ratio":
		rates = []string{"tpr", "fpr"}
	default:
		return false
	}
	var stat float64
	df := 0
	vals := make([]float64, len(binaryNames))
	for _, name := range rates {
		m := slices.Index(binaryNames, name)
		var ps, ws []float64
		for gi, g := range groups {
			if g.attr != attr || g.count < int64(minSize) {
				continue
			}
			binaryValues(g.conf, vals)
			v := variance(groupSamples[gi][m])
			if math.IsNaN(vals[m]) || !(v > 0) {
				// A rate with no spread cannot be tested: no claim of
				// equality is made.
				return false
			}
			ps, ws = append(ps, vals[m]), append(ws, 1/v)
		}
		if len(ps) < 2 {
			return false
		}
		var sw, swp float64
		for i := range ps {
			sw, swp = sw+ws[i], swp+ws[i]*ps[i]
		}
		mean := swp / sw
		for i := range ps {
			stat += ws[i] * (ps[i] - mean) * (ps[i] - mean)
		}
		df += len(ps) - 1
	}
	return stat <= chi2Crit95(df)
}

// variance is the sample variance of xs (NaN with fewer than two).
func variance(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	var s, s2 float64
	for _, x := range xs {
		s += x
	}
	mean := s / float64(len(xs))
	for _, x := range xs {
		s2 += (x - mean) * (x - mean)
	}
	return s2 / float64(len(xs)-1)
}

// chi2Crit95 is the 95th percentile of the chi-square distribution with
// df degrees of freedom: exact to three decimals up to 10, the
// Wilson-Hilferty approximation (within 0.5%) above.
func chi2Crit95(df int) float64 {
	table := []float64{3.841, 5.991, 7.815, 9.488, 11.070, 12.592, 14.067, 15.507, 16.919, 18.307}
	if df >= 1 && df <= len(table) {
		return table[df-1]
	}
	k := float64(df)
	c := 1 - 2/(9*k) + 1.6448536269514722*math.Sqrt(2/(9*k))
	return k * c * c * c
}
