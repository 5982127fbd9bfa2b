package verify

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

// AcceptedRelease is operations' acceptance of the model at version in env
// that the verified ledger already holds: the newest release of that
// version whose record verified and holds an acceptance by team. A pull
// request that keeps the version (a runbook edit, a tightened bound) then
// needs no new acceptance, and a local run sees the acceptance as given.
// Nil when rep is nil, reports damage to the index, or holds none.
func AcceptedRelease(rep *Report, env, model, version, team string) *policy.AcceptedRelease {
	if rep == nil || len(rep.Problems) > 0 || team == "" {
		return nil
	}
	var out *policy.AcceptedRelease
	for _, r := range rep.Records {
		if !r.OK || !r.IsRelease() || r.Environment != env || r.Model != model || r.Version != version {
			continue
		}
		st := r.Statement()
		if st == nil || st.Predicate.Acceptance == nil || st.Predicate.Acceptance.Team != team {
			continue
		}
		a := st.Predicate.Acceptance
		// Records are in ledger order: the newest wins.
		out = &policy.AcceptedRelease{Record: r.Path, Version: version, Team: a.Team, User: a.User, ReviewID: a.ReviewID, SubmittedAt: a.SubmittedAt}
	}
	return out
}
