package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/spec"
)

// Phases a unit is judged in. A check judges a pull request; a release
// judges what is about to be applied, where approvals are required rather
// than reported.
const (
	PhaseCheck   = "check"
	PhaseRelease = "release"
)

// Kinds of unit. Most units are a model in an environment; a check also
// judges stacks that belong to no model the environment deploys: an orphan
// (the model left the specs or the environment, so its plan destroys what
// it deployed) and the environment's shared stack. Only rules whose
// METADATA lists the kind in custom.units judge it (default: model).
const (
	KindModel  = "model"
	KindOrphan = "orphan"
	KindShared = "shared"
	// KindMonitoring is a model in an environment judged on its
	// production logs by `slipway monitor`: only rules that list it in
	// custom.units judge it.
	KindMonitoring = "monitoring"
)

// Input is the document every Rego rule reads as `input`, one per (model,
// environment). Its JSON form is documented in docs/policy-input.md.
type Input struct {
	Phase string `json:"phase"`
	// Kind is KindModel, KindOrphan, KindShared or KindMonitoring.
	Kind         string                      `json:"kind"`
	Platform     PlatformInput               `json:"platform"`
	Model        spec.Model                  `json:"model"`
	Environment  spec.Environment            `json:"environment"`
	Environments map[string]spec.Environment `json:"environments"`
	DataSources  map[string]spec.DataSource  `json:"data_sources"`
	// Evidence is the model's evidence summary (any value that marshals
	// to the evidence JSON); nil means none was found, which is a denial.
	Evidence any `json:"evidence"`
	// Plan is the plan summary of the unit's stack; nil under --no-plan.
	Plan any `json:"plan"`
	// PlanExpected says the stack was to be planned (a check without
	// --no-plan), so a missing plan is a denial.
	PlanExpected bool     `json:"plan_expected"`
	ChangedFiles []string `json:"changed_files"`
	// Approvals are the reviews, or nil when they are not known (a check
	// without --github): release.approvals then does not apply.
	Approvals []Approval `json:"approvals"`
	// Authors are the pull request's author and its commits' authors,
	// whose approvals release.approvals does not count; nil when not known.
	Authors []string `json:"authors"`
	// Acceptance is operations' acceptance of the model, nil when the
	// reviews are not known: handover.acceptance is then pending.
	Acceptance *Acceptance `json:"acceptance"`
	// CodeOwners are the model's changed files that CODEOWNERS assigns to
	// owners, with the owners' approvals; nil when not known (a check
	// without --github): release.code_owners then does not apply.
	CodeOwners []CodeOwnedFile `json:"code_owners"`
	// TrustRoot says whether the change touches the trust root; nil when
	// the change is not known (a check without --base or --github):
	// release.trust_changed then does not apply.
	TrustRoot *TrustRoot         `json:"trust_root"`
	Waivers   []spec.Waiver      `json:"waivers"`
	Releases  map[string]Release `json:"releases"`
	// Monitoring is the figures of a `slipway monitor` run (any value that
	// marshals to them); nil outside one.
	Monitoring any `json:"monitoring"`
	// MonitoringStatus says when the model, deployed in the environment,
	// was last monitored; nil when it is not deployed or not monitored by
	// Slipway (no monitoring.source), so monitoring.fresh does not apply.
	MonitoringStatus *MonitoringStatus `json:"monitoring_status"`
	// PreviousRelease is the model's newest release in the environment
	// of another version than this one, the baseline of
	// evaluation.baseline {release: "previous"}; nil when the ledger
	// records none (a first release: no baseline yet).
	PreviousRelease *PreviousRelease `json:"previous_release"`
	// AcceptedRelease is operations' acceptance of this version that the
	// verified ledger already holds (an earlier release's signed record);
	// nil when it holds none. A change that keeps the version needs no
	// new acceptance.
	AcceptedRelease *AcceptedRelease `json:"accepted_release"`
	// Base is the change's base (check --base); nil when not known:
	// policy.threshold_loosened then does not apply.
	Base *Base `json:"base,omitempty"`
	// Now is the evaluation time, RFC 3339; injected so results reproduce.
	Now string `json:"now"`
	// Placeholders are the model fields (paths such as handover.onCall.team)
	// whose strings still hold the placeholder `slipway new model` writes.
	// NewInput and ReadInput fill them in: finding them in Go is far
	// cheaper than walking the spec in Rego for every unit.
	Placeholders []string `json:"placeholders"`
	// RollbackRehearsals are the model's rollback records that verified in
	// the ledger, newest first: the facts handover.rollback_tested judges.
	RollbackRehearsals []Rehearsal `json:"rollback_rehearsals"`
	// Alerts are the model's alert conditions as Slipway parsed them, in
	// the order of handover.alerts; filled in like Placeholders.
	Alerts []AlertFact `json:"alerts"`
	// Rules are the ids of every rule the engine judges with, built-in
	// and the repository's, so declared.risk_register can tell a
	// mitigation that links a rule no policy defines; the engine fills
	// them in when nil. A set, so the value is converted once per engine.
	Rules map[string]bool `json:"rules"`

	// waiverPos are the spec positions of Waivers, which do not marshal.
	waiverPos []spec.Position
}

