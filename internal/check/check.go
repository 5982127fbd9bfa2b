// Package check is `slipway check`, the gate a pull request must pass: it
// validates the platform specs, gathers each model's evidence summary, plans
// the affected Terraform stacks, judges every (model, environment) unit with
// the policy engine and writes the result document of docs/contracts.md to
// <work dir>/check/result.json.
package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/changes"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/monitor"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/redact"
	"github.com/slipway-ml/slipway/internal/rollback"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/verify"
)

// ResultFile is where the last result is written, relative to the work dir.
const ResultFile = checkresult.File

// Options configure a check.
type Options struct {
	// Repo is the platform repository.
	Repo string
	// WorkDir is the work dir; empty means <repo>/.slipway.
	WorkDir string
	// Base is the git ref the change is compared against; empty judges
	// every model in every environment in scope.
	Base string
	// BaseCommit is the pull request's base commit under --github (which
	// gives the changed files instead of --base): the specs the change is
	// judged against are read there, as with --base. When the clone does
	// not hold it, the base is unknown, which policy.threshold_loosened
	// reports rather than passing a change it cannot compare.
	BaseCommit string
	// Envs limits the check to these environments; empty means all.
	Envs []string
	// NoPlan skips Terraform: the infrastructure rules then do not apply.
	NoPlan bool
	// SaveInputs writes each unit's policy input document to
	// <work dir>/check/inputs/<env>/<model>.json, for slipway policy eval.
	SaveInputs bool
	// Terraform is an explicit binary (--terraform).
	Terraform string
	// Parallel is how many stacks Terraform plans at once; 0 means 2.
	Parallel int
	// ReusePlans takes saved plans that still hold instead of planning
	// again (reconcile.Options.Reuse).
	ReusePlans bool
	// ChangedFiles, when not nil, are the files a pull request changes,
	// relative to the platform repository; OutsideFiles those outside it,
	// relative to the git top level, and PathPrefix the platform's
	// directory there (gh.Scope has all three). They replace --base for
	// change detection.
	ChangedFiles []string
	OutsideFiles []string
	PathPrefix   changes.Prefix
	// Approvals are the reviews of the pull request, when known.
	Approvals []policy.Approval
	// Authors are the pull request's author and its commits' authors,
	// whose approvals do not count; nil when not known.
	Authors []string
	// CodeOwners are the pull request's changed files that CODEOWNERS
	// assigns, paths relative to the platform repository, with their
	// owners' approvals; nil when not known. Each unit gets its model's
	// files.
	CodeOwners []policy.CodeOwnedFile
	// DirOwners stands in for CodeOwners when the pull request's files are
	// unknown (gh.Scope.DirOwners): each unit gets its model directory's
	// owners, so CODEOWNERS is still enforced.
	DirOwners func(dir string) *policy.CodeOwnedFile
	// OwnersApproved returns those of owners (logins, @org/team teams)
	// who are among approvals (a team through its members); nil when the
	// reviews are not known, and then no security owner has approved a
	// trust root change. The check passes only the approvals by people
	// who wrote none of the change (policy.Independent).
	OwnersApproved func(ctx context.Context, owners []string, approvals []policy.Approval) []string
	// Teams are the members of acceptance teams by name (nil for a team
	// GitHub did not list); nil when the reviews are not known. When nil
	// and TeamMembers is set, the check asks TeamMembers for the teams of
	// the models it judges.
	Teams       map[string][]string
	TeamMembers func(ctx context.Context, team string) ([]string, error)
	// Now is the evaluation time; zero means time.Now.
	Now time.Time
	// Version is Slipway's version, recorded in the result.
	Version string
	Getenv  func(string) string
	Log     *slog.Logger

	// rejudge is the saved result Rejudge judges again.
	rejudge *checkresult.Result
}

// ErrUnknownEnv is wrapped when --env names no environment.
var ErrUnknownEnv = errors.New("unknown environment")

