// Package ledgerrecord signs the ledger's records of kinds other than a
// release (a rollback, a monitoring run) and appends them, chained like a
// release. The rollback and the monitor write them; neither needs the
// release's machinery for it, so the check, which reads their facts, does
// not depend on the release it gates.
package ledgerrecord

import (
	"context"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/sign"
)

// Record is a ledger record of a kind other than a release (a rollback, a
// monitoring run) about one model version in one environment.
type Record struct {
	Kind        ledger.RecordKind
	Environment string
	Model       attest.ModelRef
	Now         time.Time
	// Subject is what the statement is about: the artifact, so that
	// cosign verify-blob-attestation has a blob to check it against.
	Subject attest.Subject
	// Predicate returns the kind's predicate, which embeds the header:
	// the record's place in the ledger is known only while appending.
	Predicate func(attest.RecordHeader) any
	// Before, when set, runs once the record's ledger path is known and
	// before it is signed: what it does can then be signed into the
	// record (a monitoring run's GitHub issue, whose body links the
	// record). Its error stops the append: nothing is written.
	Before func(ctx context.Context, path string) error
}

// Append signs r with signer and appends it to the ledger of the
// repository at root, chained like a release.
func Append(ctx context.Context, root string, signer *sign.Signer, r Record) (ledger.Entry, error) {
	return ledger.Open(root).AppendRecord(ctx, r.Kind, r.Environment, r.Model.Name, r.Model.Version, r.Now,
		func(ctx context.Context, place ledger.Place) ([]byte, []byte, error) {
			if r.Before != nil {
				if err := r.Before(ctx, place.Path); err != nil {
					return nil, nil, err
				}
			}
			h := attest.RecordHeader{Model: r.Model, Environment: r.Environment, Name: place.Name,
				RecordedAt: r.Now.UTC().Format(time.RFC3339), Previous: place.Previous, LedgerPrevious: place.LedgerPrevious}
			st, err := attest.NewRecordStatement(string(r.Kind), []attest.Subject{r.Subject}, r.Predicate(h))
			if err != nil {
				return nil, nil, err
			}
			payload, err := st.Marshal()
			if err != nil {
				return nil, nil, err
			}
			env, err := signer.Sign(ctx, payload)
			return env, payload, err
		})
}
