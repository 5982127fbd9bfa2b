// Package monitor judges deployed models on their production prediction
// logs: it reads the logs' aggregates (internal/prodlog), measures input
// and prediction drift against the released version's reference snapshot,
// live performance and fairness with the metric definitions of `slipway
// evaluate`, the share of requests served by unreleased versions and the
// release's age, judges them with the monitoring policy pack, and appends
// a signed monitoring record to the ledger.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/prodlog"
	"github.com/slipway-ml/slipway/internal/quality"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

// ErrInput is wrapped by errors in what was asked or in the logs: the run
// writes no record and exits 2.
var ErrInput = errors.New("cannot monitor")

// Options say what to monitor and how.
type Options struct {
	Platform *spec.Platform
	Env      string
	// Model limits the run to one model; empty monitors every model of
	// the environment that has a monitoring.source.
	Model string
	// Since overrides the window's start (default: the end of the last
	// monitoring record's window, else the first logged request).
	Since time.Time
	Now   time.Time
	// Getenv reads the variables sources name for connection strings.
	Getenv func(string) string
	// Trust says which keys verify the releases the run judges against.
	Trust verify.TrustRoot
	// Signer signs the monitoring records; nil writes none (a dry run).
	Signer  *sign.Signer
	Version string
	Log     *slog.Logger
	// Issues, when set, keeps one issue per model and environment: open
	// while it breaches, closed once healthy.
	Issues Issues
}

// Result is every model monitored.
type Result struct {
	Runs []Run `json:"runs"`
}

// Denied counts the runs a policy denied.
func (r *Result) Denied() int {
	n := 0
	for _, run := range r.Runs {
		if run.Verdict == policy.OutcomeDeny {
			n++
		}
	}
	return n
}

// Run is one model monitored in one environment.
type Run struct {
	Model       string           `json:"model"`
	Environment string           `json:"environment"`
	Source      prodlog.Identity `json:"source"`
	Figures     Figures          `json:"figures"`
	Results     []policy.Result  `json:"results"`
	Verdict     policy.Outcome   `json:"verdict"`
	// Record is the signed record's path; empty in a dry run.
	Record string `json:"record,omitempty"`
	// Issue is what the run did with its GitHub issue, with --github.
	Issue *Issue `json:"issue,omitempty"`
}

// Breaches are the run's denials.
func (r Run) Breaches() []policy.Result {
	var out []policy.Result
	for _, x := range r.Results {
		if x.Outcome == policy.OutcomeDeny {
			out = append(out, x)
		}
	}
	return out
}

// Figures are what the run measured; the monitoring policy pack reads
// them as input.monitoring.
type Figures struct {
	Window prodlog.Window `json:"window"`
	Rows   int64          `json:"rows"`
	// Nulls are each column's null values in the window.
	Nulls map[string]int64 `json:"nulls"`
	// Reference is the snapshot drift is measured against.
	Reference       string                          `json:"reference"`
	Drift           map[string]quality.FeatureDrift `json:"drift"`
	PredictionDrift *quality.FeatureDrift           `json:"prediction_drift"`
	Versions        map[string]VersionShare         `json:"versions"`
	UnreleasedShare float64                         `json:"unreleased_share"`
	// Outcomes are the live metrics; nil without outcomes in the source.
	Outcomes *metrics.Live `json:"outcomes"`
	// NotMeasured are the model's metrics a live run cannot measure from
	// counts (score-rank metrics such as roc_auc).
	NotMeasured []string `json:"not_measured,omitempty"`
	// Release is the verified release serving in the environment.
	Release *ReleaseRef `json:"release"`
}

// VersionShare is the requests one model version served.
type VersionShare struct {
	Requests int64   `json:"requests"`
	Share    float64 `json:"share"`
	// Released says a verified release in the environment covers it.
	Released bool `json:"released"`
	// AfterRollback counts its requests served after a verified rollback
	// took the environment from this version to RolledBackTo (at
	// RolledBackAt) and before a release of it again: no release covers
	// them any more.
	AfterRollback int64  `json:"after_rollback,omitempty"`
	RolledBackTo  string `json:"rolled_back_to,omitempty"`
	RolledBackAt  string `json:"rolled_back_at,omitempty"`
}

