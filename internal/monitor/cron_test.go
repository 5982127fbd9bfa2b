package monitor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/spec"
)

func TestMaxGap(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
	}{
		{"@hourly", time.Hour},
		{"0 * * * *", time.Hour},
		{"*/15 * * * *", 15 * time.Minute},
		{"0 6 * * *", 24 * time.Hour},
		{"@daily", 24 * time.Hour},
		{"0 6 * * 1-5", 72 * time.Hour},
		{"0 0 1 * *", 31 * 24 * time.Hour},
	}
	for _, tt := range tests {
		got, err := MaxGap(tt.expr)
		if err != nil || got != tt.want {
			t.Errorf("MaxGap(%q) = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
	for _, bad := range []string{"* * *", "61 * * * *", "0 0 31 2 *"} {
		if _, err := MaxGap(bad); err == nil {
			t.Errorf("MaxGap(%q): no error", bad)
		}
	}
}

func TestStatus(t *testing.T) {
	m := spec.Model{Name: "m", Monitoring: spec.Monitoring{Schedule: "@daily", Slack: "2h", Source: &spec.MonitoringSource{Kind: "files"}}}
	rel := ledger.Entry{Environment: "prod", Model: "m", Path: "releases/prod/m/1.0.0.intoto.json", RecordedAt: "2026-11-01T00:00:00Z"}
	mon := ledger.Entry{Environment: "prod", Model: "m", Kind: ledger.Monitoring, Path: "releases/prod/m/monitoring/x.intoto.json", RecordedAt: "2026-11-20T00:00:00Z"}
	other := ledger.Entry{Environment: "staging", Model: "m", RecordedAt: "2026-11-05T00:00:00Z"}
	noSource := m
	noSource.Monitoring.Source = nil
	tests := []struct {
		name    string
		m       spec.Model
		entries []ledger.Entry
		want    *policy.MonitoringStatus
	}{
		{"released and monitored", m, []ledger.Entry{rel, other, mon}, &policy.MonitoringStatus{Last: "2026-11-20T00:00:00Z", MaxGapSeconds: 26 * 3600, Since: "2026-11-01T00:00:00Z", Due: "2026-11-21T02:00:00Z"}},
		{"monitored, overdue", m, []ledger.Entry{rel, other, mon}, &policy.MonitoringStatus{Last: "2026-11-20T00:00:00Z", MaxGapSeconds: 26 * 3600, Since: "2026-11-01T00:00:00Z", Due: "2026-11-21T02:00:00Z", Overdue: true}},
		{"never monitored", m, []ledger.Entry{rel}, &policy.MonitoringStatus{MaxGapSeconds: 26 * 3600, Since: "2026-11-01T00:00:00Z", Due: "2026-11-02T02:00:00Z", Overdue: true}},
		{"not released here", m, []ledger.Entry{other}, nil},
		{"no source", noSource, []ledger.Entry{rel}, nil},
	}
	for _, tt := range tests {
		// Due at 02:00 on the 21st: the second before is on time, the
		// second after overdue.
		now := time.Date(2026, 11, 21, 1, 59, 59, 0, time.UTC)
		if tt.want != nil && tt.want.Overdue {
			now = time.Date(2026, 11, 21, 2, 0, 1, 0, time.UTC)
		}
		if d := cmp.Diff(tt.want, Status(tt.m, "prod", tt.entries, now)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}
