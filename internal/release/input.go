// Package release signs release attestations for what a check passed,
// appends them to the ledger, verifies the ledger, and answers the apply
// gate's question: is this saved plan covered by a verified release?
package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/spec"
)

// CheckResultFile is where `slipway check` leaves its last result, relative
// to the work dir.
const CheckResultFile = "check/result.json"

// Errors callers branch on.
var (
	// ErrNoCheck means there is no check result to release from.
	ErrNoCheck = errors.New("no check result")
	// ErrStale means the check result does not describe the repository
	// as it is now.
	ErrStale = errors.New("check result is stale")
)

// Input is the part of a check result a release needs. It decodes the
// check result document (`slipway check --format json`), so any producer
// of that document can feed a release.
type Input struct {
	Verdict        string `json:"verdict"`
	Platform       string `json:"platform"`
	Commit         string `json:"commit"`
	GeneratedAt    string `json:"generated_at"`
	SlipwayVersion string `json:"slipway_version"`
	// SpecDigest, when the producer sets it, is SpecDigest of the
	// platform the check ran on.
	SpecDigest string          `json:"spec_digest,omitempty"`
	Units      []Unit          `json:"units"`
	Shared     []Plan          `json:"shared"`
	Waivers    []WaiverStatus  `json:"waivers"`
	Approvals  []Approval      `json:"approvals,omitempty"`
	Errors     json.RawMessage `json:"errors,omitempty"`

	// Digest is the digest of the document the input was read from.
	Digest string `json:"-"`
}

// Unit is the check's decision for one model in one environment.
type Unit struct {
	Model        string    `json:"model"`
	ModelVersion string    `json:"model_version"`
	Environment  string    `json:"environment"`
	Verdict      string    `json:"verdict"`
	Plan         *Plan     `json:"plan"`
	Evidence     *Evidence `json:"evidence"`
	Results      []Result  `json:"results"`
	// Approvals are the reviews the check saw, when it reports them.
	Approvals []Approval `json:"approvals,omitempty"`
}

// Plan is the part of a plan summary a release pins.
type Plan struct {
	Stack       string         `json:"stack"`
	Environment string         `json:"environment"`
	Model       string         `json:"model"`
	Changes     attest.Changes `json:"changes"`
	PlanFile    string         `json:"plan_file"`
	PlanSHA256  string         `json:"plan_sha256"`
	// ConfigSHA256 is the digest of the rendered main.tf.json that was
	// planned.
	ConfigSHA256 string `json:"config_sha256"`
}

// Evidence locates a model's evidence summary.
type Evidence struct {
	Path     string              `json:"path"`
	SHA256   string              `json:"sha256"`
	Headline map[string]*float64 `json:"headline"`
}

// Result is one policy result.
type Result struct {
	Rule     string           `json:"rule"`
	Severity string           `json:"severity"`
	Outcome  string           `json:"outcome"`
	Message  string           `json:"message"`
	Controls []attest.Control `json:"controls"`
	Waiver   *attest.Waiver   `json:"waiver"`
}

// WaiverStatus is a waiver of the platform with the check's judgement.
type WaiverStatus struct {
	attest.Waiver
	Status string `json:"status"`
}

// Approval is one review.
type Approval struct {
	User        string `json:"user"`
	State       string `json:"state"`
	SubmittedAt string `json:"submitted_at"`
}

// ReadInput reads a check result document from path.
func ReadInput(path string) (*Input, error) {
	b, err := safefile.ReadFile(path, safefile.Record)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist: run `slipway check` first", ErrNoCheck, path)
	}
	if err != nil {
		return nil, err
	}
	var in Input
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("check result %s: %w", path, err)
	}
	in.Digest = digest.Bytes(b)
	return &in, nil
}

// SpecDigest digests every CUE file of the platform by path and content,
// so a check result can say which specs it judged.
func SpecDigest(p *spec.Platform) (string, error) {
	files := append([]string(nil), p.Files...)
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		d, err := digest.File(filepath.Join(p.Root, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s\x00%s\n", f, d)
	}
	return digest.Bytes([]byte(b.String())), nil
}

// denials are the reasons the unit may not be released, none when it may.
// The release policy's rule ids: the check warns with approvalsPending
// while approvals are missing; a release refuses under approvalsRule.
const (
	approvalsPending = "release.approvals_pending"
	approvalsRule    = "release.approvals"
)

func (u Unit) denials() []string {
	var out []string
	if u.Verdict == "deny" {
		out = append(out, "verdict is deny")
	}
	for _, r := range u.Results {
		switch {
		case r.Outcome == "deny":
			out = append(out, fmt.Sprintf("%s: %s", r.Rule, r.Message))
		case r.Rule == approvalsPending && r.Outcome == "warn":
			// During a pull request a missing approval is a warning;
			// a release fails closed: it counts only the reviews the
			// check saw, which `slipway check --github` reads from the
			// merged pull request.
			out = append(out, fmt.Sprintf("%s: %s", approvalsRule, r.Message))
		}
	}
	if len(out) > 1 && out[0] == "verdict is deny" {
		out = out[1:]
	}
	return out
}

func hasErrors(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null" && s != "[]"
}
