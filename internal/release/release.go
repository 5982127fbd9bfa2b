package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/redact"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

// Options say what to release.
type Options struct {
	Platform *spec.Platform
	Input    *checkresult.Result
	// WorkDir is the work dir holding rendered stacks (absolute).
	WorkDir     string
	Environment string
	// Model limits the release to one model; empty releases every model
	// the check judged in Environment.
	Model   string
	Signer  *sign.Signer
	Version string // Slipway's version
	Now     time.Time
	// Source is where the release is made from; SourceOf fills it from git.
	Source attest.Source
	// Rejudge judges the units of a check result again, in the release
	// phase, on the inputs now on disk, without Terraform (check.Rejudge).
	// Whoever can edit result.json can recompute any digest in it, so a
	// release takes a result only when the policies agree with it
	// (agreement), and refuses what the release phase denies (approvals
	// the check could not see). Nil trusts the result (tests).
	Rejudge func(ctx context.Context, saved *checkresult.Result) (*checkresult.Result, error)
	// Reviews reads the pull request's standing approvals from GitHub,
	// which the pull request cannot write (slipway release --github). A
	// saved result's approvals are a claim anyone who can write the work
	// dir can make: with Reviews, every approval the result records must
	// be one GitHub lists (else ErrApprovals), and GitHub's list is what
	// the release judges with and signs. Nil means the reviews cannot be
	// checked here: the recorded approvals are then neither counted nor
	// signed, so an environment that needs approvals refuses
	// (release.approvals). The authors (whose approvals do not count) and
	// the acceptance teams' members come from Reviews too, never from the
	// result: without Reviews, operations' acceptance is pending
	// (handover.acceptance).
	Reviews func(ctx context.Context) (*checkresult.Reviews, error)
	// Backdated is why a release dated before the ledger's newest entry
	// (a clock that runs backwards) is made anyway; it is signed into the
	// record. Empty refuses such a release.
	Backdated string
}

// ErrApprovals means the check result records an approval GitHub does
// not confirm: the result was edited, or the review was dismissed since.
var ErrApprovals = errors.New("check result's approvals are not the pull request's")

// ErrClock means the release would be dated before the ledger's newest
// entry.
var ErrClock = errors.New("release clock is behind the ledger")

// Outcome is what a release did.
type Outcome struct {
	Environment string     `json:"environment"`
	Released    []Released `json:"released"`
	// Skipped are versions already released with the same plans.
	Skipped []Released `json:"skipped,omitempty"`
	// Refused lists the denials that stopped the release; nothing is
	// signed when it is not empty.
	Refused []Denial `json:"refused,omitempty"`
	// Removed are models the check judged whose model no longer deploys
	// to the environment: their stacks' delete plans are not released.
	Removed []string `json:"removed,omitempty"`
	// Repaired are unlisted records found before releasing, adopted
	// into the index or moved aside.
	Repaired []ledger.Repair `json:"repaired,omitempty"`
	// Head is the ledger's head after the release: the digest of the
	// index's last line, for the workflow to keep outside the repository
	// and pass to slipway verify --head.
	Head string `json:"head,omitempty"`
}

// Released is one signed release record.
type Released struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	// Revision is set when the version was released here before.
	Revision int    `json:"revision,omitempty"`
	Path     string `json:"path"`
	Record   string `json:"record"`
	Seq      int    `json:"seq,omitempty"`
	KeyID    string `json:"keyId,omitempty"`
}

// Denial is one reason a model may not be released.
type Denial struct {
	Model  string `json:"model"`
	Reason string `json:"reason"`
}

