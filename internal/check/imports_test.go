package check

import (
	"go/build"
	"path/filepath"
	"slices"
	"testing"
)

// TestLayering: the release consumes the check's result, never the other
// way round. What both need of the ledger (the verified report, the previous
// and accepted releases, the trusted keys) is internal/verify's, and the
// result and its staleness are internal/checkresult's; an import from check
// to release would let the gate's judge depend on what it judges.
func TestLayering(t *testing.T) {
	const mod = "github.com/slipway-ml/slipway/internal/"
	tests := []struct {
		dir       string // relative to internal/
		forbidden []string
	}{
		{"check", []string{"release", "cli"}},
		{"verify", []string{"release", "check", "cli"}},
		{"checkresult", []string{"release", "check", "verify", "policy", "cli"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			// The package's own files as the build sees them (no test
			// files): what it imports, read without the go command.
			p, err := build.Default.ImportDir(filepath.Join("..", tt.dir), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Imports) == 0 {
				t.Fatalf("internal/%s imports nothing: the test reads the wrong directory", tt.dir)
			}
			for _, f := range tt.forbidden {
				if slices.Contains(p.Imports, mod+f) {
					t.Errorf("internal/%s imports internal/%s", tt.dir, f)
				}
			}
		})
	}
}
