// Package checkresult is the check result document (docs/contracts.md): what
// `slipway check --format json` prints and <work dir>/check/result.json
// holds. `slipway check` produces it; the release, the pull request comment
// and the audit report consume it.
//
// It is a leaf: it imports no SDK and of Slipway's only the leaves
// atomicfile, digest, jsonindent and safefile, so a consumer depends on the
// document and not on the packages that produce it. The types here are the
// only Go description of the document.
package checkresult

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/jsonindent"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// File is where `slipway check` leaves its last result, relative to the
// work dir.
const File = "check/result.json"

// Outcome is what a rule decided for a unit, and a unit's or a check's
// verdict (pass, warn or deny).
type Outcome string

// Outcomes, in the order results are listed.
const (
	Deny Outcome = "deny"
	// InsufficientEvidence means the evidence is too thin to decide: an
	// interval that crosses its bound, a group below the minimum size.
	// It is never a pass; its finding's severity says what it does: it
	// denies in a protected environment and warns elsewhere.
	InsufficientEvidence Outcome = "insufficient_evidence"
	Warn                 Outcome = "warn"
	Waived               Outcome = "waived"
	Pass                 Outcome = "pass"
)

// NotApplicable is the outcome of a rule that applies to the unit but
// found nothing to judge (a Rego pack's not_applicable set names it): it
// neither denies nor passes, and evidences no control.
const NotApplicable Outcome = "not_applicable"

// Quiet reports whether a result with outcome o is no finding: a pass,
// or a rule that had nothing to judge. Outputs list only the others.
func (o Outcome) Quiet() bool { return o == Pass || o == NotApplicable }

// Rank orders outcomes worst first: deny, insufficient evidence, warn,
// waived, then the quiet ones (pass, not applicable) together; an unknown
// outcome sorts last. Every list of results and every "worst outcome of a
// rule" uses it.
func (o Outcome) Rank() int {
	switch o {
	case Deny:
		return 0
	case InsufficientEvidence:
		return 1
	case Warn:
		return 2
	case Waived:
		return 3
	case Pass, NotApplicable:
		return 4
	}
	return 5
}

// Blocks says whether a finding with this outcome and severity keeps the
// unit from release: a denial, or insufficient evidence where it denies.
func (o Outcome) Blocks(s Severity) bool {
	return o == Deny || (o == InsufficientEvidence && s == SeverityDeny)
}

// Verdict is what a finding with this outcome and severity makes of its
// unit's verdict: deny, warn or pass.
func (o Outcome) Verdict(s Severity) Outcome {
	switch {
	case o.Blocks(s):
		return Deny
	case o == Warn || o == InsufficientEvidence:
		return Warn
	}
	return Pass
}

// Verdict folds a unit's findings into its verdict: deny if any blocks
// (insufficient evidence included, where it denies), warn if any warns,
// else pass.
func Verdict(findings []Finding) Outcome {
	v := Pass
	for _, f := range findings {
		v = Worse(v, f.Outcome.Verdict(f.Severity))
	}
	return v
}

// Worse is the worse of two verdicts, by Rank: the check's verdict is
// the worst of its units'.
func Worse(a, b Outcome) Outcome {
	if b.Rank() < a.Rank() {
		return b
	}
	return a
}

// Severity is what a rule's finding does to a unit: deny blocks, warn
// reports.
type Severity string

// Severities.
const (
	SeverityDeny Severity = "deny"
	SeverityWarn Severity = "warn"
)

// Waiver statuses at check time.
const (
	WaiverActive     = "active"
	WaiverExpired    = "expired"
	WaiverUnapproved = "unapproved"
)

// ErrNoCheck means there is no check result to read.
var ErrNoCheck = errors.New("no check result")

// ErrStale means the check result does not describe the repository as it
// is now: its commit, specs, policies, saved plans or evidence changed
// since. The check says so when it cannot judge a saved result again; the
// release when it compares the result with the repository.
var ErrStale = errors.New("check result is stale")

