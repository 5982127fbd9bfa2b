// Package policy is Slipway's policy engine and the only package that
// imports OPA. It compiles the built-in Rego packs with a platform
// repository's own policies once, prepares one query per pack once, and
// judges every (model, environment) unit concurrently. It fails closed: a
// pack that errors or is undefined, a missing evidence summary and an
// invalid waiver are denials, never passes.
package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/util"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/policies"
)

// BuiltinPrefix names the built-in modules, as in builtin/fairness.rego.
const BuiltinPrefix = "builtin/"

// RepoPolicyDir is where a platform repository keeps its own policies.
const RepoPolicyDir = "policies"

// setNotApplicable is the Rego set in which a pack's rules say they had
// nothing to judge for the unit: not_applicable contains
// lib.result(id, why, field). A rule named there and in no deny or warn
// result is reported as not applicable instead of passing, so it never
// evidences a control.
const setNotApplicable = "not_applicable"

// Engine judges units against the compiled policies. It is safe for
// concurrent use.
type Engine struct {
	compiler *ast.Compiler
	// packs are evaluated one query each: that attributes an error or an
	// undefined decision to its pack, and measured faster than one query
	// over all packs.
	packs []pack
	rules map[string]Rule
	// ids are the rules' ids, the input's rules when the caller sets none.
	ids map[string]bool
}

// pack is the prepared query over one slipway.* package's deny and warn
// rules.
type pack struct {
	name  string // slipway.fairness
	query rego.PreparedEvalQuery
	sets  []binding
	// reads are the top-level input keys the pack's rules read
	// (inputReads); units that agree on them get the same findings.
	reads []string
	// kinds are the unit kinds the pack's catalogued rules judge.
	kinds map[string]bool
	// facts says whether the query binds the pack's facts document.
	facts bool
}

// binding is one document a query binds to a variable.
type binding struct {
	pkg, set, name string
}

// ErrLoad is wrapped by errors in the policies themselves (syntax, type,
// metadata), as opposed to errors evaluating them.
var ErrLoad = errors.New("load policies")

// New compiles the built-in packs and, when repoDir has a policies/
// directory, the repository's own Rego files (tests excluded).
func New(ctx context.Context, repoDir string) (*Engine, error) {
	mods, builtin, err := loadModules(repoDir, false)
	if err != nil {
		return nil, err
	}
	c := ast.NewCompiler().WithCapabilities(capabilities())
	c.Compile(mods)
	if c.Failed() {
		return nil, fmt.Errorf("%w: %v", ErrLoad, c.Errors)
	}
	rules, err := readCatalogue(c, builtin)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLoad, err)
	}
	e := &Engine{compiler: c, rules: rules, ids: map[string]bool{}}
	for id := range rules {
		e.ids[id] = true
	}
	for _, name := range packNames(mods) {
		p, err := e.prepare(ctx, name)
		if err != nil {
			return nil, err
		}
		p.reads = inputReads(c, name)
		p.kinds = map[string]bool{KindModel: true}
		for _, r := range rules {
			if r.Package == name {
				for _, k := range r.Units {
					p.kinds[k] = true
				}
			}
		}
		e.packs = append(e.packs, p)
	}
	return e, nil
}