// ReleaseRef is the newest verified release of the model in the
// environment.
type ReleaseRef struct {
	Version    string              `json:"version"`
	Record     string              `json:"record"`
	ReleasedAt string              `json:"released_at"`
	AgeDays    float64             `json:"age_days"`
	Headline   map[string]*float64 `json:"headline"`
	artifact   attest.Artifact
}

// history is what the ledger says of one model in one environment.
type history struct {
	released map[string]bool
	// byVersion is the newest verified release of each version.
	byVersion map[string]*ReleaseRef
	// latest is the serving release: the newest verified release, or the
	// one a later verified, successful rollback went back to.
	latest *ReleaseRef
	// changes are the rollbacks, and releases of a version rolled back
	// from, in ledger order: each changes which versions may serve.
	changes   []coverChange
	lastTo    time.Time // end of the last monitoring record's window
	lastAt    time.Time // when the last monitoring record was signed
	hasRecord bool
}

// coverChange is one ledger record changing whether a version may serve:
// a rollback withdraws the version it went back from (to To), a release
// of that version covers it again.
type coverChange struct {
	at       time.Time
	version  string
	withdraw bool
	to       string
}

// withdrawn is the versions rolled back from, and where to, as of t.
func (h *history) withdrawn(t time.Time, inclusive bool) map[string]coverChange {
	out := map[string]coverChange{}
	for _, c := range h.changes {
		if c.at.After(t) || (!inclusive && c.at.Equal(t)) {
			break
		}
		if c.withdraw {
			out[c.version] = c
		} else {
			delete(out, c.version)
		}
	}
	return out
}

// cuts are the times within the window at which the versions that may
// serve change.
func (h *history) cuts(w prodlog.Window) []time.Time {
	var out []time.Time
	for _, c := range h.changes {
		if c.at.After(w.From) && (w.To.IsZero() || c.at.Before(w.To)) && !slices.Contains(out, c.at) {
			out = append(out, c.at)
		}
	}
	return out
}

func readHistory(ctx context.Context, o Options) (map[[2]string]*history, error) {
	out := map[[2]string]*history{}
	get := func(env, model string) *history {
		k := [2]string{env, model}
		if out[k] == nil {
			out[k] = &history{released: map[string]bool{}, byVersion: map[string]*ReleaseRef{}}
		}
		return out[k]
	}
	rep, err := verify.Ledger(ctx, verify.Options{Root: o.Platform.Root, Environment: o.Env, Model: o.Model, Now: o.Now, Trust: o.Trust})
	if err != nil {
		if errors.Is(err, verify.ErrNoKeys) {
			return nil, fmt.Errorf("%w: verify the releases to judge against: %w", ErrInput, err)
		}
		return nil, fmt.Errorf("verify the ledger: %w", err)
	}
	for _, r := range rep.Records {
		if !r.OK {
			continue
		}
		h := get(r.Environment, r.Model)
		if r.IsRelease() {
			st := r.Statement()
			if st == nil {
				continue
			}
			h.released[r.Version] = true
			at, _ := time.Parse(time.RFC3339, st.Predicate.ReleasedAt)
			ref := &ReleaseRef{Version: r.Version, Record: r.Path, ReleasedAt: st.Predicate.ReleasedAt,
				AgeDays: o.Now.Sub(at).Hours() / 24, Headline: map[string]*float64{}, artifact: st.Predicate.Artifact}
			if st.Predicate.Evidence != nil && st.Predicate.Evidence.Headline != nil {
				ref.Headline = st.Predicate.Evidence.Headline
			}
			h.latest = ref
			h.byVersion[r.Version] = ref
			if _, ok := h.withdrawn(at, true)[r.Version]; ok {
				h.changes = append(h.changes, coverChange{at: at, version: r.Version})
			}
			continue
		}
		rec := r.LedgerRecord()
		if rec == nil {
			continue
		}
		if r.Kind == ledger.Rollback {
			var rb attest.Rollback
			if err := rec.Decode(&rb); err != nil || rb.Outcome != attest.RollbackSucceeded {
				continue // a failed rollback left the serving version as it was
			}
			at, _ := time.Parse(time.RFC3339, rb.RecordedAt)
			if to := h.byVersion[rb.To.Version]; to != nil {
				h.latest = to
			}
			if rb.From.Version != rb.To.Version {
				h.changes = append(h.changes, coverChange{at: at, version: rb.From.Version, withdraw: true, to: rb.To.Version})
			}
			continue
		}
		if r.Kind != ledger.Monitoring {
			continue
		}
		var p Predicate
		if err := rec.Decode(&p); err != nil {
			continue
		}
		h.hasRecord = true
		h.lastTo = p.Window.To
		h.lastAt, _ = time.Parse(time.RFC3339, p.RecordedAt)
	}
	return out, nil
}

