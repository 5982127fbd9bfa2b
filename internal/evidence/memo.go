package evidence

import (
	"encoding/json"

	"github.com/slipway-ml/slipway/internal/metrics"
)

// memo shares evaluations within one WriteAll: the same predictions
// (by the digest open recorded) read with the same settings give the same
// report, whatever model names the file. Repositories where many models
// point at one file, or at byte-identical copies, then evaluate it once;
// the bootstrap behind the intervals is most of an evaluation's time on
// small files.
type memo struct {
	reports map[string]*metrics.Report
}

// memoKey is the digest and every setting that shapes the report; ok is
// false when the evaluation cannot be shared (the gold join rides on it).
func memoKey(digest string, cfg metrics.Config) (string, bool) {
	if digest == "" || cfg.Visit != nil {
		return "", false
	}
	// The name only labels the input and errors; workers do not change
	// the result.
	cfg.Name, cfg.Workers = "", 0
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", false
	}
	return digest + "\x00" + string(b), true
}

// get returns a shared report under the name this model gives its file.
func (m *memo) get(key, name string) *metrics.Report {
	if m == nil {
		return nil
	}
	r, ok := m.reports[key]
	if !ok {
		return nil
	}
	c := *r
	c.Inputs = []metrics.Input{{Path: name, SHA256: r.Inputs[0].SHA256}}
	return &c
}

func (m *memo) put(key string, r *metrics.Report) {
	if m != nil && len(r.Inputs) == 1 {
		m.reports[key] = r
	}
}