// packNames lists the slipway.* packages that define deny or warn, sorted.
func packNames(mods map[string]*ast.Module) []string {
	seen := map[string]bool{}
	for _, m := range mods {
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		if !strings.HasPrefix(pkg, "slipway.") {
			continue
		}
		for _, r := range m.Rules {
			if n := ruleName(r); n == "deny" || n == "warn" {
				seen[pkg] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (e *Engine) prepare(ctx context.Context, pkg string) (pack, error) {
	p := pack{name: pkg}
	var exprs []string
	for _, set := range []string{"deny", "warn", setNotApplicable} {
		ref := ast.MustParseRef("data." + pkg + "." + set)
		if len(e.compiler.GetRulesExact(ref)) == 0 {
			continue
		}
		b := binding{pkg: pkg, set: set, name: set}
		p.sets = append(p.sets, b)
		exprs = append(exprs, fmt.Sprintf("%s := data.%s.%s", b.name, pkg, set))
	}
	// Only Slipway's own packs state facts: a repository's cannot change
	// what the check result says the built-in rules judged against.
	if ref := ast.MustParseRef("data." + pkg + "." + factsDoc); isBuiltinPackage(pkg) && len(e.compiler.GetRulesWithPrefix(ref)) > 0 {
		p.facts = true
		exprs = append(exprs, fmt.Sprintf("%s := data.%s.%s", factsDoc, pkg, factsDoc))
	}
	q, err := rego.New(
		rego.Compiler(e.compiler),
		rego.Query(strings.Join(exprs, "; ")),
		// A builtin's error (to_number("abc")) would otherwise leave its
		// expression undefined, and a deny rule silently not fire.
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return p, fmt.Errorf("%w: prepare %s: %v", ErrLoad, pkg, err)
	}
	p.query = q
	return p, nil
}

// loadModules parses the built-in modules and the repository's, tests
// included or not. builtin marks the names of the built-in ones.
func loadModules(repoDir string, tests bool) (map[string]*ast.Module, map[string]bool, error) {
	mods := map[string]*ast.Module{}
	builtin := map[string]bool{}
	var problems []string
	err := walkModules(repoDir, tests, func(name string, src []byte, isBuiltin bool) {
		m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			problems = append(problems, err.Error())
			return
		}
		mods[name] = m
		problems = append(problems, checkBuiltins(name, m)...)
		if isBuiltin {
			builtin[name] = true
		} else {
			problems = append(problems, checkRepoModule(name, m)...)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("%w: %s", ErrLoad, strings.Join(problems, "\n"))
	}
	return mods, builtin, nil
}

// walkModules calls fn with every Rego file of the bundle, in a fixed
// order: the built-in modules (named builtin/...), then the repository's
// policies/ (named by their path in the repository).
func walkModules(repoDir string, tests bool, fn func(name string, src []byte, builtin bool)) error {
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isRego(path, tests) {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		fn(BuiltinPrefix+path, src, true)
		return nil
	})
	if err != nil {
		return err
	}
	if repoDir == "" {
		return nil
	}
	dir := filepath.Join(repoDir, RepoPolicyDir)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isRego(path, tests) {
			return err
		}
		// Only regular files inside the repository, capped.
		src, err := safefile.ReadFileIn(repoDir, path, safefile.Policy)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoDir, path)
		fn(filepath.ToSlash(rel), src, false)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLoad, err)
	}
	return nil
}

// BundleDigest digests the policy bundle a check of repoDir judges with:
// the name and bytes of every built-in and repository module, tests
// excluded. A check records it and a release compares it, so a result
// judged under other policies is not signed.
func BundleDigest(repoDir string) (string, error) {
	var b bytes.Buffer
	err := walkModules(repoDir, false, func(name string, src []byte, _ bool) {
		fmt.Fprintf(&b, "%s\x00%d\x00", name, len(src))
		b.Write(src)
	})
	if err != nil {
		return "", err
	}
	return digest.Bytes(b.Bytes()), nil
}

func isRego(path string, tests bool) bool {
	if !strings.HasSuffix(path, ".rego") {
		return false
	}
	return tests || !strings.HasSuffix(path, "_test.rego")
}

// Rules returns the rule catalogue, ordered by id: every rule the engine
// can report, with its title, severity and controls.
func (e *Engine) Rules() []Rule { return sortedRules(e.rules) }

// Rule returns the catalogue entry of id.
func (e *Engine) Rule(id string) (Rule, bool) {
	r, ok := e.rules[id]
	return r, ok
}

// Packs returns the names of the packages evaluated, such as slipway.fairness.
func (e *Engine) Packs() []string {
	out := make([]string, len(e.packs))
	for i, p := range e.packs {
		out[i] = p.name
	}
	return out
}

// Catalogue returns the built-in rule catalogue (no repository policies):
// the audit report builds its control-coverage tables from it.
func Catalogue(ctx context.Context) ([]Rule, error) {
	e, err := New(ctx, "")
	if err != nil {
		return nil, err
	}
	return e.Rules(), nil
}

// Locator finds the file and line of a CUE path of the platform;
// *spec.Platform is one. A nil Locator leaves positions empty.
type Locator interface {
	Pos(path string) spec.Position
}

// Judgement is what the engine decided for one unit: its results, and the
// facts the rules judged them against.
type Judgement struct {
	Results []Result
	Facts   Facts
}

// EvaluateAll judges every input concurrently and returns the judgement
// of each, in the order of ins. The error is only ever the context's.
func (e *Engine) EvaluateAll(ctx context.Context, loc Locator, ins []Input) ([]Judgement, error) {
	return e.Session().EvaluateAll(ctx, loc, ins)
}

// Session judges the units of one check in batches, such as the
// environments of a promotion order one after the other: what one batch
// converted for OPA and what a pack decided for a model, the same in every
// environment, serve the later batches too. A session must not outlive the
// inputs' parts it has seen changing: it holds them, and knows them by
// address.
type Session struct {
	e     *Engine
	cache *valueCache
}

// Session starts a session; it is safe for concurrent use.
func (e *Engine) Session() *Session {
	return &Session{e: e, cache: &valueCache{m: map[string]ast.Value{}}}
}

// EvaluateAll is Engine.EvaluateAll within the session.
func (s *Session) EvaluateAll(ctx context.Context, loc Locator, ins []Input) ([]Judgement, error) {
	e, cache := s.e, s.cache
	out := make([]Judgement, len(ins))
	// Units of one platform share most of their input (the platform, the
	// environments, a model's spec and evidence in each environment), so
	// each distinct part is converted for OPA once.
	// One long-lived worker per core takes the next unit, rather than a
	// goroutine per unit: Rego evaluation recurses deeply, and a fresh
	// goroutine grows its stack by copying, again for every unit (7% of
	// a check's CPU on 2,000 units); a worker keeps the stack it grew.
	var next atomic.Int64
	var g errgroup.Group
	for range min(runtime.GOMAXPROCS(0), len(ins)) {
		g.Go(func() error {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(ins) {
					return nil
				}
				out[i] = e.evaluate(ctx, loc, ins[i], cache)
			}
			return nil
		})
	}
	_ = g.Wait() // evaluate turns every failure into a denial
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Evaluate judges one unit. Whatever goes wrong evaluating it becomes a
// denial in the results.
func (e *Engine) Evaluate(ctx context.Context, loc Locator, in Input) []Result {
	return e.evaluate(ctx, loc, in, nil).Results
}

func (e *Engine) evaluate(ctx context.Context, loc Locator, in Input, cache *valueCache) Judgement {
	if in.Rules == nil {
		in.Rules = e.ids
	}
	u := unit{e: e, loc: loc, in: in}
	value, err := cache.input(in)
	if err != nil {
		u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("input document: %v", err), "", "")
		return u.judgement()
	}
	u.value = value
	kind := in.Kind
	if kind == "" {
		kind = KindModel
	}
	u.kind = kind
	// The deadline is the unit's, so one slow unit cannot hold the batch.
	ctx, cancel := context.WithTimeout(ctx, in.timeout())
	defer cancel()
	evidence, ok := value.Get(ast.InternedTerm("evidence")).Value.(ast.Object)
	switch {
	case kind != KindModel:
		// A stack without a model of its own has no evidence to judge.
	case !ok:
		u.add(RuleEvidenceMissing, SeverityDeny, fmt.Sprintf("no evidence summary for model %s: run `slipway evaluate`", in.Model.Name), "evaluation.predictions", "")
	case evidence.Get(ast.InternedTerm("problems")) != nil:
		probs := evidence.Get(ast.InternedTerm("problems"))
		var list []map[string]any
		if err := ast.As(probs.Value, &list); err == nil {
			for _, pm := range list {
				msg := fmt.Sprintf("%v evidence %v: %v", pm["kind"], pm["path"], pm["message"])
				u.add(RuleEvidenceUnreadable, SeverityDeny, msg, problemField(pm), "")
			}
		}
	}
	for _, p := range e.packs {
		if !p.kinds[kind] {
			continue
		}
		if !u.evalPack(ctx, p, value, cache) {
			break
		}
	}
	return u.judgement()
}

