package check

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayering: the release consumes the check's result, never the other
// way round, not even through another package. What both need of the
// ledger (the verified report, the previous and accepted releases, the
// trusted keys) is internal/verify's, the result and its staleness are
// internal/checkresult's, and the records a rollback or a monitoring run
// signs are internal/ledgerrecord's; were the check to reach the release,
// the gate's judge would depend on what it judges.
func TestLayering(t *testing.T) {
	tests := []struct {
		pkg       string // under internal/
		forbidden []string
	}{
		{"check", []string{"release", "cli"}},
		{"verify", []string{"release", "check", "cli"}},
		{"checkresult", []string{"release", "check", "verify", "policy", "cli"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			deps := internalDeps(t, tt.pkg)
			if len(deps) == 0 {
				t.Fatalf("internal/%s imports nothing of Slipway's: the test reads the wrong directory", tt.pkg)
			}
			for _, f := range tt.forbidden {
				if via, ok := deps[f]; ok {
					t.Errorf("internal/%s depends on internal/%s (imported by internal/%s)", tt.pkg, f, via)
				}
			}
		})
	}
}

// internalDeps reads, without the go command, the packages under
// internal/ that pkg depends on (its own files as the build sees them, no
// tests), each with one package that imports it.
func internalDeps(t *testing.T, pkg string) map[string]string {
	t.Helper()
	const prefix = "github.com/slipway-ml/slipway/internal/"
	deps := map[string]string{}
	todo := []string{pkg}
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		bp, err := build.Default.ImportDir(filepath.Join("..", filepath.FromSlash(p)), 0)
		if err != nil {
			t.Fatalf("internal/%s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			d, ok := strings.CutPrefix(imp, prefix)
			if _, seen := deps[d]; ok && !seen && d != pkg {
				deps[d] = p
				todo = append(todo, d)
			}
		}
	}
	return deps
}
