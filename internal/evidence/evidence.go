// Package evidence builds a model's evidence summary from the files its
// spec names: metrics computed from the predictions on the gold set, test
// report counts, data quality and drift of the snapshots, the runbook's
// sections, and the sha256 of every file read. The summary is what the
// policy engine judges; evidence that cannot be read is recorded as a
// problem (which policies deny), never as a failed run.
package evidence

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/jsonindent"
	"github.com/slipway-ml/slipway/internal/junit"
	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/parallel"
	"github.com/slipway-ml/slipway/internal/quality"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/spec"
)

// Problem kinds, matching the spec field that names the file.
const (
	KindPredictions = "predictions"
	// KindBaseline is the champion's predictions file.
	KindBaseline = "baseline"
	KindTests    = "tests"
	KindData     = "data"
	KindRunbook  = "runbook"
)

// Summary is the evidence summary of one model
// (.slipway/evidence/<model>.json).
type Summary struct {
	Model          string      `json:"model"`
	Version        string      `json:"version"`
	Task           string      `json:"task"`
	GeneratedAt    string      `json:"generated_at"`
	SlipwayVersion string      `json:"slipway_version"`
	Evaluation     *Evaluation `json:"evaluation"`
	Gold           *Gold       `json:"gold"`
	// Baseline is the champion's evaluation on the same gold set, when
	// the spec gives evaluation.baseline.predictions; null otherwise.
	Baseline *Baseline `json:"baseline,omitempty"`
	Tests    Tests     `json:"tests"`
	Data     Data      `json:"data"`
	Runbook  Runbook   `json:"runbook"`
	Inputs   []Input   `json:"inputs"`
	Problems []Problem `json:"problems"`
}

// Evaluation is the metrics computed from the predictions and, under
// "integrity", what joining them to the gold snapshot shows.
type Evaluation struct {
	*metrics.Report
	// Integrity is null when the gold data source declares no
	// uniqueKeys or snapshot.
	Integrity *Integrity `json:"integrity,omitempty"`
}

// Gold ties the evaluation to the gold data source: the digest its spec
// declares and the digest of the snapshot committed for it.
type Gold struct {
	DataSource      string `json:"data_source"`
	DeclaredVersion string `json:"declared_version"`
	Snapshot        string `json:"snapshot"`
	SnapshotSHA256  string `json:"snapshot_sha256"`
}

// Tests are the model's JUnit reports, counted.
type Tests struct {
	Reports []Input                 `json:"reports"`
	Suites  map[string]*junit.Suite `json:"suites"`
	Total   junit.Counts            `json:"total"`
}

// Data is the quality of each named data source's snapshot and the drift
// between the model's reference and current snapshots.
type Data struct {
	Sources map[string]*quality.Report `json:"sources"`
	Drift   *quality.Drift             `json:"drift,omitempty"`
}

// Runbook records the runbook's markdown headings and what is written
// under them, so the policies can tell a written runbook from a skeleton.
type Runbook struct {
	Path     string   `json:"path"`
	Exists   bool     `json:"exists"`
	Sections []string `json:"sections"`
	// Placeholders counts the lines holding TODO(slipway).
	Placeholders int `json:"placeholders"`
	// Content is each level 1 or 2 section, in order.
	Content []Section `json:"content"`
	// ErrorCodes says, for each error code the model documents, where the
	// runbook names it.
	ErrorCodes map[string]CodeMention `json:"error_codes"`
	// NamesRollbackCommand says the runbook shows RollbackCommand.
	NamesRollbackCommand bool `json:"names_rollback_command"`
}

// Section is a runbook section: the words under its heading, subsections
// included, and its lines holding TODO(slipway).
type Section struct {
	Title        string `json:"title"`
	Words        int    `json:"words"`
	Placeholders int    `json:"placeholders"`
}

// CodeMention is where a runbook names an error code: anywhere, and in its
// Diagnosis section.
type CodeMention struct {
	Named       bool `json:"named"`
	InDiagnosis bool `json:"in_diagnosis"`
}

// RollbackCommand is the command a runbook must show for undoing a release.
const RollbackCommand = "slipway rollback"

// placeholder marks what a person must still write (policy.Placeholder;
// evidence cannot import the policy engine).
const placeholder = "TODO(slipway)"

// diagnosisSection is the runbook section error codes are explained in.
const diagnosisSection = "diagnosis"

