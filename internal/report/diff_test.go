package report

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/spec"
)

func TestDiffJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want []FieldChange
	}{
		{"same", `{"a":1,"b":{"c":[1,2]}}`, `{"a":1,"b":{"c":[1,2]}}`, nil},
		{"nested leaf", `{"a":1,"b":{"c":[1,2],"d":"x"}}`, `{"a":1,"b":{"c":[1,3],"d":"y"}}`, []FieldChange{
			{Field: "b.c[1]", Before: "2", After: "3"},
			{Field: "b.d", Before: "x", After: "y"},
		}},
		{"added and removed parts", `{"a":{"x":1},"z":null}`, `{"b":{"y":[1, 2]}}`, []FieldChange{
			{Field: "a", Before: `{"x":1}`, After: "none"},
			{Field: "b", Before: "none", After: `{"y":[1,2]}`},
		}},
		{"strings holding brackets, quotes and escapes", `{"k\u0031":"x}\"]","b":[{"c":true},  null ]}`, `{"k\u0031":"x}\"]","b":[{"c":false},null]}`, []FieldChange{
			{Field: "b[0].c", Before: "true", After: "false"},
		}},
		{"list of another length", `{"l":[1]}`, `{"l":[1,2]}`, []FieldChange{{Field: "l", Before: "[1]", After: "[1,2]"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []FieldChange
			diffJSON("", json.RawMessage(tc.a), json.RawMessage(tc.b), &got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestReleaseDiffs: every verified release is diffed with the one before
// it in its environment (never across environments, never with a record
// that failed), and whether a threshold loosened is the rule's finding.
func TestReleaseDiffs(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	rec := func(seq int, env, version string, auc, drift float64, verified bool, headline float64) *record {
		m := spec.Model{Name: "m", Version: version}
		m.Evaluation.Metrics = map[string]spec.Threshold{"roc_auc": {Min: f(auc)}}
		m.Monitoring.Drift.Threshold = drift
		raw := spec.RawJSON(m)
		r := &record{row: ReleaseRow{Seq: seq, Environment: env, Version: version, Record: env + "/" + version}}
		if verified {
			r.lite = &attest.Release{Spec: attest.Spec{Digest: version + "/" + string(raw), Model: raw}, Evidence: &attest.Evidence{Headline: map[string]*float64{"roc_auc": f(headline)}},
				Bundle: &attest.Bundle{Policy: "sha256:p"}}
		}
		return r
	}
	all := []*record{
		rec(1, "staging", "1.0.0", 0.8, 0.2, true, 0.9),
		rec(2, "production", "1.0.0", 0.8, 0.2, true, 0.9),
		rec(3, "staging", "1.1.0", 0.8, 0.2, false, 0.9), // fails verification: skipped
		rec(4, "staging", "1.2.0", 0.75, 0.1, true, 0.91),
	}
	b := &builder{ctx: context.Background(), p: &spec.Platform{Environments: map[string]spec.Environment{"staging": {}, "production": {Protected: true}}}}
	d := &dossier{history: all}
	got := b.releaseDiffs(d, all)
	want := []ReleaseDiff{{
		Environment: "staging", Record: "staging/1.2.0", Version: "1.2.0", Previous: "staging/1.0.0", PreviousVersion: "1.0.0",
		Fields: []FieldChange{
			{Field: "evaluation.metrics.roc_auc.min", Before: "0.8", After: "0.75", Threshold: true, Loosened: true},
			{Field: "monitoring.drift.threshold", Before: "0.2", After: "0.1", Threshold: true},
			{Field: "version", Before: "1.0.0", After: "1.2.0"},
		},
		Loosened: []ThresholdChange{{Threshold: "evaluation.metrics.roc_auc", Before: ">= 0.8", After: ">= 0.75"}},
		Metrics:  []MetricChange{{Metric: "roc_auc", Before: f(0.9), After: f(0.91), Delta: f(0.01)}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}