// Result is the whole document.
type Result struct {
	// Verdict is deny if any unit denies, warn if any warns, else pass.
	Verdict        Outcome `json:"verdict"`
	Platform       string  `json:"platform"`
	Commit         string  `json:"commit"`
	Base           string  `json:"base"`
	GeneratedAt    string  `json:"generated_at"`
	SlipwayVersion string  `json:"slipway_version"`
	// SpecDigest digests every spec file judged (spec.Digest), so a
	// release can tell a stale result.
	SpecDigest string `json:"spec_digest,omitempty"`
	// PolicyDigest digests the policy bundle judged with
	// (policy.BundleDigest): built-in and repository modules.
	PolicyDigest string `json:"policy_digest,omitempty"`
	// Units are the (model, environment) pairs in scope, deny first.
	Units []Unit `json:"units"`
	// Shared are the plan summaries of the environments' _shared stacks.
	Shared  []*Plan       `json:"shared"`
	Waivers []WaiverState `json:"waivers"`
	// Approvals are the pull request's reviews, when the producer
	// reports them.
	Approvals []Approval `json:"approvals,omitempty"`
	// Authors are the pull request's author and its commits' authors,
	// whose approvals do not count; absent when not known.
	Authors []string `json:"authors,omitempty"`
	// Teams are the members of the models' acceptance teams as GitHub
	// listed them (null for a team it did not list); absent when the
	// reviews were not asked of GitHub.
	Teams  map[string][]string `json:"teams,omitempty"`
	Errors []string            `json:"errors"`

	// Digest is the digest of the bytes the result was read from; empty
	// for a result built in memory.
	Digest string `json:"-"`
}

// Unit is the decision for one model in one environment.
type Unit struct {
	Model        string  `json:"model"`
	ModelVersion string  `json:"model_version"`
	Environment  string  `json:"environment"`
	Verdict      Outcome `json:"verdict"`
	// Plan is the stack's plan summary; null under --no-plan.
	Plan     *Plan        `json:"plan"`
	Evidence *EvidenceRef `json:"evidence"`
	Results  []Finding    `json:"results"`
	// Approvals are the reviews of this unit, when the producer reports
	// them per unit.
	Approvals []Approval `json:"approvals,omitempty"`
}

// Plan is the plan summary of one stack, as `slipway plan` writes it
// (terraform.Summary).
type Plan struct {
	Stack string `json:"stack"`
	// Name is the stack's name within its environment: the model's name
	// or "_shared".
	Name        string     `json:"name"`
	Environment string     `json:"environment"`
	Model       string     `json:"model"`
	Reasons     []string   `json:"reasons"`
	Mode        string     `json:"mode"`
	Changes     Changes    `json:"changes"`
	Resources   []Resource `json:"resources"`
	Drift       []Resource `json:"drift,omitempty"`
	// Deployment is the module inputs rendered for the model; null for a
	// shared or removed stack. It is kept as written: no consumer of the
	// check result reads into it.
	Deployment json.RawMessage `json:"deployment"`
	Orphan     bool            `json:"orphan,omitempty"`
	// PlanFile is relative to the platform repository.
	PlanFile   string `json:"plan_file"`
	PlanSHA256 string `json:"plan_sha256"`
	// ConfigSHA256 is the digest of the rendered main.tf.json planned.
	ConfigSHA256     string `json:"config_sha256"`
	TerraformVersion string `json:"terraform_version"`
}

// Changes counts a plan's resource actions.
type Changes struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
}

// Resource is one planned resource change.
type Resource struct {
	Address string   `json:"address"`
	Type    string   `json:"type"`
	Actions []string `json:"actions"`
	// Changed lists the attribute paths that change.
	Changed []string `json:"changed"`
	// Diff gives old and new values, sensitive ones already redacted.
	Diff []AttrDiff `json:"diff,omitempty"`
}