// Monitor runs every model in scope. A model whose logs cannot be read
// stops the run with an error before any record is written for it.
func Monitor(ctx context.Context, o Options) (*Result, error) {
	p := o.Platform
	if _, ok := p.Environments[o.Env]; !ok {
		return nil, fmt.Errorf("%w: unknown environment %q", ErrInput, o.Env)
	}
	var models []string
	if o.Model != "" {
		m, ok := p.Models[o.Model]
		if !ok {
			return nil, fmt.Errorf("%w: unknown model %q", ErrInput, o.Model)
		}
		if m.Monitoring.Source == nil {
			return nil, fmt.Errorf("%w: model %s has no monitoring.source", ErrInput, o.Model)
		}
		if !slices.Contains(m.Environments, o.Env) {
			return nil, fmt.Errorf("%w: model %s is not deployed in %s", ErrInput, o.Model, o.Env)
		}
		models = []string{o.Model}
	} else {
		for _, name := range p.ModelNames() {
			m := p.Models[name]
			if m.Monitoring.Source != nil && slices.Contains(m.Environments, o.Env) {
				models = append(models, name)
			}
		}
		if len(models) == 0 {
			return nil, fmt.Errorf("%w: no model deployed in %s has a monitoring.source", ErrInput, o.Env)
		}
	}
	hist, err := readHistory(ctx, o)
	if err != nil {
		return nil, err
	}
	engine, err := policy.New(ctx, p.Root)
	if err != nil {
		return nil, err
	}
	res := &Result{Runs: []Run{}}
	for _, name := range models {
		h := hist[[2]string{o.Env, name}]
		if h == nil {
			h = &history{released: map[string]bool{}, byVersion: map[string]*ReleaseRef{}}
		}
		run, err := monitorOne(ctx, o, engine, p.Models[name], h)
		if err != nil {
			return res, fmt.Errorf("monitor %s in %s: %w", name, o.Env, err)
		}
		res.Runs = append(res.Runs, *run)
	}
	return res, nil
}

// reference picks the snapshot drift is measured against: the model's
// data.reference, else its gold data source's snapshot.
func reference(p *spec.Platform, m spec.Model) (path string, types map[string]string, err error) {
	types = map[string]string{}
	if ds, ok := p.DataSources[m.Evaluation.Data]; ok {
		for _, f := range ds.Schema {
			types[f.Name] = f.Type
		}
		path = ds.Snapshot
	}
	for _, t := range m.Training.Data {
		if ds, ok := p.DataSources[t]; ok {
			for _, f := range ds.Schema {
				if types[f.Name] == "" {
					types[f.Name] = f.Type
				}
			}
		}
	}
	if m.Data != nil && m.Data.Reference != "" {
		path = m.Data.Reference
	}
	if path == "" {
		return "", nil, fmt.Errorf("%w: model %s names no reference snapshot (data.reference, or a snapshot of %s)", ErrInput, m.Name, m.Evaluation.Data)
	}
	return path, types, nil
}

