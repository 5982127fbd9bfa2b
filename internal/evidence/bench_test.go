package evidence

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/metrics"
)

// joinBenchRows is the size of the join benchmark's files; 10M like the
// evaluate benchmark, SLIPWAY_BENCH_ROWS overrides it.
func joinBenchRows() int {
	if n, err := strconv.Atoi(os.Getenv("SLIPWAY_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

// writeJoinBench writes a predictions file shaped like the evaluate
// benchmark's with a key column, its gold snapshot in the same order, and
// the gold snapshot shuffled.
func writeJoinBench(b *testing.B) (preds, gold, shuffled string) {
	dir := b.TempDir()
	preds, gold, shuffled = filepath.Join(dir, "predictions.csv"), filepath.Join(dir, "gold.csv"), filepath.Join(dir, "shuffled.csv")
	pf, err := os.Create(preds)
	if err != nil {
		b.Fatal(err)
	}
	gf, err := os.Create(gold)
	if err != nil {
		b.Fatal(err)
	}
	pw, gw := bufio.NewWriterSize(pf, 1<<20), bufio.NewWriterSize(gf, 1<<20)
	pw.WriteString("id,label,score,prediction,sex,age_band\n")
	gw.WriteString("id,label,income\n")
	rng := rand.New(rand.NewPCG(42, 4242))
	sexes := []string{"F", "M"}
	ages := []string{"18-25", "26-35", "36-50", "51-65", "65+"}
	var line []byte
	var goldLines []byte
	var goldAt []int
	for i := range joinBenchRows() {
		y := 0
		if rng.Float64() < 0.3 {
			y = 1
		}
		s := min(1, max(0, 0.35*float64(y)+0.65*rng.Float64()))
		pred := 0
		if s >= 0.5 {
			pred = 1
		}
		id := strconv.AppendInt([]byte("APP-"), int64(i), 10)
		line = append(line[:0], id...)
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
		line = append(line[:0], id...)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(y), 10)
		line = append(line, ",50000\n"...)
		gw.Write(line)
		goldAt = append(goldAt, len(goldLines))
		goldLines = append(goldLines, line...)
	}
	goldAt = append(goldAt, len(goldLines))
	sf, err := os.Create(shuffled)
	if err != nil {
		b.Fatal(err)
	}
	sw := bufio.NewWriterSize(sf, 1<<20)
	sw.WriteString("id,label,income\n")
	for _, i := range rng.Perm(len(goldAt) - 1) {
		sw.Write(goldLines[goldAt[i]:goldAt[i+1]])
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	sf.Close()
	for _, w := range []*bufio.Writer{pw, gw} {
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	pf.Close()
	gf.Close()
	return preds, gold, shuffled
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkEvaluateJoin measures what the gold join adds to an evaluation
// (docs/benchmarks.md): "evaluate" is the confusion-metrics evaluation
// alone, "evaluate+join" the same with the join riding on its scan, as
// the evidence builder runs it, with the gold snapshot in the
// predictions' order; "evaluate+join-shuffled" with the gold snapshot in
// random order.
func BenchmarkEvaluateJoin(b *testing.B) {
	preds, gold, shuffled := writeJoinBench(b)
	cfg := metrics.Config{Label: "label", Prediction: "prediction", Sensitive: []string{"sex", "age_band"}, MinGroupSize: 30}
	ctx := context.Background()
	for _, bc := range []struct{ name, gold string }{{"evaluate", ""}, {"evaluate+join", gold}, {"evaluate+join-shuffled", shuffled}} {
		b.Run(bc.name, func(b *testing.B) {
			// CPU time, which a shared machine's load hardly changes.
			cpu0 := cpuSeconds()
			defer func() { b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op") }()
			for range b.N {
				cfg := cfg
				var j *joined
				if bc.gold != "" {
					var err error
					j, err = loadGold(ctx, JoinInput{Gold: bc.gold, GoldName: "gold.csv", Predictions: preds, PredictionsName: "predictions.csv", Keys: []string{"id"}, Label: "label"})
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
					continue
				}
				j.finish(rep.Rows)
				if j.Coverage != 1 || j.LabelMismatches != 0 || j.UnknownKeys != 0 {
					b.Fatalf("join %+v", j.Integrity)
				}
			}
		})
	}
}
