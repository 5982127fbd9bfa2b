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

// benchFile writes, once per run (or once, to SLIPWAY_BENCH_FILE), a seeded predictions CSV with six
// columns (label, score, prediction, sex, age_band, weight); scores have
// six decimals like a typical export.
func benchFile(b *testing.B) string {
	benchOnce.Do(func() {
		if keep := os.Getenv("SLIPWAY_BENCH_FILE"); keep != "" {
			// Keep the file for measuring the CLI (docs/benchmarks.md).
			benchPath = keep
			if st, err := os.Stat(keep); err == nil {
				benchSize = st.Size()
				return
			}
		} else {
			dir, err := os.MkdirTemp("", "slipway-bench-")
			if err != nil {
				b.Fatal(err)
			}
			benchDir = dir
			benchPath = filepath.Join(dir, "predictions.csv")
		}
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

// BenchmarkBootstrap isolates the cost of 1,000 replicates over the cells
// of the benchmark file's shape (2 x 5 sensitive values, 10M rows): it
// does not depend on the number of rows.
func BenchmarkBootstrap(b *testing.B) {
	p, _, err := Config{Label: "y", Prediction: "p", Sensitive: []string{"sex", "age_band"}, MinGroupSize: 30, Bootstrap: 1000, Seed: 1}.plan()
	if err != nil {
		b.Fatal(err)
	}
	w := newWorker(p)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sex := range []string{"F", "M"} {
		for _, age := range []string{"18-25", "26-35", "36-50", "51-65", "65+"} {
			w.vals[0] = appendOnce(w.vals[0], sex)
			w.vals[1] = appendOnce(w.vals[1], age)
			c := w.newCell(uint64(index(w.vals[0], sex))<<16 | uint64(index(w.vals[1], age)))
			for k := range w.cells[c].n {
				n := int64(200_000 + rng.IntN(100_000))
				w.cells[c].n[k] = n
				w.cells[c].w[k] = float64(n)
			}
		}
	}
	rep := build(p, []*worker{w}, 10_000_000)
	b.ResetTimer()
	for range b.N {
		ci := bootstrap(p, rep.cells, rep.groupDefs, rep, nil)
		if len(ci.Overall) == 0 {
			b.Fatal("no intervals")
		}
	}
}

func appendOnce(s []string, v string) []string {
	if index(s, v) < 0 {
		return append(s, v)
	}
	return s
}

func index(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