// Run performs the check and writes the result. A negative verdict is not
// an error: the caller reads Result.Verdict. Errors are input or tool
// failures (invalid specs, Terraform failing).
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	if o.Parallel == 0 {
		o.Parallel = 2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	p, err := spec.Load(ctx, o.Repo)
	if err != nil {
		return nil, err
	}
	if o.WorkDir == "" {
		o.WorkDir = filepath.Join(p.Root, ".slipway")
	}
	// Check writes evidence, plans and its result into the work dir: one
	// run at a time.
	ctx, unlock, err := reconcile.LockWorkDir(ctx, o.WorkDir, 0)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := atomicfile.CheckDir(p.Root, o.WorkDir); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	for _, e := range o.Envs {
		if _, ok := p.Environments[e]; !ok {
			return nil, fmt.Errorf("--env %q: %w (known: %s)", e, ErrUnknownEnv, strings.Join(p.EnvironmentNames(), ", "))
		}
	}
	engine, err := policy.New(ctx, p.Root)
	if err != nil {
		return nil, err
	}
	c := &checker{o: o, p: p, engine: engine}
	return c.run(ctx)
}

type checker struct {
	o      Options
	p      *spec.Platform
	engine *policy.Engine
	// baseAt is the specs at the base, once base has loaded them.
	baseAt   *baseSpecs
	baseDone bool
}

// phase is what the units are judged for: a release's judgement
// (Rejudge) enforces what a pull request's check reports, such as
// approvals the check could not see.
func (c *checker) phase() string {
	if c.o.rejudge != nil {
		return policy.PhaseRelease
	}
	return policy.PhaseCheck
}

// unitKey names a (model, environment) unit.
type unitKey struct{ model, env string }