// Input is a file read, repo-relative, with its digest.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Problem is evidence that could not be read or measured.
type Problem struct {
	Kind    string `json:"kind"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Options tune spec-mode evaluation.
type Options struct {
	// Now is the clock for generated_at and freshness; time.Now if nil.
	Now func() time.Time
	// SlipwayVersion is recorded in the summary.
	SlipwayVersion string
	// Bootstrap and Seed add confidence intervals; Bootstrap 0 is
	// DefaultBootstrap, since thresholds decided on the interval need
	// one, and a negative Bootstrap makes none.
	Bootstrap int
	Seed      int64
	// Workers parse predictions in parallel; 0 is one per CPU.
	Workers int

	memo *memo
	// noJoin leaves the gold join out, for measuring what it costs.
	noJoin bool
}

// DefaultBootstrap is the number of bootstrap replicates of a spec-mode
// evaluation that does not say.
const DefaultBootstrap = 1000

// ErrUnknownModel is returned for a model the platform does not define.
var ErrUnknownModel = errors.New("unknown model")

// Path is where the summary of model is written under workdir.
func Path(workdir, model string) string {
	return filepath.Join(workdir, "evidence", model+".json")
}

// Evaluate builds the evidence summary of one model. Only an unknown model
// or a cancelled context is an error; unreadable evidence is a problem in
// the summary.
func Evaluate(ctx context.Context, p *spec.Platform, model string, opts Options) (*Summary, error) {
	m, ok := p.Models[model]
	if !ok {
		return nil, fmt.Errorf("model %q: %w (have %s)", model, ErrUnknownModel, strings.Join(p.ModelNames(), ", "))
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	b := &builder{ctx: ctx, p: p, inputs: map[string]string{}}
	s := &Summary{
		Model: m.Name, Version: m.Version, Task: m.Task,
		GeneratedAt:    now().UTC().Format(time.RFC3339),
		SlipwayVersion: opts.SlipwayVersion,
		Tests:          Tests{Reports: []Input{}, Suites: map[string]*junit.Suite{}},
		Data:           Data{Sources: map[string]*quality.Report{}},
		Problems:       []Problem{},
	}
	gj, gq := b.prepareJoin(m, now(), opts)
	rep, gj := b.evaluation(m, opts, gj)
	s.Baseline = b.baseline(m, opts)
	s.Gold = b.gold(m)
	if rep != nil {
		s.Evaluation = &Evaluation{Report: rep, Integrity: b.integrity(m, rep, gj)}
	}
	s.Tests = b.tests(m)
	s.Data = b.data(m, now(), gq)
	s.Runbook = b.runbook(m)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.fatal != nil {
		return nil, fmt.Errorf("model %q: %w", model, b.fatal)
	}
	s.Problems = append(s.Problems, b.problems...)
	for _, path := range slices.Sorted(maps.Keys(b.inputs)) {
		s.Inputs = append(s.Inputs, Input{Path: path, SHA256: b.inputs[path]})
	}
	if s.Inputs == nil {
		s.Inputs = []Input{}
	}
	return s, nil
}

// WriteAll evaluates models (every model when empty) and writes each
// summary atomically to Path(workdir, model). Models are evaluated one per
// core at a time (each summary is independent, and a check of 1,000 models
// spent a second on them on one core); the summaries are returned in the
// order of models, up to the first model that failed, whose error is
// returned. The summaries are written as one atomicfile.Batch, flushed to
// disk once for all of them: one fsync each cost more than evaluating them
// when models share their predictions.
func WriteAll(ctx context.Context, p *spec.Platform, workdir string, models []string, opts Options) ([]*Summary, error) {
	if len(models) == 0 {
		models = p.ModelNames()
	}
	opts.memo = &memo{reports: map[string]*metrics.Report{}}
	out := make([]*Summary, len(models))
	errs := make([]error, len(models))
	// failed is the index of the first model that failed so far: later
	// ones need not be evaluated, earlier ones still are.
	var failed atomic.Int64
	failed.Store(int64(len(models)))
	var batch atomicfile.Batch
	parallel.For(len(models), func(i int) {
		name := models[i]
		if int64(i) > failed.Load() || ctx.Err() != nil {
			return
		}
		s, err := Evaluate(ctx, p, name, opts)
		if err == nil {
			err = write(&batch, Path(workdir, name), s)
		}
		if err != nil {
			errs[i] = err
			for {
				f := failed.Load()
				if int64(i) >= f || failed.CompareAndSwap(f, int64(i)) {
					break
				}
			}
			return
		}
		out[i] = s
	}) // errors are in errs, by model
	if err := ctx.Err(); err != nil {
		batch.Discard()
		return nil, err
	}
	// What was evaluated before a failure is written, as one at a time
	// would have.
	if err := batch.Commit(); err != nil {
		return nil, fmt.Errorf("write evidence: %w", err)
	}
	for i, err := range errs {
		if err != nil {
			return out[:i], err
		}
	}
	return out, nil
}

// write adds a summary, as indented JSON, to the batch.
func write(b *atomicfile.Batch, path string, s *Summary) error {
	// Marshalled compactly and indented in one pass: json.MarshalIndent
	// marshals, then re-indents through a slower general indenter.
	compact, err := json.Marshal(s)
	if err != nil {
		return err
	}
	data := jsonindent.Append(make([]byte, 0, len(compact)*2), compact)
	if err := b.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write evidence %s: %w", path, err)
	}
	return nil
}

// Read reads a summary Write wrote.
func Read(path string) (*Summary, error) {
	b, err := safefile.ReadFile(path, safefile.Record)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read evidence %s: %w", path, err)
	}
	return &s, nil
}

type builder struct {
	ctx      context.Context
	p        *spec.Platform
	inputs   map[string]string
	problems []Problem
	// fatal is the first problem that stops the run; see problem.
	fatal error
}

func (b *builder) problem(kind, path string, err error) {
	// A file that is not a regular file or is over a size limit is not
	// thin evidence but a hostile or broken input: it stops the run
	// (exit 2) rather than becoming a denial.
	if b.fatal == nil && (errors.Is(err, safefile.ErrTooLarge) || errors.Is(err, safefile.ErrNotRegular)) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if msg := err.Error(); !strings.HasPrefix(msg, path+":") {
			err = fmt.Errorf("%s: %w", path, err)
		}
		b.fatal = fmt.Errorf("%s evidence: %w", kind, err)
	}
	b.problems = append(b.problems, Problem{Kind: kind, Path: path, Message: err.Error()})
}

// Baseline is a baseline Slipway measured: the champion's predictions
// evaluated with the model's own settings.
type Baseline struct {
	Predictions string      `json:"predictions"`
	SHA256      string      `json:"sha256"`
	Overall     metrics.Set `json:"overall"`
}

// baseline evaluates the champion's predictions, or returns nil when the
// spec names none or they cannot be read (a problem).
func (b *builder) baseline(m spec.Model, opts Options) *Baseline {
	bl := m.Evaluation.Baseline
	if bl == nil || bl.Predictions == "" {
		return nil
	}
	abs := b.open(KindBaseline, bl.Predictions)
	if abs == "" {
		return nil
	}
	cfg := MetricsConfig(m, b.p.Policy)
	cfg.Workers = opts.Workers
	cfg.Name = bl.Predictions
	rep, err := metrics.EvaluateFile(b.ctx, abs, cfg)
	if err != nil {
		b.problem(KindBaseline, bl.Predictions, err)
		return nil
	}
	return &Baseline{Predictions: bl.Predictions, SHA256: b.inputs[bl.Predictions], Overall: rep.Overall}
}

// open resolves a repo-relative path and records its digest; a problem is
// recorded and "" returned when the file cannot be read.
func (b *builder) open(kind, rel string) string {
	abs, err := b.p.ResolvePath(rel)
	if err != nil {
		b.problem(kind, rel, err)
		return ""
	}
	d, err := digest.File(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = errors.New("file does not exist")
		}
		b.problem(kind, rel, err)
		return ""
	}
	b.inputs[rel] = d
	return abs
}

func (b *builder) evaluation(m spec.Model, opts Options, gj *goldJoin) (*metrics.Report, *goldJoin) {
	e := m.Evaluation
	abs := b.open(KindPredictions, e.Predictions)
	if abs == "" {
		return nil, nil
	}
	cfg := MetricsConfig(m, b.p.Policy)
	cfg.Workers = opts.Workers
	Intervals(&cfg, opts.Bootstrap, opts.Seed)
	// The gold join rides on the evaluation's scan of the predictions.
	if cfg.Visit = gj.visitor(); cfg.Visit != nil {
		rep, err := metrics.EvaluateFile(b.ctx, abs, cfg)
		if err == nil {
			return rep, gj
		}
		// Evaluated alone below: a problem the join brought (a missing
		// key column) is the join's, reported by integrity.
		gj.failed = true
		cfg.Visit = nil
	}
	key, share := memoKey(b.inputs[e.Predictions], cfg)
	if share {
		if rep := opts.memo.get(key, cfg.Name); rep != nil {
			return rep, gj
		}
	}
	rep, err := metrics.EvaluateFile(b.ctx, abs, cfg)
	if share {
		// A failed evaluation is not shared: put(nil) lets a waiting
		// worker try it itself.
		shared := rep
		if err != nil {
			shared = nil
		}
		opts.memo.put(key, shared)
	}
	if err != nil {
		b.problem(KindPredictions, e.Predictions, err)
		return nil, gj
	}
	return rep, gj
}

// MetricsConfig is how a model's evaluation and fairness settings read its
// predictions file under platform policy p (whose minGroupSize applies
// where the model sets none). Bootstrap settings are left to the caller.
func MetricsConfig(m spec.Model, p spec.PolicyDefaults) metrics.Config {
	e := m.Evaluation
	cfg := metrics.Config{
		Task: m.Task, Label: e.Columns.Label, Prediction: e.Columns.Prediction, Score: e.Columns.Score, Weight: e.Columns.Weight,
		Positive: positive(e.Positive), Threshold: e.Threshold,
		MinGroupSize: m.MinGroupSize(p), Name: e.Predictions,
	}
	if f := m.Fairness; f != nil {
		cfg.Sensitive, cfg.Intersectional, cfg.ReferenceGroup = f.Sensitive, f.Intersectional, f.ReferenceGroup
	}
	return cfg
}

// Intervals sets cfg's confidence intervals as a release's evidence has
// them, so live figures (`slipway monitor`) carry intervals made the same
// way: bootstrap 0 is DefaultBootstrap and a negative one none, seed 0 is
// 1, and only binary tasks get intervals.
func Intervals(cfg *metrics.Config, bootstrap int, seed int64) {
	cfg.Bootstrap, cfg.Seed = bootstrap, seed
	switch {
	case cfg.Bootstrap == 0:
		cfg.Bootstrap = DefaultBootstrap
	case cfg.Bootstrap < 0:
		cfg.Bootstrap = 0
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Task != metrics.Binary {
		cfg.Bootstrap = 0
	}
}

// positive renders the spec's positive class as the text of a CSV field.
func positive(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

func (b *builder) gold(m spec.Model) *Gold {
	name := m.Evaluation.Data
	src, ok := b.p.DataSources[name]
	if !ok {
		return nil
	}
	g := &Gold{DataSource: name, DeclaredVersion: src.Version, Snapshot: src.Snapshot}
	if src.Snapshot != "" {
		if abs := b.open(KindData, src.Snapshot); abs != "" {
			g.SnapshotSHA256 = b.inputs[src.Snapshot]
		}
	}
	return g
}

func (b *builder) tests(m spec.Model) Tests {
	t := Tests{Reports: []Input{}, Suites: map[string]*junit.Suite{}}
	all := junit.New()
	for _, rel := range m.Tests.Reports {
		abs := b.open(KindTests, rel)
		if abs == "" {
			continue
		}
		rep, err := junit.ParseFile(abs, rel)
		if err != nil {
			b.problem(KindTests, rel, err)
			continue
		}
		t.Reports = append(t.Reports, Input{Path: rel, SHA256: b.inputs[rel]})
		all.Merge(rep)
	}
	t.Suites, t.Total = all.Suites, all.Total
	return t
}

// data checks the quality of the model's snapshots; gq is the gold
// snapshot's check, already run (prepareJoin).
func (b *builder) data(m spec.Model, now time.Time, gq *goldQuality) Data {
	d := Data{Sources: map[string]*quality.Report{}}
	names := map[string]bool{m.Evaluation.Data: true}
	for _, n := range m.Training.Data {
		names[n] = true
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		src, ok := b.p.DataSources[name]
		if !ok || src.Snapshot == "" {
			continue
		}
		abs := b.open(KindData, src.Snapshot)
		if abs == "" {
			continue
		}
		var rep *quality.Report
		var err error
		if gq != nil && name == gq.source {
			rep, err = gq.rep, gq.err
		} else {
			rep, err = quality.Check(b.ctx, abs, src.Snapshot, src, now)
		}
		if err != nil {
			b.problem(KindData, src.Snapshot, err)
			continue
		}
		d.Sources[name] = rep
	}
	md := m.Data
	if md == nil || md.Reference == "" || md.Current == "" {
		return d
	}
	ref, cur := b.open(KindData, md.Reference), b.open(KindData, md.Current)
	if ref == "" || cur == "" {
		return d
	}
	features := md.Features
	if len(m.Monitoring.Drift.Features) > 0 {
		features = mergeNames(features, m.Monitoring.Drift.Features)
	}
	if len(features) == 0 {
		return d
	}
	types := map[string]string{}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		for _, f := range b.p.DataSources[n].Schema {
			types[f.Name] = f.Type
		}
	}
	drift, err := quality.Compare(b.ctx, ref, md.Reference, cur, md.Current, features, types)
	if err != nil {
		b.problem(KindData, md.Reference+", "+md.Current, err)
		return d
	}
	d.Drift = drift
	return d
}

func mergeNames(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (b *builder) runbook(m spec.Model) Runbook {
	rel := m.Handover.Runbook
	r := Runbook{Path: rel, Sections: []string{}, Content: []Section{}, ErrorCodes: map[string]CodeMention{}}
	if rel == "" {
		return r
	}
	abs := b.open(KindRunbook, rel)
	if abs == "" {
		return r
	}
	doc, err := readRunbook(abs)
	if err != nil {
		b.problem(KindRunbook, rel, err)
		return r
	}
	r.Exists = true
	var diagnosis strings.Builder
	for _, s := range doc.sections {
		r.Sections = append(r.Sections, s.Title)
		r.Content = append(r.Content, s.Section)
		r.Placeholders += s.Placeholders
		if strings.EqualFold(s.Title, diagnosisSection) {
			diagnosis.WriteString(s.text)
		}
	}
	r.Placeholders += doc.preamble
	r.NamesRollbackCommand = strings.Contains(doc.all, RollbackCommand)
	for _, e := range m.Handover.ErrorTypes {
		r.ErrorCodes[e.Code] = CodeMention{
			Named:       containsWord(doc.all, e.Code),
			InDiagnosis: containsWord(diagnosis.String(), e.Code),
		}
	}
	return r
}

// containsWord reports whether text holds code not as part of a longer
// identifier (MODEL_TIMEOUT does not name TIMEOUT).
func containsWord(text, code string) bool {
	if code == "" {
		return false
	}
	ident := func(r byte) bool {
		return r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
	}
	for i := 0; ; {
		j := strings.Index(text[i:], code)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(code)
		if (start == 0 || !ident(text[start-1])) && (end == len(text) || !ident(text[end])) {
			return true
		}
		i = start + 1
	}
}

// runbookDoc is a runbook read section by section.
type runbookDoc struct {
	sections []runbookSection
	// preamble counts placeholder lines before the first heading.
	preamble int
	all      string
}

type runbookSection struct {
	Section
	text string
}

// readRunbook splits a runbook at its level 1 and 2 headings (Headings'
// rules) and counts each section's words and placeholder lines.
func readRunbook(path string) (runbookDoc, error) {
	var doc runbookDoc
	f, err := safefile.Open(path)
	if err != nil {
		return doc, err
	}
	defer f.Close()
	sc := bufio.NewScanner(safefile.LimitReader(f, path, safefile.Record))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var all strings.Builder
	var cur *runbookSection
	fence := ""
	for sc.Scan() {
		line := sc.Text()
		all.WriteString(line)
		all.WriteByte('\n')
		if title, ok := heading(line, &fence); ok {
			doc.sections = append(doc.sections, runbookSection{Section: Section{Title: title}})
			cur = &doc.sections[len(doc.sections)-1]
			continue
		}
		hasPlaceholder := strings.Contains(line, placeholder)
		if cur == nil {
			if hasPlaceholder {
				doc.preamble++
			}
			continue
		}
		if hasPlaceholder {
			cur.Placeholders++
		}
		cur.text += line + "\n"
		for _, w := range strings.Fields(line) {
			// Markup alone (list bullets, fences, table rules) is no word.
			if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
				cur.Words++
			}
		}
	}
	doc.all = all.String()
	return doc, sc.Err()
}

// heading returns the title of a level 1 or 2 ATX heading outside fenced
// code blocks; fence tracks the open fence across lines.
func heading(raw string, fence *string) (string, bool) {
	line := strings.TrimRight(raw, " \t\r")
	trimmed := strings.TrimLeft(line, " ")
	if len(line)-len(trimmed) > 3 {
		return "", false
	}
	if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
		switch {
		case *fence == "":
			*fence = trimmed[:3]
		case strings.HasPrefix(trimmed, *fence):
			*fence = ""
		}
		return "", false
	}
	if *fence != "" {
		return "", false
	}
	for _, prefix := range []string{"# ", "## "} {
		if strings.HasPrefix(trimmed, prefix) {
			title := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(trimmed[len(prefix):]), "#"))
			if title != "" {
				return title, true
			}
		}
	}
	return "", false
}

// Headings returns the level 1 and 2 ATX headings ("# X", "## X") of a
// markdown file, outside fenced code blocks, in order.
func Headings(path string) ([]string, error) {
	doc, err := readRunbook(path)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, s := range doc.sections {
		out = append(out, s.Title)
	}
	return out, nil
}
