package release

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/redact"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/spec"
)

// bundle builds a unit's evidence bundle: the evidence summary as the
// check judged it, the unit's check result, and the summary's JUnit,
// data-quality and drift parts on their own (an auditor reads them
// without the rest), plus the digest of the policy bundle. It returns
// the bundle to sign and the blobs to store. Raw predictions are pinned
// by digest only: they can be large, and the summary holds what the
// decision read from them.
func bundle(p *spec.Platform, u checkresult.Unit, ev *attest.Evidence) (*attest.Bundle, [][]byte, error) {
	b := &attest.Bundle{Blobs: []attest.Blob{}}
	var blobs [][]byte
	add := func(kind string, data []byte) {
		if len(data) == 0 || string(data) == "null" {
			return
		}
		b.Blobs = append(b.Blobs, attest.Blob{Kind: kind, Digest: digest.Bytes(data), Size: int64(len(data))})
		b.Size += int64(len(data))
		blobs = append(blobs, data)
	}
	if ev != nil {
		raw, err := safefile.ReadFile(resolve(p.Root, ev.Path), safefile.Record)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: evidence summary: %v", checkresult.ErrStale, err)
		}
		if digest.Bytes(raw) != ev.SHA256 {
			return nil, nil, fmt.Errorf("%w: evidence summary %s changed while releasing", checkresult.ErrStale, ev.Path)
		}
		add(attest.BlobEvidence, raw)
		var doc struct {
			Tests json.RawMessage `json:"tests"`
			Data  struct {
				Sources json.RawMessage `json:"sources"`
				Drift   json.RawMessage `json:"drift"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, nil, fmt.Errorf("evidence summary %s: %w", ev.Path, err)
		}
		add(attest.BlobTests, doc.Tests)
		add(attest.BlobQuality, doc.Data.Sources)
		add(attest.BlobDrift, doc.Data.Drift)
		if m, ok := p.Models[u.Model]; ok && m.Evaluation.Predictions != "" {
			for _, in := range ev.Inputs {
				if in.Path == m.Evaluation.Predictions {
					b.Predictions = append(b.Predictions, in)
				}
			}
		}
	}
	if m, ok := p.Models[u.Model]; ok {
		names := append(slices.Clone(m.Training.Data), m.Evaluation.Data)
		sources := map[string]spec.DataSource{}
		for _, n := range names {
			if ds, ok := p.DataSources[n]; ok {
				// A location may be a connection string: its
				// credentials never reach the ledger.
				ds.Location = redact.Text(redact.RemoteURL(ds.Location))
				sources[n] = ds
			}
		}
		if len(sources) > 0 {
			raw, err := json.Marshal(sources)
			if err != nil {
				return nil, nil, fmt.Errorf("data sources of %s: %w", u.Model, err)
			}
			add(attest.BlobSources, raw)
		}
	}
	check, err := json.Marshal(u)
	if err != nil {
		return nil, nil, fmt.Errorf("check result of %s/%s: %w", u.Environment, u.Model, err)
	}
	add(attest.BlobCheck, check)
	if b.Policy, err = policy.BundleDigest(p.Root); err != nil {
		return nil, nil, err
	}
	return b, blobs, nil
}

// storeBundle writes a bundle's blobs into the ledger's blob store.
func storeBundle(l *ledger.Ledger, blobs [][]byte) error {
	for _, b := range blobs {
		if _, err := l.PutBlob(b); err != nil {
			return err
		}
	}
	return nil
}
