// Package metrics measures a model from its predictions: confusion-matrix
// and score metrics for binary classification, multiclass and regression
// metrics, fairness gaps across sensitive groups and bootstrap confidence
// intervals. Undefined values (a rate with an empty denominator) are nil
// with a reason, never 0.
package metrics

import (
	"encoding/json"
	"math"
	"sort"
)

// Set is the metrics of the whole file or of one group. It marshals flat:
// {"count": n, "tp": ..., "roc_auc": null, "undefined": {"roc_auc": "..."}}.
type Set struct {
	// Count is the number of rows, unweighted.
	Count int64
	// Values maps metric names to values; nil means undefined.
	Values map[string]*float64
	// Undefined says why each nil value is undefined.
	Undefined map[string]string
	// Extra holds non-scalar results such as a multiclass confusion
	// matrix.
	Extra map[string]any
}

func newSet(count int64) Set {
	return Set{Count: count, Values: map[string]*float64{}, Undefined: map[string]string{}}
}

// Get returns a metric and whether it is defined.
func (s Set) Get(name string) (float64, bool) {
	v := s.Values[name]
	if v == nil {
		return 0, false
	}
	return *v, true
}

func (s Set) put(name string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s.Values[name] = nil
		if s.Undefined[name] == "" {
			s.Undefined[name] = "not a finite number"
		}
		return
	}
	s.Values[name] = &v
}

func (s Set) undefined(name, reason string) {
	s.Values[name] = nil
	s.Undefined[name] = reason
}

// ratio stores num/den, or an undefined value with reason when den is 0.
func (s Set) ratio(name string, num, den float64, reason string) {
	if den == 0 {
		s.undefined(name, reason)
		return
	}
	s.put(name, num/den)
}

// MarshalJSON writes the set as one flat object with sorted keys.
func (s Set) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(s.Values)+len(s.Extra)+2)
	for k, v := range s.Extra {
		m[k] = v
	}
	for k, v := range s.Values {
		m[k] = v
	}
	m["count"] = s.Count
	if len(s.Undefined) > 0 {
		m["undefined"] = s.Undefined
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Set) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = newSet(0)
	for k, raw := range m {
		switch k {
		case "count":
			if err := json.Unmarshal(raw, &s.Count); err != nil {
				return err
			}
		case "undefined":
			if err := json.Unmarshal(raw, &s.Undefined); err != nil {
				return err
			}
		default:
			var f *float64
			if err := json.Unmarshal(raw, &f); err == nil {
				s.Values[k] = f
				continue
			}
			var x any
			if err := json.Unmarshal(raw, &x); err != nil {
				return err
			}
			if s.Extra == nil {
				s.Extra = map[string]any{}
			}
			s.Extra[k] = x
		}
	}
	return nil
}

// Names returns the set's metric names, sorted.
func (s Set) Names() []string {
	names := make([]string, 0, len(s.Values))
	for k := range s.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Confusion is a weighted binary confusion matrix.
type Confusion struct {
	TP, FP, TN, FN float64
}

func (c Confusion) add(o Confusion) Confusion {
	return Confusion{c.TP + o.TP, c.FP + o.FP, c.TN + o.TN, c.FN + o.FN}
}

// Reasons for undefined binary metrics.
const (
	reasonNoRows      = "no rows"
	reasonNoPositives = "no positive labels"
	reasonNoNegatives = "no negative labels"
	reasonNoPredPos   = "no positive predictions"
	reasonNoF1        = "no positive labels and no positive predictions"
)

// BinarySet computes the confusion-matrix metrics of c for count rows.
func BinarySet(c Confusion, count int64) Set {
	s := newSet(count)
	s.put("tp", c.TP)
	s.put("fp", c.FP)
	s.put("tn", c.TN)
	s.put("fn", c.FN)
	pos, neg := c.TP+c.FN, c.FP+c.TN
	total := pos + neg
	s.ratio("accuracy", c.TP+c.TN, total, reasonNoRows)
	s.ratio("precision", c.TP, c.TP+c.FP, reasonNoPredPos)
	s.ratio("recall", c.TP, pos, reasonNoPositives)
	s.ratio("tpr", c.TP, pos, reasonNoPositives)
	s.ratio("fnr", c.FN, pos, reasonNoPositives)
	s.ratio("specificity", c.TN, neg, reasonNoNegatives)
	s.ratio("tnr", c.TN, neg, reasonNoNegatives)
	s.ratio("fpr", c.FP, neg, reasonNoNegatives)
	s.ratio("f1", 2*c.TP, 2*c.TP+c.FP+c.FN, reasonNoF1)
	s.ratio("selection_rate", c.TP+c.FP, total, reasonNoRows)
	s.ratio("positive_rate", pos, total, reasonNoRows)
	switch {
	case pos == 0:
		s.undefined("balanced_accuracy", reasonNoPositives)
	case neg == 0:
		s.undefined("balanced_accuracy", reasonNoNegatives)
	default:
		s.put("balanced_accuracy", (c.TP/pos+c.TN/neg)/2)
	}
	return s
}
