package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/spec"
)

// A model's releases are diffed per environment: each environment has its
// own chain of releases (a record's `previous` is the record before it in
// the same environment), and a promotion to production repeats a staging
// release rather than changing it. Every verified release in scope is
// compared with the verified release of the same model and environment
// just before it, from the two signed records alone: the resolved spec
// (compared as signed, section by section, so identical parts cost a
// byte comparison), the headline metrics and the policy bundle's digest.
// Whether a threshold change loosens is the built-in rule's own decision
// (policy.Loosened, the `loosened` set of policy.threshold_loosened), asked
// only when a field it reads changed.

// ReleaseDiff is what changed between a release and the verified release
// of the same model in the same environment before it.
type ReleaseDiff struct {
	Environment     string `json:"environment"`
	Record          string `json:"record"`
	Version         string `json:"version"`
	Previous        string `json:"previous"`
	PreviousVersion string `json:"previous_version"`
	// Fields are the signed model spec's changed fields, by path, in
	// path order; a part present on one side only is one field.
	Fields []FieldChange `json:"fields"`
	// Loosened are the thresholds the release loosened, as
	// policy.threshold_loosened's own rule finds and prints them.
	Loosened []ThresholdChange `json:"loosened"`
	// Metrics are the headline metrics of both releases, from their
	// signed records, with the change.
	Metrics      []MetricChange `json:"metrics"`
	PolicyBefore string         `json:"policy_before,omitempty"`
	PolicyAfter  string         `json:"policy_after,omitempty"`
	// Problem says why part of the diff could not be made.
	Problem string `json:"problem,omitempty"`
}

// FieldChange is one changed field of the signed model spec.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
	// Threshold marks a field policy.threshold_loosened reads.
	Threshold bool `json:"threshold,omitempty"`
	// Loosened marks a field of a threshold the rule found loosened.
	Loosened bool `json:"loosened,omitempty"`
}

