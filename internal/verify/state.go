package verify

import (
	"context"
	"time"

	"github.com/slipway-ml/slipway/internal/sign"
)

// State is the newest release of one model in one environment, as the
// policy input's "releases" wants it.
type State struct {
	Version  string `json:"version"`
	Decision string `json:"decision"`
	// Verified is true when the record and the ledger index verify.
	Verified bool   `json:"verified"`
	Record   string `json:"record"`
}

// LedgerState verifies the ledger and returns, per model and environment,
// its newest release. A repository without a ledger has none.
func LedgerState(ctx context.Context, root string, keys []*sign.PublicKey, now time.Time) (map[string]map[string]State, error) {
	out := map[string]map[string]State{}
	if len(keys) == 0 {
		return out, nil
	}
	rep, err := Ledger(ctx, Options{Root: root, Keys: keys, Now: now})
	if err != nil {
		return nil, err
	}
	for _, r := range rep.Records {
		if !r.IsRelease() {
			continue
		}
		if out[r.Model] == nil {
			out[r.Model] = map[string]State{}
		}
		decision := r.Decision
		if decision == "" {
			decision = "unknown"
		}
		out[r.Model][r.Environment] = State{Version: r.Version, Decision: decision, Verified: r.OK && len(rep.indexDamage) == 0, Record: r.Path}
	}
	return out, nil
}
