package metrics

import (
	"fmt"
	"sort"
	"strings"
)

// Fairness is the gap between the groups of one sensitive attribute, with
// Fairlearn's conventions: differences are max minus min over every
// compared group (never negative), ratios are min over max (at most 1).
type Fairness struct {
	DemographicParityDifference *float64 `json:"demographic_parity_difference"`
	DemographicParityRatio      *float64 `json:"demographic_parity_ratio"`
	EqualizedOddsDifference     *float64 `json:"equalized_odds_difference"`
	EqualizedOddsRatio          *float64 `json:"equalized_odds_ratio"`
	EqualOpportunityDifference  *float64 `json:"equal_opportunity_difference"`
	EqualOpportunityRatio       *float64 `json:"equal_opportunity_ratio"`
	// DisparateImpact is the lowest selection rate of a compared group
	// divided by the reference group's (the four-fifths rule wants >= 0.8).
	DisparateImpact *float64 `json:"disparate_impact"`
	ReferenceGroup  string   `json:"reference_group"`
	// ImpactRatios is every compared group's selection rate over the
	// reference group's.
	ImpactRatios map[string]*float64 `json:"impact_ratios,omitempty"`
	// Compared are the groups large enough to be compared.
	Compared  []string          `json:"groups_compared"`
	Undefined map[string]string `json:"undefined,omitempty"`
}

// Values returns the fairness metrics by name.
func (f Fairness) Values() map[string]*float64 {
	return map[string]*float64{
		"demographic_parity_difference": f.DemographicParityDifference,
		"demographic_parity_ratio":      f.DemographicParityRatio,
		"equalized_odds_difference":     f.EqualizedOddsDifference,
		"equalized_odds_ratio":          f.EqualizedOddsRatio,
		"equal_opportunity_difference":  f.EqualOpportunityDifference,
		"equal_opportunity_ratio":       f.EqualOpportunityRatio,
		"disparate_impact":              f.DisparateImpact,
	}
}

// GroupRates is what fairness needs of one group.
type GroupRates struct {
	Name string
	C    Confusion
}

// rate is a ratio that may be undefined.
type rate struct {
	v  float64
	ok bool
}

func div(a, b float64) rate {
	if b == 0 {
		return rate{}
	}
	return rate{a / b, true}
}

// spread is max-min and min/max of one rate over the groups, or the reason
// it is undefined.
func spread(groups []GroupRates, of func(Confusion) rate, what string) (diff, ratio *float64, why, whyRatio string) {
	lo, hi := 0.0, 0.0
	for i, g := range groups {
		r := of(g.C)
		if !r.ok {
			w := fmt.Sprintf("%s undefined for group %q", what, g.Name)
			return nil, nil, w, w
		}
		if i == 0 || r.v < lo {
			lo = r.v
		}
		if i == 0 || r.v > hi {
			hi = r.v
		}
	}
	d := hi - lo
	diff = &d
	if hi == 0 {
		return diff, nil, "", fmt.Sprintf("%s is 0 for every group", what)
	}
	q := lo / hi
	return diff, &q, "", ""
}

func selectionRate(c Confusion) rate { return div(c.TP+c.FP, c.TP+c.FP+c.TN+c.FN) }
func truePositiveRate(c Confusion) rate {
	return div(c.TP, c.TP+c.FN)
}
func falsePositiveRate(c Confusion) rate { return div(c.FP, c.FP+c.TN) }

// FairnessOf compares groups (already filtered to those large enough)
// against each other and against ref; ref "" picks the group with the
// highest selection rate (ties: the first by name).
func FairnessOf(groups []GroupRates, ref string) Fairness {
	groups = append([]GroupRates(nil), groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	f := Fairness{Undefined: map[string]string{}, Compared: []string{}}
	for _, g := range groups {
		f.Compared = append(f.Compared, g.Name)
	}
	if len(groups) == 0 {
		for k := range f.Values() {
			f.Undefined[k] = "no group is large enough to compare"
		}
		return f
	}
	var why, whyR string
	f.DemographicParityDifference, f.DemographicParityRatio, why, whyR = spread(groups, selectionRate, "selection rate")
	note(f.Undefined, "demographic_parity_difference", why)
	note(f.Undefined, "demographic_parity_ratio", whyR)

	tprD, tprR, tw, twR := spread(groups, truePositiveRate, "true positive rate")
	fprD, fprR, fw, fwR := spread(groups, falsePositiveRate, "false positive rate")
	f.EqualOpportunityDifference, f.EqualOpportunityRatio = tprD, tprR
	note(f.Undefined, "equal_opportunity_difference", tw)
	note(f.Undefined, "equal_opportunity_ratio", twR)
	switch {
	case tprD == nil:
		note(f.Undefined, "equalized_odds_difference", tw)
	case fprD == nil:
		note(f.Undefined, "equalized_odds_difference", fw)
	default:
		d := max(*tprD, *fprD)
		f.EqualizedOddsDifference = &d
	}
	switch {
	case tprR == nil:
		note(f.Undefined, "equalized_odds_ratio", twR)
	case fprR == nil:
		note(f.Undefined, "equalized_odds_ratio", fwR)
	default:
		r := min(*tprR, *fprR)
		f.EqualizedOddsRatio = &r
	}

	// Disparate impact against the reference group.
	refIdx := -1
	if ref == "" {
		best := -1.0
		for i, g := range groups {
			if r := selectionRate(g.C); r.ok && r.v > best {
				best, refIdx = r.v, i
			}
		}
	} else {
		for i, g := range groups {
			if g.Name == ref {
				refIdx = i
			}
		}
	}
	f.ReferenceGroup = ref
	switch {
	case refIdx < 0:
		f.Undefined["disparate_impact"] = fmt.Sprintf("reference group %q is not among the compared groups (%s)", ref, strings.Join(f.Compared, ", "))
	default:
		f.ReferenceGroup = groups[refIdx].Name
		rs := selectionRate(groups[refIdx].C)
		if !rs.ok || rs.v == 0 {
			f.Undefined["disparate_impact"] = fmt.Sprintf("reference group %q has selection rate 0", f.ReferenceGroup)
			break
		}
		f.ImpactRatios = map[string]*float64{}
		lo := 0.0
		first := true
		for _, g := range groups {
			r := selectionRate(g.C).v / rs.v
			f.ImpactRatios[g.Name] = &r
			if g.Name == f.ReferenceGroup {
				continue
			}
			if first || r < lo {
				lo, first = r, false
			}
		}
		if first {
			lo = 1 // the reference group alone: no group fares worse
		}
		f.DisparateImpact = &lo
	}
	if len(f.Undefined) == 0 {
		f.Undefined = nil
	}
	return f
}

func note(m map[string]string, k, why string) {
	if why != "" {
		m[k] = why
	}
}