func (c *checker) run(ctx context.Context) (*Result, error) {
	res := &Result{Result: checkresult.Result{
		Verdict:        policy.OutcomePass,
		Platform:       c.p.Name,
		Commit:         headCommit(ctx, c.p.Root),
		Base:           c.o.Base,
		GeneratedAt:    c.o.Now.Format(time.RFC3339),
		SlipwayVersion: c.o.Version,
		Units:          []Unit{},
		Shared:         []*checkresult.Plan{},
		Waivers:        []WaiverState{},
		Errors:         []string{},
	}, Rules: c.engine.Rules()}
	if d, err := c.p.Digest(); err == nil {
		res.SpecDigest = d
	}
	// The reviews and the change's authors, when GitHub told them, go
	// into the result: a release records who approved and whether each
	// approver is distinct from the authors.
	res.Approvals = append(res.Approvals, c.o.Approvals...)
	if c.o.Authors != nil {
		res.Authors = append([]string{}, c.o.Authors...)
	}
	if c.o.Teams == nil && c.o.TeamMembers != nil && c.o.Approvals != nil {
		c.o.Teams = c.acceptanceTeams(ctx)
	}
	res.Teams = c.o.Teams
	pd, err := policy.BundleDigest(c.p.Root)
	if err != nil {
		return nil, err
	}
	res.PolicyDigest = pd
	plans := map[unitKey]*terraform.Summary{}
	var sharedStacks []*terraform.Summary
	var scope []unitKey
	changed, trust, err := c.changedFiles(ctx)
	if err != nil {
		return nil, err
	}
	trustRoot, err := c.trustRoot(ctx, changed, trust)
	if err != nil {
		return nil, err
	}
	// A change to the trust root is judged on every unit, as a check
	// without a base would: each is released under the changed keys.
	everything := (c.o.Base == "" && c.o.ChangedFiles == nil) || len(trust) > 0
	if c.o.NoPlan {
		keys, err := c.affected(ctx)
		if err != nil {
			return nil, err
		}
		scope = keys
		if everything {
			scope = mergeKeys(scope, c.allUnits())
		}
	} else {
		c.o.Log.Info("planning affected stacks")
		ro := reconcile.Options{
			WorkDir: c.o.WorkDir, Envs: c.o.Envs, Base: c.o.Base, Terraform: c.o.Terraform,
			Getenv: c.o.Getenv, Log: c.o.Log, Parallel: max(c.o.Parallel, 1), Reuse: c.o.ReusePlans,
		}
		pr := &reconcile.PlanResult{}
		if c.o.ChangedFiles != nil {
			ro.Stacks = c.changedStacks()
		}
		if len(trust) > 0 {
			ro.Base, ro.Stacks = "", nil
		}
		if c.o.rejudge != nil {
			// Judging a saved result again: the stacks it planned, from
			// their saved plans, without Terraform.
			ro.Base, ro.Stacks, ro.ReuseOnly = "", savedStacks(c.o.rejudge, c.o.Envs), true
		}
		if (c.o.ChangedFiles == nil && c.o.rejudge == nil) || len(ro.Stacks) > 0 || len(trust) > 0 {
			var err error
			if pr, err = reconcile.Plan(ctx, c.p, ro); err != nil {
				if errors.Is(err, reconcile.ErrNoSavedPlan) {
					return nil, fmt.Errorf("%w: %w", checkresult.ErrStale, err)
				}
				return nil, fmt.Errorf("plan: %w", err)
			}
		}
		for i := range pr.Stacks {
			s := &pr.Stacks[i]
			if s.Model == "" {
				res.Shared = append(res.Shared, plan(s))
				sharedStacks = append(sharedStacks, s)
				continue
			}
			k := unitKey{s.Model, s.Environment}
			plans[k] = s
			scope = append(scope, k)
		}
		if everything && c.o.rejudge == nil {
			// A full plan covers every unit; keep models whose stacks
			// had nothing to plan in scope too.
			scope = mergeKeys(scope, c.allUnits())
		}
	}
	if c.o.rejudge != nil {
		scope = mergeKeys(scope, savedUnits(c.o.rejudge, c.o.Envs))
	}
	// A unit in an environment with `after` needs to know whether the same
	// version passes there; when that unit is outside the scope (--base,
	// --env) it is judged too, as context: it decides the promotion but is
	// not reported.
	contextual := c.contextUnits(scope)
	all := append(append([]unitKey(nil), scope...), keysOf(contextual)...)
	// Judging again takes the evidence summaries the saved result names
	// (and the release checks their digests): it writes nothing.
	if c.o.rejudge == nil {
		if err := c.evaluate(ctx, all); err != nil {
			return nil, err
		}
	}
	evidence := c.readEvidence(all)
	ledgerReleases, ledgerEntries := c.ledgerReleases()
	verified := c.verifiedLedger(ctx)
	var rehearsals map[string][]policy.Rehearsal
	if verified != nil {
		rehearsals = rollback.RehearsalsIn(c.p, verified)
	}
	bases, err := c.bases(ctx)
	if err != nil {
		return nil, err
	}

	// Units are judged environment by environment in promotion order, so
	// that a unit in an environment with `after` can see whether the same
	// version passed there in this check.
	byDepth := map[int][]unitKey{}
	maxDepth := 0
	for _, k := range all {
		d := c.depth(k.env)
		byDepth[d] = append(byDepth[d], k)
		maxDepth = max(maxDepth, d)
	}
	previous := map[unitKey]*policy.PreviousRelease{}
	accepted := map[unitKey]*policy.AcceptedRelease{}
	for _, k := range all {
		if m, ok := c.p.Models[k.model]; ok {
			previous[k] = verify.PreviousRelease(ledgerEntries, verified, k.env, k.model, m.Version)
			accepted[k] = verify.AcceptedRelease(verified, k.env, k.model, m.Version, policy.AcceptanceTeam(m))
		}
	}
	verdicts := map[unitKey]policy.Outcome{}
	// One session for every depth: a pack that does not read the
	// environment judges a model once, not once per environment.
	session := c.engine.Session()
	for d := 0; d <= maxDepth; d++ {
		keys := byDepth[d]
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].env != keys[j].env {
				return keys[i].env < keys[j].env
			}
			return keys[i].model < keys[j].model
		})
		var ins []policy.Input
		var judged []unitKey
		orphans := map[unitKey]bool{}
		for _, k := range keys {
			m, ok := c.p.Models[k.model]
			if s := plans[k]; !contextual[k] && (!ok || (s != nil && s.Orphan)) {
				// The model left the specs or the environment: its
				// stack is judged as an orphan, by the rules that
				// judge orphans (a destroy in a protected one).
				orphans[k] = true
				u := policy.Unit{Model: k.model, Environment: k.env, Phase: c.phase(), Kind: policy.KindOrphan, Now: c.o.Now}
				if s != nil {
					u.Plan = s
				}
				ins = append(ins, policy.NewInput(c.p, u))
				judged = append(judged, k)
				continue
			}
			ev := evidence[k.model]
			u := policy.Unit{
				Model: k.model, Environment: k.env, Phase: c.phase(),
				Approvals: c.o.Approvals, Authors: c.o.Authors, Teams: c.o.Teams, CodeOwners: c.codeOwners(m.Dir), Releases: c.releases(m, ledgerReleases, verdicts), Now: c.o.Now,
				Rehearsals: rehearsals[k.model],
				// The baseline of {release: "previous"}: the ledger as
				// it stands, not this check's verdicts.
				PreviousRelease: previous[k], AcceptedRelease: accepted[k],
				ChangedFiles: changed, TrustRoot: trustRoot, Base: bases[k.model],
				// A unit in scope was to be planned unless --no-plan.
				PlanExpected: !c.o.NoPlan && !contextual[k],
			}
			if ev.doc != nil {
				u.Evidence = ev.doc
			}
			u.MonitoringStatus = monitor.Status(m, k.env, ledgerEntries, c.o.Now)
			if s := plans[k]; s != nil {
				u.Plan = s
			}
			ins = append(ins, policy.NewInput(c.p, u))
			judged = append(judged, k)
		}
		if c.o.SaveInputs {
			if err := c.saveInputs(ins, judged, contextual); err != nil {
				return nil, err
			}
		}
		out, err := session.EvaluateAll(ctx, c.p, ins)
		if err != nil {
			return nil, err
		}
		for i, k := range judged {
			results := out[i].Results
			// Messages quote specs, evidence and repository rules: clip
			// what they repeat, so result.json stays small.
			for j := range results {
				results[j].Message = redact.Message(results[j].Message)
			}
			if contextual[k] {
				verdicts[k] = policy.Verdict(results)
				continue
			}
			unit := Unit{
				Model: k.model, ModelVersion: c.p.Models[k.model].Version, Environment: k.env,
				Verdict: policy.Verdict(results), Results: results,
			}
			if !orphans[k] {
				unit.Evidence = evidence[k.model].ref(out[i].Facts, c.p.Models[k.model], previous[k])
			}
			if s := plans[k]; s != nil {
				unit.Plan = plan(s)
			}
			verdicts[k] = unit.Verdict
			res.Units = append(res.Units, unit)
		}
	}
	shared, err := c.sharedUnits(ctx, sharedStacks)
	if err != nil {
		return nil, err
	}
	res.Units = append(res.Units, shared...)
	for _, w := range c.p.Waivers {
		doc := w.Document()
		res.Waivers = append(res.Waivers, WaiverState{Waiver: doc, Status: policy.WaiverStatus(doc, c.o.Now), Pos: w.Pos})
	}
	sortUnits(res.Units, c.p)
	for _, u := range res.Units {
		res.Verdict = checkresult.Worse(res.Verdict, u.Verdict)
	}
	if c.o.rejudge != nil {
		return res, nil
	}
	if err := c.write(res); err != nil {
		return nil, err
	}
	return res, nil
}

