// Package attest defines Slipway's release attestation: an in-toto
// Statement whose predicate records what was released where, on what
// evidence, under which decision and approved by whom. The types here are
// the attestation's wire format; changing a field's meaning needs a new
// predicate type version.
package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/redact"
)

// In-toto statement types. Slipway writes v1; cosign attest-blob writes
// v0.1, which Slipway reads as well so attestations made with cosign work.
const (
	StatementV1  = "https://in-toto.io/Statement/v1"
	StatementV01 = "https://in-toto.io/Statement/v0.1"
)

// PredicateType is the stable, versioned URI of Slipway's release
// predicate.
const PredicateType = "https://slipway.dev/attestation/release/v1"

// DecisionPass is the only decision Slipway signs: no policy result
// denied. Warnings and waivers are recorded beside it.
const DecisionPass = "pass"

// ErrNotRelease means a statement is not a Slipway release attestation.
var ErrNotRelease = errors.New("not a Slipway release attestation")

// Statement is an in-toto Statement carrying a Release predicate.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Release   `json:"predicate"`
}

// Subject is an artifact the statement is about, pinned by digest.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Release is Slipway's release predicate.
type Release struct {
	Model ModelRef `json:"model"`
	// Revision counts releases of this model version to this environment
	// when it is released again (a changed plan, a rollback); omitted for
	// the first.
	Revision    int    `json:"revision,omitempty"`
	Environment string `json:"environment"`
	// Decision is "pass": a release is only signed when nothing denied.
	Decision string `json:"decision"`
	// Verdict is the check's verdict for this model and environment:
	// pass or warn.
	Verdict  string   `json:"verdict"`
	Artifact Artifact `json:"artifact"`
	Spec     Spec     `json:"spec"`
	// Stacks are the rendered Terraform stacks the release covers, with
	// the saved plan that apply may run.
	Stacks    []Stack    `json:"stacks"`
	Evidence  *Evidence  `json:"evidence,omitempty"`
	Results   []Result   `json:"results"`
	Waivers   []Waiver   `json:"waivers"`
	Approvals []Approval `json:"approvals"`
	// Acceptance is operations' acceptance of the model, when a member of
	// its acceptance team approved the pull request; absent otherwise.
	Acceptance *Acceptance `json:"acceptance,omitempty"`
	Source     Source      `json:"source"`
	Check      CheckRef    `json:"check"`
	Slipway    Tool        `json:"slipway"`
	// ReleasedAt is when the release was signed, RFC 3339 UTC.
	ReleasedAt string `json:"releasedAt"`
	// Previous is the digest of the previous release record (envelope
	// file) for the same model and environment, empty for the first. It
	// chains each model's releases inside the signature itself.
	Previous string `json:"previous"`
	// LedgerPrevious is the digest of the record the ledger listed last
	// when this one was signed, in any environment, empty for the first:
	// a record removed from the middle of the ledger leaves its successor
	// pointing at it, even when the unsigned index is re-linked. Nil in
	// records signed before predicates carried it.
	LedgerPrevious *string `json:"ledgerPrevious,omitempty"`
	// Backdated says why the release is dated before the ledger's newest
	// entry (slipway release --backdated REASON); empty otherwise.
	Backdated string `json:"backdated,omitempty"`
	// Bundle pins the evidence the decision rested on, stored beside the
	// ledger by digest; nil in records signed before releases kept one.
	Bundle *Bundle `json:"bundle,omitempty"`
}

// Bundle is a release's evidence bundle: copies of what the decision
// rested on, each stored under releases/blobs/sha256/<hex> and pinned
// here by digest, so that the record's figures outlive the work dir.
type Bundle struct {
	Blobs []Blob `json:"blobs"`
	// Policy is the digest of the policy bundle (built-in and repository
	// rules) that judged the evidence.
	Policy string `json:"policy,omitempty"`
	// Predictions are the raw prediction files the evaluation read: too
	// large to keep, so pinned by digest only.
	Predictions []Input `json:"predictions,omitempty"`
	// Size is the bytes the blobs take, before deduplication.
	Size int64 `json:"size"`
}

