package check

import (
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// Result is the check result document (CONTRACTS.md): what `slipway check
// --format json` prints and <work dir>/check/result.json holds. The pull
// request comment, the release and the audit report read it.
type Result struct {
	// Verdict is deny if any unit denies, warn if any warns, else pass.
	Verdict        policy.Outcome `json:"verdict"`
	Platform       string         `json:"platform"`
	Commit         string         `json:"commit"`
	Base           string         `json:"base"`
	GeneratedAt    string         `json:"generated_at"`
	SlipwayVersion string         `json:"slipway_version"`
	// SpecDigest digests every spec file judged (release.SpecDigest), so a
	// release can tell a stale result.
	SpecDigest string `json:"spec_digest,omitempty"`
	// Units are the (model, environment) pairs in scope, deny first.
	Units []Unit `json:"units"`
	// Shared are the plan summaries of the environments' _shared stacks.
	Shared  []*terraform.Summary `json:"shared"`
	Waivers []WaiverState        `json:"waivers"`
	Errors  []string             `json:"errors"`

	// Rules is the policy catalogue the check judged with.
	Rules []policy.Rule `json:"-"`
}

// Unit is the decision for one model in one environment.
type Unit struct {
	Model        string         `json:"model"`
	ModelVersion string         `json:"model_version"`
	Environment  string         `json:"environment"`
	Verdict      policy.Outcome `json:"verdict"`
	// Plan is the stack's plan summary; null under --no-plan.
	Plan     *terraform.Summary `json:"plan"`
	Evidence *EvidenceRef       `json:"evidence"`
	Results  []policy.Result    `json:"results"`
}

// EvidenceRef locates the evidence summary a unit was judged on and
// carries the figures a reviewer looks at first.
type EvidenceRef struct {
	Path     string              `json:"path"`
	SHA256   string              `json:"sha256"`
	Headline map[string]*float64 `json:"headline"`
	// Baseline are the baseline metrics the spec records, for deltas.
	Baseline map[string]float64 `json:"baseline"`
	// Fairness is, per sensitive attribute and bounded metric, the value
	// measured and the threshold applied.
	Fairness map[string]map[string]FairnessFigure `json:"fairness"`
}

// FairnessFigure is one fairness metric of one attribute.
type FairnessFigure struct {
	Value     *float64       `json:"value"`
	Threshold spec.Threshold `json:"threshold"`
}

// WaiverState is a waiver of the platform with its status at check time.
type WaiverState struct {
	spec.Waiver
	// Status is active, expired or unapproved.
	Status string        `json:"status"`
	Pos    spec.Position `json:"pos"`
}

// Counts tallies results by outcome.
type Counts struct {
	Deny, Warn, Waived, Pass int
}

// Count tallies the results of a unit.
func (u Unit) Count() Counts {
	var c Counts
	for _, r := range u.Results {
		switch r.Outcome {
		case policy.OutcomeDeny:
			c.Deny++
		case policy.OutcomeWarn:
			c.Warn++
		case policy.OutcomeWaived:
			c.Waived++
		case policy.OutcomePass:
			c.Pass++
		}
	}
	return c
}