// PlatformInput is the platform's name and policy defaults.
type PlatformInput struct {
	Name   string              `json:"name"`
	Policy spec.PolicyDefaults `json:"policy"`
}

// Approval is one review of the pull request or release: the check result
// document's, so the reviews a check records are those it judged.
type Approval = checkresult.Approval

// Acceptance is what handover.acceptance judges when the pull request's
// reviews were asked of GitHub (check --github, release --github): the
// operations team the spec names (handover.acceptance.team, the team to
// ask) and the approving review of a member of that team who wrote none
// of the change.
type Acceptance struct {
	Team string `json:"team"`
	// Members are the team's members; nil when GitHub did not tell them
	// (a token without members:read), so no review can accept.
	Members []string `json:"members"`
	// By is the accepting review; nil when there is none.
	By *Approval `json:"by"`
}

// Accepting returns the approving review that accepts the model for team:
// the earliest standing approval by one of members who is not among the
// change's authors (logins compare without case, as on GitHub). Nil when
// there is none, or when the authors are not known (nil): an acceptance
// by someone who may have written the change is no acceptance.
func Accepting(members []string, approvals []Approval, authors []string) *Approval {
	var by *Approval
	for _, a := range Independent(approvals, authors) {
		if !slices.ContainsFunc(members, func(x string) bool { return strings.EqualFold(x, a.User) }) {
			continue
		}
		if by == nil || a.SubmittedAt < by.SubmittedAt {
			c := a
			by = &c
		}
	}
	return by
}

// Independent returns the standing approvals by people who wrote none of
// the change (logins compare without case, as on GitHub): none when the
// authors are not known (nil), since an approval by someone who may have
// written the change is no independent approval. A risk or security
// owner's approval counts only from these, as release.approvals counts.
func Independent(approvals []Approval, authors []string) []Approval {
	if authors == nil {
		return nil
	}
	out := []Approval{}
	for _, a := range approvals {
		if a.State == "APPROVED" && !slices.ContainsFunc(authors, func(x string) bool { return strings.EqualFold(x, a.User) }) {
			out = append(out, a)
		}
	}
	return out
}

// AcceptanceTeam is the team a model asks to accept it: the spec's
// handover.acceptance.team, "" when the spec names none.
func AcceptanceTeam(m spec.Model) string {
	if m.Handover.Acceptance == nil {
		return ""
	}
	return m.Handover.Acceptance.Team
}

// AcceptanceTeams lists, through members, the members of every model's
// acceptance team, each team once: what handover.acceptance judges a
// review against. A team members cannot list maps to nil, which accepts
// nothing; unlisted is told why.
func AcceptanceTeams(ctx context.Context, p *spec.Platform, members func(context.Context, string) ([]string, error), unlisted func(team string, err error)) map[string][]string {
	teams := map[string][]string{}
	for _, name := range p.ModelNames() {
		team := AcceptanceTeam(p.Models[name])
		if _, done := teams[team]; done || team == "" {
			continue
		}
		got, err := members(ctx, team)
		if err != nil {
			unlisted(team, err)
			got = nil
		}
		teams[team] = got
	}
	return teams
}

// CodeOwnedFile is a changed file with owners in CODEOWNERS, and those of
// its owners (users, or members of owning teams) who approved.
type CodeOwnedFile struct {
	File       string   `json:"file"`
	Owners     []string `json:"owners"`
	ApprovedBy []string `json:"approved_by"`
}

// TrustRoot is what a change does to the trust root: the signing block,
// the files under keys/ and policy.securityOwners.
type TrustRoot struct {
	Changed bool `json:"changed"`
	// Paths are the changed files that hold it, relative to the platform
	// repository, sorted.
	Paths []string `json:"paths"`
	// Owners are platform.policy.securityOwners.
	Owners []string `json:"owners"`
	// ApprovedBy are the owners who approved (a team when one of its
	// members did); nil when the reviews are not known, which lifts
	// nothing.
	ApprovedBy []string `json:"approved_by"`
}

