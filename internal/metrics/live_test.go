package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLiveBinary(t *testing.T) {
	cfg := Config{MinGroupSize: 10, ReferenceGroup: map[string]string{"sex": "m"}}
	f, m, small := Confusion{TP: 8, FP: 2, TN: 8, FN: 2}, Confusion{TP: 5, FP: 5, TN: 5, FN: 5}, Confusion{TP: 1}
	live := LiveBinary(cfg, LiveCounts{Overall: f.add(m).add(small), Groups: map[string]map[string]Confusion{"sex": {"f": f, "m": m, "x": small}}})
	if live.Labelled != 41 {
		t.Errorf("labelled %d, want 41", live.Labelled)
	}
	if r, _ := live.Groups["sex"]["f"].Get("recall"); r != 0.8 {
		t.Errorf("recall of f %v, want 0.8 (BinarySet)", r)
	}
	want := FairnessOf([]GroupRates{{"f", f}, {"m", m}}, "m")
	if d := cmp.Diff(want, live.Fairness["sex"]); d != "" {
		t.Errorf("fairness differs from FairnessOf over the groups large enough (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]ExcludedGroup{{Attribute: "sex", Group: "x", Count: 1, Reason: "fewer than 10 rows (min group size)"}}, live.ExcludedGroups); d != "" {
		t.Errorf("excluded (-want +got):\n%s", d)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		v, positive string
		want        bool
		err         error
	}{
		{"1", "", true, nil}, {"0", "", false, nil}, {"true", "", true, nil}, {"f", "", false, nil},
		{"yes", "", false, ErrClass},
		{"default", "default", true, nil}, {"repaid", "default", false, nil},
		{"true", "1", true, nil}, {"0", "1", false, nil},
	}
	for _, tt := range tests {
		got, err := Classify(tt.v, tt.positive)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Classify(%q, %q) = %v, %v; want %v, %v", tt.v, tt.positive, got, err, tt.want, tt.err)
		}
	}
}

// TestLiveIntervals checks live intervals are made as an evaluation makes
// them: without groups the bootstrap draws the very same replicates, so
// the intervals are identical; per group, the counted margins give
// intervals as wide as the evaluation's.
func TestLiveIntervals(t *testing.T) {
	var b strings.Builder
	b.WriteString("label,prediction,sex\n")
	conf := map[string]Confusion{}
	for i := range 2000 {
		sex := []string{"f", "m"}[i%2]
		y, p := i%3 == 0, i%5 < 2
		if sex == "f" && i%7 == 0 {
			p = !p
		}
		fmt.Fprintf(&b, "%d,%d,%s\n", b2i(y), b2i(p), sex)
		c := conf[sex]
		switch {
		case y && p:
			c.TP++
		case p:
			c.FP++
		case y:
			c.FN++
		default:
			c.TN++
		}
		conf[sex] = c
	}
	path := filepath.Join(t.TempDir(), "preds.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	all := conf["f"].add(conf["m"])
	cfg := Config{Label: "label", Prediction: "prediction", MinGroupSize: 30, Bootstrap: 400, Seed: 1, Workers: 1}
	ev, err := EvaluateFile(context.Background(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	live := LiveBinary(cfg, LiveCounts{Overall: all})
	if d := cmp.Diff(ev.CI.Overall, live.CI.Overall); d != "" || live.CI.Method != ev.CI.Method {
		t.Errorf("overall intervals differ from the evaluation's (-eval +live):\n%s", d)
	}

	cfg.Sensitive = []string{"sex"}
	ev, err = EvaluateFile(context.Background(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	live = LiveBinary(cfg, LiveCounts{Overall: all, Groups: map[string]map[string]Confusion{"sex": conf}})
	near := func(what string, a, b Interval) {
		if math.Abs(a[0]-b[0]) > 0.015 || math.Abs(a[1]-b[1]) > 0.015 {
			t.Errorf("%s: live %v, evaluation %v", what, b, a)
		}
	}
	for _, m := range []string{"accuracy", "recall", "precision"} {
		near("overall "+m, ev.CI.Overall[m], live.CI.Overall[m])
		for _, g := range []string{"f", "m"} {
			near(g+" "+m, ev.CI.Groups["sex"][g][m], live.CI.Groups["sex"][g][m])
		}
	}
	for _, m := range []string{"demographic_parity_difference", "equalized_odds_difference"} {
		near("fairness "+m, ev.CI.Fairness["sex"][m], live.CI.Fairness["sex"][m])
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
