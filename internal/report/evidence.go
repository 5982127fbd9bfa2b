package report

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// Matches of a pinned file against the file at hand.
const (
	matchOK      = "match"
	matchChanged = "changed"
	matchMissing = "missing"
)

// abs resolves a path a record pins: repo-relative, or absolute when the
// work dir lived outside the repository.
func abs(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, filepath.FromSlash(p))
}

// fileMatch compares the file at p with the digest a record pins.
func fileMatch(root, p, want string) string {
	d, err := digest.File(abs(root, p))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return matchMissing
	case err != nil || d != want:
		return matchChanged
	}
	return matchOK
}

// readEvidence returns the evidence summary a verified record pins, only
// when the file at hand has the pinned digest, and the match.
func readEvidence(root string, ev *attest.Evidence) (*evidence.Summary, string) {
	b, err := safefile.ReadFile(abs(root, ev.Path), safefile.Record)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, matchMissing
	}
	if err != nil || digest.Bytes(b) != ev.SHA256 {
		return nil, matchChanged
	}
	var doc evidence.Summary
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, matchChanged
	}
	return &doc, matchOK
}
