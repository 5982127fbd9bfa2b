package metrics

import (
	"errors"
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
