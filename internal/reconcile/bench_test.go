package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/reconcile"
)

// newLargePlatform returns the small platform grown to n-1 models in
// staging, so that staging has n stacks with its shared one.
func newLargePlatform(b *testing.B, n int) string {
	b.Helper()
	root := newPlatform(b)
	tmpl, err := os.ReadFile(filepath.Join(root, "models/scorer/model.cue"))
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []string{"scorer", "nightly", "stream"} {
		if err := os.RemoveAll(filepath.Join(root, "models", m)); err != nil {
			b.Fatal(err)
		}
	}
	for i := 1; i < n; i++ {
		name := fmt.Sprintf("model%02d", i)
		body := strings.ReplaceAll(string(tmpl), "scorer", name)
		body = strings.Replace(body, `environments: ["staging", "production"]`, `environments: ["staging"]`, 1)
		dir := filepath.Join(root, "models", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "model.cue"), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// BenchmarkPlan50 plans 50 stacks one by one and two at a time, with the
// stacks already initialised (warm: what every run after the first does)
// and from an empty work dir (cold: init included). It reports Slipway's
// own time (choosing and rendering stacks, building and writing summaries)
// as a share of the time Terraform itself takes.
func BenchmarkPlan50(b *testing.B) {
	needTerraform(b)
	root := newLargePlatform(b, 50)
	p := load(b, root)
	for _, cold := range []bool{false, true} {
		for _, par := range []int{1, 2} {
			name := fmt.Sprintf("warm/parallel=%d", par)
			if cold {
				name = fmt.Sprintf("cold/parallel=%d", par)
			}
			b.Run(name, func(b *testing.B) {
				o := reconcile.Options{Envs: []string{"staging"}, Parallel: par}
				if !cold {
					if _, err := reconcile.Plan(context.Background(), p, o); err != nil {
						b.Fatal(err)
					}
				}
				var own, tf time.Duration
				b.ResetTimer()
				for range b.N {
					if cold {
						b.StopTimer()
						if err := os.RemoveAll(filepath.Join(root, ".slipway")); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					res, err := reconcile.Plan(context.Background(), p, o)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Stacks) != 50 {
						b.Fatalf("planned %d stacks", len(res.Stacks))
					}
					own += res.Timing.Render + res.Timing.Summary
					tf += res.Timing.Terraform
				}
				b.ReportMetric(float64(own.Microseconds())/float64(b.N)/1000, "slipway-ms/op")
				b.ReportMetric(float64(tf.Microseconds())/float64(b.N)/1000, "terraform-ms/op")
				b.ReportMetric(100*float64(own)/float64(tf), "overhead-%")
			})
		}
	}
}