// ThresholdChange is one threshold a release loosened.
type ThresholdChange struct {
	Threshold string `json:"threshold"`
	Before    string `json:"before"`
	After     string `json:"after"`
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

// releaseDiffs diffs every verified release of the dossier's history with
// the verified release of its environment before it (which may precede
// the period), newest first.
func (b *builder) releaseDiffs(d *dossier, all []*record) []ReleaseDiff {
	out := []ReleaseDiff{}
	inHistory := map[*record]bool{}
	for _, r := range d.history {
		inHistory[r] = true
	}
	last := map[string]*record{}
	for _, r := range all {
		if !r.verified() {
			continue
		}
		env := r.row.Environment
		prev := last[env]
		last[env] = r
		if prev == nil || !inHistory[r] {
			continue
		}
		out = append(out, b.releaseDiff(prev, r))
	}
	slices.Reverse(out)
	return out
}

// releaseDiff compares two verified releases of one model and environment.
func (b *builder) releaseDiff(prev, cur *record) ReleaseDiff {
	pp, cp := prev.lite, cur.lite
	rd := ReleaseDiff{Environment: cur.row.Environment, Record: cur.row.Record, Version: cur.row.Version,
		Previous: prev.row.Record, PreviousVersion: prev.row.Version, Fields: []FieldChange{}, Loosened: []ThresholdChange{}}
	if pp.Bundle != nil && cp.Bundle != nil && pp.Bundle.Policy != cp.Bundle.Policy {
		rd.PolicyBefore, rd.PolicyAfter = pp.Bundle.Policy, cp.Bundle.Policy
	}
	var ph, ch map[string]*float64
	if pp.Evidence != nil {
		ph = pp.Evidence.Headline
	}
	if cp.Evidence != nil {
		ch = cp.Evidence.Headline
	}
	rd.Metrics = metricChanges(ph, ch)
	if pp.Spec.Digest == cp.Spec.Digest {
		return rd
	}
	diffJSON("", pp.Spec.Model, cp.Spec.Model, &rd.Fields)
	fields, err := policy.ThresholdFields(b.ctx)
	if err != nil {
		rd.Problem = "whether a threshold loosened could not be judged: " + err.Error()
		return rd
	}
	asked := false
	for i, f := range rd.Fields {
		for _, t := range fields {
			if within(f.Field, t) || within(t, f.Field) {
				rd.Fields[i].Threshold, asked = true, true
			}
		}
	}
	if !asked {
		return rd
	}
	var pm, cm spec.Model
	if err := json.Unmarshal(pp.Spec.Model, &pm); err != nil {
		rd.Problem = fmt.Sprintf("signed model spec of %s: %v", prev.row.Record, err)
		return rd
	}
	if err := json.Unmarshal(cp.Spec.Model, &cm); err != nil {
		rd.Problem = fmt.Sprintf("signed model spec of %s: %v", cur.row.Record, err)
		return rd
	}
	// A record signs the model, not the platform's policy defaults: both
	// sides are judged under today's, so only the model's own changes
	// count (a change of the defaults is judged at check time, against
	// --base).
	ls, err := policy.Loosened(b.ctx, policy.ThresholdPair{Before: &pm, After: &cm, Policy: b.p.Policy,
		Protected: b.p.Environments[cur.row.Environment].Protected})
	if err != nil {
		rd.Problem = "whether a threshold loosened could not be judged: " + err.Error()
		return rd
	}
	for _, l := range ls {
		rd.Loosened = append(rd.Loosened, ThresholdChange{Threshold: l.Field, Before: l.Was, After: l.Now})
		for i, f := range rd.Fields {
			if within(f.Field, l.Field) || within(l.Field, f.Field) {
				rd.Fields[i].Loosened = true
			}
		}
	}
	return rd
}

// within: path is field or lies under it.
func within(path, field string) bool {
	return path == field || strings.HasPrefix(path, field+".") || strings.HasPrefix(path, field+"[")
}

// maxValueText bounds how much of a changed value a diff prints.
const maxValueText = 120

// diffJSON appends the fields of two JSON documents that differ, by path.
// Equal parts are skipped by comparing their bytes, and a part is split
// into its members in one pass without decoding them (members), so a diff
// of two specs that differ in one field costs about one scan of each: at
// ten thousand releases, decoding every spec cost as much as verifying
// the ledger.
func diffJSON(path string, a, b json.RawMessage, out *[]FieldChange) {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if bytes.Equal(a, b) {
		return
	}
	if isKind(a, '{') && isKind(b, '{') {
		ka, va, okA := members(a)
		kb, vb, okB := members(b)
		if okA && okB {
			sub := func(k string) string {
				if path == "" {
					return k
				}
				return path + "." + k
			}
			if slices.Equal(ka, kb) {
				// The same members, as two releases' specs have: pair
				// them by place, in key order.
				order := make([]int, len(ka))
				for i := range order {
					order[i] = i
				}
				sort.Slice(order, func(x, y int) bool { return ka[order[x]] < ka[order[y]] })
				for _, i := range order {
					diffJSON(sub(ka[i]), va[i], vb[i], out)
				}
				return
			}
			ma, mb, keys := map[string]json.RawMessage{}, map[string]json.RawMessage{}, map[string]bool{}
			for i, k := range ka {
				ma[k], keys[k] = va[i], true
			}
			for i, k := range kb {
				mb[k], keys[k] = vb[i], true
			}
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				diffJSON(sub(k), ma[k], mb[k], out)
			}
			return
		}
	}
	if isKind(a, '[') && isKind(b, '[') {
		_, la, okA := members(a)
		_, lb, okB := members(b)
		if okA && okB && len(la) == len(lb) {
			for i := range la {
				diffJSON(fmt.Sprintf("%s[%d]", path, i), la[i], lb[i], out)
			}
			return
		}
	}
	before, after := valueText(a), valueText(b)
	if before == after {
		return // null beside absent
	}
	*out = append(*out, FieldChange{Field: path, Before: before, After: after})
}

