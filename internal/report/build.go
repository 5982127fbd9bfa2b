package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/parallel"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

// Options say what to report on.
type Options struct {
	Platform *spec.Platform
	// Keys verify the ledger's signatures; usually verify.TrustedKeys.
	Keys []*sign.PublicKey
	// Rules is the policy catalogue (built-in and repository rules); the
	// control coverage tables are built from its metadata.
	Rules []policy.Rule
	// Model and Environment narrow the report; empty means all.
	Model, Environment string
	// Since and Until bound the release history shown, Until exclusive;
	// zero means open. Current versions are those in force at Until.
	Since, Until time.Time
	// Now is the report's clock: waiver expiry, the generated-at stamp.
	Now     time.Time
	Version string
}

// ErrUnknownModel means --model names no model of the platform or ledger.
var ErrUnknownModel = errors.New("unknown model")

// ErrUnknownEnvironment means --env names no environment of the platform.
var ErrUnknownEnvironment = errors.New("unknown environment")

// record is one ledger record with its verdict and, when it verified,
// the predicate as verification decoded it (RecordReport.Statement), which
// every record shows. The full statement is needed only for the records a
// dossier rests on: verification decodes the newest of each model in each
// environment in full (VerifyOptions.WholeNewest), the usual references;
// any other is read again (builder.full). At ten thousand records,
// decoding every result list in full costs as much as verifying them.
type record struct {
	row ReleaseRow
	// lite is the verified predicate without the parts ParseSummary
	// leaves out; nil when the record did not verify.
	lite *attest.Release
	st   *attest.Statement
	at   time.Time
	// digest is the record's digest in the ledger index.
	digest string
}

func (r *record) verified() bool { return r.lite != nil }

