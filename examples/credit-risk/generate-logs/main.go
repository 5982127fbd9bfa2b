// Command generate-logs writes seeded production prediction logs and
// outcomes for the credit-default model of examples/credit-risk: two weeks
// of requests resampled from its training snapshot, scored like its gold
// predictions, with debt_ratio drifting (x1.6) from the eighth day. `make
// demo` loads them into a throw-away PostgreSQL and runs `slipway monitor`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/synth"
)

func main() {
	seed := flag.Uint64("seed", 7, "random seed")
	repo := flag.String("repo", "examples/credit-risk", "the example repository")
	out := flag.String("out", ".", "directory to write logs.csv and outcomes.csv into")
	rows := flag.Int("rows", 40000, "requests")
	flag.Parse()
	if err := run(*seed, *repo, *out, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "generate-logs:", err)
		os.Exit(2)
	}
}

func run(seed uint64, repo, out string, rows int) error {
	cfg, err := synth.CreditDefaultTraffic(repo, rows)
	if err != nil {
		return err
	}
	lf, err := os.Create(filepath.Join(out, "logs.csv"))
	if err != nil {
		return err
	}
	defer lf.Close()
	of, err := os.Create(filepath.Join(out, "outcomes.csv"))
	if err != nil {
		return err
	}
	defer of.Close()
	if err := cfg.Write(seed, lf, of); err != nil {
		return err
	}
	if err := lf.Close(); err != nil {
		return err
	}
	return of.Close()
}
