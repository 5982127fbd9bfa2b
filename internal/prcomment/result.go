// Package prcomment turns a check result document into what a reviewer reads
// on a pull request: the sticky comment's Markdown, the check run's summary
// and the list of annotations on spec lines.
//
// It reads the document through internal/checkresult, the leaf package that
// types it, so the rendering depends on the document and not on the Go
// packages that produce it.
package prcomment

import "github.com/slipway-ml/slipway/internal/checkresult"

// The parts of the check result document the rendering names.
type (
	Outcome        = checkresult.Outcome
	Severity       = checkresult.Severity
	Result         = checkresult.Result
	Unit           = checkresult.Unit
	Plan           = checkresult.Plan
	Changes        = checkresult.Changes
	PolicyResult   = checkresult.Finding
	Evidence       = checkresult.EvidenceRef
	Pos            = checkresult.Position
	FairnessFigure = checkresult.FairnessFigure
	Threshold      = checkresult.Threshold
	Control        = checkresult.Control
)

// Verdicts and outcomes of the check result.
const (
	Pass = checkresult.Pass
	Warn = checkresult.Warn
	Deny = checkresult.Deny
	// Insufficient is insufficient evidence: shown as itself, counted by
	// what its severity does.
	Insufficient = checkresult.InsufficientEvidence
	Waived       = checkresult.Waived
)