// Build verifies the ledger and assembles the report.
func Build(ctx context.Context, o Options) (*Report, error) {
	p := o.Platform
	if o.Environment != "" {
		if _, ok := p.Environments[o.Environment]; !ok {
			return nil, fmt.Errorf("%w %q: the platform has %s", ErrUnknownEnvironment, o.Environment, strings.Join(p.EnvironmentNames(), ", "))
		}
	}
	recs, status, err := readLedger(ctx, p.Root, o.Keys, o.Now)
	if err != nil {
		return nil, err
	}
	models := modelNames(p, recs)
	if o.Model != "" {
		found := false
		for _, m := range models {
			found = found || m == o.Model
		}
		if !found {
			return nil, fmt.Errorf("%w %q: not in the platform or the ledger", ErrUnknownModel, o.Model)
		}
		models = []string{o.Model}
	}
	envs := p.EnvironmentNames()
	if o.Environment != "" {
		envs = []string{o.Environment}
	}
	b := &builder{ctx: ctx, o: o, p: p, rules: map[string]policy.Rule{}, envs: envs}
	for _, r := range o.Rules {
		b.rules[r.ID] = r
	}
	rep := &Report{
		Schema:         SchemaVersion,
		GeneratedAt:    o.Now.UTC().Format(time.RFC3339),
		SlipwayVersion: o.Version,
		Platform:       p.Name,
		Scope:          Scope{Model: o.Model, Environment: o.Environment, Since: day(o.Since), Until: lastDay(o.Until)},
		Environments:   envs,
		Ledger:         status,
		Portfolio:      []PortfolioRow{},
		Waivers:        []WaiverRow{},
		Failed:         []ReleaseRow{},
		Coverage:       []Framework{},
		Models:         []Dossier{},
		Sources: []SourceLegend{
			{SourceSigned, "read from a release record whose signature, ledger chain and content verified"},
			{SourceEvidence, "read from an evidence file whose sha256 the verified release record pins, after checking the digest"},
			{SourceSpec, "read from the platform spec as it is now (descriptions no release record carries, waivers not yet signed)"},
		},
	}
	byModel := map[string][]*record{}
	for _, r := range recs {
		if b.inEnv(r.row.Environment) {
			byModel[r.row.Model] = append(byModel[r.row.Model], r)
		}
	}
	b.dossiers = make([]*dossier, len(models))
	parallel.For(len(models), func(i int) { b.dossiers[i] = b.dossier(models[i], byModel[models[i]]) })
	b.monitoring(status.facts)
	for _, d := range b.dossiers {
		rep.Portfolio = append(rep.Portfolio, d.portfolio())
		for _, r := range d.history {
			if !r.verified() {
				rep.Failed = append(rep.Failed, r.row)
			}
		}
	}
	rep.Waivers = b.waivers()
	rep.Coverage = b.coverage()
	for i, d := range b.dossiers {
		for _, f := range rep.Coverage {
			col := Framework{Framework: f.Framework, Title: f.Title}
			for _, it := range f.Items {
				it.Models = []CoverageCell{it.Models[i]}
				// The mappings and their reasons are in the portfolio's
				// tables; a dossier repeats only its own standing.
				it.Mappings = []Mapping{}
				col.Items = append(col.Items, it)
			}
			d.coverage = append(d.coverage, col)
		}
		rep.Models = append(rep.Models, d.Dossier)
	}
	rep.Summary = b.summary(rep)
	return rep, nil
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// inOrder makes the n parts of a rendered report on every CPU, a window
// of slots at a time, and after each window emits them in order:
// render(slot, i) makes part i in the slot's buffers, emit(slot, i)
// writes it. The slots' buffers are reused window after window, so the
// parts are neither held all at once (150 MiB of HTML at 1,000 models)
// nor grown from nothing each time.
func inOrder(n, slots int, render, emit func(slot, i int) error) error {
	errs := make([]error, slots)
	for start := 0; start < n; start += slots {
		end := min(start+slots, n)
		parallel.For(end-start, func(s int) { errs[s] = render(s, start+s) })
		for s := range end - start {
			if errs[s] != nil {
				return errs[s]
			}
			if err := emit(s, start+s); err != nil {
				return err
			}
		}
	}
	return nil
}

// renderSlots is how many parts inOrder makes at once: a few per CPU,
// so that one slow part leaves the others busy.
func renderSlots(n int) int { return max(1, min(8*runtime.GOMAXPROCS(0), n)) }

// readLedger verifies the whole ledger and returns every record in
// ledger order; records that verified carry their statement.
func readLedger(ctx context.Context, root string, keys []*sign.PublicKey, now time.Time) ([]*record, LedgerStatus, error) {
	status := LedgerStatus{Keys: []string{}, Fingerprints: []KeyFingerprint{}, Problems: []string{}}
	for _, k := range keys {
		status.Keys = append(status.Keys, k.ID)
		status.Fingerprints = append(status.Fingerprints, KeyFingerprint{ID: k.ID, Fingerprint: k.Fingerprint})
	}
	sort.Strings(status.Keys)
	sort.Slice(status.Fingerprints, func(i, j int) bool { return status.Fingerprints[i].ID < status.Fingerprints[j].ID })
	entries, err := ledger.Open(root).Entries()
	if err != nil {
		return nil, status, fmt.Errorf("ledger: %w", err)
	}
	byPath := map[string]ledger.Entry{}
	for _, e := range entries {
		byPath[e.Path] = e
	}
	var recs []*record
	if len(entries) == 0 {
		status.OK = true
		return recs, status, nil
	}
	if len(keys) == 0 {
		// Without a trusted key nothing verifies; the records are still
		// listed, each plainly failing.
		status.Problems = append(status.Problems, "no trusted keys: add signing.trustedKeys to the platform or pass --key; no record could be verified")
		for _, e := range entries {
			recs = append(recs, &record{row: ReleaseRow{Seq: e.Seq, Environment: e.Environment, Model: e.Model, Version: e.Version,
				Record: e.Path, ReleasedAt: e.RecordedAt, Problems: []string{"not verified: no trusted key"}, Notes: []string{}}, at: parseTime(e.RecordedAt)})
		}
		status.Records, status.Failed = len(recs), len(recs)
		return recs, status, nil
	}
	vr, err := verify.Ledger(ctx, verify.Options{Root: root, Keys: keys, Now: now, WholeNewest: true})
	if err != nil {
		return nil, status, fmt.Errorf("verify ledger: %w", err)
	}
	status.Head = vr.Head
	status.Problems = append(status.Problems, vr.Problems...)
	recs = make([]*record, 0, len(vr.Records))
	others, othersFailed := 0, 0
	status.facts = &ledgerFacts{}
	for _, rr := range vr.Records {
		status.facts.add(byPath[rr.Path], rr)
		if !rr.IsRelease() {
			// Rollback and monitoring records are not releases: they
			// count toward the ledger's state, not its release history.
			others++
			if !rr.OK {
				othersFailed++
				for _, p := range rr.Problems {
					status.Problems = append(status.Problems, rr.Path+": "+p)
				}
			}
			continue
		}
		e := byPath[rr.Path]
		r := &record{row: ReleaseRow{Seq: rr.Seq, Environment: rr.Environment, Model: rr.Model, Version: rr.Version, Record: rr.Path,
			ReleasedAt: e.RecordedAt, KeyID: rr.KeyID, Problems: nonNil(rr.Problems), Notes: nonNil(rr.Notes)}, digest: e.Record}
		if st := rr.Statement(); st != nil {
			p := &st.Predicate
			r.lite, r.st = p, rr.Whole()
			r.row.Verified = true
			r.row.ReleasedAt, r.row.Decision, r.row.Verdict, r.row.Commit = p.ReleasedAt, p.Decision, p.Verdict, p.Source.Commit
		}
		r.at = parseTime(r.row.ReleasedAt)
		recs = append(recs, r)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].row.Seq < recs[j].row.Seq })
	for _, r := range recs {
		status.Records++
		if r.verified() {
			status.Verified++
		} else {
			status.Failed++
		}
	}
	status.Records += others
	status.Verified += others - othersFailed
	status.Failed += othersFailed
	status.OK = vr.OK && status.Failed == 0
	return recs, status, nil
}

