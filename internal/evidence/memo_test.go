package evidence

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ml/slipway/internal/metrics"
)

func TestMemo(t *testing.T) {
	base := metrics.Config{Label: "y", Prediction: "p", Sensitive: []string{"group"}, Bootstrap: 1000, Seed: 1, Name: "models/a/p.csv", Workers: 2}
	k, ok := memoKey("sha256:aa", base)
	if !ok {
		t.Fatal("a plain evaluation is not shared")
	}
	other := base
	other.Name, other.Workers = "models/b/p.csv", 4
	if k2, _ := memoKey("sha256:aa", other); k2 != k {
		t.Errorf("name and workers change the key: %q and %q", k, k2)
	}
	for name, c := range map[string]metrics.Config{
		"seed":      func() metrics.Config { c := base; c.Seed = 2; return c }(),
		"sensitive": func() metrics.Config { c := base; c.Sensitive = nil; return c }(),
		"threshold": func() metrics.Config { c := base; c.Threshold = new(0.4); return c }(),
	} {
		if k2, _ := memoKey("sha256:aa", c); k2 == k {
			t.Errorf("%s does not change the key", name)
		}
	}
	if k2, _ := memoKey("sha256:bb", base); k2 == k {
		t.Error("the digest does not change the key")
	}
	joined := base
	joined.Visit = &metrics.Visitor{}
	if _, ok := memoKey("sha256:aa", joined); ok {
		t.Error("an evaluation carrying the gold join is shared")
	}

	m := &memo{reports: map[string]*metrics.Report{}}
	if m.get(k, "x") != nil {
		t.Fatal("empty memo hits")
	}
	rep := &metrics.Report{Task: "binary", Rows: 3, Inputs: []metrics.Input{{Path: "models/a/p.csv", SHA256: "sha256:aa"}}}
	m.put(k, rep)
	got := m.get(k, "models/b/p.csv")
	want := &metrics.Report{Task: "binary", Rows: 3, Inputs: []metrics.Input{{Path: "models/b/p.csv", SHA256: "sha256:aa"}}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(metrics.Report{})); diff != "" {
		t.Errorf("shared report (-want +got):\n%s", diff)
	}
	if rep.Inputs[0].Path != "models/a/p.csv" {
		t.Error("sharing renamed the first model's input")
	}
}

// TestMemoWaits: a worker asking for a report another is computing waits
// for it instead of computing it again, and computes it itself when the
// other's evaluation failed.
func TestMemoWaits(t *testing.T) {
	m := &memo{reports: map[string]*metrics.Report{}}
	if m.get("k", "a") != nil {
		t.Fatal("empty memo hits")
	}
	got := make(chan *metrics.Report)
	go func() { got <- m.get("k", "b") }()
	select {
	case r := <-got:
		t.Fatalf("get returned %v while the report was being computed", r)
	case <-time.After(50 * time.Millisecond):
	}
	m.put("k", &metrics.Report{Rows: 7, Inputs: []metrics.Input{{Path: "a", SHA256: "sha256:aa"}}})
	if r := <-got; r == nil || r.Rows != 7 || r.Inputs[0].Path != "b" {
		t.Errorf("waiting get = %+v, want the report under b", r)
	}

	if m.get("failed", "a") != nil {
		t.Fatal("empty memo hits")
	}
	go func() { got <- m.get("failed", "b") }()
	m.put("failed", nil)
	if r := <-got; r != nil {
		t.Errorf("get after a failed evaluation = %+v, want nil (evaluate it yourself)", r)
	}
	m.put("failed", nil)
}
