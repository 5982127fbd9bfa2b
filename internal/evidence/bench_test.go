package evidence

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/spec"
)

// joinBenchRows is the size of the join benchmark's files; 10M like the
// evaluate benchmark, SLIPWAY_BENCH_ROWS overrides it.
func joinBenchRows() int {
	if n, err := strconv.Atoi(os.Getenv("SLIPWAY_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

var (
	joinBenchOnce sync.Once
	joinBenchDir  string
	joinBenchErr  error
)

// joinBenchFiles returns the directory of the join benchmark's files:
// predictions.csv, shaped like the evaluate benchmark's with a key
// column, gold.csv, its gold snapshot in the same order, and
// shuffled.csv, the gold snapshot in random order. They are written once
// and kept (under SLIPWAY_BENCH_DIR, or a temp dir named by the row
// count), so that a benchmark process spends neither time nor garbage on
// writing 10M rows: generating them per process left gigabytes for the
// collector to sweep during the timed runs.
func joinBenchFiles(b *testing.B) string {
	joinBenchOnce.Do(func() {
		rows := joinBenchRows()
		dir := os.Getenv("SLIPWAY_BENCH_DIR")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "slipway-join-bench-"+strconv.Itoa(rows))
		}
		joinBenchDir = dir
		if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
			return
		}
		if joinBenchErr = os.MkdirAll(dir, 0o755); joinBenchErr == nil {
			joinBenchErr = writeJoinBench(dir, rows)
		}
		if joinBenchErr == nil {
			joinBenchErr = os.WriteFile(filepath.Join(dir, "done"), nil, 0o644)
		}
	})
	if joinBenchErr != nil {
		b.Fatal(joinBenchErr)
	}
	return joinBenchDir
}

// writeJoinBench writes the files of joinBenchFiles into dir.
func writeJoinBench(dir string, rows int) error {
	var files []*os.File
	var ws []*bufio.Writer
	for _, name := range []string{"predictions.csv", "gold.csv", "shuffled.csv"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		files = append(files, f)
		ws = append(ws, bufio.NewWriterSize(f, 1<<20))
	}
	pw, gw, sw := ws[0], ws[1], ws[2]
	pw.WriteString("id,label,score,prediction,sex,age_band\n")
	gw.WriteString("id,label,income\n")
	sw.WriteString("id,label,income\n")
	rng := rand.New(rand.NewPCG(42, 4242))
	sexes := []string{"F", "M"}
	ages := []string{"18-25", "26-35", "36-50", "51-65", "65+"}
	// The shuffled file holds row perm[i] at i: the rows' labels are kept
	// (one byte each) to write it without holding the lines.
	labels := make([]byte, rows)
	var line []byte
	for i := range rows {
		y := 0
		if rng.Float64() < 0.3 {
			y = 1
		}
		labels[i] = byte('0' + y)
		s := min(1, max(0, 0.35*float64(y)+0.65*rng.Float64()))
		pred := 0
		if s >= 0.5 {
			pred = 1
		}
		line = strconv.AppendInt(append(line[:0], "APP-"...), int64(i), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(y), 10)
		line = append(line, ',')
		line = strconv.AppendFloat(line, s, 'f', 6, 64)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(pred), 10)
		line = append(line, ',')
		line = append(line, sexes[rng.IntN(2)]...)
		line = append(line, ',')
		line = append(line, ages[rng.IntN(len(ages))]...)
		line = append(line, '\n')
		pw.Write(line)
		line = strconv.AppendInt(append(line[:0], "APP-"...), int64(i), 10)
		line = append(append(line, ',', byte('0'+y)), ",50000\n"...)
		gw.Write(line)
	}
	for _, i := range rng.Perm(rows) {
		line = strconv.AppendInt(append(line[:0], "APP-"...), int64(i), 10)
		line = append(append(line, ',', labels[i]), ",50000\n"...)
		sw.Write(line)
	}
	for i, w := range ws {
		if err := w.Flush(); err != nil {
			return err
		}
		if err := files[i].Close(); err != nil {
			return err
		}
	}
	return nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// timed runs op b.N times and reports its CPU time (user+sys of the
// process, which a shared machine's load hardly changes) as cpu-s/op.
// The garbage of what ran before is collected first, so that neither
// the clock nor the CPU time counts it.
func timed(b *testing.B, op func()) {
	runtime.GC()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for range b.N {
		op()
	}
	b.StopTimer()
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
}

