package attest

// Rollback outcomes.
const (
	RollbackSucceeded = "succeeded"
	RollbackFailed    = "failed"
)

// Rollback is the predicate of a rollback record
// (https://slipway.dev/attestation/rollback/v1): a model taken back from
// one release to an earlier one, how, by whom, and with what outcome. Its
// header's model version is the version rolled back to.
type Rollback struct {
	RecordHeader
	// From and To are the release records rolled back from and to.
	From RollbackRelease `json:"from"`
	To   RollbackRelease `json:"to"`
	// Strategy is the model's rollback strategy when it was rolled back.
	Strategy string          `json:"strategy"`
	Stacks   []RollbackStack `json:"stacks"`
	// Outcome is "succeeded" or "failed"; Error says why it failed.
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	// StartedAt is RFC 3339 UTC; DurationSeconds is the Terraform run's.
	StartedAt       string  `json:"startedAt"`
	DurationSeconds float64 `json:"durationSeconds"`
	By              Actor   `json:"by"`
	Terraform       string  `json:"terraform,omitempty"`
	Slipway         Tool    `json:"slipway"`
}

// RollbackRelease names a release record.
type RollbackRelease struct {
	Version  string `json:"version"`
	Revision int    `json:"revision,omitempty"`
	Record   string `json:"record"`
	Digest   string `json:"digest"`
}

// RollbackStack is one stack a rollback re-applied.
type RollbackStack struct {
	ID string `json:"id"`
	// Rendered is the root module restored, as the target release signed
	// it; PinnedPlan the target release's plan it was taken from.
	Rendered   string `json:"rendered"`
	PinnedPlan string `json:"pinnedPlan"`
	// PlanSHA256 is the plan the rollback made against the state it found
	// and applied; Changes its resource actions.
	PlanSHA256 string  `json:"planSha256,omitempty"`
	Changes    Changes `json:"changes"`
}

// Actor is who ran a command. KeyID is the signing key, which the
// signature proves; User is only declared by the environment the command
// ran in, and DeclaredBy names the variable it came from.
type Actor struct {
	KeyID      string `json:"keyId"`
	User       string `json:"user,omitempty"`
	DeclaredBy string `json:"declaredBy,omitempty"`
}
