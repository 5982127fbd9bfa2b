package desired

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
)

// TestAlertRendersParsedExpr checks that an alert is rendered from what the
// PromQL parser read: the canonical expression and its metrics; a condition
// that does not parse keeps its text and reads no metric.
func TestAlertRendersParsedExpr(t *testing.T) {
	tests := []struct {
		cond, expr string
		metrics    []string
	}{
		{`rate(errors_total{code="X"}[5m])>0`, `rate(errors_total{code="X"}[5m]) > 0`, []string{"errors_total"}},
		{`rate(x[5m] > 1`, `rate(x[5m] > 1`, []string{}},
	}
	for _, tt := range tests {
		got := newAlert(spec.Alert{Name: "a", Condition: tt.cond, Severity: "page"})
		want := Alert{Name: "a", Condition: tt.cond, Expr: tt.expr, Severity: "page", Metrics: tt.metrics}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("newAlert(%q) (-want +got):\n%s", tt.cond, d)
		}
	}
}
