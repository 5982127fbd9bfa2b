package monitor

import (
	"time"

	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/spec"
)

// defaultSlack is monitoring.slack's default, for specs decoded without
// the schema's defaults.
const defaultSlack = time.Hour

// Status is what monitoring.fresh judges of a model in an environment at
// now, read from the ledger's index: when it was last released there and
// last monitored, when the next record is due and whether it is overdue.
// It is nil when the model has no monitoring.source, is not released
// there, or its schedule does not parse (validation reports that).
func Status(m spec.Model, env string, entries []ledger.Entry, now time.Time) *policy.MonitoringStatus {
	if m.Monitoring.Source == nil {
		return nil
	}
	gap, err := MaxGap(m.Monitoring.Schedule)
	if err != nil {
		return nil
	}
	slack := defaultSlack
	if m.Monitoring.Slack != "" {
		if d, err := parseDuration(m.Monitoring.Slack); err == nil {
			slack = d
		}
	}
	var since, last string
	for _, e := range entries {
		if e.Environment != env || e.Model != m.Name {
			continue
		}
		switch {
		case e.IsRelease():
			since = e.RecordedAt
		case e.RecordKind() == ledger.Monitoring:
			last = e.RecordedAt
		}
	}
	if since == "" {
		return nil
	}
	st := &policy.MonitoringStatus{Last: last, MaxGapSeconds: int64((gap + slack) / time.Second), Since: since}
	from := since
	if last != "" {
		from = last
	}
	if t, err := time.Parse(time.RFC3339, from); err == nil {
		due := t.Add(time.Duration(st.MaxGapSeconds) * time.Second)
		st.Due = due.UTC().Format(time.RFC3339)
		st.Overdue = now.After(due)
	}
	return st
}

// parseDuration reads the schema's durations: 30s, 15m, 12h, 7d.
func parseDuration(s string) (time.Duration, error) {
	if n := len(s); n > 1 && s[n-1] == 'd' {
		d, err := time.ParseDuration(s[:n-1] + "h")
		return d * 24, err
	}
	return time.ParseDuration(s)
}