// AttrDiff is one changed attribute; the values are kept as written.
type AttrDiff struct {
	Path   string          `json:"path"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// EvidenceRef locates the evidence summary a unit was judged on and
// carries the figures a reviewer looks at first.
type EvidenceRef struct {
	Path     string              `json:"path"`
	SHA256   string              `json:"sha256"`
	Headline map[string]*float64 `json:"headline"`
	// Baseline are the baseline metrics, for deltas: measured by Slipway
	// or declared in the spec, as BaselineSource says.
	Baseline map[string]float64 `json:"baseline"`
	// BaselineSource is BaselineMeasured, BaselineDeclared,
	// BaselineRelease, BaselineUnverified, BaselineNone, or empty (a
	// result saved before baselines were told apart).
	BaselineSource string `json:"baseline_source,omitempty"`
	// BaselineFrom is the champion's predictions file (measured) or the
	// previous release's ledger record (release, unverified).
	BaselineFrom string `json:"baseline_from,omitempty"`
	// BaselineVersion is the previous release's version, or the version
	// the spec says its declared metrics are of.
	BaselineVersion string `json:"baseline_version,omitempty"`
	// Fairness is, per sensitive attribute and bounded metric, the value
	// measured and the threshold applied.
	Fairness map[string]map[string]FairnessFigure `json:"fairness"`
}

// Baseline sources.
const (
	BaselineMeasured = "measured"
	BaselineDeclared = "declared"
	// BaselineRelease is the signed headline metrics of the model's
	// previous verified release in the environment.
	BaselineRelease = "release"
	// BaselineUnverified is a previous release whose record does not
	// verify: no baseline, and insufficient evidence.
	BaselineUnverified = "unverified"
	// BaselineNone is a first release: no baseline yet.
	BaselineNone = "none"
)

// BaselineText says in words what a unit's metrics were compared with.
func (e *EvidenceRef) BaselineText(env string) string {
	switch e.BaselineSource {
	case BaselineMeasured:
		return "measured by Slipway on the champion's predictions " + e.BaselineFrom
	case BaselineDeclared:
		if e.BaselineVersion != "" {
			return "declared in the spec (version " + e.BaselineVersion + "), not measured"
		}
		return "declared in the spec, not measured"
	case BaselineRelease:
		return "the signed metrics of release " + e.BaselineVersion + " (" + e.BaselineFrom + ")"
	case BaselineUnverified:
		return "none: the previous release " + e.BaselineVersion + " (" + e.BaselineFrom + ") does not verify"
	case BaselineNone:
		return "no baseline yet: the first release of the model in " + env
	}
	return ""
}

// FairnessFigure is one fairness metric of one attribute.
type FairnessFigure struct {
	Value     *float64  `json:"value"`
	Threshold Threshold `json:"threshold"`
	// Interval is the value's 95% interval, when the evaluation made
	// one.
	Interval *[2]float64 `json:"interval,omitempty"`
	// Outcome is what the fairness rules decided of the figure before
	// waivers (Deny, InsufficientEvidence or Pass); empty in results
	// saved before they said.
	Outcome Outcome `json:"outcome,omitempty"`
}

// Threshold bounds a value; nil ends are open.
type Threshold struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// DecideOn is "estimate", "interval" or empty, as the spec says.
	DecideOn string `json:"decideOn,omitempty"`
}

// Finding is one rule's decision for one unit.
type Finding struct {
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"`
	Outcome     Outcome  `json:"outcome"`
	Message     string   `json:"message"`
	Model       string   `json:"model"`
	Environment string   `json:"environment"`
	Pos         Position `json:"pos"`
	// Field is the path inside the model spec the result concerns, or a
	// platform path for results about other parts of the spec.
	Field    string         `json:"field,omitempty"`
	Controls []Control      `json:"controls"`
	Waiver   *AppliedWaiver `json:"waiver"`
}