// Release signs one release record per model the check judged in the
// environment and appends them to the ledger. When any of them has a
// deny it signs nothing and returns the denials in Outcome.Refused.
func Release(ctx context.Context, o Options) (*Outcome, error) {
	p, in := o.Platform, o.Input
	if len(in.Errors) > 0 {
		return nil, fmt.Errorf("check result reports errors: run `slipway check` again and fix them first")
	}
	if _, ok := p.Environments[o.Environment]; !ok {
		return nil, fmt.Errorf("environment %q: not in the platform (have %s)", o.Environment, strings.Join(p.EnvironmentNames(), ", "))
	}
	if o.Model != "" {
		if _, ok := p.Models[o.Model]; !ok {
			return nil, fmt.Errorf("model %q: not in the platform", o.Model)
		}
	}
	if err := fresh(ctx, p, in, o.Source.Commit); err != nil {
		return nil, err
	}
	var units, removed []checkresult.Unit
	for _, u := range in.Units {
		if u.Environment == o.Environment && (o.Model == "" || u.Model == o.Model) {
			if m, ok := p.Models[u.Model]; !ok || !slices.Contains(m.Environments, o.Environment) {
				removed = append(removed, u)
				continue
			}
			units = append(units, u)
		}
	}
	out := &Outcome{Environment: o.Environment}
	for _, u := range removed {
		out.Removed = append(out.Removed, u.Model)
		for _, d := range u.Denials() {
			out.Refused = append(out.Refused, Denial{Model: u.Model, Reason: d})
		}
	}
	if len(units) == 0 && len(removed) > 0 {
		return out, nil
	}
	if len(units) == 0 {
		what := "any model"
		if o.Model != "" {
			what = "model " + o.Model
		}
		return nil, fmt.Errorf("%w: the check did not judge %s in %s: run `slipway check --env %s`", checkresult.ErrStale, what, o.Environment, o.Environment)
	}
	sort.Slice(units, func(i, j int) bool { return units[i].Model < units[j].Model })
	for _, u := range units {
		for _, d := range u.Denials() {
			out.Refused = append(out.Refused, Denial{Model: u.Model, Reason: d})
		}
	}
	if len(out.Refused) > 0 {
		return out, nil
	}
	reviews, err := confirmed(ctx, o, in)
	if err != nil {
		return nil, err
	}
	var shared []*checkresult.Plan
	for _, s := range in.Shared {
		if s.Environment == o.Environment || strings.HasPrefix(s.Stack, o.Environment+"/") {
			shared = append(shared, s)
		}
	}
	preds := make([]attest.Release, 0, len(units))
	blobs := map[string][][]byte{}
	for _, u := range units {
		r, err := predicate(p, in, o, u, shared, reviews)
		if err != nil {
			return nil, err
		}
		if r.Bundle, blobs[r.Environment+"/"+r.Model.Name], err = bundle(p, u, r.Evidence); err != nil {
			return nil, err
		}
		preds = append(preds, r)
	}
	if o.Rejudge != nil {
		// Judged with the reviews GitHub confirmed, never with those the
		// result merely records.
		judged := *in
		judged.Approvals, judged.Authors, judged.Teams = reviews.Approvals, reviews.Authors, reviews.Teams
		again, err := o.Rejudge(ctx, &judged)
		if err != nil {
			return nil, err
		}
		if err := agreement(in, again, o.Environment, o.Model); err != nil {
			return nil, err
		}
		// The release's own judgement refuses too: it enforces what a
		// check only reports, such as approvals it could not see.
		for _, u := range units {
			for _, j := range again.Units {
				if j.Environment == u.Environment && j.Model == u.Model {
					for _, d := range j.Denials() {
						out.Refused = append(out.Refused, Denial{Model: u.Model, Reason: d})
					}
				}
			}
		}
		if len(out.Refused) > 0 {
			return out, nil
		}
	}
	l := ledger.Open(p.Root)
	// A crash between a record and its index line leaves an unlisted
	// record that would wedge every later release: adopt it or move it
	// aside first.
	if out.Repaired, err = repair(ctx, l, p, o.Signer, o.Now); err != nil {
		return out, err
	}
	entries, err := l.Entries()
	if err != nil {
		return nil, err
	}
	if n := len(entries); n > 0 && o.Backdated == "" {
		if head, err := time.Parse(time.RFC3339, entries[n-1].RecordedAt); err == nil && o.Now.Before(head) {
			return nil, fmt.Errorf("%w: it is %s here, the ledger's newest entry (%s) was recorded at %s: fix the clock, or give --backdated REASON, which the record keeps",
				ErrClock, o.Now.UTC().Format(time.RFC3339), entries[n-1].Path, entries[n-1].RecordedAt)
		}
	}
	// A waiver is judged at the release's own time: one that expired
	// since the check is not signed.
	for _, r := range preds {
		for _, w := range r.Waivers {
			if verify.WaiverExpired(w, o.Now) {
				out.Refused = append(out.Refused, Denial{Model: r.Model.Name, Reason: fmt.Sprintf("waiver %s (%s) expired on %s, before this release: renew it or fix the finding", w.Rule, w.Ticket, w.Expires)})
			}
		}
	}
	if len(out.Refused) > 0 {
		return out, nil
	}
	for _, r := range preds {
		// The newest release of the model here is this version and pins
		// these very plans, or the plans change nothing (apply skips
		// those without asking the gate): releasing again would add
		// nothing but noise to the ledger.
		var last *ledger.Entry
		for i := range entries {
			if entries[i].IsRelease() && entries[i].Environment == r.Environment && entries[i].Model == r.Model.Name {
				last = &entries[i]
			}
		}
		if last != nil && last.Version == r.Model.Version {
			if b, err := safefile.ReadFileIn(p.Root, filepath.FromSlash(last.Path), safefile.Record); err == nil && (samePlans(b, r) || noChanges(r)) {
				out.Skipped = append(out.Skipped, Released{Model: r.Model.Name, Version: r.Model.Version, Revision: last.Revision, Path: last.Path, Record: digest.Bytes(b), Seq: last.Seq})
				continue
			}
		}
		r.Backdated = o.Backdated
		// The blobs go in before the record that pins them: a crash in
		// between leaves an unpinned blob, never a record without its
		// evidence.
		if err := storeBundle(l, blobs[r.Environment+"/"+r.Model.Name]); err != nil {
			return out, fmt.Errorf("release %s/%s %s: %w", r.Environment, r.Model.Name, r.Model.Version, err)
		}
		e, err := l.Append(ctx, r.Environment, r.Model.Name, r.Model.Version, o.Now, func(ctx context.Context, place ledger.Place) ([]byte, []byte, error) {
			r.Previous, r.LedgerPrevious = place.Previous, &place.LedgerPrevious
			if place.Revision > 1 {
				r.Revision = place.Revision
			}
			st, err := attest.NewStatement(r)
			if err != nil {
				return nil, nil, err
			}
			payload, err := st.Marshal()
			if err != nil {
				return nil, nil, err
			}
			env, err := o.Signer.Sign(ctx, payload)
			return env, payload, err
		})
		if err != nil {
			return out, fmt.Errorf("release %s/%s %s: %w", r.Environment, r.Model.Name, r.Model.Version, err)
		}
		out.Released = append(out.Released, Released{Model: r.Model.Name, Version: r.Model.Version, Revision: e.Revision, Path: e.Path, Record: e.Record, Seq: e.Seq, KeyID: o.Signer.KeyID})
	}
	if out.Head, err = l.Head(); err != nil {
		return out, err
	}
	return out, nil
}

