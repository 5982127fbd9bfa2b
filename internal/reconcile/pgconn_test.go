package reconcile

import (
	"fmt"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/spec"
)

// TestPGConnStringTimeouts: the timeouts are the state block's, else the
// schema's defaults (read from it, not retyped), and a connection string
// that sets one keeps it.
func TestPGConnStringTimeouts(t *testing.T) {
	def := spec.DefaultPGState()
	c, errC := time.ParseDuration(def.ConnectTimeout)
	s, errS := time.ParseDuration(def.StatementTimeout)
	if errC != nil || errS != nil || c <= 0 || s <= 0 {
		t.Fatalf("schema defaults %q, %q: %v %v", def.ConnectTimeout, def.StatementTimeout, errC, errS)
	}
	for _, tt := range []struct {
		conn string
		st   spec.State
		want string
	}{
		{"host=db", spec.State{}, fmt.Sprintf("host=db connect_timeout=%d statement_timeout=%d", c/time.Second, s/time.Millisecond)},
		{"host=db", spec.State{ConnectTimeout: "3s", StatementTimeout: "2m"}, "host=db connect_timeout=3 statement_timeout=120000"},
		{"postgres://db/x?connect_timeout=5", spec.State{ConnectTimeout: "3s", StatementTimeout: "1s"}, "postgres://db/x?connect_timeout=5&statement_timeout=1000"},
		{"", spec.State{}, ""},
	} {
		if got := pgConnString(tt.conn, tt.st); got != tt.want {
			t.Errorf("pgConnString(%q, %+v) = %q, want %q", tt.conn, tt.st, got, tt.want)
		}
	}
}
