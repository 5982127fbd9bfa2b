package report

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/spec"
)

// Matches of a pinned file against the file at hand.
const (
	matchOK      = "match"
	matchChanged = "changed"
	matchMissing = "missing"
	// matchBundled: read from the release's evidence bundle, its digest
	// checked.
	matchBundled = "bundled"
	// matchBlobMissing, matchBlobChanged: the bundle's blob is gone or
	// was edited; nothing of it is used.
	matchBlobMissing = "blob missing"
	matchBlobChanged = "blob changed"
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

// readEvidence returns the evidence summary a verified record pins and
// the match: from the record's evidence bundle when it has one (the blob
// store travels with the repository), else from the file at hand, only
// when its digest is the pinned one.
func readEvidence(root string, p *attest.Release) (*evidence.Summary, string) {
	ev := p.Evidence
	var b []byte
	if d := p.Bundle.Blob(attest.BlobEvidence); d != "" {
		var err error
		b, err = ledger.Open(root).ReadBlob(d)
		switch {
		case errors.Is(err, ledger.ErrBlobMissing):
			return nil, matchBlobMissing
		case err != nil:
			return nil, matchBlobChanged
		}
	} else {
		var err error
		b, err = safefile.ReadFile(abs(root, ev.Path), safefile.Record)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, matchMissing
		}
		if err != nil || digest.Bytes(b) != ev.SHA256 {
			return nil, matchChanged
		}
	}
	var doc evidence.Summary
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, matchChanged
	}
	if p.Bundle.Blob(attest.BlobEvidence) != "" {
		return &doc, matchBundled
	}
	return &doc, matchOK
}

// signedSources returns the data sources' specs the record's bundle
// holds, or nil when it holds none or they do not verify.
func signedSources(root string, p *attest.Release) map[string]spec.DataSource {
	d := p.Bundle.Blob(attest.BlobSources)
	if d == "" {
		return nil
	}
	b, err := ledger.Open(root).ReadBlob(d)
	if err != nil {
		return nil
	}
	var out map[string]spec.DataSource
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}