// Base is the model and the risk owners as they are at the base of the
// change (check --base), for policy.threshold_loosened.
type Base struct {
	// Model is the model at the base; nil when the base has no such model.
	Model *spec.Model `json:"model"`
	// Policy is the platform policy at the base; nil when the base is
	// unknown.
	Policy *spec.PolicyDefaults `json:"policy"`
	// Unknown says why the base could not be read (a pull request's base
	// commit missing from a shallow clone); empty when it was.
	Unknown string `json:"unknown,omitempty"`
	// RiskOwners are the base's policy.riskOwners: a change cannot name
	// its own approvers.
	RiskOwners []string `json:"risk_owners"`
	// ApprovedBy are the risk owners who approved; nil when the reviews
	// are not known.
	ApprovedBy []string `json:"approved_by"`
}

// Release is the ledger's last decision for the model in an environment.
type Release struct {
	Version  string `json:"version"`
	Decision string `json:"decision"`
	Verified bool   `json:"verified"`
}

// AcceptedRelease is an acceptance by operations on the record: the
// newest verified release of the model at this version, in this
// environment, whose signed record holds the accepting review.
type AcceptedRelease struct {
	// Record is the release record's path in the ledger.
	Record      string `json:"record"`
	Version     string `json:"version"`
	Team        string `json:"team"`
	User        string `json:"user"`
	ReviewID    int64  `json:"review_id"`
	SubmittedAt string `json:"submitted_at"`
}

// PreviousRelease is a release the ledger records before this version.
type PreviousRelease struct {
	Version    string `json:"version"`
	Record     string `json:"record"`
	ReleasedAt string `json:"released_at"`
	// Verified is true when its signature and place in the ledger verify
	// with the platform's trusted keys; only then is Headline filled in.
	Verified bool `json:"verified"`
	// Headline are the metrics its signed evidence records.
	Headline map[string]*float64 `json:"headline"`
}

// MonitoringStatus is what monitoring.fresh judges.
type MonitoringStatus struct {
	// Last is when the newest monitoring record was signed, RFC 3339;
	// empty when there is none.
	Last string `json:"last"`
	// MaxGapSeconds is the longest the schedule leaves between two runs,
	// plus the slack.
	MaxGapSeconds int64 `json:"max_gap_seconds"`
	// Since is when the model was released in the environment, RFC 3339.
	Since string `json:"since"`
	// Due is when the next record is due: Last (else Since) plus
	// MaxGapSeconds, RFC 3339. Overdue says the clock is past it; it is
	// the one freshness decision, which monitoring.fresh and the report's
	// "last monitored" column both read.
	Due     string `json:"due"`
	Overdue bool   `json:"overdue"`
}

// Unit names what the builder needs beyond the platform spec.
type Unit struct {
	Model       string
	Environment string
	Phase       string
	// Kind is KindModel when empty.
	Kind         string
	PlanExpected bool
	Evidence     any
	Plan         any
	ChangedFiles []string
	// Approvals nil means the reviews are not known.
	Approvals []Approval
	// Authors nil means the change's authors are not known.
	Authors []string
	// Teams are the members of acceptance teams by team name, as GitHub
	// told them; nil means the reviews were not asked of GitHub, a team
	// missing from it that its members are not known.
	Teams map[string][]string
	// CodeOwners nil means CODEOWNERS and the reviews are not known.
	CodeOwners []CodeOwnedFile
	// TrustRoot nil means the change is not known.
	TrustRoot *TrustRoot
	// Base nil means the change's base is not known.
	Base     *Base
	Releases map[string]Release
	Now      time.Time
	// Monitoring and MonitoringStatus are copied to the input.
	Monitoring       any
	MonitoringStatus *MonitoringStatus
	// Rehearsals are the model's verified rollback records.
	Rehearsals []Rehearsal
	// PreviousRelease and AcceptedRelease are copied to the input.
	PreviousRelease *PreviousRelease
	AcceptedRelease *AcceptedRelease
}

// Rehearsal is one verified rollback record of a model, as the policy
// input carries it: Slipway checked its signature and its place in the
// ledger; whether it counts as a rehearsal is the policy's decision.
type Rehearsal struct {
	Environment string `json:"environment"`
	// Protected is whether the environment is protected in the specs now.
	Protected bool   `json:"protected"`
	Strategy  string `json:"strategy"`
	Outcome   string `json:"outcome"`
	From      string `json:"from"`
	To        string `json:"to"`
	// RecordedAt is when the record was signed, RFC 3339.
	RecordedAt string `json:"recorded_at"`
	Record     string `json:"record"`
}

