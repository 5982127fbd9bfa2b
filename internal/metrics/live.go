package metrics

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Live is what production outcomes measure once a database has counted
// them: the confusion-matrix metrics overall and per group, and fairness,
// with the definitions an evaluation of a predictions file uses (score
// metrics such as roc_auc need each request's score and are not among
// them).
type Live struct {
	Labelled       int64                     `json:"labelled"`
	Overall        Set                       `json:"overall"`
	Groups         map[string]map[string]Set `json:"groups"`
	Fairness       map[string]Fairness       `json:"fairness"`
	ExcludedGroups []ExcludedGroup           `json:"excluded_groups"`
	// CI are 95% intervals made as an evaluation makes them (the Poisson
	// bootstrap of the confusion counts, c.Bootstrap replicates from
	// c.Seed); nil when c.Bootstrap is 0.
	CI *CI `json:"ci,omitempty"`
}

// LiveCounts are confusion matrices counted elsewhere: overall, and per
// sensitive attribute and group, with the groups' row counts.
type LiveCounts struct {
	Overall Confusion
	Groups  map[string]map[string]Confusion
}

// LiveBinary measures counted outcomes with c's minimum group size and
// reference groups.
func LiveBinary(c Config, counts LiveCounts) Live {
	n := func(x Confusion) int64 { return int64(x.TP + x.FP + x.TN + x.FN) }
	out := Live{Labelled: n(counts.Overall), Overall: BinarySet(counts.Overall, n(counts.Overall)),
		Groups: map[string]map[string]Set{}, Fairness: map[string]Fairness{}, ExcludedGroups: []ExcludedGroup{}}
	for _, attr := range slices.Sorted(maps.Keys(counts.Groups)) {
		out.Groups[attr] = map[string]Set{}
		var rates []GroupRates
		for _, g := range slices.Sorted(maps.Keys(counts.Groups[attr])) {
			conf := counts.Groups[attr][g]
			out.Groups[attr][g] = BinarySet(conf, n(conf))
			if n(conf) < int64(c.MinGroupSize) {
				out.ExcludedGroups = append(out.ExcludedGroups, ExcludedGroup{Attribute: attr, Group: g, Count: n(conf),
					Reason: fmt.Sprintf("fewer than %d rows (min group size)", c.MinGroupSize)})
				continue
			}
			rates = append(rates, GroupRates{Name: g, C: conf})
		}
		out.Fairness[attr] = FairnessOf(rates, c.ReferenceGroup[attr])
	}
	if c.Bootstrap > 0 {
		out.CI = liveIntervals(c, counts, out.Fairness)
	}
	return out
}

// liveIntervals runs the evaluation's bootstrap over counted cells: one
// cell for every request, one per attribute and group. An evaluation's
// cells are the combinations of all attributes; counts aggregated per
// attribute have only the margins, so each group is resampled on its own,
// which gives every metric and every attribute's fairness the same
// marginal distribution the evaluation's bootstrap gives it.
func liveIntervals(c Config, counts LiveCounts, fair map[string]Fairness) *CI {
	cell := func(x Confusion) cellAcc {
		w := [4]float64{x.TP, x.FP, x.TN, x.FN}
		return cellAcc{n: [4]int64{int64(x.TP), int64(x.FP), int64(x.TN), int64(x.FN)}, w: w}
	}
	cells := []cellAcc{cell(counts.Overall)}
	groups := []groupDef{{cells: []int32{0}, count: cells[0].count()}}
	rep := &Report{Fairness: fair, groupConf: map[string]map[string]groupRaw{}}
	for _, attr := range slices.Sorted(maps.Keys(counts.Groups)) {
		rep.groupConf[attr] = map[string]groupRaw{}
		for _, g := range slices.Sorted(maps.Keys(counts.Groups[attr])) {
			conf := counts.Groups[attr][g]
			cells = append(cells, cell(conf))
			n := cells[len(cells)-1].count()
			groups = append(groups, groupDef{attr: attr, value: g, cells: []int32{int32(len(cells) - 1)}, count: n})
			rep.groupConf[attr][g] = groupRaw{count: n, conf: conf}
		}
	}
	return bootstrap(&plan{cfg: c}, cells, groups, rep, nil)
}

// Classify reads a label or prediction value, as text, as the positive
// class or not, the way an evaluation reads its file: with no positive
// class named, only 0, 1, true and false are allowed.
func Classify(v, positive string) (bool, error) {
	if positive != "" {
		if v == positive {
			return true, nil
		}
		switch strings.ToLower(positive) {
		case "true", "1":
			if strings.EqualFold(v, "true") || v == "1" || v == "t" {
				return true, nil
			}
		}
		return false, nil
	}
	switch {
	case v == "1" || v == "1.0" || strings.EqualFold(v, "true") || v == "t":
		return true, nil
	case v == "0" || v == "0.0" || strings.EqualFold(v, "false") || v == "f":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q is not one of 0, 1, true, false (name the positive class to use other values)", ErrClass, v)
}
