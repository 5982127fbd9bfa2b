package synth

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// ProductionLogs describes a model's production traffic: requests resampled
// from a reference snapshot (so undrifted features keep its distribution),
// scored by resampling the gold predictions of the same label, with drift
// injected into one numeric feature after a date and outcomes that arrive
// after a delay.
type ProductionLogs struct {
	Rows       int
	Start, End time.Time
	Version    string
	// Reference rows, with the header first; Label names its label
	// column, Features the columns logged.
	Reference [][]string
	Label     string
	Features  []string
	// Gold predictions, header first, with ScoreColumn and PredColumn
	// and the label column.
	Gold                    [][]string
	ScoreColumn, PredColumn string
	// DriftFeature is multiplied by DriftFactor in requests at or after
	// DriftAfter.
	DriftFeature string
	DriftAfter   time.Time
	DriftFactor  float64
	// OutcomeDelay: requests younger than End minus the delay have no
	// outcome yet.
	OutcomeDelay time.Duration
}

func colIndex(header []string, name string) (int, error) {
	i := slices.Index(header, name)
	if i < 0 {
		return 0, fmt.Errorf("column %q not in %v", name, header)
	}
	return i, nil
}

// Write writes the logs (request_id, ts, model_version, the features,
// score, prediction) and the outcomes (request_id, label) as CSV.
func (p ProductionLogs) Write(seed uint64, logs, outcomes io.Writer) error {
	r := rand.New(rand.NewPCG(seed, 1414))
	ref, gold := p.Reference[0], p.Gold[0]
	li, err := colIndex(ref, p.Label)
	if err != nil {
		return err
	}
	fi := make([]int, len(p.Features))
	for i, f := range p.Features {
		if fi[i], err = colIndex(ref, f); err != nil {
			return err
		}
	}
	gl, err := colIndex(gold, p.Label)
	if err != nil {
		return err
	}
	gs, err := colIndex(gold, p.ScoreColumn)
	if err != nil {
		return err
	}
	gp, err := colIndex(gold, p.PredColumn)
	if err != nil {
		return err
	}
	byLabel := map[string][][]string{}
	for _, row := range p.Gold[1:] {
		byLabel[row[gl]] = append(byLabel[row[gl]], row)
	}
	lw, ow := csv.NewWriter(logs), csv.NewWriter(outcomes)
	head := append([]string{"request_id", "ts", "model_version"}, p.Features...)
	if err := lw.Write(append(head, p.ScoreColumn, p.PredColumn)); err != nil {
		return err
	}
	if err := ow.Write([]string{"request_id", p.Label}); err != nil {
		return err
	}
	step := p.End.Sub(p.Start) / time.Duration(p.Rows)
	labelled := p.End.Add(-p.OutcomeDelay)
	for i := range p.Rows {
		row := p.Reference[1+r.IntN(len(p.Reference)-1)]
		ts := p.Start.Add(time.Duration(i) * step)
		id := fmt.Sprintf("REQ-%08d", i+1)
		out := []string{id, ts.Format(time.RFC3339), p.Version}
		for j, f := range p.Features {
			v := row[fi[j]]
			if f == p.DriftFeature && !ts.Before(p.DriftAfter) {
				if x, err := strconv.ParseFloat(v, 64); err == nil {
					v = strconv.FormatFloat(x*p.DriftFactor, 'f', 3, 64)
				}
			}
			out = append(out, v)
		}
		cands := byLabel[row[li]]
		if len(cands) == 0 {
			return fmt.Errorf("no gold prediction with label %q", row[li])
		}
		g := cands[r.IntN(len(cands))]
		if err := lw.Write(append(out, g[gs], g[gp])); err != nil {
			return err
		}
		if ts.Before(labelled) {
			if err := ow.Write([]string{id, row[li]}); err != nil {
				return err
			}
		}
	}
	lw.Flush()
	ow.Flush()
	if err := lw.Error(); err != nil {
		return err
	}
	return ow.Error()
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return csv.NewReader(f).ReadAll()
}

// CreditDefaultTraffic is the production traffic of examples/credit-risk's
// credit-default model (repo is the example's directory): two weeks of
// requests from its training snapshot, scored like its gold predictions,
// with debt_ratio drifting (x1.6) from the eighth day and outcomes two days
// behind.
func CreditDefaultTraffic(repo string, rows int) (ProductionLogs, error) {
	ref, err := readCSV(filepath.Join(repo, "data/snapshots/applications-train.csv"))
	if err != nil {
		return ProductionLogs{}, err
	}
	gold, err := readCSV(filepath.Join(repo, "models/credit-default/evidence/predictions.csv"))
	if err != nil {
		return ProductionLogs{}, err
	}
	start := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	return ProductionLogs{
		Rows: rows, Start: start, End: start.AddDate(0, 0, 14), Version: "2.3.0",
		Reference: ref, Label: "defaulted",
		Features: []string{"income", "debt_ratio", "credit_history_months", "loan_amount", "employment_type", "sex", "age_band"},
		Gold:     gold, ScoreColumn: "score", PredColumn: "predicted_default",
		DriftFeature: "debt_ratio", DriftAfter: start.AddDate(0, 0, 7), DriftFactor: 1.6,
		OutcomeDelay: 48 * time.Hour,
	}, nil
}