// Blob kinds of an evidence bundle.
const (
	BlobEvidence = "evidence" // the evidence summary
	BlobCheck    = "check"    // the unit's check result
	BlobTests    = "tests"    // the JUnit summaries
	BlobQuality  = "quality"  // the data-quality results
	BlobDrift    = "drift"    // the drift results
	// BlobSources are the specs of the data sources the model names
	// (owner, classification, PII) as they were when it was released.
	BlobSources = "sources"
)

// Blob is one stored file of an evidence bundle.
type Blob struct {
	Kind   string `json:"kind"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Blob returns the digest of the bundle's blob of the given kind, or "".
func (b *Bundle) Blob(kind string) string {
	if b == nil {
		return ""
	}
	for _, x := range b.Blobs {
		if x.Kind == kind {
			return x.Digest
		}
	}
	return ""
}

// ModelRef names a model version.
type ModelRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Artifact is the released model file.
type Artifact struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"`
	Format string `json:"format,omitempty"`
}

// Spec is the resolved model spec as Slipway validated it.
type Spec struct {
	Platform string          `json:"platform"`
	Digest   string          `json:"digest"`
	Model    json.RawMessage `json:"model"`
}

// Stack is one Terraform stack the release covers.
type Stack struct {
	// ID is "<env>/<stack>".
	ID string `json:"id"`
	// Rendered is the digest of the rendered root module, when present.
	Rendered   string  `json:"rendered,omitempty"`
	PlanFile   string  `json:"planFile"`
	PlanSHA256 string  `json:"planSha256"`
	Changes    Changes `json:"changes"`
}

// Changes counts a plan's resource actions.
type Changes struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
}

// Evidence is the evidence summary the decision rests on.
type Evidence struct {
	Path     string              `json:"path"`
	SHA256   string              `json:"sha256"`
	Inputs   []Input             `json:"inputs"`
	Headline map[string]*float64 `json:"headline"`
	// BaselineSource, BaselineFrom, BaselineVersion and Baseline say what
	// the headline metrics were compared with (checkresult.EvidenceRef's
	// fields); absent from records signed before baselines were told
	// apart.
	BaselineSource  string             `json:"baseline_source,omitempty"`
	BaselineFrom    string             `json:"baseline_from,omitempty"`
	BaselineVersion string             `json:"baseline_version,omitempty"`
	Baseline        map[string]float64 `json:"baseline,omitempty"`
}

// Input is one file the evidence was computed from.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Result is one policy result.
type Result struct {
	Rule     string    `json:"rule"`
	Severity string    `json:"severity"`
	Outcome  string    `json:"outcome"`
	Message  string    `json:"message,omitempty"`
	Controls []Control `json:"controls,omitempty"`
	Waiver   *Waiver   `json:"waiver,omitempty"`
}

// Control is a compliance control a rule evidences.
type Control struct {
	Framework string `json:"framework"`
	ID        string `json:"id"`
}

// Waiver is a waiver in force when the release was signed.
type Waiver struct {
	Rule        string `json:"rule"`
	Model       string `json:"model"`
	Environment string `json:"environment"`
	Reason      string `json:"reason"`
	ApprovedBy  string `json:"approvedBy,omitempty"`
	Expires     string `json:"expires"`
	Ticket      string `json:"ticket"`
}

// Approval is one approving review.
type Approval struct {
	User        string `json:"user"`
	State       string `json:"state"`
	SubmittedAt string `json:"submittedAt,omitempty"`
	// DistinctFromAuthors says the approver wrote neither the pull
	// request nor any of its commits; absent when the authors were not
	// known.
	DistinctFromAuthors *bool `json:"distinctFromAuthors,omitempty"`
	// ReviewID and Commit are GitHub's id of the review and the commit it
	// approved.
	ReviewID int64  `json:"reviewId,omitempty"`
	Commit   string `json:"commit,omitempty"`
}

