package monitor

import (
	"testing"
	"time"
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
