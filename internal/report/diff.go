package report

import (
	"maps"
	"slices"

	"github.com/slipway-ml/slipway/internal/spec"
)

// ThresholdChange is one threshold that differs between a model's
// release and the release before it.
type ThresholdChange struct {
	// Threshold names it: evaluation.metrics.NAME,
	// fairness.thresholds.NAME or monitoring.drift.threshold.
	Threshold string `json:"threshold"`
	Before    string `json:"before"`
	After     string `json:"after"`
	// Loosened marks a change that lets through what the previous bound
	// stopped: a lower minimum, a higher maximum, or a bound removed.
	Loosened bool `json:"loosened"`
}

// thresholdChanges compares the thresholds two signed model specs set.
func thresholdChanges(prev, cur *spec.Model) []ThresholdChange {
	out := []ThresholdChange{}
	bounds := func(prefix string, a, b map[string]spec.Threshold) {
		names := map[string]bool{}
		for n := range a {
			names[n] = true
		}
		for n := range b {
			names[n] = true
		}
		for _, n := range slices.Sorted(maps.Keys(names)) {
			pa, pb := a[n], b[n]
			if eq(pa.Min, pb.Min) && eq(pa.Max, pb.Max) {
				continue
			}
			loosened := lower(pa.Min, pb.Min) || higher(pa.Max, pb.Max)
			out = append(out, ThresholdChange{Threshold: prefix + n, Before: orDash(bound(pa.Min, pa.Max)), After: orDash(bound(pb.Min, pb.Max)), Loosened: loosened})
		}
	}
	bounds("evaluation.metrics.", prev.Evaluation.Metrics, cur.Evaluation.Metrics)
	var fa, fb map[string]spec.Threshold
	if prev.Fairness != nil {
		fa = prev.Fairness.Thresholds
	}
	if cur.Fairness != nil {
		fb = cur.Fairness.Thresholds
	}
	bounds("fairness.thresholds.", fa, fb)
	if a, b := prev.Monitoring.Drift.Threshold, cur.Monitoring.Drift.Threshold; a != b {
		out = append(out, ThresholdChange{Threshold: "monitoring.drift.threshold", Before: num(a), After: num(b), Loosened: b > a || (a > 0 && b == 0)})
	}
	return out
}

func eq(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// lower: a minimum was lowered or removed.
func lower(before, after *float64) bool {
	return before != nil && (after == nil || *after < *before)
}

// higher: a maximum was raised or removed.
func higher(before, after *float64) bool {
	return before != nil && (after == nil || *after > *before)
}

func orDash(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// releaseDiff compares the dossier's reference release with the verified
// release of the model signed just before it.
func (b *builder) releaseDiff(d *dossier) *ReleaseDiff {
	if d.ref == nil || d.model == nil {
		return nil
	}
	var prev *record
	for _, r := range d.history {
		if r == d.ref {
			break
		}
		if r.verified() {
			prev = r
		}
	}
	if prev == nil || b.full(prev) != nil {
		return nil
	}
	pm, err := signedModel(prev.st)
	if err != nil {
		return nil
	}
	rd := &ReleaseDiff{Previous: prev.row.Record, PreviousVersion: prev.row.Version, Thresholds: thresholdChanges(pm, d.model)}
	pp, cp := prev.st.Predicate, d.ref.st.Predicate
	if pp.Spec.Digest != cp.Spec.Digest {
		rd.SpecChanged = true
	}
	if pp.Bundle != nil && cp.Bundle != nil && pp.Bundle.Policy != cp.Bundle.Policy {
		rd.PolicyBefore, rd.PolicyAfter = pp.Bundle.Policy, cp.Bundle.Policy
	}
	for _, c := range rd.Thresholds {
		rd.Loosened = rd.Loosened || c.Loosened
	}
	if pp.Evidence != nil && cp.Evidence != nil {
		rd.Metrics = metricChanges(pp.Evidence.Headline, cp.Evidence.Headline)
	}
	return rd
}

// MetricChange is one headline metric of a release beside the previous
// release's.
type MetricChange struct {
	Metric string   `json:"metric"`
	Before *float64 `json:"before"`
	After  *float64 `json:"after"`
	// Delta is after minus before; null when either is missing.
	Delta *float64 `json:"delta"`
}

// metricChanges compares the headline metrics two signed records carry:
// every metric either has, in name order.
func metricChanges(prev, cur map[string]*float64) []MetricChange {
	names := map[string]bool{}
	for n := range prev {
		names[n] = true
	}
	for n := range cur {
		names[n] = true
	}
	out := []MetricChange{}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		c := MetricChange{Metric: n, Before: prev[n], After: cur[n]}
		if c.Before != nil && c.After != nil {
			d := round(*c.After - *c.Before)
			c.Delta = &d
		}
		out = append(out, c)
	}
	return out
}

// ReleaseDiff is what changed between a model's reference release and the
// verified release before it.
type ReleaseDiff struct {
	Previous        string            `json:"previous"`
	PreviousVersion string            `json:"previous_version"`
	SpecChanged     bool              `json:"spec_changed"`
	Thresholds      []ThresholdChange `json:"thresholds"`
	Loosened        bool              `json:"loosened"`
	// Metrics are the headline metrics of both releases, from their
	// signed records, with the change.
	Metrics      []MetricChange `json:"metrics"`
	PolicyBefore string         `json:"policy_before,omitempty"`
	PolicyAfter  string         `json:"policy_after,omitempty"`
}
