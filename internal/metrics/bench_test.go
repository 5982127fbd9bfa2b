package metrics

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// benchRows is the size of the generated benchmark file; SLIPWAY_BENCH_ROWS
// overrides it for quick runs.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("SLIPWAY_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

var (
	benchOnce sync.Once
	benchPath string
	benchSize int64
	benchDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchFile writes, once per run, a seeded predictions CSV with six
// columns (label, score, prediction, sex, age_band, weight); scores have
// six decimals like a typical export.
func benchFile(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "slipway-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		benchPath = filepath.Join(dir, "predictions.csv")
		f, err := os.Create(benchPath)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString("label,score,prediction,sex,age_band,weight\n")
		rng := rand.New(rand.NewPCG(42, 4242))
		sexes := []string{"F", "M"}
		ages := []string{"18-25", "26-35", "36-50", "51-65", "65+"}
		var line []byte
		for range benchRows() {
			y := 0
			if rng.Float64() < 0.3 {
				y = 1
			}
			s := min(1, max(0, 0.35*float64(y)+0.65*rng.Float64()))
			pred := 0
			if s >= 0.5 {
				pred = 1
			}
			line = line[:0]
			line = strconv.AppendInt(line, int64(y), 10)
			line = append(line, ',')
			line = strconv.AppendFloat(line, s, 'f', 6, 64)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(pred), 10)
			line = append(line, ',')
			line = append(line, sexes[rng.IntN(2)]...)
			line = append(line, ',')
			line = append(line, ages[rng.IntN(len(ages))]...)
			line = append(line, ',')
			line = strconv.AppendFloat(line, 0.5+float64(rng.IntN(4))/2, 'f', 1, 64)
			line = append(line, '\n')
			w.Write(line)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		st, _ := f.Stat()
		benchSize = st.Size()
		f.Close()
	})
	return benchPath
}

func benchEvaluate(b *testing.B, c Config) {
	path := benchFile(b)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	var peak uint64
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		rep, err := EvaluateFile(context.Background(), path, c)
		if err != nil {
			b.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		peak = max(peak, after.HeapSys-before.HeapReleased)
		if rep.Rows != int64(benchRows()) {
			b.Fatalf("rows %d", rep.Rows)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "heapsys-MiB")
}

// BenchmarkEvaluate measures the three workloads docs/benchmarks.md
// records: confusion metrics per group, plus the score metrics (AUC), plus
// 1,000 bootstrap replicates.
func BenchmarkEvaluate(b *testing.B) {
	base := Config{Label: "label", Prediction: "prediction", Sensitive: []string{"sex", "age_band"}, MinGroupSize: 30}
	b.Run("confusion", func(b *testing.B) { benchEvaluate(b, base) })
	withScore := base
	withScore.Score = "score"
	b.Run("auc", func(b *testing.B) { benchEvaluate(b, withScore) })
	boot := withScore
	boot.Bootstrap, boot.Seed = 1000, 1
	b.Run("auc+bootstrap", func(b *testing.B) { benchEvaluate(b, boot) })
	bootOnly := base
	bootOnly.Bootstrap, bootOnly.Seed = 1000, 1
	b.Run("confusion+bootstrap", func(b *testing.B) { benchEvaluate(b, bootOnly) })
	weighted := withScore
	weighted.Weight = "weight"
	weighted.Intersectional = true
	b.Run("auc+weights+intersectional", func(b *testing.B) { benchEvaluate(b, weighted) })
}
