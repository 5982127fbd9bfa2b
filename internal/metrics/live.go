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
	return out
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
