package release

import (
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
)

// PreviousRelease is the model's newest release in env of a version other
// than version, as the ledger's index lists it: the baseline of
// evaluation.baseline {release: "previous"}. It is nil when the index lists
// none (a first release). Its headline metrics are filled in only when rep,
// the ledger verified with the platform's trusted keys, holds the record
// verified and reports no damage to the index: a record Slipway cannot
// verify is no baseline, and Verified false says so.
func PreviousRelease(entries []ledger.Entry, rep *Report, env, model, version string) *policy.PreviousRelease {
	var last *ledger.Entry
	for i := range entries {
		e := &entries[i]
		if e.IsRelease() && e.Environment == env && e.Model == model && e.Version != version {
			last = e
		}
	}
	if last == nil {
		return nil
	}
	out := &policy.PreviousRelease{Version: last.Version, Record: last.Path, ReleasedAt: last.RecordedAt, Headline: map[string]*float64{}}
	if rep == nil || len(rep.Problems) > 0 {
		return out
	}
	for _, r := range rep.Records {
		if r.Path != last.Path || !r.OK || !r.IsRelease() {
			continue
		}
		st := r.Statement()
		if st == nil {
			continue
		}
		out.Verified = true
		out.ReleasedAt = st.Predicate.ReleasedAt
		if ev := st.Predicate.Evidence; ev != nil {
			for k, v := range ev.Headline {
				out.Headline[k] = v
			}
		}
	}
	return out
}