// acceptanceTeams asks TeamMembers for the acceptance team of every
// model; a team it cannot list maps to nil, which accepts nothing.
func (c *checker) acceptanceTeams(ctx context.Context) map[string][]string {
	return policy.AcceptanceTeams(ctx, c.p, c.o.TeamMembers, func(team string, err error) {
		c.o.Log.Warn("acceptance team not listed: no review accepts for it", "team", team, "error", err)
	})
}

// evaluate writes the evidence summary of every model in scope, computed
// from the files its spec names.
func (c *checker) evaluate(ctx context.Context, scope []unitKey) error {
	var models []string
	seen := map[string]bool{}
	for _, k := range scope {
		if _, ok := c.p.Models[k.model]; ok && !seen[k.model] {
			seen[k.model] = true
			models = append(models, k.model)
		}
	}
	if len(models) == 0 {
		return nil
	}
	sort.Strings(models)
	c.o.Log.Info("evaluating evidence", "models", len(models))
	now := c.o.Now
	_, err := evidence.WriteAll(ctx, c.p, c.o.WorkDir, models, evidence.Options{Now: func() time.Time { return now }, SlipwayVersion: c.o.Version})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return nil
}

// affected lists the units in scope without planning: every unit, or with
// --base those whose stacks the change affects.
func (c *checker) affected(ctx context.Context) ([]unitKey, error) {
	if c.o.ChangedFiles != nil {
		var keys []unitKey
		for _, id := range c.changedStacks() {
			env, name, _ := strings.Cut(id, "/")
			if name != desired.SharedStack {
				keys = append(keys, unitKey{name, env})
			}
		}
		return keys, nil
	}
	if c.o.Base == "" {
		return c.allUnits(), nil
	}
	stacks, err := reconcile.Affected(ctx, c.p, reconcile.Options{WorkDir: c.o.WorkDir, Envs: c.o.Envs, Base: c.o.Base, Log: c.o.Log})
	if err != nil {
		return nil, err
	}
	var keys []unitKey
	for _, s := range stacks {
		env, name, ok := strings.Cut(s.ID, "/")
		if !ok || name == desired.SharedStack {
			continue
		}
		keys = append(keys, unitKey{name, env})
	}
	return keys, nil
}