// Acceptance is operations taking the model over, on the record: the
// approving review on the pull request by a member of the model's
// acceptance team who wrote none of the change (handover.acceptance).
type Acceptance struct {
	Team        string `json:"team"`
	User        string `json:"user"`
	ReviewID    int64  `json:"reviewId"`
	SubmittedAt string `json:"submittedAt"`
	Commit      string `json:"commit"`
}

// Source is where the release was made from.
type Source struct {
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit,omitempty"`
}

// CheckRef identifies the check run the release rests on.
type CheckRef struct {
	Verdict     string `json:"verdict"`
	GeneratedAt string `json:"generatedAt,omitempty"`
	Digest      string `json:"digest,omitempty"`
}

// Tool is the Slipway build that signed.
type Tool struct {
	Version string `json:"version"`
}

// NewStatement wraps r in a v1 statement whose subjects are the model
// artifact and the saved plan file of every stack r covers.
func NewStatement(r Release) (Statement, error) {
	subj := []Subject{}
	art, err := subject(artifactName(r.Artifact.URI, r.Model.Name), r.Artifact.Digest)
	if err != nil {
		return Statement{}, fmt.Errorf("artifact: %w", err)
	}
	subj = append(subj, art)
	for _, s := range r.Stacks {
		ps, err := subject(s.PlanFile, s.PlanSHA256)
		if err != nil {
			return Statement{}, fmt.Errorf("stack %s plan: %w", s.ID, err)
		}
		subj = append(subj, ps)
	}
	// Whatever the caller found in the git config, credentials and
	// query tokens in the remote URL are never signed into a record.
	r.Source.Repository = redact.RemoteURL(r.Source.Repository)
	return Statement{Type: StatementV1, Subject: subj, PredicateType: PredicateType, Predicate: r}, nil
}

func subject(name, d string) (Subject, error) {
	hex := digest.Hex(d)
	if !strings.HasPrefix(d, digest.Prefix) || len(hex) != 64 {
		return Subject{}, fmt.Errorf("%q is not a sha256 digest", d)
	}
	return Subject{Name: name, Digest: map[string]string{"sha256": hex}}, nil
}

// artifactName is the subject name of a model artifact: the last element
// of its URI, which is what cosign names a blob it attests.
func artifactName(uri, model string) string {
	u := strings.TrimRight(uri, "/")
	if i := strings.LastIndex(u, "/"); i >= 0 && i+1 < len(u) {
		return u[i+1:]
	}
	return model
}

// Marshal returns the statement's JSON, the DSSE payload.
func (s Statement) Marshal() ([]byte, error) {
	return json.Marshal(s)
}

// Parse decodes a statement and checks that it carries Slipway's release
// predicate; errors wrap ErrNotRelease when it does not.
func Parse(payload []byte) (*Statement, error) {
	// One decode: records are verified by the ten thousand.
	var s Statement
	if err := unmarshal(payload, &s); err != nil {
		// Another predicate type may not fit Release: say which it is.
		var head struct {
			PredicateType string `json:"predicateType"`
		}
		if unmarshal(payload, &head) == nil && head.PredicateType != PredicateType {
			return nil, fmt.Errorf("%w: predicate type %q, want %s", ErrNotRelease, head.PredicateType, PredicateType)
		}
		return nil, fmt.Errorf("%w: statement: %v", ErrNotRelease, err)
	}
	if s.Type != StatementV1 && s.Type != StatementV01 {
		return nil, fmt.Errorf("%w: statement type %q", ErrNotRelease, s.Type)
	}
	if s.PredicateType != PredicateType {
		return nil, fmt.Errorf("%w: predicate type %q, want %s", ErrNotRelease, s.PredicateType, PredicateType)
	}
	return &s, nil
}

