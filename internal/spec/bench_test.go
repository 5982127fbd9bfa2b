package spec

import (
	"context"
	"testing"

	"github.com/slipway-ml/slipway/internal/synth"
)

// BenchmarkLoad1000Models loads and validates a synthetic repository of
// 1,000 models, one directory each. Compare with `cue vet -c` on the same
// files: see docs/benchmarks.md and .ci/bench-cue-vet.
func BenchmarkLoad1000Models(b *testing.B) {
	dir := b.TempDir()
	if err := synth.Repo(dir, 1000); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		p, err := Load(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Models) != 1000 {
			b.Fatalf("loaded %d models", len(p.Models))
		}
	}
}
