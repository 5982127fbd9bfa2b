package report

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// evidenceDoc is the part of an evidence summary
// (.slipway/evidence/<model>.json, see CONTRACTS) the report shows. It is
// decoded here from the documented format rather than from the evidence
// engine's Go type, so the report reads any producer of that format.
type evidenceDoc struct {
	Model      string          `json:"model"`
	Version    string          `json:"version"`
	Evaluation *metrics.Report `json:"evaluation"`
	Gold       *struct {
		DataSource      string `json:"data_source"`
		DeclaredVersion string `json:"declared_version"`
		Snapshot        string `json:"snapshot"`
		SnapshotSHA256  string `json:"snapshot_sha256"`
	} `json:"gold"`
	Tests *struct {
		Suites map[string]struct {
			Tests    int  `json:"tests"`
			Failures int  `json:"failures"`
			Errors   int  `json:"errors"`
			Skipped  int  `json:"skipped"`
			Passed   bool `json:"passed"`
		} `json:"suites"`
		Total struct {
			Tests    int `json:"tests"`
			Failures int `json:"failures"`
			Errors   int `json:"errors"`
			Skipped  int `json:"skipped"`
		} `json:"total"`
	} `json:"tests"`
	Data *struct {
		Sources map[string]sourceEvidence `json:"sources"`
		Drift   *struct {
			Reference string `json:"reference"`
			Current   string `json:"current"`
			Features  map[string]struct {
				Kind     string   `json:"kind"`
				PSI      *float64 `json:"psi"`
				KS       *float64 `json:"ks"`
				KSPValue *float64 `json:"ks_p_value"`
			} `json:"features"`
		} `json:"drift"`
	} `json:"data"`
	Runbook *struct {
		Path     string   `json:"path"`
		Exists   bool     `json:"exists"`
		Sections []string `json:"sections"`
	} `json:"runbook"`
}

type sourceEvidence struct {
	Snapshot     string             `json:"snapshot"`
	SHA256       string             `json:"sha256"`
	Rows         *int64             `json:"rows"`
	Completeness map[string]float64 `json:"completeness"`
	UniqueKeys   *struct {
		Columns    []string `json:"columns"`
		Duplicates int64    `json:"duplicates"`
		Unique     bool     `json:"unique"`
	} `json:"unique_keys"`
	Freshness *struct {
		Field         string  `json:"field"`
		Newest        string  `json:"newest"`
		AgeSeconds    float64 `json:"age_seconds"`
		MaxAgeSeconds float64 `json:"max_age_seconds"`
		Fresh         bool    `json:"fresh"`
	} `json:"freshness"`
	DuplicateRows *float64 `json:"duplicate_rows"`
	Violations    []struct {
		Check   string `json:"check"`
		Column  string `json:"column"`
		Message string `json:"message"`
	} `json:"violations"`
}

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
func readEvidence(root string, ev *attest.Evidence) (*evidenceDoc, string) {
	b, err := safefile.ReadFile(abs(root, ev.Path), safefile.Record)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, matchMissing
	}
	if err != nil || digest.Bytes(b) != ev.SHA256 {
		return nil, matchChanged
	}
	var doc evidenceDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, matchChanged
	}
	return &doc, matchOK
}