// changedFiles are the files the change touches, relative to the
// platform repository: the pull request's under --github, the diff against
// --base, none otherwise; and those of them that hold the trust root.
func (c *checker) changedFiles(ctx context.Context) (files, trust []string, err error) {
	switch {
	case c.o.ChangedFiles != nil:
		set := changes.Classify(c.p, c.o.PathPrefix, c.o.ChangedFiles, c.o.OutsideFiles)
		return c.o.ChangedFiles, set.Trust, nil
	case c.o.Base != "":
		set, err := changes.Detect(ctx, c.p, c.o.Base)
		if err != nil {
			return nil, nil, err
		}
		return set.Files, set.Trust, nil
	}
	return nil, nil, nil
}

// specBase is the git ref whose specs the change is judged against:
// --base, else the pull request's base commit; empty when neither is known.
func (c *checker) specBase() string {
	if c.o.Base != "" {
		return c.o.Base
	}
	return c.o.BaseCommit
}

// baseSpecs is what a check reads from the specs at its base, out of the
// change's reach: the models and policy whose thresholds the change may
// loosen, and the risk owners, security owners and trusted keys, which a
// change cannot name for itself.
type baseSpecs struct {
	ref    string
	models map[string]spec.Model
	policy spec.PolicyDefaults
	keys   []*sign.PublicKey
	// keysErr is why the base's trusted keys could not be read.
	keysErr error
	// unknown says why a pull request's base commit could not be read
	// (a shallow clone); the work tree's owners and keys stand in and
	// policy.threshold_loosened reports it.
	unknown string
}

// base loads the specs at specBase once; nil without a base. A --base that
// does not resolve is the caller's error; a pull request's base commit
// that the clone does not hold is a base unknown.
func (c *checker) base(ctx context.Context) (*baseSpecs, error) {
	if c.baseDone {
		return c.baseAt, nil
	}
	ref := c.specBase()
	if ref == "" {
		c.baseDone = true
		return nil, nil
	}
	b := &baseSpecs{ref: ref}
	err := changes.AtBase(ctx, c.p.Root, ref, func(bp *spec.Platform) error {
		b.models, b.policy = bp.Models, bp.Policy
		// The key files are read from the base's tree, which exists only
		// while use runs.
		b.keys, b.keysErr = verify.TrustedKeys(bp)
		return nil
	})
	switch {
	case err == nil:
	case c.o.Base == "" && ctx.Err() == nil:
		b.unknown = fmt.Sprintf("the pull request's base commit %s cannot be read: %v (check out with fetch-depth: 0)", ref, err)
		c.o.Log.Warn("specs at the pull request's base unknown; the work tree's owners and keys stand in, and policy.threshold_loosened cannot compare", "err", err)
	default:
		return nil, fmt.Errorf("platform at %s: %w", ref, err)
	}
	c.baseAt, c.baseDone = b, true
	return b, nil
}

// bases are, per model, the model and the risk owners at the base, for
// policy.threshold_loosened; nil without a base.
func (c *checker) bases(ctx context.Context) (map[string]*policy.Base, error) {
	b, err := c.base(ctx)
	if b == nil || err != nil {
		return nil, err
	}
	out := map[string]*policy.Base{}
	if b.unknown != "" {
		for name := range c.p.Models {
			out[name] = &policy.Base{Unknown: b.unknown}
		}
		return out, nil
	}
	owners := append([]string{}, b.policy.RiskOwners...)
	var approved []string
	if c.o.OwnersApproved != nil && c.o.Approvals != nil {
		approved = c.o.OwnersApproved(ctx, owners, policy.Independent(c.o.Approvals, c.o.Authors))
		if approved == nil {
			approved = []string{}
		}
	}
	for name := range c.p.Models {
		pb := &policy.Base{Policy: &b.policy, RiskOwners: owners, ApprovedBy: approved}
		if m, ok := b.models[name]; ok {
			pb.Model = &m
		}
		out[name] = pb
	}
	return out, nil
}

