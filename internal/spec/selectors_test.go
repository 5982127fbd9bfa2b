package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPlainSelectors: where the fast splitter answers, it answers as CUE's
// parser does; what it cannot split it leaves to the parser.
func TestPlainSelectors(t *testing.T) {
	for _, tc := range []struct {
		path  string
		plain bool // the fast splitter answers
	}{
		{"models", true},
		{`models."credit-default".handover.runbook`, true},
		{`models."credit-default".handover.alerts[0].name`, true},
		{`models."credit-default".environments[12]`, true},
		{`dataSources."source-0".version`, true},
		{`platform.policy.baselineTolerance`, true},
		{`models.m.evaluation.metrics.roc_auc`, true},
		{`a[1][2]`, true},
		{`models."a.b".x`, true},
		{`models."has\"quote".x`, false},
		{`models."".x`, false},
		{`models.#Def`, false},
		{`_hidden.x`, false},
		{`a..b`, false},
		{`a.`, false},
		{`.a`, false},
		{`a.[0]`, false},
		{`a[01]`, false},
		{`a[x]`, false},
		{`a[-1]`, false},
		{`a b`, false},
		{``, false},
		{`models."open`, false},
	} {
		got, ok := plainSelectors(tc.path)
		if ok != tc.plain {
			t.Errorf("plainSelectors(%q) ok = %v, want %v", tc.path, ok, tc.plain)
			continue
		}
		if !ok {
			continue
		}
		want, wok := parsedSelectors(tc.path)
		if !wok {
			t.Errorf("plainSelectors(%q) = %q, but CUE does not parse the path", tc.path, got)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("plainSelectors(%q) (-cue +plain):\n%s", tc.path, d)
		}
	}
}
