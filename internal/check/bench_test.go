package check

import (
	"context"
	"os"
	"runtime/debug"
	"testing"
)

// BenchmarkCheckRepo runs check.Run with --no-plan on the repository
// SLIPWAY_BENCH_REPO names (the workload .ci/bench-check sets up), under
// the CLI's GC target, so that -cpuprofile and -memprofile show where
// `slipway check --no-plan` spends its time. Skipped without a repository.
func BenchmarkCheckRepo(b *testing.B) {
	repo := os.Getenv("SLIPWAY_BENCH_REPO")
	if repo == "" {
		b.Skip("SLIPWAY_BENCH_REPO names no repository")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	for b.Loop() {
		if _, err := Run(context.Background(), Options{Repo: repo, NoPlan: true, Version: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