// trustRoot is the policy input's account of the change to the trust
// root; nil when the change is not known (changed is nil). The security
// owners are those of the base, so that a change cannot name its own
// approvers; without a readable base they are the work tree's, and a
// change to them is itself a trust root change.
func (c *checker) trustRoot(ctx context.Context, changed, trust []string) (*policy.TrustRoot, error) {
	if changed == nil {
		return nil, nil
	}
	owners := append([]string{}, c.p.Policy.SecurityOwners...)
	if len(trust) > 0 {
		b, err := c.base(ctx)
		if err != nil {
			return nil, fmt.Errorf("security owners: %w", err)
		}
		if b != nil && b.unknown == "" {
			owners = append([]string{}, b.policy.SecurityOwners...)
		}
	}
	tr := &policy.TrustRoot{Changed: len(trust) > 0, Paths: append([]string{}, trust...), Owners: owners}
	if tr.Changed && c.o.OwnersApproved != nil && c.o.Approvals != nil {
		if approved := c.o.OwnersApproved(ctx, owners, policy.Independent(c.o.Approvals, c.o.Authors)); approved != nil {
			tr.ApprovedBy = approved
		}
	}
	return tr, nil
}

// contextUnits are the units outside scope that units in scope are
// promoted from, transitively, for models that deploy there.
func (c *checker) contextUnits(scope []unitKey) map[unitKey]bool {
	in := map[unitKey]bool{}
	for _, k := range scope {
		in[k] = true
	}
	out := map[unitKey]bool{}
	queue := append([]unitKey(nil), scope...)
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		m, ok := c.p.Models[k.model]
		after := c.p.Environments[k.env].After
		if !ok || after == "" || !slices.Contains(m.Environments, after) {
			continue
		}
		prev := unitKey{k.model, after}
		if in[prev] || out[prev] {
			continue
		}
		out[prev] = true
		queue = append(queue, prev)
	}
	return out
}

func keysOf(m map[unitKey]bool) []unitKey {
	out := make([]unitKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].model != out[j].model {
			return out[i].model < out[j].model
		}
		return out[i].env < out[j].env
	})
	return out
}

// changedStacks are the ids of the stacks in scope the pull request's
// changed files affect.
func (c *checker) changedStacks() []string {
	set := changes.Classify(c.p, c.o.PathPrefix, c.o.ChangedFiles, c.o.OutsideFiles)
	var ids []string
	for _, s := range desired.Stacks(c.p, c.o.Envs...) {
		if len(set.Reasons(s)) > 0 {
			ids = append(ids, s.ID())
		}
	}
	return ids
}

func (c *checker) allUnits() []unitKey {
	var keys []unitKey
	for _, name := range c.p.ModelNames() {
		for _, env := range c.p.Models[name].Environments {
			if c.inScope(env) {
				keys = append(keys, unitKey{name, env})
			}
		}
	}
	return keys
}

func (c *checker) inScope(env string) bool {
	if len(c.o.Envs) == 0 {
		return true
	}
	for _, e := range c.o.Envs {
		if e == env {
			return true
		}
	}
	return false
}

