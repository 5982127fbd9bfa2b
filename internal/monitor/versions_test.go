package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/prodlog"
)

// TestVersionSharesRollback checks the version check reads rollbacks: the
// version a rollback went back from is not covered after it, until it is
// released again.
func TestVersionSharesRollback(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	h := &history{released: map[string]bool{"1.0.0": true, "2.0.0": true}, changes: []coverChange{
		{at: day(10, 12), version: "2.0.0", withdraw: true, to: "1.0.0"},
		{at: day(12, 0), version: "2.0.0"}, // released again
	}}
	tests := []struct {
		name        string
		window      prodlog.Window
		epochs      []map[string]int64 // nil: no cut in the window
		versions    map[string]int64
		want        map[string]VersionShare
		uncoveredSh float64
	}{
		{
			name:     "rollback inside the window",
			window:   prodlog.Window{From: day(10, 0), To: day(11, 0)},
			epochs:   []map[string]int64{{"2.0.0": 60}, {"2.0.0": 10, "1.0.0": 30}},
			versions: map[string]int64{"2.0.0": 70, "1.0.0": 30},
			want: map[string]VersionShare{
				"1.0.0": {Requests: 30, Share: 0.3, Released: true},
				"2.0.0": {Requests: 70, Share: 0.7, Released: true, AfterRollback: 10, RolledBackTo: "1.0.0", RolledBackAt: "2026-11-10T12:00:00Z"},
			},
			uncoveredSh: 0.1,
		},
		{
			name:     "rollback before the window",
			window:   prodlog.Window{From: day(11, 0), To: day(11, 12)},
			versions: map[string]int64{"2.0.0": 5, "1.0.0": 15, "3.0.0": 5},
			want: map[string]VersionShare{
				"1.0.0": {Requests: 15, Share: 0.6, Released: true},
				"2.0.0": {Requests: 5, Share: 0.2, Released: true, AfterRollback: 5, RolledBackTo: "1.0.0", RolledBackAt: "2026-11-10T12:00:00Z"},
				"3.0.0": {Requests: 5, Share: 0.2},
			},
			uncoveredSh: 0.4,
		},
		{
			name:     "released again before the window",
			window:   prodlog.Window{From: day(13, 0), To: day(14, 0)},
			versions: map[string]int64{"2.0.0": 10},
			want:     map[string]VersionShare{"2.0.0": {Requests: 10, Share: 1, Released: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := prodlog.Query{Window: tt.window, Cuts: h.cuts(tt.window)}
			if (len(q.Cuts) > 0) != (tt.epochs != nil) {
				t.Fatalf("cuts %v for epochs %v", q.Cuts, tt.epochs)
			}
			var rows int64
			for _, n := range tt.versions {
				rows += n
			}
			got, share := versionShares(&prodlog.Counts{Rows: rows, Versions: tt.versions, Epochs: tt.epochs}, q, h)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("versions (-want +got):\n%s", d)
			}
			if share != tt.uncoveredSh {
				t.Errorf("unreleased share %v, want %v", share, tt.uncoveredSh)
			}
		})
	}
}

// TestLiveOutcomesBadLabel checks an outcome label that is not a class is
// an input error naming the value, never counted as a negative.
func TestLiveOutcomesBadLabel(t *testing.T) {
	c := &prodlog.Counts{Outcomes: map[prodlog.Cell]int64{{Pred: "1", Label: "maybe"}: 3}}
	_, err := liveOutcomes(metrics.Config{}, c)
	if err == nil || !strings.Contains(err.Error(), `outcome label: `) || !strings.Contains(err.Error(), `"maybe" is not one of 0, 1, true, false`) {
		t.Fatalf("error %v", err)
	}
	c = &prodlog.Counts{Outcomes: map[prodlog.Cell]int64{{Pred: "yes", Label: "1"}: 3}}
	if _, err := liveOutcomes(metrics.Config{}, c); err == nil || !strings.Contains(err.Error(), `prediction: `) {
		t.Fatalf("error %v", err)
	}
}
