package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/parquet-go/parquet-go"

	"github.com/slipway-ml/slipway/internal/table"
)

var approx = cmpopts.EquateApprox(0, 1e-12)

func ptr(v float64) *float64 { return &v }

// view renders chosen metrics as numbers or "null: reason".
func view(s Set, names ...string) map[string]any {
	out := map[string]any{"count": float64(s.Count)}
	for _, n := range names {
		v, ok := s.Values[n]
		switch {
		case !ok:
			out[n] = "absent"
		case v == nil:
			out[n] = "null: " + s.Undefined[n]
		default:
			out[n] = *v
		}
	}
	return out
}

func evalCSV(t *testing.T, content string, c Config) (*Report, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "preds.csv")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if c.Name == "" {
		c.Name = "preds.csv"
	}
	return EvaluateFile(context.Background(), p, c)
}

// The hand-worked file: seven rows, a tie at 0.8 between a positive and a
// negative, a tie at 0.4 between a positive and a negative, and group X
// with no positive label.
const seven = `label,score,prediction,sex,weight
1,0.9,1,F,2
1,0.8,1,M,1
0,0.8,1,F,1
1,0.4,0,M,1
0,0.3,0,M,1
0,0.1,0,F,1
0,0.4,0,X,1
`

func TestBinaryOverall(t *testing.T) {
	rep, err := evalCSV(t, seven, Config{Label: "label", Prediction: "prediction", Score: "score", Sensitive: []string{"sex"}, MinGroupSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"count": 7.0, "tp": 2.0, "fp": 1.0, "tn": 3.0, "fn": 1.0,
		"accuracy": 5.0 / 7, "precision": 2.0 / 3, "recall": 2.0 / 3, "tpr": 2.0 / 3, "specificity": 3.0 / 4,
		"fpr": 1.0 / 4, "fnr": 1.0 / 3, "f1": 2.0 / 3, "selection_rate": 3.0 / 7, "positive_rate": 3.0 / 7,
		"balanced_accuracy": 17.0 / 24,
		// Positives at 0.9, 0.8, 0.4 against negatives 0.8, 0.4, 0.3, 0.1:
		// 4 + (3 + 1/2) + (2 + 1/2) = 10 of 12 pairs.
		"roc_auc": 10.0 / 12,
		// Thresholds 0.9, 0.8, 0.4: recall steps of 1/3 at precisions 1, 2/3, 3/5.
		"average_precision": 34.0 / 45,
		"brier":             1.31 / 7,
		"log_loss":          -(math.Log(0.9) + math.Log(0.8) + math.Log(0.2) + math.Log(0.4) + math.Log(0.7) + math.Log(0.9) + math.Log(0.6)) / 7,
		// Bins 9: |1-0.9|, 8: |1-1.6|, 4: |1-0.8|, 3: |0-0.3|, 1: |0-0.1|.
		"ece": 1.3 / 7,
	}
	names := make([]string, 0, len(want))
	for k := range want {
		if k != "count" {
			names = append(names, k)
		}
	}
	if diff := cmp.Diff(want, view(rep.Overall, names...), approx); diff != "" {
		t.Errorf("overall (-want +got):\n%s", diff)
	}
}

func TestBinaryGroupsAndFairness(t *testing.T) {
	rep, err := evalCSV(t, seven, Config{Label: "label", Prediction: "prediction", Score: "score", Sensitive: []string{"sex"}, MinGroupSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"tpr", "fpr", "selection_rate", "roc_auc", "precision"}
	want := map[string]map[string]any{
		"F": {"count": 3.0, "tpr": 1.0, "fpr": 0.5, "selection_rate": 2.0 / 3, "roc_auc": 1.0, "precision": 0.5},
		"M": {"count": 3.0, "tpr": 0.5, "fpr": 0.0, "selection_rate": 1.0 / 3, "roc_auc": 1.0, "precision": 1.0},
		"X": {"count": 1.0, "tpr": "null: no positive labels", "fpr": 0.0, "selection_rate": 0.0, "roc_auc": "null: no positive labels", "precision": "null: no positive predictions"},
	}
	got := map[string]map[string]any{}
	for g, s := range rep.Groups["sex"] {
		got[g] = view(s, names...)
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	wantF := Fairness{
		DemographicParityDifference: ptr(2.0 / 3), DemographicParityRatio: ptr(0),
		DisparateImpact: ptr(0), ReferenceGroup: "F",
		ImpactRatios: map[string]*float64{"F": ptr(1), "M": ptr(0.5), "X": ptr(0)},
		Compared:     []string{"F", "M", "X"},
		Undefined: map[string]string{
			"equal_opportunity_difference": `true positive rate undefined for group "X"`,
			"equal_opportunity_ratio":      `true positive rate undefined for group "X"`,
			"equalized_odds_difference":    `true positive rate undefined for group "X"`,
			"equalized_odds_ratio":         `true positive rate undefined for group "X"`,
		},
	}
	if diff := cmp.Diff(wantF, rep.Fairness["sex"], approx); diff != "" {
		t.Errorf("fairness (-want +got):\n%s", diff)
	}

	// With a minimum group size of 2, X is reported and excluded.
	rep, err = evalCSV(t, seven, Config{Label: "label", Prediction: "prediction", Sensitive: []string{"sex"}, MinGroupSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	wantF = Fairness{
		DemographicParityDifference: ptr(1.0 / 3), DemographicParityRatio: ptr(0.5),
		EqualOpportunityDifference: ptr(0.5), EqualOpportunityRatio: ptr(0.5),
		EqualizedOddsDifference: ptr(0.5), EqualizedOddsRatio: ptr(0),
		DisparateImpact: ptr(0.5), ReferenceGroup: "F",
		ImpactRatios: map[string]*float64{"F": ptr(1), "M": ptr(0.5)},
		Compared:     []string{"F", "M"},
	}
	if diff := cmp.Diff(wantF, rep.Fairness["sex"], approx); diff != "" {
		t.Errorf("fairness without X (-want +got):\n%s", diff)
	}
	wantEx := []ExcludedGroup{{Attribute: "sex", Group: "X", Count: 1, Reason: "fewer than 2 rows (min group size)"}}
	if diff := cmp.Diff(wantEx, rep.ExcludedGroups); diff != "" {
		t.Errorf("excluded (-want +got):\n%s", diff)
	}

	// An explicit reference group.
	rep, err = evalCSV(t, seven, Config{Label: "label", Prediction: "prediction", Sensitive: []string{"sex"}, MinGroupSize: 2, ReferenceGroup: map[string]string{"sex": "M"}})
	if err != nil {
		t.Fatal(err)
	}
	// F selects 2/3, M 1/3: against M the lowest other ratio is 2.
	if diff := cmp.Diff(ptr(2.0), rep.Fairness["sex"].DisparateImpact, approx); diff != "" {
		t.Errorf("disparate impact against M: %s", diff)
	}
}

func TestBinaryWeights(t *testing.T) {
	rep, err := evalCSV(t, seven, Config{Label: "label", Prediction: "prediction", Score: "score", Weight: "weight"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"count": 7.0, "tp": 3.0, "accuracy": 6.0 / 8, "recall": 3.0 / 4, "precision": 3.0 / 4, "weight": 8.0,
		// The 0.9 positive counts twice: (2*4 + 3.5 + 2.5) / (4*4).
		"roc_auc": 14.0 / 16}
	if diff := cmp.Diff(want, view(rep.Overall, "tp", "accuracy", "recall", "precision", "weight", "roc_auc"), approx); diff != "" {
		t.Errorf("weighted (-want +got):\n%s", diff)
	}
}

func TestBinaryOneClassAndSingleGroup(t *testing.T) {
	// A threshold above every score: every prediction is negative.
	rep, err := evalCSV(t, seven, Config{Label: "label", Score: "score", Threshold: ptr(0.95), Sensitive: []string{"sex"}, MinGroupSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"count": 7.0, "selection_rate": 0.0, "precision": "null: no positive predictions", "f1": 0.0, "recall": 0.0}
	if diff := cmp.Diff(want, view(rep.Overall, "selection_rate", "precision", "f1", "recall")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	f := rep.Fairness["sex"]
	if f.DemographicParityRatio != nil || f.Undefined["demographic_parity_ratio"] != "selection rate is 0 for every group" || f.DisparateImpact != nil {
		t.Errorf("fairness with no selections: %+v", f)
	}

	one := "label,prediction,g\n1,1,A\n0,1,A\n0,0,A\n"
	rep, err = evalCSV(t, one, Config{Label: "label", Prediction: "prediction", Sensitive: []string{"g"}, MinGroupSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantF := Fairness{DemographicParityDifference: ptr(0), DemographicParityRatio: ptr(1), EqualOpportunityDifference: ptr(0),
		EqualOpportunityRatio: ptr(1), EqualizedOddsDifference: ptr(0), EqualizedOddsRatio: ptr(1), DisparateImpact: ptr(1),
		ReferenceGroup: "A", ImpactRatios: map[string]*float64{"A": ptr(1)}, Compared: []string{"A"}}
	if diff := cmp.Diff(wantF, rep.Fairness["g"], approx); diff != "" {
		t.Errorf("single group (-want +got):\n%s", diff)
	}
}

func TestAUCTies(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		want any
	}{
		{"all tied", "label,score\n1,0.5\n0,0.5\n1,0.5\n0,0.5\n", 0.5},
		{"perfect", "label,score\n1,0.9\n0,0.1\n", 1.0},
		{"inverted", "label,score\n1,0.1\n0,0.9\n", 0.0},
		// pos {0.7, 0.5}, neg {0.5, 0.2}: 0.7 beats both; 0.5 ties one, beats one.
		{"partial ties", "label,score\n1,0.7\n1,0.5\n0,0.5\n0,0.2\n", 3.5 / 4},
		{"negative and zero scores", "label,score\n1,-0\n0,0\n1,2\n0,-3\n", 3.5 / 4},
		{"only positives", "label,score\n1,0.7\n1,0.5\n", "null: no negative labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := evalCSV(t, tt.csv, Config{Label: "label", Score: "score", Threshold: ptr(0.5)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, view(rep.Overall, "roc_auc")["roc_auc"], approx); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestPositiveClass(t *testing.T) {
	csv := "y,p\ndefault,default\nrepaid,default\nrepaid,repaid\ndefault,repaid\n"
	rep, err := evalCSV(t, csv, Config{Label: "y", Prediction: "p", Positive: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"count": 4.0, "tp": 1.0, "fp": 1.0, "tn": 1.0, "fn": 1.0}, view(rep.Overall, "tp", "fp", "tn", "fn")); diff != "" {
		t.Error(diff)
	}
	csv = "y,p\nTrue,True\nFalse,True\n"
	if _, err := evalCSV(t, csv, Config{Label: "y", Prediction: "p", Positive: "true"}); err != nil {
		t.Error(err)
	}
}

func TestBadInput(t *testing.T) {
	cfg := Config{Label: "label", Score: "score", Threshold: ptr(0.5), Sensitive: []string{"sex"}, MinGroupSize: 30}
	tests := []struct {
		name string
		csv  string
		cfg  Config
		want string
		is   error
	}{
		{"missing column", "label,prediction,sex\n1,1,F\n", cfg, `preds.csv: header (line 1), column "score": column not found (columns: label, prediction, sex)`, table.ErrMissingColumn},
		{"label outside classes", "label,score,sex\n1,0.5,F\n2,0.5,F\n", cfg, `preds.csv: row 2 (line 3), column "label": value outside the declared classes: "2" is not one of 0, 1, true, false (name the positive class to use other values)`, ErrClass},
		{"third class", "label,score,sex\ndefault,0.5,F\nrepaid,0.5,F\nunknown,0.1,F\nrepaid,0.5,F\n", Config{Label: "label", Score: "score", Threshold: ptr(0.5), Positive: "default"},
			`preds.csv: row 3 (line 4), column "label": value outside the declared classes: "unknown" is a third class; a binary task has two: "default" (positive) and "repaid"`, ErrClass},
		{"third class in two columns of one row", "label,prediction\n1,1\n2,0\n", Config{Label: "label", Prediction: "prediction", Positive: "1"},
			`preds.csv: row 2 (line 3), column "prediction": value outside the declared classes: "0" is a third class; a binary task has two: "1" (positive) and "2"`, ErrClass},
		{"non-numeric score", "label,score,sex\n1,high,F\n", cfg, `preds.csv: row 1 (line 2), column "score": not a number: "high"`, table.ErrNotNumber},
		{"NaN score", "label,score,sex\n1,0.2,F\n0,NaN,M\n", cfg, `preds.csv: row 2 (line 3), column "score": not a number: "NaN" is not finite`, table.ErrNotNumber},
		{"empty score", "label,score,sex\n1,,F\n", cfg, `preds.csv: row 1 (line 2), column "score": missing value`, table.ErrMissingValue},
		{"ragged row", "label,score,sex\n1,0.2,F\n0,0.3\n", cfg, `preds.csv: row 2 (line 3), column "sex": wrong number of fields: 2 fields, header has 3`, table.ErrRagged},
		{"empty file", "", cfg, `preds.csv: empty file: no header row`, table.ErrEmpty},
		{"header only", "label,score,sex\n", cfg, `preds.csv: no data rows: the file has a header (line 1) and nothing else`, table.ErrNoRows},
		{"negative weight", "label,prediction,w\n1,1,-2\n", Config{Label: "label", Prediction: "prediction", Weight: "w"}, `preds.csv: row 1 (line 2), column "w": invalid value: negative weight -2`, ErrValue},
		// The smallest group is the caller's (the spec's, the schema's
		// default): metrics has no number of its own to fall back on.
		{"no min group size", "label,score,sex\n1,0.2,F\n", Config{Label: "label", Score: "score", Threshold: ptr(0.5), Sensitive: []string{"sex"}}, `invalid evaluation settings: min group size 0: want at least 1`, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evalCSV(t, tt.csv, tt.cfg)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("%v is not %v", err, tt.is)
			}
		})
	}
}

func TestMulticlass(t *testing.T) {
	csv := "y,p\na,a\na,b\nb,b\nc,a\nc,c\n"
	rep, err := evalCSV(t, csv, Config{Task: Multiclass, Label: "y", Prediction: "p"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"count": 5.0, "accuracy": 3.0 / 5, "macro_precision": (0.5 + 0.5 + 1) / 3, "macro_recall": (0.5 + 1 + 0.5) / 3,
		"macro_f1": (0.5 + 2.0/3 + 2.0/3) / 3, "micro_f1": 3.0 / 5}
	if diff := cmp.Diff(want, view(rep.Overall, "accuracy", "macro_precision", "macro_recall", "macro_f1", "micro_f1"), approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	conf := rep.Overall.Extra["confusion"].(map[string]any)
	if diff := cmp.Diff([][]float64{{1, 1, 0}, {0, 1, 0}, {1, 0, 1}}, conf["matrix"]); diff != "" {
		t.Errorf("confusion (-want +got):\n%s", diff)
	}
}

func TestRegression(t *testing.T) {
	csv := "y,p,g\n1,1,A\n2,3,A\n3,2,B\n4,4,B\n"
	rep, err := evalCSV(t, csv, Config{Task: Regression, Label: "y", Prediction: "p", Sensitive: []string{"g"}, MinGroupSize: 30})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"count": 4.0, "mae": 0.5, "rmse": math.Sqrt(0.5), "r2": 0.6, "mape": (0.5 + 1.0/3) / 4}
	if diff := cmp.Diff(want, view(rep.Overall, "mae", "rmse", "r2", "mape"), approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Group A: y 1,2 p 1,3 -> errors 0,-1; mean 1.5, SST 0.5, SSE 1.
	if diff := cmp.Diff(map[string]any{"count": 2.0, "mae": 0.5, "r2": -1.0}, view(rep.Groups["g"]["A"], "mae", "r2"), approx); diff != "" {
		t.Error(diff)
	}
}

func TestIntersectional(t *testing.T) {
	csv := "label,prediction,sex,age\n1,1,F,young\n0,1,F,old\n1,0,M,young\n0,0,M,old\n"
	rep, err := evalCSV(t, csv, Config{Label: "label", Prediction: "prediction", Sensitive: []string{"sex", "age"}, Intersectional: true, MinGroupSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for g := range rep.Groups["sex|age"] {
		got = append(got, g)
	}
	if diff := cmp.Diff([]string{"F|old", "F|young", "M|old", "M|young"}, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff(ptr(1.0), rep.Fairness["sex|age"].DemographicParityDifference); diff != "" {
		t.Error(diff)
	}
}

func TestBootstrapReproducible(t *testing.T) {
	var b strings.Builder
	b.WriteString("label,score,sex\n")
	rng := rand.New(rand.NewPCG(1, 2))
	// Enough rows for several 1 MiB blocks, so workers share the file.
	for range 150000 {
		y := rng.IntN(2)
		s := min(1, max(0, 0.3*float64(y)+0.7*rng.Float64()))
		sex := "F"
		if rng.IntN(3) == 0 {
			sex = "M"
		}
		b.WriteString(strings.Join([]string{map[int]string{0: "0", 1: "1"}[y], jsonNum(s), sex}, ",") + "\n")
	}
	cfg := Config{Label: "label", Score: "score", Threshold: ptr(0.5), Sensitive: []string{"sex"}, MinGroupSize: 30, Bootstrap: 300, Seed: 7, Workers: 3}
	r1, err := evalCSV(t, b.String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The same worker count reproduces every byte.
	again, err := evalCSV(t, b.String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(r1)
	j2, _ := json.Marshal(again)
	if string(j1) != string(j2) {
		t.Fatal("same seed and workers, different reports")
	}
	// Unweighted, another worker count gives the same bytes too: counts
	// are integers, cells are ordered by value and the score sums are
	// taken per distinct score in rank order.
	cfg.Workers = 1
	r2, err := evalCSV(t, b.String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	j3, _ := json.Marshal(r2)
	if diff := cmp.Diff(string(j1), string(j3)); diff != "" {
		t.Errorf("1 and 3 workers differ:\n%s", diff)
	}
	for _, m := range []string{"accuracy", "recall", "roc_auc", "brier"} {
		iv, ok := r1.CI.Overall[m]
		v, _ := r1.Overall.Get(m)
		if !ok || iv[0] > v || iv[1] < v || iv[1]-iv[0] > 0.05 {
			t.Errorf("%s = %v, interval %v", m, v, iv)
		}
	}
	if _, ok := r1.CI.Fairness["sex"]["demographic_parity_difference"]; !ok {
		t.Error("no fairness interval")
	}
	if _, ok := r1.CI.Groups["sex"]["M"]["tpr"]; !ok {
		t.Error("no group interval")
	}
	cfg.Seed = 8
	r3, _ := evalCSV(t, b.String(), cfg)
	c3, _ := json.Marshal(r3.CI)
	if c2, _ := json.Marshal(r2.CI); string(c2) == string(c3) {
		t.Error("different seeds, same intervals")
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestPoisson(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, lambda := range []float64{0.5, 4, 12, 100, 1e6} {
		const n = 20000
		var sum, sq float64
		for range n {
			x := float64(poisson(rng, lambda))
			sum += x
			sq += x * x
		}
		mean := sum / n
		variance := sq/n - mean*mean
		if math.Abs(mean-lambda) > 4*math.Sqrt(lambda/n) || math.Abs(variance/lambda-1) > 0.05 {
			t.Errorf("lambda %v: mean %v variance %v", lambda, mean, variance)
		}
	}
}

func TestSetJSONRoundTrip(t *testing.T) {
	s := BinarySet(Confusion{TP: 1, FN: 1}, 2)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"specificity":null`) || !strings.Contains(string(b), `"undefined":{`) {
		t.Errorf("%s", b)
	}
	var back Set
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back, cmpopts.EquateEmpty()); diff != "" {
		t.Error(diff)
	}
}

// TestFormatsAgree evaluates the same rows from CSV, gzip CSV, JSON Lines
// and Parquet.
func TestFormatsAgree(t *testing.T) {
	type rec struct {
		Label      int64   `parquet:"label"`
		Score      float64 `parquet:"score"`
		Prediction int64   `parquet:"prediction"`
		Sex        string  `parquet:"sex"`
		Weight     float64 `parquet:"weight"`
	}
	var rows []rec
	var jsonl strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(seven), "\n")[1:] {
		var r rec
		parts := strings.Split(line, ",")
		r.Label, _ = strconv.ParseInt(parts[0], 10, 64)
		r.Score, _ = strconv.ParseFloat(parts[1], 64)
		r.Prediction, _ = strconv.ParseInt(parts[2], 10, 64)
		r.Sex = parts[3]
		r.Weight, _ = strconv.ParseFloat(parts[4], 64)
		rows = append(rows, r)
		b, _ := json.Marshal(map[string]any{"label": r.Label, "score": r.Score, "prediction": r.Prediction, "sex": r.Sex, "weight": r.Weight})
		jsonl.Write(append(b, '\n'))
	}
	dir := t.TempDir()
	files := map[string]func(string) error{
		"p.csv":   func(p string) error { return os.WriteFile(p, []byte(seven), 0o644) },
		"p.jsonl": func(p string) error { return os.WriteFile(p, []byte(jsonl.String()), 0o644) },
		"p.parquet": func(p string) error {
			return parquet.WriteFile(p, rows)
		},
		"p.csv.gz": func(p string) error {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write([]byte(seven))
			zw.Close()
			return os.WriteFile(p, buf.Bytes(), 0o644)
		},
	}
	cfg := Config{Label: "label", Prediction: "prediction", Score: "score", Weight: "weight", Sensitive: []string{"sex"}, MinGroupSize: 1}
	var want []byte
	for _, name := range []string{"p.csv", "p.csv.gz", "p.jsonl", "p.parquet"} {
		p := filepath.Join(dir, name)
		if err := files[name](p); err != nil {
			t.Fatal(err)
		}
		cfg.Name = "preds"
		rep, err := EvaluateFile(context.Background(), p, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rep.Inputs = nil
		got, _ := json.Marshal(rep)
		if want == nil {
			want = got
			continue
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s differs from CSV:\n%s", name, diff)
		}
	}
}

// TestAUCInexactWeights takes the path where weights are not exact
// float32s and move to the side slice mid-file.
func TestAUCInexactWeights(t *testing.T) {
	csv := "label,score,w\n1,0.9,1\n0,0.8,0.1\n1,0.7,0.3\n0,0.6,1\n"
	rep, err := evalCSV(t, csv, Config{Label: "label", Score: "score", Threshold: ptr(0.5), Weight: "w", Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Positives 0.9 (w 1) and 0.7 (w 0.3); negatives 0.8 (w 0.1) and 0.6 (w 1):
	// (1*(0.1+1) + 0.3*1) / ((1+0.3) * (0.1+1)).
	want := (1*(0.1+1) + 0.3*1) / ((1 + 0.3) * (0.1 + 1))
	if diff := cmp.Diff(map[string]any{"count": 4.0, "roc_auc": want}, view(rep.Overall, "roc_auc"), approx); diff != "" {
		t.Error(diff)
	}
}

// TestAsymptoticIntervals works DeLong's AUC interval and the Brier
// normal interval out by hand.
func TestAsymptoticIntervals(t *testing.T) {
	csv := "label,score\n1,0.9\n1,0.4\n0,0.8\n0,0.3\n"
	rep, err := evalCSV(t, csv, Config{Label: "label", Score: "score", Threshold: ptr(0.5), Bootstrap: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Placements: positives 0.9 -> 1, 0.4 -> 1/2 (S10 = 1/8); negatives
	// 0.8 -> 1/2, 0.3 -> 1 (S01 = 1/8). Var = 1/16 + 1/16.
	se := math.Sqrt(0.125)
	wantAUC := Interval{0.75 - z975*se, 1}
	// Brier terms 0.01, 0.36, 0.64, 0.09: mean 0.275, sd^2 = E[x^2] - mean^2
	// over n-1.
	mean := 0.275
	sdb := math.Sqrt(((0.0001+0.1296+0.4096+0.0081)/4 - mean*mean) / 3)
	wantBrier := Interval{max(0, mean-z975*sdb), mean + z975*sdb}
	got := map[string]Interval{"roc_auc": rep.CI.Overall["roc_auc"], "brier": rep.CI.Overall["brier"]}
	if diff := cmp.Diff(map[string]Interval{"roc_auc": wantAUC, "brier": wantBrier}, got, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
