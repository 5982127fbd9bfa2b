package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/slipway-ml/slipway/internal/parallel"
)

// patternNames turns the schema's regular expressions into words.
var patternNames = []struct{ fragment, want string }{
	{`sha256:[0-9a-f]{64}`, "a digest sha256:<64 lowercase hex digits>"},
	{`(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)`, "a semantic version such as 1.4.0"},
	{`[^@\\s]+@`, "an email address"},
	{`^[a-z]([a-z0-9-]{0,61}`, "a lowercase name of letters, digits and dashes (a DNS label)"},
	{`[a-z][a-z0-9+.-]*://`, "a URI with a scheme, such as s3://bucket/key"},
	{`(^|/)\\.\\.(/|$)`, "a path inside the repository, without .."},
	{`=~"^[^/]"`, "a path relative to the repository root"},
	{`@(hourly|daily`, "a five-field cron expression or @hourly, @daily, ..."},
	{`^[0-9]+(s|m|h|d)$`, "a duration such as 30m, 12h or 7d"},
	{`^[A-Z_][A-Z0-9_]*$`, "an environment variable name"},
	{`^[A-Za-z_][A-Za-z0-9_]*(\\.`, "an SQL name of letters, digits and underscores (table or schema.table)"},
	{`^[0-9a-f]{40}$`, "a full 40-character git commit hash"},
	{`^[a-z]+\\.[a-z0-9_]+$`, "a rule id such as fairness.demographic_parity"},
	{`BEGIN PUBLIC KEY`, "a PEM-encoded public key"},
}

var disjunctionRE = regexp.MustCompile(`^(\d+) errors in empty disjunction`)

// message words a CUE error for the person who wrote the spec.
func (l *loader) message(e cueerrors.Error, path string) string {
	format, args := e.Msg()
	msg := fmt.Sprintf(format, args...)
	switch {
	case strings.HasPrefix(msg, "incomplete value") || strings.Contains(msg, "non-concrete value"):
		if want := l.allowed(path); want != "" {
			return "missing required field: want " + want
		}
		return "missing required field"
	case disjunctionRE.MatchString(msg) || strings.HasPrefix(msg, "conflicting values"):
		// Only a choice of literals says more than CUE's own message; two
		// files setting a free-form field differently need both values.
		if want := l.allowed(path); strings.HasPrefix(want, "one of ") {
			return fmt.Sprintf("invalid value: want %s", want)
		}
	case strings.Contains(msg, "field not allowed"):
		return "unknown field (not in the schema; check the spelling)"
	case strings.Contains(msg, "invalid value") && strings.Contains(msg, "out of bound"):
		for _, p := range patternNames {
			if strings.Contains(msg, p.fragment) {
				return fmt.Sprintf("%s: want %s", strings.SplitN(msg, " (out of bound", 2)[0], p.want)
			}
		}
	}
	return msg
}

// allowed describes what the schema accepts at path when it is a choice
// of literals, such as a model's task.
func (l *loader) allowed(path string) string {
	def := schemaPathFor(path)
	if def == "" {
		return ""
	}
	v := l.schemaDefs().LookupPath(cue.ParsePath(def))
	if !v.Exists() {
		return ""
	}
	op, alts := v.Expr()
	if op != cue.OrOp {
		return typeWord(v)
	}
	var lits []string
	for _, a := range alts {
		if a.IsConcrete() && a.Kind() == cue.StringKind {
			s, _ := a.String()
			lits = append(lits, fmt.Sprintf("%q", s))
		}
	}
	if len(lits) == len(alts) && len(lits) > 0 {
		return "one of " + strings.Join(lits, ", ")
	}
	return typeWord(v)
}

func typeWord(v cue.Value) string {
	switch v.IncompleteKind() {
	case cue.StringKind:
		return "a string"
	case cue.IntKind:
		return "an integer"
	case cue.NumberKind, cue.FloatKind:
		return "a number"
	case cue.BoolKind:
		return "true or false"
	case cue.ListKind:
		return "a list"
	case cue.StructKind:
		return "a struct"
	}
	return ""
}

// schemaPathFor maps a platform path such as models."x".task to the
// schema path #Model.task.
func schemaPathFor(path string) string {
	if path == "" {
		return ""
	}
	sels := cue.ParsePath(path).Selectors()
	if len(sels) < 2 {
		return ""
	}
	defs := map[string]string{"models": "#Model", "environments": "#Environment", "dataSources": "#DataSource", "templates": "#Template", "waivers": "#Waiver"}
	def, ok := defs[sels[0].String()]
	if !ok {
		return ""
	}
	rest := make([]string, 0, len(sels)-2)
	for _, s := range sels[2:] {
		if s.Type() != cue.StringLabel {
			return ""
		}
		rest = append(rest, s.String())
	}
	if len(rest) == 0 {
		return def
	}
	// An optional field's own definition holds its fields: LookupPath
	// does not descend into optional fields.
	if def == "#Model" && len(rest) > 2 && rest[0] == "monitoring" && rest[1] == "source" {
		return "#MonitoringSource." + strings.Join(rest[2:], ".")
	}
	return def + "." + strings.Join(rest, ".")
}