// members splits a JSON object or array into its members' raw values
// (and an object's keys) without decoding them. The signed spec was
// decoded when its record verified, so it is valid JSON; ok is false for
// anything this scan does not follow, and the caller then shows the part
// as one value.
func members(b []byte) (keys []string, vals []json.RawMessage, ok bool) {
	obj := b[0] == '{'
	i := 1
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, nil, false
		}
		if b[i] == '}' || b[i] == ']' {
			return keys, vals, true
		}
		if obj {
			end := skipString(b, i)
			if end < 0 {
				return nil, nil, false
			}
			k := string(b[i+1 : end-1])
			if bytes.IndexByte(b[i:end], '\\') >= 0 && json.Unmarshal(b[i:end], &k) != nil {
				return nil, nil, false
			}
			keys = append(keys, k)
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return nil, nil, false
			}
			i = skipSpace(b, i+1)
		}
		end := skipValue(b, i)
		if end < 0 {
			return nil, nil, false
		}
		vals = append(vals, json.RawMessage(b[i:end]))
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i].
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			e := skipString(b, j)
			if e < 0 || depth == 0 {
				return e
			}
			j = e - 1
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return j // a scalar's end, before its container closes
			}
			if depth--; depth == 0 {
				return j + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			return j
		}
	}
	if depth == 0 {
		return len(b)
	}
	return -1
}

func isKind(b []byte, c byte) bool { return len(b) > 0 && b[0] == c }

// valueText is a changed value as a diff prints it: a string without
// quotes, other values as compact JSON, "none" when absent or null.
func valueText(b json.RawMessage) string {
	if len(b) == 0 || string(b) == "null" {
		return "none"
	}
	var s string
	if b[0] != '"' || json.Unmarshal(b, &s) != nil {
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			s = c.String()
		} else {
			s = string(b)
		}
	}
	if r := []rune(s); len(r) > maxValueText {
		s = string(r[:maxValueText]) + "…"
	}
	return s
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

// maxDiffFields bounds the changed fields a diff row lists; the JSON
// report has them all.
const maxDiffFields = 12

// diffCells are a diff's cells as plain lines, the same in every format:
// the changed spec fields (loosened ones marked), the thresholds the rule
// found loosened, the headline metrics and the policy bundle.
type diffCells struct {
	Fields   []diffLine
	Loosened []string
	Metrics  []string
	Policy   string
}

type diffLine struct {
	Text     string
	Loosened bool
}

func (df ReleaseDiff) cells() diffCells {
	var c diffCells
	for i, f := range df.Fields {
		if i == maxDiffFields {
			c.Fields = append(c.Fields, diffLine{Text: fmt.Sprintf("… %d more field(s), in the JSON report", len(df.Fields)-i)})
			break
		}
		c.Fields = append(c.Fields, diffLine{Text: f.Field + ": " + f.Before + " → " + f.After, Loosened: f.Loosened})
	}
	if len(df.Fields) == 0 {
		c.Fields = append(c.Fields, diffLine{Text: "unchanged"})
	}
	for _, l := range df.Loosened {
		c.Loosened = append(c.Loosened, l.Threshold+": "+l.Before+" → "+l.After)
	}
	switch {
	case df.Problem != "":
		c.Loosened = append(c.Loosened, df.Problem)
	case len(df.Loosened) == 0:
		c.Loosened = append(c.Loosened, "none")
	}
	for _, m := range df.Metrics {
		s := m.Metric + " " + fp(m.Before) + " → " + fp(m.After)
		if m.Before == nil {
			s = m.Metric + " none → " + fp(m.After)
		} else if m.After == nil {
			s = m.Metric + " " + fp(m.Before) + " → none"
		}
		if m.Delta != nil {
			s += fmt.Sprintf(" (%+.4f)", *m.Delta)
		}
		c.Metrics = append(c.Metrics, s)
	}
	c.Policy = "unchanged"
	if df.PolicyAfter != "" {
		c.Policy = df.PolicyBefore + " → " + df.PolicyAfter
	}
	return c
}
