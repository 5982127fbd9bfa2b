package rollback

import (
	"context"
	"sort"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

// Rehearsals verifies the ledger with keys and returns, per model, the
// rollback records that verified, newest first, as the policy input's
// rehearsal facts. Only records whose signature, content and place in the
// ledger verify are facts; a damaged index makes none. Without keys there
// are none.
func Rehearsals(ctx context.Context, p *spec.Platform, keys []*sign.PublicKey, now time.Time) (map[string][]policy.Rehearsal, error) {
	out := map[string][]policy.Rehearsal{}
	if len(keys) == 0 {
		return out, nil
	}
	rep, err := verify.Ledger(ctx, verify.Options{Root: p.Root, Keys: keys, Now: now})
	if err != nil {
		return nil, err
	}
	return RehearsalsIn(p, rep), nil
}

// RehearsalsIn is Rehearsals on a ledger already verified.
func RehearsalsIn(p *spec.Platform, rep *verify.Report) map[string][]policy.Rehearsal {
	out := map[string][]policy.Rehearsal{}
	if len(rep.Problems) > 0 {
		// Damage to the index or to records outside any model's scope puts
		// every record's place in doubt.
		return out
	}
	for _, r := range rep.Records {
		if r.Kind != ledger.Rollback {
			continue
		}
		st := r.LedgerRecord()
		if st == nil {
			continue
		}
		var rb attest.Rollback
		if err := st.Decode(&rb); err != nil {
			continue
		}
		out[r.Model] = append(out[r.Model], policy.Rehearsal{
			Environment: r.Environment, Protected: p.Environments[r.Environment].Protected,
			Strategy: rb.Strategy, Outcome: rb.Outcome, From: rb.From.Version, To: rb.To.Version,
			RecordedAt: rb.RecordedAt, Record: r.Path,
		})
	}
	for _, rs := range out {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].RecordedAt > rs[j].RecordedAt })
	}
	return out
}