// reopen reads a record that verified and returns its payload, after
// checking it is still the very file the ledger indexes.
func reopen(root, rel, want string) ([]byte, error) {
	b, err := safefile.ReadFileIn(root, filepath.FromSlash(rel), safefile.Record)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	if d := digest.Bytes(b); d != want {
		return nil, fmt.Errorf("%s changed while the report was built", rel)
	}
	e, err := sign.ParseEnvelope(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return e.Payload, nil
}

// full reads the whole statement of a verified record.
func (b *builder) full(r *record) error {
	if r.st != nil {
		return nil
	}
	payload, err := reopen(b.p.Root, r.row.Record, r.digest)
	if err != nil {
		return err
	}
	st, err := attest.Parse(payload)
	if err != nil {
		return fmt.Errorf("%s: %w", r.row.Record, err)
	}
	r.st = st
	return nil
}

// lastDay is the last day an exclusive end includes.
func lastDay(until time.Time) string {
	if until.IsZero() {
		return ""
	}
	return day(until.Add(-time.Nanosecond))
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// modelNames lists the platform's models and any model only the ledger
// knows (one removed from the specs after release), sorted.
func modelNames(p *spec.Platform, recs []*record) []string {
	seen := map[string]bool{}
	var out []string
	for m := range p.Models {
		seen[m] = true
		out = append(out, m)
	}
	for _, r := range recs {
		if !seen[r.row.Model] {
			seen[r.row.Model] = true
			out = append(out, r.row.Model)
		}
	}
	sort.Strings(out)
	return out
}

type builder struct {
	// ctx is Build's context, for the work a dossier starts (re-evaluating
	// predictions for confidence intervals).
	ctx      context.Context
	o        Options
	p        *spec.Platform
	rules    map[string]policy.Rule
	envs     []string
	dossiers []*dossier
}

func (b *builder) inEnv(env string) bool {
	return b.o.Environment == "" || env == b.o.Environment
}

func (b *builder) inPeriod(t time.Time) bool {
	return (b.o.Since.IsZero() || !t.Before(b.o.Since)) && (b.o.Until.IsZero() || t.Before(b.o.Until))
}

// envRank orders environments by promotion; unknown ones go last.
func (b *builder) envRank(env string) int {
	for i, e := range b.p.EnvironmentNames() {
		if e == env {
			return i
		}
	}
	return 1 << 20
}

// dossier is a Dossier with what the builder still needs.
type dossier struct {
	Dossier
	history []*record
	// current is the newest verified record per environment.
	current map[string]*record
	// currentOrdered is current in promotion order.
	currentOrdered []*record
	ref            *record
	model          *spec.Model
	ev             *evidence.Summary
	// outcomes are the reference release's results folded per rule.
	outcomes map[string]RuleOutcome
	// findings are the reference release's findings, for the outcome of
	// each table row (rowOutcome).
	findings []finding
	// claims are the frameworks the reference release's results claim
	// items of for rules the catalogue lacks.
	claims map[string]bool
	// controls are the items the reference release's results claim, per
	// framework in result order: each coverage cell reads its own
	// framework's instead of every result's controls.
	controls map[string][]ruleControl
	// ciNote says where the confidence intervals come from.
	ciNote string
	// fairness says whether the release rests on fairness evidence.
	fairness, handover bool
	waiverRows         []WaiverRow
	// monitored is the model's freshness per environment.
	monitored []MonitoredStatus
}

func (d *dossier) portfolio() PortfolioRow {
	row := PortfolioRow{Model: d.Model, Owner: d.Owner, Current: []Current{}, Fairness: d.fairness, Handover: d.handover,
		LastMonitored: append([]MonitoredStatus{}, d.monitored...)}
	var latest, newest *record
	for _, r := range d.history {
		if !r.verified() {
			row.FailedReleases++
		} else if newest == nil || r.row.Seq > newest.row.Seq {
			newest = r
		}
	}
	for _, df := range d.Diffs {
		row.LoosenedThreshold = row.LoosenedThreshold || (newest != nil && df.Record == newest.row.Record && len(df.Loosened) > 0)
	}
	for _, c := range d.currentOrdered {
		row.Current = append(row.Current, Current{Environment: c.row.Environment, Version: c.row.Version, ReleasedAt: c.row.ReleasedAt,
			Decision: c.row.Decision, Verdict: c.row.Verdict, Record: c.row.Record})
		if latest == nil || c.at.After(latest.at) || (c.at.Equal(latest.at) && c.row.Seq > latest.row.Seq) {
			latest = c
		}
	}
	if latest != nil {
		row.LatestDecision, row.LatestVerdict = latest.row.Decision, latest.row.Verdict
	}
	for _, w := range d.waiverRows {
		switch w.Status {
		case WaiverActive:
			row.OpenWaivers++
		case WaiverExpiring:
			row.OpenWaivers++
			row.ExpiringWaivers++
		}
	}
	return row
}

// signedModel decodes the resolved model spec a release signed.
func signedModel(st *attest.Statement) (*spec.Model, error) {
	var m spec.Model
	if err := json.Unmarshal(st.Predicate.Spec.Model, &m); err != nil {
		return nil, fmt.Errorf("signed model spec: %w", err)
	}
	return &m, nil
}

// ruleControl is one item a signed result claims for its rule.
type ruleControl struct{ rule, id string }