func monitorOne(ctx context.Context, o Options, engine *policy.Engine, m spec.Model, h *history) (*Run, error) {
	p := o.Platform
	src := *m.Monitoring.Source
	refPath, types, err := reference(p, m)
	if err != nil {
		return nil, err
	}
	profiles, _, err := quality.Profiles(ctx, filepath.Join(p.Root, filepath.FromSlash(refPath)), refPath, src.Features, types)
	if err != nil {
		return nil, fmt.Errorf("%w: reference snapshot: %w", ErrInput, err)
	}
	// The prediction's reference is the released version's predictions
	// on the gold set: its score, else its predicted class.
	predCol, predRef := src.Score, m.Evaluation.Columns.Score
	if predCol == "" || predRef == "" {
		predCol, predRef = src.Prediction, m.Evaluation.Columns.Prediction
	}
	var predProfile *quality.Profile
	if predCol != "" && predRef != "" {
		pp, _, err := quality.Profiles(ctx, filepath.Join(p.Root, filepath.FromSlash(m.Evaluation.Predictions)), m.Evaluation.Predictions, []string{predRef}, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: prediction reference: %w", ErrInput, err)
		}
		predProfile = pp[predRef]
	}
	cfg := evidence.MetricsConfig(m, p.Policy)
	// Live figures carry intervals made as the release's evidence made
	// them, so the two are comparable.
	evidence.Intervals(&cfg, 0, 0)
	q := prodlog.Query{Source: src, Root: p.Root, Numeric: map[string][]float64{}, Threshold: m.Evaluation.Threshold}
	for _, f := range src.Features {
		if pr := profiles[f]; pr.Kind == "numeric" {
			q.Numeric[f] = pr.Edges
		} else {
			q.Categorical = append(q.Categorical, f)
		}
	}
	if predProfile != nil {
		if predProfile.Kind == "numeric" {
			q.Numeric[predCol] = predProfile.Edges
		} else if !slices.Contains(q.Categorical, predCol) {
			q.Categorical = append(q.Categorical, predCol)
		}
	}
	if src.Outcomes != nil {
		q.Groups = cfg.Sensitive
	}
	if src.Kind == "postgres" {
		q.ConnString = o.Getenv(src.ConnEnv)
	}
	q.Window = prodlog.Window{From: h.lastTo, To: o.Now.UTC()}
	if !o.Since.IsZero() {
		q.Window.From = o.Since.UTC()
	}
	q.Cuts = h.cuts(q.Window)
	o.Log.Info("aggregating production logs", "model", m.Name, "env", o.Env, "source", src.Kind, "from", q.Window.From, "to", q.Window.To)
	counts, err := prodlog.Aggregate(ctx, q)
	if err != nil {
		return nil, err
	}
	fig := Figures{Window: q.Window, Rows: counts.Rows, Nulls: counts.Nulls, Reference: refPath,
		Drift: map[string]quality.FeatureDrift{}, Versions: map[string]VersionShare{}, Release: h.latest}
	binned := func(col string, pr *quality.Profile) quality.Binned {
		var b quality.Binned
		if pr.Kind == "numeric" {
			b.Counts = make([]float64, len(counts.Bins[col]))
			for i, c := range counts.Bins[col] {
				b.Counts[i] = float64(c)
			}
			return b
		}
		b.Categories = map[string]float64{}
		for k, c := range counts.Categories[col] {
			b.Categories[k] = float64(c)
		}
		return b
	}
	for _, f := range src.Features {
		fig.Drift[f] = profiles[f].Compare(binned(f, profiles[f]))
	}
	if predProfile != nil {
		d := predProfile.Compare(binned(predCol, predProfile))
		fig.PredictionDrift = &d
	}
	fig.Versions, fig.UnreleasedShare = versionShares(counts, q, h)
	if src.Outcomes != nil {
		live, err := liveOutcomes(cfg, counts)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		fig.Outcomes = live
		for _, name := range slices.Sorted(maps.Keys(m.Evaluation.Metrics)) {
			if _, ok := live.Overall.Values[name]; !ok {
				fig.NotMeasured = append(fig.NotMeasured, name)
			}
		}
	}
	run := &Run{Model: m.Name, Environment: o.Env, Source: counts.Identity, Figures: fig}
	in := policy.NewInput(p, policy.Unit{Model: m.Name, Environment: o.Env, Phase: policy.PhaseCheck, Kind: policy.KindMonitoring,
		Now: o.Now, Monitoring: fig})
	run.Results = engine.Evaluate(ctx, p, in)
	run.Verdict = policy.Verdict(run.Results)
	if o.Signer == nil {
		if o.Issues != nil {
			if err := notify(ctx, o.Issues, run); err != nil {
				return nil, fmt.Errorf("github issue: %w", err)
			}
		}
		return run, nil
	}
	// The issue is opened or updated before the record is signed, so the
	// signed record holds the issue and the issue links the record; a
	// GitHub error writes no record, as any failed run.
	path, err := appendRecord(ctx, o, m, run, h)
	if err != nil {
		return nil, fmt.Errorf("append the monitoring record: %w", err)
	}
	run.Record = path
	return run, nil
}

