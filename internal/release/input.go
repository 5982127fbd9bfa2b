// Package release signs release attestations for what a check passed,
// appends them to the ledger, verifies the ledger, and answers the apply
// gate's question: is this saved plan covered by a verified release?
//
// A release reads the check result document (internal/checkresult), so any
// producer of that document can feed a release.
package release

import "errors"

// Errors callers branch on.
var (
	// ErrStale means the check result does not describe the repository
	// as it is now.
	ErrStale = errors.New("check result is stale")
	// ErrRejudged means the policies, judging the saved check result's
	// inputs again, do not give the outcomes it records: it was edited.
	ErrRejudged = errors.New("check result disagrees with the policies")
)
