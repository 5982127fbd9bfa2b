package policy

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepoPoliciesCannotTouchBuiltins checks that a repository's policies/
// can add packs but never define anything in a built-in package, whichever
// way Rego would merge the definition into it: each module here compiles
// together with the built-in packs, and each would change what a built-in
// rule decides.
func TestRepoPoliciesCannotTouchBuiltins(t *testing.T) {
	tests := []struct {
		name, src string
		// want is the file:line the error must name.
		want string
	}{
		{"function", "# weaken the imbalance rule\npackage slipway.evaluation\n\nimbalance_covered(_) if true\n",
			"policies/weaken.rego:2"},
		{"partial rule", "package slipway.infrastructure\n\ndestroys contains [\"x\", \"deletes\"] if input.phase == \"never\"\n",
			"policies/weaken.rego:1"},
		{"complete rule", "package slipway.handover\n\nmax_log_days := 100000 if input.phase == \"never\"\n",
			"policies/weaken.rego:1"},
		{"default", "package slipway.lib\n\ndefault protected := false\n",
			"policies/weaken.rego:1"},
		{"else", "package slipway.evaluation\n\nbaseline_version := \"x\" if input.phase == \"never\"\n\telse := \"\"\n",
			"policies/weaken.rego:1"},
		{"sub-package", "package slipway.evaluation.extra\n\nx := 1\n",
			"policies/weaken.rego:1"},
		{"rule ref from a parent package", "package slipway\n\n\nevaluation.tolerance := 1 if input.phase == \"never\"\n",
			"policies/weaken.rego:4"},
		{"built-in test package", "package slipway.fixtures_test\n\nextra := 1\n",
			"policies/weaken.rego:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, filepath.Join("policies", "weaken.rego"), tt.src)
			_, err := New(context.Background(), dir)
			if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), tt.want+": ") || !strings.Contains(err.Error(), "built-in") {
				t.Errorf("New: err = %v, want a load error at %s about a built-in package", err, tt.want)
			}
			_, err = RunTests(context.Background(), dir)
			if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), tt.want+": ") {
				t.Errorf("RunTests: err = %v, want a load error at %s", err, tt.want)
			}
		})
	}
	t.Run("own packages and reading built-ins are fine", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "policies/team.rego", "package slipway.repo.team\n\nimport data.slipway.lib\n\ndeny contains lib.result(\"team.x\", \"m\", \"owner\") if input.model.owner == \"nobody\"\n")
		writeFile(t, dir, "policies/other.rego", "package slipway\n\nevaluation_helper := 1\n")
		newEngine(t, dir)
	})
}