// NewInput builds the input document of one unit from the loaded platform.
func NewInput(p *spec.Platform, u Unit) Input {
	m, ok := p.Models[u.Model]
	if !ok {
		// A model that left the specs: its orphan stack is judged by name.
		m.Name = u.Model
	}
	in := Input{
		Phase:            u.Phase,
		Kind:             u.Kind,
		PlanExpected:     u.PlanExpected,
		Platform:         PlatformInput{Name: p.Name, Policy: p.Policy},
		Model:            m,
		Environment:      p.Environments[u.Environment],
		Environments:     p.Environments,
		DataSources:      map[string]spec.DataSource{},
		Evidence:         u.Evidence,
		Plan:             u.Plan,
		ChangedFiles:     nonNil(u.ChangedFiles),
		Approvals:        u.Approvals,
		Authors:          u.Authors,
		CodeOwners:       u.CodeOwners,
		TrustRoot:        u.TrustRoot,
		Waivers:          []spec.Waiver{},
		Releases:         u.Releases,
		Base:             u.Base,
		Monitoring:       u.Monitoring,
		MonitoringStatus: u.MonitoringStatus,
		Now:              u.Now.UTC().Format(time.RFC3339),

		RollbackRehearsals: u.Rehearsals,
		PreviousRelease:    u.PreviousRelease,
		AcceptedRelease:    u.AcceptedRelease,
	}
	if in.RollbackRehearsals == nil {
		in.RollbackRehearsals = []Rehearsal{}
	}
	if in.Phase == "" {
		in.Phase = PhaseCheck
	}
	if in.Kind == "" {
		in.Kind = KindModel
	}
	if in.Releases == nil {
		in.Releases = map[string]Release{}
	}
	if u.Teams != nil && u.Approvals != nil {
		a := &Acceptance{Team: AcceptanceTeam(m)}
		if members, ok := u.Teams[a.Team]; ok && members != nil {
			a.Members = members
			a.By = Accepting(members, u.Approvals, u.Authors)
		}
		in.Acceptance = a
	}
	in.Placeholders = FindPlaceholders(m)
	in.Alerts = AlertFacts(p, m)
	names := append([]string{m.Evaluation.Data}, m.Training.Data...)
	for _, n := range names {
		if ds, ok := p.DataSources[n]; ok {
			in.DataSources[n] = ds
		}
	}
	for _, w := range p.Waivers {
		if Waives(w.Document(), "", u.Model, u.Environment) {
			in.Waivers = append(in.Waivers, w)
			in.waiverPos = append(in.waiverPos, w.Pos)
		}
	}
	return in
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Placeholder marks what a person must fill in after `slipway new model`.
const Placeholder = "TODO(slipway)"

// FindPlaceholders lists the paths of the model's string fields that hold
// Placeholder, sorted; deployment.resolved repeats the template and is
// skipped.
func FindPlaceholders(m spec.Model) []string {
	b, err := json.Marshal(m)
	if err != nil || !bytes.Contains(b, []byte(Placeholder)) {
		return []string{}
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return []string{}
	}
	out := []string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case string:
			if strings.Contains(x, Placeholder) {
				out = append(out, path)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case map[string]any:
			for k, e := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if p == "deployment.resolved" {
					continue
				}
				walk(p, e)
			}
		}
	}
	walk("", doc)
	sort.Strings(out)
	return out
}

// fillPolicies gives an input document's platform.policy, and its base's,
// the schema's defaults where the document is silent (spec.FillPolicy), as
// a check's input has them: decoded as it is, a missing field would reach
// the packs as Go's zero value (a minGroupSize of 0), which lib.policy
// cannot tell from one the platform set.
func fillPolicies(b []byte, in *Input) error {
	var raw struct {
		Platform struct {
			Policy json.RawMessage `json:"policy"`
		} `json:"platform"`
		Base *struct {
			Policy json.RawMessage `json:"policy"`
		} `json:"base"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	p, err := spec.FillPolicy(raw.Platform.Policy)
	if err != nil {
		return err
	}
	in.Platform.Policy = p
	if in.Base != nil && in.Base.Policy != nil && raw.Base != nil {
		bp, err := spec.FillPolicy(raw.Base.Policy)
		if err != nil {
			return fmt.Errorf("base: %w", err)
		}
		in.Base.Policy = &bp
	}
	return nil
}
