package evidence

import (
	"encoding/json"
	"sync"

	"github.com/slipway-ml/slipway/internal/metrics"
)

// memo shares evaluations within one WriteAll: the same predictions
// (by the digest open recorded) read with the same settings give the same
// report, whatever model names the file. Repositories where many models
// point at one file, or at byte-identical copies, then evaluate it once;
// the bootstrap behind the intervals is most of an evaluation's time on
// small files.
//
// WriteAll evaluates models concurrently: a worker that needs a report
// another is computing waits for it rather than computing it again.
type memo struct {
	mu      sync.Mutex
	reports map[string]*metrics.Report
	// busy holds, per key being evaluated, a channel closed when put
	// ends that evaluation.
	busy map[string]chan struct{}
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

// get returns a shared report under the name this model gives its file,
// waiting while another worker evaluates the same key. Nil means the
// caller evaluates it and must then put (a nil report when it failed), so
// that the workers waiting on it go on.
func (m *memo) get(key, name string) *metrics.Report {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if r, ok := m.reports[key]; ok {
			c := *r
			c.Inputs = []metrics.Input{{Path: name, SHA256: r.Inputs[0].SHA256}}
			return &c
		}
		ch, busy := m.busy[key]
		if !busy {
			break
		}
		m.mu.Unlock()
		<-ch
		m.mu.Lock()
	}
	if m.busy == nil {
		m.busy = map[string]chan struct{}{}
	}
	m.busy[key] = make(chan struct{})
	return nil
}

// put shares r (when it can be: nil, a failed evaluation, is not) and
// ends the evaluation of key that get handed out.
func (m *memo) put(key string, r *metrics.Report) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r != nil && len(r.Inputs) == 1 {
		m.reports[key] = r
	}
	if ch, ok := m.busy[key]; ok {
		close(ch)
		delete(m.busy, key)
	}
}