// noChanges reports whether none of r's plans changes anything.
func noChanges(r attest.Release) bool {
	for _, s := range r.Stacks {
		c := s.Changes
		if c.Create+c.Update+c.Delete+c.Replace > 0 {
			return false
		}
	}
	return true
}

// samePlans reports whether an existing record pins the same plans as r,
// which makes releasing r again a no-op.
func samePlans(envelope []byte, r attest.Release) bool {
	e, err := sign.ParseEnvelope(envelope)
	if err != nil {
		return false
	}
	st, err := attest.Parse(e.Payload)
	if err != nil || len(st.Predicate.Stacks) != len(r.Stacks) {
		return false
	}
	for i, s := range st.Predicate.Stacks {
		if s.ID != r.Stacks[i].ID || s.PlanSHA256 != r.Stacks[i].PlanSHA256 {
			return false
		}
	}
	return st.Predicate.Artifact.Digest == r.Artifact.Digest
}

// fresh refuses a check result that no longer describes the repository
// at head, the commit being released (read from git when empty).
func fresh(ctx context.Context, p *spec.Platform, in *checkresult.Result, head string) error {
	if in.Platform != "" && in.Platform != p.Name {
		return fmt.Errorf("%w: it is for platform %q, not %q", checkresult.ErrStale, in.Platform, p.Name)
	}
	if head == "" {
		head = gitOutput(ctx, p.Root, headArgs())
	}
	// A result binds the commit, the specs and the policies it judged;
	// one that leaves any of them out binds nothing.
	switch {
	case in.Commit == "" && head != "":
		return fmt.Errorf("%w: it names no commit, the repository is at %s: run `slipway check` again", checkresult.ErrStale, short(head))
	case in.SpecDigest == "":
		return fmt.Errorf("%w: it names no spec digest: run `slipway check` again", checkresult.ErrStale)
	case in.PolicyDigest == "":
		return fmt.Errorf("%w: it names no policy digest: run `slipway check` again", checkresult.ErrStale)
	}
	if head != "" && head != in.Commit {
		return fmt.Errorf("%w: it was made at commit %s, the repository is at %s: run `slipway check` again", checkresult.ErrStale, short(in.Commit), short(head))
	}
	d, err := p.Digest()
	if err != nil {
		return err
	}
	if d != in.SpecDigest {
		return fmt.Errorf("%w: the specs changed since the check: run `slipway check` again", checkresult.ErrStale)
	}
	if d, err = policy.BundleDigest(p.Root); err != nil {
		return err
	}
	if d != in.PolicyDigest {
		return fmt.Errorf("%w: the policies changed since the check: run `slipway check` again", checkresult.ErrStale)
	}
	return nil
}

