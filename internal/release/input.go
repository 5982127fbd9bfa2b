// Package release signs release attestations for what a check passed,
// appends them to the ledger, and answers the apply gate's question: is
// this saved plan covered by a verified release? The ledger's verification
// is internal/verify's.
//
// A release reads the check result document (internal/checkresult), so any
// producer of that document can feed a release. A result that no longer
// describes the repository is checkresult.ErrStale.
package release

import "errors"

// ErrRejudged means the policies, judging the saved check result's inputs
// again, do not give the outcomes it records: it was edited.
var ErrRejudged = errors.New("check result disagrees with the policies")
