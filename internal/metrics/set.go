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

// binaryNames are the confusion-matrix metrics, in the order
// binaryValues computes them.
var binaryNames = []string{"tp", "fp", "tn", "fn", "accuracy", "precision", "recall", "tpr", "fnr",
	"specificity", "tnr", "fpr", "f1", "selection_rate", "positive_rate", "balanced_accuracy"}

// binaryValues computes binaryNames into v; a NaN marks an undefined
// value, whose reason binaryReason gives. It allocates nothing, which the
// bootstrap relies on.
func binaryValues(c Confusion, v []float64) {
	nan := math.NaN()
	q := func(a, b float64) float64 {
		if b == 0 {
			return nan
		}
		return a / b
	}
	pos, neg := c.TP+c.FN, c.FP+c.TN
	total := pos + neg
	v[0], v[1], v[2], v[3] = c.TP, c.FP, c.TN, c.FN
	v[4] = q(c.TP+c.TN, total)
	v[5] = q(c.TP, c.TP+c.FP)
	v[6] = q(c.TP, pos)
	v[7] = v[6]
	v[8] = q(c.FN, pos)
	v[9] = q(c.TN, neg)
	v[10] = v[9]
	v[11] = q(c.FP, neg)
	v[12] = q(2*c.TP, 2*c.TP+c.FP+c.FN)
	v[13] = q(c.TP+c.FP, total)
	v[14] = q(pos, total)
	v[15] = nan
	if pos > 0 && neg > 0 {
		v[15] = (c.TP/pos + c.TN/neg) / 2
	}
}

func binaryReason(name string, c Confusion) string {
	pos, neg := c.TP+c.FN, c.FP+c.TN
	switch name {
	case "accuracy", "selection_rate", "positive_rate":
		return reasonNoRows
	case "precision":
		return reasonNoPredPos
	case "recall", "tpr", "fnr":
		return reasonNoPositives
	case "specificity", "tnr", "fpr":
		return reasonNoNegatives
	case "f1":
		return reasonNoF1
	case "balanced_accuracy":
		if pos == 0 {
			return reasonNoPositives
		}
		if neg == 0 {
			return reasonNoNegatives
		}
	}
	return "not a finite number"
}

// BinarySet computes the confusion-matrix metrics of c for count rows.
func BinarySet(c Confusion, count int64) Set {
	s := newSet(count)
	v := make([]float64, len(binaryNames))
	binaryValues(c, v)
	for i, name := range binaryNames {
		if math.IsNaN(v[i]) {
			s.undefined(name, binaryReason(name, c))
			continue
		}
		s.put(name, v[i])
	}
	return s
}