func (l *loader) ref(p *Platform, path, msg string) {
	l.add(p.Pos(path), path, msg)
}

func names[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, fmt.Sprintf("%q", k))
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "none are declared"
	}
	return "known: " + strings.Join(keys, ", ")
}

// checkReferences reports every name that points at nothing, and cycles in
// the promotion order of environments.
func (l *loader) checkReferences(p *Platform) {
	for _, name := range slices.Sorted(maps.Keys(p.Environments)) {
		env := p.Environments[name]
		if env.After != "" {
			if _, ok := p.Environments[env.After]; !ok {
				l.ref(p, cuePath([]string{"environments", name, "after"}), fmt.Sprintf("unknown environment %q (%s)", env.After, names(p.Environments)))
			}
		}
		if env.State.Backend == "pg" && env.State.ConnEnv == "" {
			l.ref(p, cuePath([]string{"environments", name, "state"}), "pg backend needs connEnv")
		}
	}
	l.checkAfterCycles(p)
	for _, name := range slices.Sorted(maps.Keys(p.DataSources)) {
		ds := p.DataSources[name]
		if PlaceholderDigest(ds.Version) {
			l.ref(p, cuePath([]string{"dataSources", name, "version"}), fmt.Sprintf("version %q is a placeholder, not the digest of any data: give the sha256 of the snapshot", ds.Version))
		}
		fields := map[string]bool{}
		for _, f := range ds.Schema {
			if fields[f.Name] {
				l.ref(p, cuePath([]string{"dataSources", name, "schema"}), fmt.Sprintf("field %q declared twice", f.Name))
			}
			fields[f.Name] = true
		}
		for _, f := range ds.PII {
			if !fields[f] {
				l.ref(p, cuePath([]string{"dataSources", name, "pii"}), fmt.Sprintf("PII field %q is not in the schema", f))
			}
		}
		if q := ds.Quality; q != nil {
			for _, k := range q.UniqueKeys {
				if !fields[k] {
					l.ref(p, cuePath([]string{"dataSources", name, "quality", "uniqueKeys"}), fmt.Sprintf("key field %q is not in the schema", k))
				}
			}
			for k := range q.Completeness {
				if k != "*" && !fields[k] {
					l.ref(p, cuePath([]string{"dataSources", name, "quality", "completeness", k}), fmt.Sprintf("field %q is not in the schema", k))
				}
			}
			for _, k := range slices.Sorted(maps.Keys(q.MinRowsPer)) {
				if !fields[k] {
					l.ref(p, cuePath([]string{"dataSources", name, "quality", "minRowsPer", k}), fmt.Sprintf("field %q is not in the schema", k))
				}
			}
			if q.Freshness != nil && !fields[q.Freshness.Field] {
				l.ref(p, cuePath([]string{"dataSources", name, "quality", "freshness", "field"}), fmt.Sprintf("field %q is not in the schema", q.Freshness.Field))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Templates)) {
		t := p.Templates[name]
		if t.WaitFor != "" {
			if _, ok := p.DataSources[t.WaitFor]; !ok {
				l.ref(p, cuePath([]string{"templates", name, "waitFor"}), fmt.Sprintf("unknown data source %q (%s)", t.WaitFor, names(p.DataSources)))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Models)) {
		m := p.Models[name]
		for i, ds := range m.Training.Data {
			if _, ok := p.DataSources[ds]; !ok {
				l.ref(p, ModelPath(name, "training", "data")+fmt.Sprintf("[%d]", i), fmt.Sprintf("unknown data source %q (%s)", ds, names(p.DataSources)))
			}
		}
		if _, ok := p.DataSources[m.Evaluation.Data]; !ok {
			l.ref(p, ModelPath(name, "evaluation", "data"), fmt.Sprintf("unknown data source %q (%s)", m.Evaluation.Data, names(p.DataSources)))
		}
		if _, ok := p.Templates[m.Deployment.Template]; !ok {
			l.ref(p, ModelPath(name, "deployment", "template"), fmt.Sprintf("unknown template %q (%s)", m.Deployment.Template, names(p.Templates)))
		}
		if m.Evaluation.Columns.Prediction == "" && m.Evaluation.Columns.Score == "" {
			l.ref(p, ModelPath(name, "evaluation", "columns"), "set prediction, score or both")
		}
		if bl := m.Evaluation.Baseline; bl != nil {
			if set := baselineSources(bl); len(set) > 1 {
				l.ref(p, ModelPath(name, "evaluation", "baseline"), fmt.Sprintf("set only one of release, predictions and metrics: %s and %s are set together", strings.Join(set[:len(set)-1], ", "), set[len(set)-1]))
			}
		}
		if m.Evaluation.Columns.Prediction == "" && m.Evaluation.Threshold == nil && m.Task == "binary-classification" {
			l.ref(p, ModelPath(name, "evaluation", "threshold"), "a score without a prediction column needs a threshold")
		}
		if src := m.Monitoring.Source; src != nil {
			logged := map[string]bool{}
			for _, f := range src.Features {
				logged[f] = true
			}
			for i, f := range m.Monitoring.Drift.Features {
				if !logged[f] {
					l.ref(p, ModelPath(name, "monitoring", "drift", "features")+fmt.Sprintf("[%d]", i), fmt.Sprintf("feature %q is not among monitoring.source.features", f))
				}
			}
			if src.Prediction == "" && src.Score == "" {
				l.ref(p, ModelPath(name, "monitoring", "source"), "set prediction, score or both")
			}
		}
		seen := map[string]bool{}
		for i, env := range m.Environments {
			path := ModelPath(name, "environments") + fmt.Sprintf("[%d]", i)
			if _, ok := p.Environments[env]; !ok {
				l.ref(p, path, fmt.Sprintf("unknown environment %q (%s)", env, names(p.Environments)))
			}
			if seen[env] {
				l.ref(p, path, fmt.Sprintf("environment %q listed twice", env))
			}
			seen[env] = true
		}
	}
	for i, w := range p.Waivers {
		path := fmt.Sprintf("waivers[%d]", i)
		if _, ok := p.Models[w.Model]; !ok {
			l.ref(p, path+".model", fmt.Sprintf("unknown model %q (%s)", w.Model, names(p.Models)))
		}
		if _, ok := p.Environments[w.Environment]; !ok && w.Environment != "*" {
			l.ref(p, path+".environment", fmt.Sprintf("unknown environment %q (%s)", w.Environment, names(p.Environments)))
		}
	}
	for i, k := range p.TrustedKeys {
		if (k.PublicKey == "") == (k.Path == "") {
			l.ref(p, fmt.Sprintf("signing.trustedKeys[%d]", i), "set exactly one of publicKey and path")
		}
	}
}

// baselineSources names the baseline sources a spec sets. A baseline is
// one source: which one the gate compares with must not depend on an
// order of preference the spec's author cannot see.
func baselineSources(bl *Baseline) []string {
	var set []string
	if bl.Release != "" {
		set = append(set, "release")
	}
	if bl.Predictions != "" {
		set = append(set, "predictions")
	}
	if len(bl.Metrics) > 0 {
		set = append(set, "metrics")
	}
	return set
}

func (l *loader) checkAfterCycles(p *Platform) {
	reported := map[string]bool{}
	for _, start := range slices.Sorted(maps.Keys(p.Environments)) {
		seen := map[string]bool{}
		chain := []string{}
		for cur := start; cur != ""; cur = p.Environments[cur].After {
			if seen[cur] {
				if !reported[cur] && cur == start {
					for _, c := range chain {
						reported[c] = true
					}
					l.ref(p, cuePath([]string{"environments", start, "after"}), "promotion cycle: "+strings.Join(append(chain, cur), " after "))
				}
				break
			}
			if _, ok := p.Environments[cur]; !ok {
				break
			}
			seen[cur] = true
			chain = append(chain, cur)
		}
	}
}

// checkPaths makes sure every file a spec names stays inside the
// repository, including through symlinks.
func (l *loader) checkPaths(p *Platform) {
	type named struct{ path, rel string }
	var paths []named
	check := func(path, rel string) {
		if rel != "" {
			paths = append(paths, named{path, rel})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.DataSources)) {
		check(cuePath([]string{"dataSources", name, "snapshot"}), p.DataSources[name].Snapshot)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Models)) {
		m := p.Models[name]
		check(ModelPath(name, "evaluation", "predictions"), m.Evaluation.Predictions)
		for i, r := range m.Tests.Reports {
			check(ModelPath(name, "tests", "reports")+fmt.Sprintf("[%d]", i), r)
		}
		if m.Data != nil {
			check(ModelPath(name, "data", "reference"), m.Data.Reference)
			check(ModelPath(name, "data", "current"), m.Data.Current)
		}
		check(ModelPath(name, "handover", "runbook"), m.Handover.Runbook)
		if m.Instructions != nil {
			check(ModelPath(name, "instructions", "document"), m.Instructions.Document)
		}
	}
	for i, k := range p.TrustedKeys {
		check(fmt.Sprintf("signing.trustedKeys[%d].path", i), k.Path)
	}
	r := newResolver(p.Root)
	errs := make([]error, len(paths))
	parallel.ForLimit(len(paths), spread(len(paths)), func(i int) { errs[i] = r.inside(paths[i].rel) })
	for i, err := range errs {
		if err != nil {
			l.ref(p, paths[i].path, err.Error())
		}
	}
}

// ErrOutsideRepo is wrapped by errors for paths that leave the repository.
var ErrOutsideRepo = errors.New("path leaves the repository")

// resolver resolves paths of a repository through symlinks. It remembers
// every path it has resolved: the evidence paths of a platform share most
// of their directories, and resolving each path whole (filepath.EvalSymlinks)
// would look at every directory of it, up to /, again. It is safe for
// concurrent use.
type resolver struct {
	root string // symlinks resolved
	mu   sync.Mutex
	// memo maps a path under root to the resolved form of its longest
	// existing prefix, "" when that prefix is above root.
	memo map[string]string
}

func newResolver(root string) *resolver {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	return &resolver{root: root, memo: map[string]string{root: root}}
}

// insideRepo resolves rel against root, following symlinks as far as the
// path exists, and fails when the result is outside root. A path that does
// not exist yet is fine: policies, not the schema, require evidence.
func insideRepo(root, rel string) error { return newResolver(root).inside(rel) }

func (r *resolver) inside(rel string) error {
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") {
		return fmt.Errorf("%q: %w (absolute path)", rel, ErrOutsideRepo)
	}
	clean := filepath.Clean(filepath.FromSlash(rel))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%q: %w", rel, ErrOutsideRepo)
	}
	resolved, err := r.existing(filepath.Join(r.root, clean))
	if err != nil {
		return fmt.Errorf("%q: %w", rel, err)
	}
	if resolved != "" && resolved != r.root && !strings.HasPrefix(resolved, r.root+string(filepath.Separator)) {
		return fmt.Errorf("%q: %w (through a symlink to %s)", rel, ErrOutsideRepo, resolved)
	}
	return nil
}