// Position is a place in a platform file, relative to the repository root.
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// IsValid reports whether p names a file.
func (p Position) IsValid() bool { return p.File != "" }

func (p Position) String() string {
	switch {
	case p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Control is one compliance item a rule serves, such as
// {"EU AI Act", "Annex IV 2(g)"}.
type Control struct {
	Framework string `json:"framework"`
	ID        string `json:"id"`
}

// Waiver excuses a model from a rule in an environment until it expires.
type Waiver struct {
	Rule        string `json:"rule"`
	Model       string `json:"model"`
	Environment string `json:"environment"`
	Reason      string `json:"reason"`
	ApprovedBy  string `json:"approvedBy,omitempty"`
	Expires     string `json:"expires"`
	Ticket      string `json:"ticket"`
}

// WaiverEnd is when a waiver expiring on expires (YYYY-MM-DD) stops
// holding: it is good through its expiry day, UTC. ok is false for an
// expiry that is no date, which holds for no day at all. Every reading of
// a waiver's expiry (the check, the release, the ledger's verification,
// the report) goes through here.
func WaiverEnd(expires string) (end time.Time, ok bool) {
	exp, err := time.Parse("2006-01-02", expires)
	if err != nil {
		return time.Time{}, false
	}
	return exp.AddDate(0, 0, 1), true
}

// WaiverExpiredAt says whether a waiver expiring on expires has expired
// at now (WaiverEnd).
func WaiverExpiredAt(expires string, now time.Time) bool {
	end, ok := WaiverEnd(expires)
	return !ok || !now.Before(end)
}

// AppliedWaiver is the waiver that turned a denial into a waived result.
type AppliedWaiver struct {
	Waiver
	Pos Position `json:"pos"`
}

// WaiverState is a waiver of the platform with its status at check time.
type WaiverState struct {
	Waiver
	// Status is active, expired or unapproved.
	Status string   `json:"status"`
	Pos    Position `json:"pos"`
}

// Approval is one review.
type Approval struct {
	User        string `json:"user"`
	State       string `json:"state"`
	SubmittedAt string `json:"submitted_at"`
	// ReviewID and Commit are GitHub's id of the review and the commit it
	// approved.
	ReviewID int64  `json:"review_id,omitempty"`
	Commit   string `json:"commit,omitempty"`
}

// Reviews are what GitHub says of the pull request a release is made
// from (slipway release --github): its standing approvals, its authors
// (nil when not known) and the members of the models' acceptance teams
// (a team GitHub did not list maps to nil).
type Reviews struct {
	Approvals []Approval
	Authors   []string
	Teams     map[string][]string
}

// Counts tallies results by outcome.
type Counts struct {
	Deny, Warn, Waived, Pass int
	// Insufficient counts insufficient-evidence results, whatever
	// their severity.
	Insufficient int
}

// Count tallies the results of a unit.
func (u Unit) Count() Counts {
	var c Counts
	for _, r := range u.Results {
		switch r.Outcome {
		case Deny:
			c.Deny++
		case Warn:
			c.Warn++
		case Waived:
			c.Waived++
		case Pass:
			c.Pass++
		case InsufficientEvidence:
			c.Insufficient++
		}
	}
	return c
}

// The release policy's rules judged from the pull request's reviews. (A
// release judges in the release phase, where policies/release.rego denies
// release.approvals for reviews the check could not see.)
const (
	acceptanceRule   = "handover.acceptance"
	acceptancePend   = "handover.acceptance_pending"
	selfApproval     = "release.self_approval"
	approvalsPending = "release.approvals_pending"
	approvalsRule    = "release.approvals"
	codeOwnersRule   = "release.code_owners"
	trustRule        = "release.trust_changed"
)

// FromReviews reports whether a rule is judged from the pull request's
// reviews, which only a check that reads them (slipway check --github)
// knows: a release judging a saved result again cannot tell such a
// rule's pass from the reviews' absence.
func FromReviews(rule string) bool {
	switch rule {
	case approvalsPending, approvalsRule, codeOwnersRule, trustRule, acceptanceRule, acceptancePend, selfApproval:
		return true
	}
	return false
}

// Denials are the reasons the unit may not be released, none when it may.
func (u Unit) Denials() []string {
	var out []string
	if u.Verdict == Deny {
		out = append(out, "verdict is deny")
	}
	for _, r := range u.Results {
		switch {
		case r.Outcome == Deny:
			out = append(out, fmt.Sprintf("%s: %s", r.Rule, r.Message))
		case r.Outcome.Blocks(r.Severity):
			out = append(out, fmt.Sprintf("%s: insufficient evidence: %s", r.Rule, r.Message))
		}
	}
	if len(out) > 1 && out[0] == "verdict is deny" {
		out = out[1:]
	}
	return out
}

// Decode parses a check result document and checks the fields every
// consumer relies on.
func Decode(data []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode check result: %w", err)
	}
	switch r.Verdict {
	case Pass, Warn, Deny:
	default:
		return nil, fmt.Errorf("decode check result: verdict %q: want pass, warn or deny", r.Verdict)
	}
	for i, u := range r.Units {
		if u.Model == "" || u.Environment == "" {
			return nil, fmt.Errorf("decode check result: units[%d]: model and environment are required", i)
		}
	}
	r.Digest = digest.Bytes(data)
	return &r, nil
}

// Read reads the check result document at path. A missing file wraps
// ErrNoCheck.
func Read(path string) (*Result, error) {
	b, err := safefile.ReadFile(path, safefile.Record)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist: run `slipway check` first", ErrNoCheck, path)
	}
	if err != nil {
		return nil, err
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Encode writes r as indented JSON, the one encoding of the document on
// stdout and on disk.
//
// A result of 1,000 models is near 100 MB indented: it is encoded and
// indented unit by unit and written as it goes, as building it whole (the
// compact document, then the indented one, each in a growing buffer) cost
// as much as encoding it and a few hundred megabytes of memory.
func Encode(w io.Writer, r *Result) error {
	var (
		in  jsonindent.Indenter
		buf bytes.Buffer
		out []byte
	)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// put writes prefix and the compact JSON in buf (without its newline),
	// indented. prefix is "[" only before a unit, so never an empty array.
	put := func(prefix string) error {
		out = in.Append(in.Append(out[:0], []byte(prefix)), bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		buf.Reset()
		_, err := w.Write(out)
		return err
	}
	head := *r
	if len(r.Units) > 0 {
		head.Units = nil
	}
	if err := enc.Encode(&head); err != nil {
		return err
	}
	if len(r.Units) == 0 {
		if err := put(""); err != nil {
			return err
		}
		_, err := w.Write([]byte("\n"))
		return err
	}
	// The fields before units are strings, which hold no unescaped
	// quote: the first `"units":null` is the field itself.
	doc := bytes.Clone(buf.Bytes())
	buf.Reset()
	mark := []byte(`"units":null`)
	at := bytes.Index(doc, mark)
	if at < 0 {
		return fmt.Errorf("encode check result: no units field in %.80s", doc)
	}
	buf.Write(doc[:at+len(`"units":`)])
	if err := put(""); err != nil {
		return err
	}
	for i := range r.Units {
		if err := enc.Encode(&r.Units[i]); err != nil {
			return err
		}
		sep := ","
		if i == 0 {
			sep = "["
		}
		if err := put(sep); err != nil {
			return err
		}
	}
	buf.Write(doc[at+len(mark):])
	if err := put("]"); err != nil {
		return err
	}
	_, err := w.Write([]byte("\n"))
	return err
}

// Write writes r to path, replacing the file atomically.
func Write(path string, r *Result) error {
	return atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error { return Encode(w, r) })
}