// agreement refuses a saved result the policies, judging its inputs
// again, disagree with (ErrRejudged), for the units of env (and model,
// when set): the same units, none with an outcome more lenient than the
// policies give now.
// The rules judged from the pull request's reviews
// (checkresult.FromReviews) are left out: judging again cannot see the
// reviews, and what it denies of them refuses the release by itself.
func agreement(saved, again *checkresult.Result, env, model string) error {
	outcomes := func(r *checkresult.Result) map[string]map[string]checkresult.Outcome {
		m := map[string]map[string]checkresult.Outcome{}
		for _, u := range r.Units {
			if u.Environment != env || (model != "" && u.Model != model) {
				continue
			}
			o := map[string]checkresult.Outcome{}
			for _, f := range u.Results {
				// Two findings of one rule: the worst counts.
				if prev, ok := o[f.Rule]; !ok || f.Outcome.Rank() < prev.Rank() {
					o[f.Rule] = f.Outcome
				}
			}
			m[env+"/"+u.Model] = o
		}
		return m
	}
	s, a := outcomes(saved), outcomes(again)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: it was edited, or its inputs changed in a way no digest shows: run `slipway check` again", ErrRejudged, fmt.Sprintf(format, args...))
	}
	for _, id := range slices.Sorted(maps.Keys(a)) {
		so, ok := s[id]
		if !ok {
			return fail("%s is missing from it", id)
		}
		ao := a[id]
		// The result may be stricter than the policies are now, never more
		// lenient: facts read from the ledger (a release, a rollback or a
		// monitoring record signed since the check) legitimately turn a
		// finding into a pass, but an edit that turns a denial into a pass
		// is refused.
		for _, rule := range slices.Sorted(maps.Keys(ao)) {
			want, got := ao[rule], so[rule]
			claimed := got
			if got == "" {
				// Silence claims no finding: it reads as a pass.
				claimed, got = checkresult.Pass, "nothing"
			}
			if checkresult.FromReviews(rule) || claimed.Rank() <= want.Rank() {
				continue
			}
			return fail("%s: the policies say %s is %s, the result says %s", id, rule, want, got)
		}
		// A pass or waiver the policies do not report is a claim nobody
		// judged.
		for _, rule := range slices.Sorted(maps.Keys(so)) {
			if _, ok := ao[rule]; ok || checkresult.FromReviews(rule) {
				continue
			}
			if o := so[rule]; o == checkresult.Pass || o == checkresult.Waived || o == checkresult.NotApplicable {
				return fail("%s: the result has %s (%s), which the policies do not report", id, rule, o)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s)) {
		if _, ok := a[id]; !ok {
			return fail("%s is not a unit the policies judge", id)
		}
	}
	return nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// predicate builds the release predicate of one unit, checking that every
// file the check judged is still the file it judged.
func predicate(p *spec.Platform, in *checkresult.Result, o Options, u checkresult.Unit, shared []*checkresult.Plan, reviews checkresult.Reviews) (attest.Release, error) {
	m, ok := p.Models[u.Model]
	if !ok {
		return attest.Release{}, fmt.Errorf("%w: model %q is no longer in the platform", checkresult.ErrStale, u.Model)
	}
	if m.Version != u.ModelVersion {
		return attest.Release{}, fmt.Errorf("%w: the check judged %s %s, the spec now says %s", checkresult.ErrStale, u.Model, u.ModelVersion, m.Version)
	}
	if u.Plan == nil {
		return attest.Release{}, fmt.Errorf("%s/%s: the check ran without a plan; a release pins the plan apply may run: run `slipway check` with plans", u.Environment, u.Model)
	}
	modelJSON := spec.RawJSON(m)
	r := attest.Release{
		Model:       attest.ModelRef{Name: m.Name, Version: m.Version},
		Environment: u.Environment,
		Decision:    attest.DecisionPass,
		Verdict:     string(u.Verdict),
		Artifact:    attest.Artifact{URI: m.Artifact.URI, Digest: m.Artifact.Digest, Format: m.Artifact.Format},
		Spec:        attest.Spec{Platform: p.Name, Digest: digest.Bytes(modelJSON), Model: modelJSON},
		Results:     []attest.Result{},
		Waivers:     []attest.Waiver{},
		Approvals:   []attest.Approval{},
		Source:      o.Source,
		Check:       attest.CheckRef{Verdict: string(in.Verdict), GeneratedAt: in.GeneratedAt, Digest: in.Digest},
		Slipway:     attest.Tool{Version: o.Version},
		ReleasedAt:  o.Now.UTC().Format(time.RFC3339),
	}
	if r.Source.Commit == "" {
		r.Source.Commit = in.Commit
	}
	for _, pl := range append([]*checkresult.Plan{u.Plan}, shared...) {
		s, err := stack(p.Root, o.WorkDir, u.Environment, pl)
		if err != nil {
			return attest.Release{}, err
		}
		r.Stacks = append(r.Stacks, s)
	}
	if u.Evidence != nil {
		ev, _, err := evidence(p.Root, *u.Evidence)
		if err != nil {
			return attest.Release{}, err
		}
		r.Evidence = ev
	}
	used := map[attest.Waiver]bool{}
	for _, res := range u.Results {
		ar := attest.Result{Rule: res.Rule, Severity: string(res.Severity), Outcome: string(res.Outcome), Message: res.Message}
		for _, c := range res.Controls {
			ar.Controls = append(ar.Controls, attest.Control(c))
		}
		if res.Waiver != nil {
			w := attest.Waiver(res.Waiver.Waiver)
			ar.Waiver = &w
			if !used[w] {
				used[w] = true
				r.Waivers = append(r.Waivers, w)
			}
		}
		r.Results = append(r.Results, ar)
	}
	// A waived result that does not carry its waiver names it through the
	// check's list of active waivers.
	for _, res := range u.Results {
		if res.Outcome != checkresult.Waived || res.Waiver != nil {
			continue
		}
		for _, w := range in.Waivers {
			aw := attest.Waiver(w.Waiver)
			if w.Status == checkresult.WaiverActive && policy.Waives(w.Waiver, res.Rule, u.Model, u.Environment) && !used[aw] {
				used[aw] = true
				r.Waivers = append(r.Waivers, aw)
			}
		}
	}
	// Only approvals GitHub confirmed (confirmed): a name signed here is
	// one the release checked, never one the check result claims; so are
	// the authors they are distinct from.
	var pa []policy.Approval
	for _, a := range reviews.Approvals {
		ra := attest.Approval{User: a.User, State: a.State, SubmittedAt: a.SubmittedAt, ReviewID: a.ReviewID, Commit: a.Commit}
		if reviews.Authors != nil {
			distinct := !slices.ContainsFunc(reviews.Authors, func(au string) bool { return strings.EqualFold(au, a.User) })
			ra.DistinctFromAuthors = &distinct
		}
		r.Approvals = append(r.Approvals, ra)
		pa = append(pa, a)
	}
	// Operations' acceptance: the review that accepts the model, chosen
	// as handover.acceptance chose it.
	if team := policy.AcceptanceTeam(m); team != "" && reviews.Teams != nil {
		if by := policy.Accepting(reviews.Teams[team], pa, reviews.Authors); by != nil {
			r.Acceptance = &attest.Acceptance{Team: team, User: by.User, ReviewID: by.ReviewID, SubmittedAt: by.SubmittedAt, Commit: by.Commit}
		}
	}
	return r, nil
}

// confirmed returns the reviews a release may count and sign: the pull
// request's standing approvals, its authors and the acceptance teams'
// members as GitHub lists them now (o.Reviews), after checking that
// GitHub confirms every approval the check result records (ErrApprovals
// otherwise). Without o.Reviews none is known: no approval counts, the
// authors are unknown and acceptance is pending.
func confirmed(ctx context.Context, o Options, in *checkresult.Result) (checkresult.Reviews, error) {
	if o.Reviews == nil {
		return checkresult.Reviews{}, nil
	}
	got, err := o.Reviews(ctx)
	if err != nil {
		return checkresult.Reviews{}, fmt.Errorf("read the pull request's reviews to confirm the check result's approvals: %w", err)
	}
	if got == nil {
		got = &checkresult.Reviews{}
	}
	byGitHub := map[string]bool{}
	for _, a := range got.Approvals {
		if a.State == "APPROVED" {
			byGitHub[a.User] = true
		}
	}
	for _, a := range Recorded(in) {
		if a.State == "APPROVED" && !byGitHub[a.User] {
			return checkresult.Reviews{}, fmt.Errorf("%w: it records an approval by %s that the pull request does not have on GitHub: the result was edited, or the review was dismissed since: run `slipway check --github` again", ErrApprovals, redact.Quote(a.User))
		}
	}
	out := checkresult.Reviews{Approvals: []checkresult.Approval{}, Authors: got.Authors, Teams: got.Teams}
	for _, a := range got.Approvals {
		if a.State == "APPROVED" {
			out.Approvals = append(out.Approvals, a)
		}
	}
	return out, nil
}

// Recorded are the approvals a check result records, its units' included.
func Recorded(in *checkresult.Result) []checkresult.Approval {
	out := slices.Clone(in.Approvals)
	for _, u := range in.Units {
		out = append(out, u.Approvals...)
	}
	return out
}

// resolve turns a path a summary records (repo-relative, or absolute when
// the work dir lives elsewhere) into an absolute one.
func resolve(root, rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

func stack(root, workDir, env string, pl *checkresult.Plan) (attest.Stack, error) {
	id := pl.Stack
	if !strings.Contains(id, "/") {
		id = env + "/" + id
	}
	if pl.PlanFile == "" || pl.PlanSHA256 == "" {
		return attest.Stack{}, fmt.Errorf("%w: plan summary of %s names no saved plan", checkresult.ErrStale, id)
	}
	d, err := digest.File(resolve(root, pl.PlanFile))
	if err != nil {
		return attest.Stack{}, fmt.Errorf("%w: saved plan of %s: %v", checkresult.ErrStale, id, err)
	}
	if d != pl.PlanSHA256 {
		return attest.Stack{}, fmt.Errorf("%w: saved plan %s changed since the check (%s, check saw %s)", checkresult.ErrStale, pl.PlanFile, d, pl.PlanSHA256)
	}
	if err := pin(workDir, resolve(root, pl.PlanFile), d); err != nil {
		return attest.Stack{}, err
	}
	s := attest.Stack{ID: id, PlanFile: pl.PlanFile, PlanSHA256: pl.PlanSHA256, Changes: attest.Changes(pl.Changes), Rendered: pl.ConfigSHA256}
	if s.Rendered == "" && workDir != "" {
		name := path.Base(id)
		if rd, err := digest.File(filepath.Join(workDir, "stacks", env, name, "main.tf.json")); err == nil {
			s.Rendered = rd
		} else if !errors.Is(err, fs.ErrNotExist) {
			return attest.Stack{}, err
		}
	}
	return s, nil
}

func evidence(root string, ev checkresult.EvidenceRef) (*attest.Evidence, []byte, error) {
	full := resolve(root, ev.Path)
	b, err := safefile.ReadFile(full, safefile.Record)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: evidence summary: %v", checkresult.ErrStale, err)
	}
	if d := digest.Bytes(b); ev.SHA256 != "" && d != ev.SHA256 {
		return nil, nil, fmt.Errorf("%w: evidence summary %s changed since the check", checkresult.ErrStale, ev.Path)
	}
	var doc struct {
		Inputs []attest.Input `json:"inputs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("evidence summary %s: %w", ev.Path, err)
	}
	if doc.Inputs == nil {
		doc.Inputs = []attest.Input{}
	}
	return &attest.Evidence{Path: ev.Path, SHA256: digest.Bytes(b), Inputs: doc.Inputs, Headline: ev.Headline,
		BaselineSource: ev.BaselineSource, BaselineFrom: ev.BaselineFrom, BaselineVersion: ev.BaselineVersion, Baseline: ev.Baseline}, b, nil
}

func headArgs() []string   { return []string{"rev-parse", "HEAD"} }
func originArgs() []string { return []string{"config", "--get", "remote.origin.url"} }

// gitOutput runs git in dir and returns its trimmed output, or "" when git
// or the repository is not there: a release outside git records no commit.
func gitOutput(ctx context.Context, dir string, args []string) string {
	out, _, err := git(ctx, dir, args)
	if err != nil {
		return ""
	}
	return out
}

// git runs git in dir and returns its trimmed output and the first line
// of what it said on stderr.
func git(ctx context.Context, dir string, args []string) (string, string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
	return strings.TrimSpace(string(out)), msg, err
}

// ErrNoSource means the release cannot tell which commit it is made
// from: git is missing, dir is not a git work tree, or it has no commit.
var ErrNoSource = errors.New("no source commit")

// SourceOf returns the commit and repository of the git work tree at dir.
// A release must name its commit, and checks the check result against it,
// so no git, no work tree or no commit is an error (ErrNoSource); a
// missing remote is not. attest.NewStatement strips credentials from the
// remote URL: they must never be signed into a record.
func SourceOf(ctx context.Context, dir string) (attest.Source, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return attest.Source{}, fmt.Errorf("%w: git is not on PATH: a release signs the commit it is made from and checks the check result against it", ErrNoSource)
	}
	commit, msg, err := git(ctx, dir, headArgs())
	if err != nil || commit == "" {
		if ctx.Err() != nil {
			return attest.Source{}, ctx.Err()
		}
		return attest.Source{}, fmt.Errorf("%w: %s has no git commit (git rev-parse HEAD: %s): commit the specs before releasing them", ErrNoSource, dir, msg)
	}
	return attest.Source{Commit: commit, Repository: gitOutput(ctx, dir, originArgs())}, nil
}

// repair resolves unlisted records, trusting the platform's keys and the
// signer's own.
func repair(ctx context.Context, l *ledger.Ledger, p *spec.Platform, signer *sign.Signer, now time.Time) ([]ledger.Repair, error) {
	keys, err := verify.TrustedKeys(p)
	if err != nil {
		return nil, err
	}
	if signer != nil {
		pemBytes, err := signer.PublicKeyPEM()
		if err != nil {
			return nil, err
		}
		k, err := sign.ParsePublicKey("signer", pemBytes)
		if err != nil {
			return nil, err
		}
		keys = verify.Dedupe(append(keys, k))
	}
	return verify.Repair(ctx, l, keys, now)
}
