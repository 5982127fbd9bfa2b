package alerting

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		expr     string
		metrics  []string
		compares bool
	}{
		{`rate(scoring_errors_total[5m]) / rate(scoring_requests_total[5m]) > 0.01`, []string{"scoring_errors_total", "scoring_requests_total"}, true},
		{`nonsense`, []string{"nonsense"}, false},
		{`absent(up{job="x"})`, []string{"up"}, true},
		{`{__name__="churn_last_success_timestamp"} < time() - 3600`, []string{"churn_last_success_timestamp"}, true},
		{`sum(rate(a[5m])) > bool 1`, []string{"a"}, false},
		{`abs(hold_rate - hold_rate offset 1w) > 0.02`, []string{"hold_rate"}, true},
	}
	for _, tt := range tests {
		x, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		if diff := cmp.Diff(tt.metrics, x.Metrics()); diff != "" {
			t.Errorf("Parse(%q).Metrics() (-want +got):\n%s", tt.expr, diff)
		}
		if got := x.Compares(); got != tt.compares {
			t.Errorf("Parse(%q).Compares() = %v, want %v", tt.expr, got, tt.compares)
		}
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		expr       string
		line, col  int
		wantSubstr string
	}{
		{"rate(x[5m] > 1", 1, 15, "unclosed"},
		{"", 1, 1, "empty"},
		{"up >\n  x y", 2, 5, "unexpected"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Parse(%q) = %v, want a *SyntaxError", tt.expr, err)
		}
		if se.Line != tt.line || se.Column != tt.col {
			t.Errorf("Parse(%q): at %d:%d, want %d:%d (%v)", tt.expr, se.Line, se.Column, tt.line, tt.col, se)
		}
		if !strings.Contains(se.Msg, tt.wantSubstr) {
			t.Errorf("Parse(%q): %q, want it to say %q", tt.expr, se.Msg, tt.wantSubstr)
		}
	}
}
