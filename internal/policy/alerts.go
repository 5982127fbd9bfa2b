package policy

import (
	"errors"
	"fmt"

	"github.com/slipway-ml/slipway/internal/alerting"
	"github.com/slipway-ml/slipway/internal/spec"
)

// AlertFact is what Slipway read from one alert's condition, in the order
// of handover.alerts: the rules judge these facts instead of the text.
type AlertFact struct {
	Name string `json:"name"`
	// Metrics are the metric names the condition reads, sorted.
	Metrics []string `json:"metrics"`
	// Compares says the condition decides something (a comparison or
	// absent()); one that does not fires whenever its series exist.
	Compares bool `json:"compares"`
	// Error is why the condition is not PromQL; empty when it parses.
	Error string `json:"error,omitempty"`
	// At is where the fault is written in the spec, when the platform is
	// known.
	At *spec.Position `json:"at,omitempty"`
}

// AlertFacts parses the model's alert conditions. p places syntax errors
// in the spec's files; nil leaves them placed inside the condition only.
func AlertFacts(p *spec.Platform, m spec.Model) []AlertFact {
	out := make([]AlertFact, 0, len(m.Handover.Alerts))
	for i, a := range m.Handover.Alerts {
		f := AlertFact{Name: a.Name, Metrics: []string{}}
		x, err := alerting.Parse(a.Condition)
		var se *alerting.SyntaxError
		switch {
		case err == nil:
			f.Metrics, f.Compares = x.Metrics(), x.Compares()
		case errors.As(err, &se):
			f.Error = se.Error()
			if p != nil {
				path := spec.ModelPath(m.Name, "handover", "alerts", fmt.Sprintf("[%d]", i), "condition")
				if pos := p.StringPos(path, se.Offset); pos.IsValid() {
					f.At = &pos
				}
			}
		default:
			f.Error = err.Error()
		}
		out = append(out, f)
	}
	return out
}
