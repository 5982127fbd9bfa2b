package spec

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ml/slipway/internal/synth"
)

// TestDecodeMatchesJSON keeps decode's result equal to decoding CUE's JSON,
// on the example, a synthetic repository with every template kind, and the
// small base repository.
func TestDecodeMatchesJSON(t *testing.T) {
	synthetic := t.TempDir()
	if err := synth.Repo(synthetic, 2*parallelMin); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"../../examples/credit-risk", synthetic, readBase(t).write(t)} {
		root, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		viaJSON, err := loadWith(context.Background(), root, true)
		if err != nil {
			t.Fatal(err)
		}
		direct, err := loadWith(context.Background(), root, false)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(viaJSON, direct, cmpopts.IgnoreUnexported(Platform{})); diff != "" {
			t.Errorf("%s: decode differs from JSON (-json +decode):\n%s", dir, diff)
		}
	}
}

// TestPauseGC keeps the collector's setting through loads that overlap:
// the last one to finish restores it, whatever the order.
func TestPauseGC(t *testing.T) {
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)
	first := pauseGC()
	second := pauseGC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("while paused: GC percent %d, want -1", got)
	}
	first()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("with one decode left: GC percent %d, want -1", got)
	}
	second()
	if got := debug.SetGCPercent(123); got != 123 {
		t.Errorf("after both: GC percent %d, want 123", got)
	}
}