// valueCache converts parts of input documents to OPA values once per
// distinct JSON, or per distinct map for parts that already are plain JSON
// values (an evidence summary read from its file); a nil cache converts
// every time.
type valueCache struct {
	mu sync.Mutex
	m  map[string]ast.Value
	// byPtr holds maps by address with their values; holding the map
	// keeps its address from being reused for another while the cache
	// lives.
	byPtr map[uintptr]heldValue
	// memo holds each pack's findings and facts by memoKey, so a pack
	// that does not read the environment judges a model once for all its
	// environments.
	memo map[string]memoEntry
	// hits counts the pack evaluations memo saved.
	hits atomic.Int64
}

// heldValue is a map's OPA value, with the map.
type heldValue struct {
	src any
	val ast.Value
}

// memoEntry is what one pack decided for the units that share a memoKey.
type memoEntry struct {
	findings []finding
	facts    map[string]any
}

// finding is one element of a pack's deny or warn set, before the engine
// adds positions, controls and waivers; a nil slice in memo is never
// stored, so errors are not shared.
type finding struct {
	id, set, msg, field, path string
	// at places the finding inside its field, when the rule says where.
	at      spec.Position
	outcome Outcome
}

func (c *valueCache) memoGet(key string) (memoEntry, bool) {
	if c == nil {
		return memoEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.memo[key]
	if ok {
		c.hits.Add(1)
	}
	return f, ok
}

func (c *valueCache) memoPut(key string, f memoEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.memo == nil {
		c.memo = map[string]memoEntry{}
	}
	c.memo[key] = f
}

func (c *valueCache) value(v any) (ast.Value, error) {
	switch x := v.(type) {
	case nil:
		return ast.Null{}, nil
	case string:
		return ast.String(x), nil
	case bool:
		return ast.Boolean(x), nil
	case map[string]any:
		// Decoded JSON converts directly; a map is not changed while its
		// units are judged, so its address identifies it.
		ptr := reflect.ValueOf(x).Pointer()
		if c != nil {
			c.mu.Lock()
			h, ok := c.byPtr[ptr]
			c.mu.Unlock()
			if ok {
				return h.val, nil
			}
		}
		val, err := ast.InterfaceToValue(x)
		if err != nil {
			return nil, err
		}
		if c != nil {
			c.mu.Lock()
			if c.byPtr == nil {
				c.byPtr = map[uintptr]heldValue{}
			}
			c.byPtr[ptr] = heldValue{x, val}
			c.mu.Unlock()
		}
		return val, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		// Most optional parts are absent (nil) in most units: null, as
		// json.Marshal writes them, without a round trip through JSON.
		if rv.IsNil() && !rv.Type().Implements(marshalerType) {
			return ast.Null{}, nil
		}
	}
	// Other maps (the platform's environments, shared by every unit) are
	// identified by address too, but convert through JSON.
	var ptrKey uintptr
	if c != nil && rv.Kind() == reflect.Map {
		ptrKey = rv.Pointer()
		c.mu.Lock()
		h, ok := c.byPtr[ptrKey]
		c.mu.Unlock()
		if ok {
			return h.val, nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if c != nil {
		c.mu.Lock()
		x, ok := c.m[string(b)]
		c.mu.Unlock()
		if ok {
			return x, nil
		}
	}
	var doc any
	if err := util.UnmarshalJSON(b, &doc); err != nil {
		return nil, err
	}
	x, err := ast.InterfaceToValue(doc)
	if err != nil {
		return nil, err
	}
	if c != nil {
		// Small parts too: a cache hit is far cheaper than decoding and
		// converting again, and equal parts then share their value,
		// which lets memoKey share a pack's findings.
		c.mu.Lock()
		c.m[string(b)] = x
		if ptrKey != 0 {
			if c.byPtr == nil {
				c.byPtr = map[uintptr]heldValue{}
			}
			c.byPtr[ptrKey] = heldValue{v, x}
		}
		c.mu.Unlock()
	}
	return x, nil
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// input builds the OPA value of the input document; its keys are the JSON
// names of Input's fields (TestInputValue keeps the two in step).
func (c *valueCache) input(in Input) (ast.Object, error) {
	parts := []struct {
		key string
		v   any
	}{
		{"phase", in.Phase}, {"kind", in.Kind}, {"plan_expected", in.PlanExpected}, {"platform", in.Platform}, {"model", in.Model},
		{"environment", in.Environment}, {"environments", in.Environments},
		{"data_sources", in.DataSources}, {"evidence", in.Evidence}, {"plan", in.Plan},
		{"changed_files", in.ChangedFiles}, {"approvals", in.Approvals}, {"authors", in.Authors}, {"code_owners", in.CodeOwners}, {"trust_root", in.TrustRoot},
		{"waivers", in.Waivers},
		{"releases", in.Releases}, {"now", in.Now}, {"placeholders", in.Placeholders},
		{"rollback_rehearsals", in.RollbackRehearsals},
		{"monitoring", in.Monitoring}, {"monitoring_status", in.MonitoringStatus},
		{"alerts", in.Alerts}, {"rules", in.Rules}, {"previous_release", in.PreviousRelease},
		{"acceptance", in.Acceptance}, {"accepted_release", in.AcceptedRelease},
	}
	if in.Base != nil {
		// Absent, not null, without --base, as the JSON form omits it.
		parts = append(parts, struct {
			key string
			v   any
		}{"base", in.Base})
	}
	terms := make([][2]*ast.Term, 0, len(parts))
	for _, p := range parts {
		v, err := c.value(p.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.key, err)
		}
		terms = append(terms, [2]*ast.Term{ast.StringTerm(p.key), ast.NewTerm(v)})
	}
	return ast.NewObject(terms...), nil
}

// inputDocument turns the input into plain JSON values, numbers kept exact.
func inputDocument(in Input) (map[string]any, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := util.UnmarshalJSON(b, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// problemField points an evidence problem at the spec field naming the file.
func problemField(p map[string]any) string {
	switch p["kind"] {
	case "predictions":
		return "evaluation.predictions"
	case "tests":
		return "tests.reports"
	case "runbook":
		return "handover.runbook"
	case "data":
		return "data"
	}
	return ""
}

// ReadInput decodes an input document written as JSON, as `slipway policy
// eval` reads it.
func ReadInput(b []byte) (Input, error) {
	var in Input
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return in, err
	}
	if err := fillPolicies(b, &in); err != nil {
		return in, err
	}
	if in.Phase == "" {
		in.Phase = PhaseCheck
	}
	if in.Kind == "" {
		in.Kind = KindModel
	}
	// The document may have been edited: find the placeholders again.
	in.Placeholders = FindPlaceholders(in.Model)
	if in.RollbackRehearsals == nil {
		in.RollbackRehearsals = []Rehearsal{}
	}
	in.Alerts = AlertFacts(nil, in.Model)
	return in, nil
}