// versionShares is the version check: the requests per served version,
// and the share no verified release covers. A version a verified rollback
// went back from is not covered for the requests after the rollback (until
// it is released again): the ledger says another version serves.
func versionShares(c *prodlog.Counts, q prodlog.Query, h *history) (map[string]VersionShare, float64) {
	out := map[string]VersionShare{}
	rows := float64(max(c.Rows, 1))
	var uncovered int64
	for _, v := range slices.Sorted(maps.Keys(c.Versions)) {
		n := c.Versions[v]
		vs := VersionShare{Requests: n, Share: float64(n) / rows, Released: h.released[v]}
		if !vs.Released {
			uncovered += n
		}
		out[v] = vs
	}
	for i, epoch := range c.Epochs {
		start := q.Window.From
		if i > 0 {
			start = q.Cuts[i-1]
		}
		gone := h.withdrawn(start, true)
		for _, v := range slices.Sorted(maps.Keys(epoch)) {
			ch, ok := gone[v]
			vs := out[v]
			if !ok || !vs.Released {
				continue
			}
			vs.AfterRollback += epoch[v]
			vs.RolledBackTo, vs.RolledBackAt = ch.to, ch.at.UTC().Format(time.RFC3339)
			uncovered += epoch[v]
			out[v] = vs
		}
	}
	if c.Epochs == nil {
		// No cut in the window: a rollback before it withdraws the
		// version for the whole window.
		gone := h.withdrawn(q.Window.From, true)
		for v, vs := range out {
			if ch, ok := gone[v]; ok && vs.Released {
				vs.AfterRollback, vs.RolledBackTo, vs.RolledBackAt = vs.Requests, ch.to, ch.at.UTC().Format(time.RFC3339)
				uncovered += vs.Requests
				out[v] = vs
			}
		}
	}
	return out, float64(uncovered) / rows
}

// liveOutcomes classifies the counted predictions and labels and measures
// them.
func liveOutcomes(cfg metrics.Config, c *prodlog.Counts) (*metrics.Live, error) {
	lc := metrics.LiveCounts{Groups: map[string]map[string]metrics.Confusion{}}
	for _, attr := range cfg.Sensitive {
		lc.Groups[attr] = map[string]metrics.Confusion{}
	}
	for cell, n := range c.Outcomes {
		posPred := cfg.Positive
		if c.ScoredPrediction {
			posPred = "true"
		}
		pred, err := metrics.Classify(cell.Pred, posPred)
		if err != nil {
			return nil, fmt.Errorf("prediction: %w", err)
		}
		label, err := metrics.Classify(cell.Label, cfg.Positive)
		if err != nil {
			return nil, fmt.Errorf("outcome label: %w", err)
		}
		var add metrics.Confusion
		switch {
		case pred && label:
			add.TP = float64(n)
		case pred:
			add.FP = float64(n)
		case label:
			add.FN = float64(n)
		default:
			add.TN = float64(n)
		}
		if cell.Attr == "" {
			lc.Overall = sum(lc.Overall, add)
			continue
		}
		lc.Groups[cell.Attr][cell.Group] = sum(lc.Groups[cell.Attr][cell.Group], add)
	}
	live := metrics.LiveBinary(cfg, lc)
	return &live, nil
}

func sum(a, b metrics.Confusion) metrics.Confusion {
	return metrics.Confusion{TP: a.TP + b.TP, FP: a.FP + b.FP, TN: a.TN + b.TN, FN: a.FN + b.FN}
}