// existing returns the resolved form of path's longest existing prefix.
func (r *resolver) existing(path string) (string, error) {
	r.mu.Lock()
	res, ok := r.memo[path]
	r.mu.Unlock()
	if ok {
		return res, nil
	}
	parent := filepath.Dir(path)
	if parent == path || len(parent) < len(r.root) {
		return "", nil
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if res, err = r.existing(parent); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	case fi.Mode()&fs.ModeSymlink != 0:
		if res, err = filepath.EvalSymlinks(path); err != nil {
			return "", err
		}
	default:
		// Not a link itself: it resolves wherever its directory does.
		dir, err := r.existing(parent)
		if err != nil {
			return "", err
		}
		res = filepath.Join(dir, filepath.Base(path))
	}
	r.mu.Lock()
	r.memo[path] = res
	r.mu.Unlock()
	return res, nil
}

// ResolvePath returns the absolute path of a repo-relative path a spec
// names, after checking that it stays inside the repository.
func (p *Platform) ResolvePath(rel string) (string, error) {
	if err := insideRepo(p.Root, rel); err != nil {
		return "", err
	}
	return filepath.Join(p.Root, filepath.FromSlash(rel)), nil
}

// ModelNames returns the platform's model names, sorted.
func (p *Platform) ModelNames() []string { return slices.Sorted(maps.Keys(p.Models)) }

// EnvironmentNames returns the platform's environments in promotion order:
// an environment comes after the one its `after` names, ties by name.
func (p *Platform) EnvironmentNames() []string {
	depth := func(name string) int {
		d := 0
		for cur := p.Environments[name].After; cur != "" && d <= len(p.Environments); cur = p.Environments[cur].After {
			d++
		}
		return d
	}
	names := slices.Sorted(maps.Keys(p.Environments))
	sort.SliceStable(names, func(i, j int) bool { return depth(names[i]) < depth(names[j]) })
	return names
}

// PlaceholderDigest reports whether a digest ("sha256:…", "md5:…") is a
// stand-in rather than a digest of data: its hex repeats a pattern of at
// most 16 characters (all zeros, "deadbeef…", "0123456789abcdef…"). A
// real digest repeating itself is far less likely than a typo.
func PlaceholderDigest(d string) bool {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		return false
	}
	hex = strings.TrimSuffix(hex, ".dir")
	if len(hex) < 32 {
		return false
	}
	for period := 1; period <= 16; period++ {
		if len(hex)%period == 0 && strings.Repeat(hex[:period], len(hex)/period) == hex {
			return true
		}
	}
	return false
}