// BenchmarkEvaluateJoin measures what the gold join adds to the metrics
// evaluation (docs/benchmarks.md): "evaluate" is the confusion-metrics
// evaluation alone, "evaluate+join" the same with the gold index loaded
// and the join riding on its scan, with the gold snapshot in the
// predictions' order; "evaluate+join-shuffled" with the gold snapshot in
// random order.
func BenchmarkEvaluateJoin(b *testing.B) {
	dir := joinBenchFiles(b)
	preds := filepath.Join(dir, "predictions.csv")
	cfg := metrics.Config{Label: "label", Prediction: "prediction", Sensitive: []string{"sex", "age_band"}, MinGroupSize: 30}
	ctx := context.Background()
	for _, bc := range []struct{ name, gold string }{{"evaluate", ""}, {"evaluate+join", "gold.csv"}, {"evaluate+join-shuffled", "shuffled.csv"}} {
		b.Run(bc.name, func(b *testing.B) {
			timed(b, func() {
				cfg := cfg
				var j *joined
				if bc.gold != "" {
					var err error
					j, err = loadGold(ctx, JoinInput{Gold: filepath.Join(dir, bc.gold), GoldName: bc.gold, Predictions: preds, PredictionsName: "predictions.csv", Keys: []string{"id"}, Label: "label"})
					if err != nil {
						b.Fatal(err)
					}
					cfg.Visit = j.visitor()
				}
				rep, err := metrics.EvaluateFile(ctx, preds, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if j == nil {
					return
				}
				j.finish(rep.Rows)
				if j.Coverage != 1 || j.LabelMismatches != 0 || j.UnknownKeys != 0 {
					b.Fatalf("join %+v", j.Integrity)
				}
			})
		})
	}
}

// BenchmarkEvidenceJoin measures what the gold join adds to `slipway
// evaluate --model` (evidence.Evaluate): the predictions evaluated with
// bootstrap intervals, and the gold data source's snapshot checked for
// quality (schema, completeness, validity, unique keys, duplicate rows).
// "evaluate" runs it without the join, "evaluate+join" with it, the gold
// snapshot in the predictions' order; the "-shuffled" pair has the gold
// snapshot in random order, whose quality check hashes every key and row.
func BenchmarkEvidenceJoin(b *testing.B) {
	dir := joinBenchFiles(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name, gold string
		noJoin     bool
	}{
		{"evaluate", "gold.csv", true}, {"evaluate+join", "gold.csv", false},
		{"evaluate-shuffled", "shuffled.csv", true}, {"evaluate+join-shuffled", "shuffled.csv", false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := benchPlatform(dir, bc.gold)
			timed(b, func() {
				s, err := Evaluate(ctx, p, "m", Options{noJoin: bc.noJoin})
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Problems) != 0 || s.Evaluation == nil || len(s.Data.Sources["gold"].Violations) != 0 {
					b.Fatalf("problems %+v, evaluation %v, quality %+v", s.Problems, s.Evaluation != nil, s.Data.Sources["gold"])
				}
				in := s.Evaluation.Integrity
				switch {
				case bc.noJoin && in != nil:
					b.Fatalf("joined: %+v", in)
				case !bc.noJoin && (in == nil || in.Coverage != 1 || in.LabelMismatches != 0 || in.UnknownKeys != 0):
					b.Fatalf("join %+v", in)
				}
			})
		})
	}
}

// benchPlatform is a platform of one binary model, m, whose predictions
// are dir's predictions.csv and whose gold data source's snapshot is
// dir's gold file, with unique keys.
func benchPlatform(dir, gold string) *spec.Platform {
	return &spec.Platform{
		Root:   dir,
		Policy: spec.PolicyDefaults{MinGroupSize: 30},
		DataSources: map[string]spec.DataSource{"gold": {
			Name: "gold", Snapshot: gold,
			Schema:  []spec.Field{{Name: "id", Type: "string"}, {Name: "label", Type: "int", Allowed: []any{0, 1}}, {Name: "income", Type: "float"}},
			Quality: &spec.Quality{UniqueKeys: []string{"id"}},
		}},
		Models: map[string]spec.Model{"m": {
			Name: "m", Task: metrics.Binary,
			Evaluation: spec.Evaluation{Data: "gold", Predictions: "predictions.csv", Columns: spec.Columns{Label: "label", Prediction: "prediction"}},
			Fairness:   &spec.Fairness{Sensitive: []string{"sex", "age_band"}},
		}},
	}
}