func mergeKeys(a, b []unitKey) []unitKey {
	seen := map[unitKey]bool{}
	var out []unitKey
	for _, k := range append(a, b...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// depth is how many environments come before env in promotion order.
func (c *checker) depth(env string) int {
	d := 0
	for cur := c.p.Environments[env].After; cur != "" && d <= len(c.p.Environments); cur = c.p.Environments[cur].After {
		d++
	}
	return d
}

// releases is what the ledger records for the model, overlaid with the
// units of this check that passed: during a check, a version that passes
// in staging may go on to production in the same change.
func (c *checker) releases(m spec.Model, fromLedger map[unitKey]policy.Release, verdicts map[unitKey]policy.Outcome) map[string]policy.Release {
	out := map[string]policy.Release{}
	for _, e := range m.Environments {
		k := unitKey{m.Name, e}
		if r, ok := fromLedger[k]; ok {
			out[e] = r
		}
		if v, ok := verdicts[k]; ok && v != policy.OutcomeDeny {
			if r, ok := out[e]; !ok || r.Version != m.Version {
				out[e] = policy.Release{Version: m.Version, Decision: "pass", Verified: false}
			}
		} else if ok && v == policy.OutcomeDeny {
			if r, ok := out[e]; !ok || r.Version != m.Version {
				out[e] = policy.Release{Version: m.Version, Decision: "deny", Verified: false}
			}
		}
	}
	return out
}

// verifiedLedger verifies the ledger, once for every fact a check reads
// from it: the rollback records handover.rollback_tested judges and the
// previous releases whose signed metrics are baselines. The keys are the
// base's signing.trustedKeys when a base is known, so that a change cannot
// vouch for records with a key it adds; else the work tree's (a change to
// them is release.trust_changed's business). A ledger that cannot be
// verified gives no facts: the policies read that as "not rehearsed" and
// "baseline not verified". Nil without keys or a ledger.
func (c *checker) verifiedLedger(ctx context.Context) *verify.Report {
	keys, err := c.ledgerKeys(ctx)
	if err == nil {
		if len(keys) == 0 {
			return nil
		}
		var rep *verify.Report
		if rep, err = verify.Ledger(ctx, verify.Options{Root: c.p.Root, Keys: keys, Now: c.o.Now}); err == nil {
			return rep
		}
	}
	c.o.Log.Warn("release ledger unverifiable; no rollback rehearsal or release baseline is counted", "err", err)
	return nil
}

// ledgerKeys are the keys verifiedLedger trusts: the base's, or the work
// tree's when no base is known or a pull request's base commit cannot be
// read.
func (c *checker) ledgerKeys(ctx context.Context) ([]*sign.PublicKey, error) {
	b, err := c.base(ctx)
	switch {
	case err != nil:
		return nil, err
	case b != nil && b.unknown == "":
		return b.keys, b.keysErr
	}
	return verify.TrustedKeys(c.p)
}

// ledgerReleases reads the last recorded release of every model in every
// environment, and the index's entries (monitoring.fresh reads them); a
// repository without a ledger has none.
func (c *checker) ledgerReleases() (map[unitKey]policy.Release, []ledger.Entry) {
	out := map[unitKey]policy.Release{}
	entries, err := ledger.Open(c.p.Root).Entries()
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.o.Log.Warn("release ledger unreadable; promotion is judged from this check alone", "err", err)
		}
		return out, nil
	}
	for _, e := range entries {
		if !e.IsRelease() {
			continue
		}
		out[unitKey{e.Model, e.Environment}] = policy.Release{Version: e.Version, Decision: "pass", Verified: false}
	}
	return out, entries
}

// InputsDir is where --save-inputs writes input documents, relative to the
// work dir.
const InputsDir = "check/inputs"

