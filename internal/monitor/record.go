package monitor

import (
	"context"
	"fmt"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/ledgerrecord"
	"github.com/slipway-ml/slipway/internal/prodlog"
	"github.com/slipway-ml/slipway/internal/spec"
)

// PredicateType is the monitoring record's in-toto predicate type.
var PredicateType = attest.MonitoringPredicateType

// Predicate is a signed monitoring record: the window, the source read,
// the figures and the verdict with every rule's result.
type Predicate struct {
	attest.RecordHeader
	Window  prodlog.Window   `json:"window"`
	Source  prodlog.Identity `json:"source"`
	Figures Figures          `json:"figures"`
	Verdict string           `json:"verdict"`
	Results []attest.Result  `json:"results"`
	// Issue is what the run did with its GitHub issue, with --github.
	Issue   *Issue      `json:"issue,omitempty"`
	Slipway attest.Tool `json:"slipway"`
}

// servingVersion is the version the record is filed under: the verified
// release's, else the spec's.
func servingVersion(m spec.Model, h *history) string {
	if h.latest != nil {
		return h.latest.Version
	}
	return m.Version
}

// appendRecord signs the run's record and appends it to the ledger. Its
// subject is the serving model artifact, so `cosign verify-blob-attestation`
// checks it against the model file as it does releases.
func appendRecord(ctx context.Context, o Options, m spec.Model, run *Run, h *history) (string, error) {
	version := servingVersion(m, h)
	art := attest.Release{Model: attest.ModelRef{Name: m.Name, Version: m.Version}, Artifact: attest.Artifact{URI: m.Artifact.URI, Digest: m.Artifact.Digest}}
	if h.latest != nil && h.latest.artifact.Digest != "" {
		art.Artifact = h.latest.artifact
		art.Model.Version = h.latest.Version
	}
	results := make([]attest.Result, 0, len(run.Results))
	for _, r := range run.Results {
		ar := attest.Result{Rule: r.Rule, Severity: string(r.Severity), Outcome: string(r.Outcome), Message: r.Message}
		for _, c := range r.Controls {
			ar.Controls = append(ar.Controls, attest.Control{Framework: c.Framework, ID: c.ID})
		}
		results = append(results, ar)
	}
	sub, err := attest.NewSubject(art.ArtifactSubject(), art.Artifact.Digest)
	if err != nil {
		return "", err
	}
	e, err := ledgerrecord.Append(ctx, o.Platform.Root, o.Signer, ledgerrecord.Record{
		Kind: ledger.Monitoring, Environment: o.Env, Model: attest.ModelRef{Name: m.Name, Version: version},
		Now: o.Now, Subject: sub,
		// GitHub is called with the ledger locked: the record's path is
		// only certain there, and the client's timeout bounds the wait.
		Before: func(ctx context.Context, path string) error {
			if o.Issues == nil {
				return nil
			}
			run.Record = path
			if err := notify(ctx, o.Issues, run); err != nil {
				run.Record, run.Issue = "", nil
				return fmt.Errorf("github issue (no record is written): %w", err)
			}
			return nil
		},
		Predicate: func(h attest.RecordHeader) any {
			return Predicate{RecordHeader: h, Window: run.Figures.Window, Source: run.Source, Figures: run.Figures,
				Verdict: string(run.Verdict), Results: results, Issue: run.Issue, Slipway: attest.Tool{Version: o.Version}}
		},
	})
	if err != nil {
		return "", err
	}
	return e.Path, nil
}