// ParseSummary is Parse for verifying many records: it decodes everything
// verification and the audit report's history look at and leaves out what
// they do not (of the evidence all but the headline metrics, the results'
// controls and waivers), which saves most of the decoding work and
// allocations. The resolved spec is kept undecoded, as signed: the report
// diffs consecutive releases by comparing its bytes. The signature covers
// the whole payload either way.
func ParseSummary(payload []byte) (*Statement, error) {
	var s struct {
		Type          string    `json:"_type"`
		Subject       []Subject `json:"subject"`
		PredicateType string    `json:"predicateType"`
		Predicate     struct {
			Model       ModelRef `json:"model"`
			Revision    int      `json:"revision"`
			Environment string   `json:"environment"`
			Decision    string   `json:"decision"`
			Verdict     string   `json:"verdict"`
			Artifact    Artifact `json:"artifact"`
			Spec        struct {
				Platform string          `json:"platform"`
				Digest   string          `json:"digest"`
				Model    json.RawMessage `json:"model"`
			} `json:"spec"`
			Evidence *struct {
				Headline map[string]*float64 `json:"headline"`
			} `json:"evidence"`
			Stacks  []Stack `json:"stacks"`
			Results []struct {
				Rule     string `json:"rule"`
				Severity string `json:"severity"`
				Outcome  string `json:"outcome"`
				Message  string `json:"message"`
			} `json:"results"`
			Waivers    []Waiver    `json:"waivers"`
			Approvals  []Approval  `json:"approvals"`
			Acceptance *Acceptance `json:"acceptance"`
			Source     Source      `json:"source"`
			Check      CheckRef    `json:"check"`
			Slipway    Tool        `json:"slipway"`
			ReleasedAt string      `json:"releasedAt"`
			Previous   string      `json:"previous"`
			LedgerPrev *string     `json:"ledgerPrevious"`
			Bundle     *Bundle     `json:"bundle"`
		} `json:"predicate"`
	}
	if err := unmarshal(payload, &s); err != nil {
		return Parse(payload) // for its clearer error
	}
	if s.Type != StatementV1 && s.Type != StatementV01 {
		return nil, fmt.Errorf("%w: statement type %q", ErrNotRelease, s.Type)
	}
	if s.PredicateType != PredicateType {
		return nil, fmt.Errorf("%w: predicate type %q, want %s", ErrNotRelease, s.PredicateType, PredicateType)
	}
	p := s.Predicate
	st := &Statement{Type: s.Type, Subject: s.Subject, PredicateType: s.PredicateType, Predicate: Release{
		Model: p.Model, Revision: p.Revision, Environment: p.Environment, Decision: p.Decision, Verdict: p.Verdict,
		Artifact: p.Artifact, Spec: Spec{Platform: p.Spec.Platform, Digest: p.Spec.Digest, Model: p.Spec.Model}, Stacks: p.Stacks,
		Waivers: p.Waivers, Approvals: p.Approvals, Acceptance: p.Acceptance, Source: p.Source, Check: p.Check, Slipway: p.Slipway, ReleasedAt: p.ReleasedAt, Previous: p.Previous,
		LedgerPrevious: p.LedgerPrev, Bundle: p.Bundle,
	}}
	if p.Evidence != nil {
		st.Predicate.Evidence = &Evidence{Headline: p.Evidence.Headline}
	}
	st.Predicate.Results = make([]Result, 0, len(p.Results))
	for _, r := range p.Results {
		st.Predicate.Results = append(st.Predicate.Results, Result{Rule: r.Rule, Severity: r.Severity, Outcome: r.Outcome, Message: r.Message})
	}
	return st, nil
}

// SubjectDigest returns the "sha256:<hex>" digest of the subject named
// name, or "" when there is none.
func (s *Statement) SubjectDigest(name string) string {
	for _, sub := range s.Subject {
		if sub.Name == name {
			if h, ok := sub.Digest["sha256"]; ok {
				return digest.Prefix + h
			}
		}
	}
	return ""
}

// ArtifactSubject is the subject name the model artifact has in r's
// statement.
func (r Release) ArtifactSubject() string { return artifactName(r.Artifact.URI, r.Model.Name) }