func (c *checker) saveInputs(ins []policy.Input, keys []unitKey, contextual map[unitKey]bool) error {
	for i, in := range ins {
		if contextual[keys[i]] {
			continue
		}
		b, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			return err
		}
		path := filepath.Join(c.o.WorkDir, filepath.FromSlash(InputsDir), in.Environment.Name, in.Model.Name+".json")
		if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sharedUnits judges the environments' _shared stacks: they belong to no
// model, so only the rules that judge shared stacks (a destroy in a
// protected environment) apply. A stack is reported as a unit of its own
// (model "_shared") when a rule found something.
func (c *checker) sharedUnits(ctx context.Context, stacks []*terraform.Summary) ([]Unit, error) {
	ins := make([]policy.Input, len(stacks))
	for i, s := range stacks {
		ins[i] = policy.NewInput(c.p, policy.Unit{Model: desired.SharedStack, Environment: s.Environment,
			Phase: c.phase(), Kind: policy.KindShared, Plan: s, Now: c.o.Now})
	}
	out, err := c.engine.EvaluateAll(ctx, c.p, ins)
	if err != nil {
		return nil, err
	}
	var units []Unit
	for i, j := range out {
		results := j.Results
		if !slices.ContainsFunc(results, func(r policy.Result) bool { return !r.Outcome.Quiet() }) {
			continue
		}
		units = append(units, Unit{Model: desired.SharedStack, Environment: stacks[i].Environment,
			Verdict: policy.Verdict(results), Plan: plan(stacks[i]), Results: results})
	}
	return units, nil
}

func (c *checker) write(res *Result) error {
	return checkresult.Write(filepath.Join(c.o.WorkDir, filepath.FromSlash(ResultFile)), &res.Result)
}

// headCommitArgs is the git command that names the checked-out commit.
func headCommitArgs(dir string) []string {
	return []string{"git", "-C", dir, "rev-parse", "--verify", "-q", "HEAD"}
}

// headCommit is the repository's HEAD commit, or empty outside git.
func headCommit(ctx context.Context, dir string) string {
	args := headCommitArgs(dir)
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// sortUnits orders units deny first, then warn, then pass; within a
// verdict by model and promotion order.
func sortUnits(units []Unit, p *spec.Platform) {
	order := map[string]int{}
	for i, e := range p.EnvironmentNames() {
		order[e] = i
	}
	sort.SliceStable(units, func(i, j int) bool {
		a, b := units[i], units[j]
		if a.Verdict.Rank() != b.Verdict.Rank() {
			return a.Verdict.Rank() < b.Verdict.Rank()
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return order[a.Environment] < order[b.Environment]
	})
}

// codeOwners returns the owned files under a model's directory among the
// pull request's, nil when they are not known.
func (c *checker) codeOwners(modelDir string) []policy.CodeOwnedFile {
	if c.o.CodeOwners == nil && c.o.DirOwners != nil {
		if f := c.o.DirOwners(modelDir); f != nil {
			return []policy.CodeOwnedFile{*f}
		}
		return []policy.CodeOwnedFile{}
	}
	if c.o.CodeOwners == nil {
		return nil
	}
	// A model at the platform's root owns every file.
	dir := changes.NewPrefix(modelDir)
	out := []policy.CodeOwnedFile{}
	for _, f := range c.o.CodeOwners {
		if _, ok := dir.Rel(f.File); ok {
			out = append(out, f)
		}
	}
	return out
}

// Rejudge judges the units of a saved check result again, in the release
// phase, on the inputs now on disk, for a release that will not take the
// result's word for its verdicts: the specs and policies of the work tree, the evidence
// summaries in the work dir, and the saved plans of the stacks the result
// planned, which must still hold (no Terraform runs; a plan that no longer
// holds is checkresult.ErrStale). It judges at the saved result's time and
// against its base, judges only o.Envs, and writes nothing.
func Rejudge(ctx context.Context, o Options, saved *checkresult.Result) (*checkresult.Result, error) {
	at, err := time.Parse(time.RFC3339, saved.GeneratedAt)
	if err != nil {
		return nil, fmt.Errorf("%w: generated_at %s is not a time", checkresult.ErrStale, redact.Quote(saved.GeneratedAt))
	}
	o.Now, o.Base, o.rejudge = at, saved.Base, saved
	// The reviews are those the check recorded: a release cannot read
	// them. None recorded means not known, which a release counts as
	// none (release.approvals).
	o.Approvals = slices.Clone(saved.Approvals)
	// So are the authors, whose approvals do not count, and the
	// acceptance teams' members (a release puts GitHub's in).
	o.Authors, o.Teams, o.TeamMembers = saved.Authors, saved.Teams, nil
	o.NoPlan, o.SaveInputs, o.ReusePlans = false, false, true
	res, err := Run(ctx, o)
	if err != nil {
		return nil, err
	}
	return &res.Result, nil
}

// savedStacks are the ids of the stacks a saved result planned in envs.
func savedStacks(r *checkresult.Result, envs []string) []string {
	var ids []string
	add := func(pl *checkresult.Plan) {
		if pl == nil || pl.Stack == "" || (len(envs) > 0 && !slices.Contains(envs, pl.Environment)) || slices.Contains(ids, pl.Stack) {
			return
		}
		ids = append(ids, pl.Stack)
	}
	for _, u := range r.Units {
		add(u.Plan)
	}
	for _, pl := range r.Shared {
		add(pl)
	}
	return ids
}

// savedUnits are the model units of a saved result in envs.
func savedUnits(r *checkresult.Result, envs []string) []unitKey {
	var keys []unitKey
	for _, u := range r.Units {
		if u.Model != desired.SharedStack && (len(envs) == 0 || slices.Contains(envs, u.Environment)) {
			keys = append(keys, unitKey{u.Model, u.Environment})
		}
	}
	return keys
}
