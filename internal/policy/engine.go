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
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/policies"
)

// BuiltinPrefix names the built-in modules, as in builtin/fairness.rego.
const BuiltinPrefix = "builtin/"

// RepoPolicyDir is where a platform repository keeps its own policies.
const RepoPolicyDir = "policies"

// Engine judges units against the compiled policies. It is safe for
// concurrent use.
type Engine struct {
	compiler *ast.Compiler
	packs    []pack
	rules    map[string]Rule
	// Modules are the compiled modules by name, tests excluded.
	modules map[string]*ast.Module
}

// pack is one slipway.* package with deny or warn rules.
type pack struct {
	name  string // slipway.fairness
	query rego.PreparedEvalQuery
	sets  []string // "deny", "warn": the documents the query binds
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
	c := ast.NewCompiler()
	c.Compile(mods)
	if c.Failed() {
		return nil, fmt.Errorf("%w: %v", ErrLoad, c.Errors)
	}
	rules, err := readCatalogue(c, builtin)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLoad, err)
	}
	e := &Engine{compiler: c, rules: rules, modules: mods}
	for _, name := range packNames(mods) {
		p, err := e.prepare(ctx, name)
		if err != nil {
			return nil, err
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
	for _, set := range []string{"deny", "warn"} {
		ref := ast.MustParseRef("data." + pkg + "." + set)
		if len(e.compiler.GetRulesExact(ref)) == 0 {
			continue
		}
		p.sets = append(p.sets, set)
		exprs = append(exprs, fmt.Sprintf("%s := data.%s.%s", set, pkg, set))
	}
	q, err := rego.New(
		rego.Compiler(e.compiler),
		rego.Query(strings.Join(exprs, "; ")),
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
	add := func(name string, src []byte) {
		m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			problems = append(problems, err.Error())
			return
		}
		mods[name] = m
	}
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isRego(path, tests) {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		builtin[BuiltinPrefix+path] = true
		add(BuiltinPrefix+path, src)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if repoDir != "" {
		dir := filepath.Join(repoDir, RepoPolicyDir)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !isRego(path, tests) {
					return err
				}
				src, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(repoDir, path)
				add(filepath.ToSlash(rel), src)
				return nil
			})
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %v", ErrLoad, err)
			}
		}
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("%w: %s", ErrLoad, strings.Join(problems, "\n"))
	}
	return mods, builtin, nil
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

// EvaluateAll judges every input concurrently and returns the results of
// each, in the order of ins. The error is only ever the context's.
func (e *Engine) EvaluateAll(ctx context.Context, loc Locator, ins []Input) ([][]Result, error) {
	out := make([][]Result, len(ins))
	work := make(chan int)
	var wg sync.WaitGroup
	n := min(runtime.GOMAXPROCS(0), len(ins))
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = e.Evaluate(ctx, loc, ins[i])
			}
		}()
	}
feed:
	for i := range ins {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Evaluate judges one unit. Whatever goes wrong evaluating it becomes a
// denial in the results.
func (e *Engine) Evaluate(ctx context.Context, loc Locator, in Input) []Result {
	u := unit{e: e, loc: loc, in: in}
	doc, err := inputDocument(in)
	if err != nil {
		u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("input document: %v", err), "", "")
		return u.finish()
	}
	u.doc = doc
	evidence, _ := doc["evidence"].(map[string]any)
	if evidence == nil {
		u.add(RuleEvidenceMissing, SeverityDeny, fmt.Sprintf("no evidence summary for model %s: run `slipway evaluate`", in.Model.Name), "evaluation.predictions", "")
	} else {
		probs, _ := evidence["problems"].([]any)
		for _, p := range probs {
			pm, _ := p.(map[string]any)
			msg := fmt.Sprintf("%v evidence %v: %v", pm["kind"], pm["path"], pm["message"])
			u.add(RuleEvidenceUnreadable, SeverityDeny, msg, problemField(pm), "")
		}
	}
	value, err := ast.InterfaceToValue(doc)
	if err != nil {
		u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("input document: %v", err), "", "")
		return u.finish()
	}
	for _, p := range e.packs {
		u.evalPack(ctx, p, value)
	}
	return u.finish()
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
	if in.Phase == "" {
		in.Phase = PhaseCheck
	}
	return in, nil
}
