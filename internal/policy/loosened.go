package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/slipway-ml/slipway/internal/spec"
)

// Whether a threshold change loosens is decided in one place, the built-in
// policy.threshold_loosened's own `loosened` set (policies/thresholds.rego).
// The audit report's release diffs ask it here instead of comparing bounds
// again, so a report and a check can never disagree about a loosening.

// Loosening is one threshold a model spec loosens against an earlier one:
// the field, as the rule names it, and its value before and after, as the
// rule prints them.
type Loosening struct {
	Field string `json:"field"`
	Was   string `json:"was"`
	Now   string `json:"now"`
}

// ThresholdPair is two model specs to compare: Before is the earlier one.
// Both are judged under the same platform policy defaults (decideOn and
// friends), since a release record signs the model, not the platform.
type ThresholdPair struct {
	Before, After *spec.Model
	Policy        spec.PolicyDefaults
	// Protected says whether the environment is protected: without a
	// decideOn, thresholds are decided on the interval there.
	Protected bool
}

// loosenedQuery is the `loosened` set prepared once per process over the
// built-in library and thresholds modules only: compiling every pack would
// cost more than the report's diffs.
var loosenedQuery struct {
	once   sync.Once
	q      rego.PreparedEvalQuery
	fields []string
	err    error
}

const loosenedPackage = "slipway.policy"

// libPackage is the built-in library the packs share.
const libPackage = "slipway.lib"

// defaultsPackage holds the schema's defaults (DefaultsFile), which
// lib.policy lays under the input's policy.
const defaultsPackage = "slipway.defaults"

// compileBuiltin compiles the built-in modules of the named packages alone,
// with the schema's defaults they read, for a question one rule answers
// without the cost of compiling every pack.
func compileBuiltin(pkgs ...string) (*ast.Compiler, error) {
	mods, _, err := loadModules("", false)
	if err != nil {
		return nil, err
	}
	pkgs = append(pkgs, defaultsPackage)
	keep := map[string]*ast.Module{}
	for name, m := range mods {
		if slices.Contains(pkgs, strings.TrimPrefix(m.Package.Path.String(), "data.")) {
			keep[name] = m
		}
	}
	c := ast.NewCompiler().WithCapabilities(capabilities())
	if c.Compile(keep); c.Failed() {
		return nil, fmt.Errorf("%w: %v", ErrLoad, c.Errors)
	}
	return c, nil
}

func prepareLoosened(ctx context.Context) error {
	loosenedQuery.once.Do(func() {
		loosenedQuery.err = func() error {
			c, err := compileBuiltin(loosenedPackage, libPackage)
			if err != nil {
				return err
			}
			q, err := rego.New(rego.Compiler(c), rego.Query("x := data."+loosenedPackage+".loosened"), rego.StrictBuiltinErrors(true)).PrepareForEval(ctx)
			if err != nil {
				return fmt.Errorf("%w: prepare loosened: %v", ErrLoad, err)
			}
			rs, err := rego.New(rego.Compiler(c), rego.Query("x := data."+loosenedPackage+".threshold_fields")).Eval(ctx)
			if err != nil || len(rs) != 1 {
				return fmt.Errorf("%w: threshold_fields: %v", ErrLoad, err)
			}
			list, _ := rs[0].Bindings["x"].([]any)
			for _, f := range list {
				s, ok := f.(string)
				if !ok {
					return fmt.Errorf("%w: threshold_fields holds %v, not a field name", ErrLoad, f)
				}
				loosenedQuery.fields = append(loosenedQuery.fields, s)
			}
			loosenedQuery.q = q
			return nil
		}()
	})
	return loosenedQuery.err
}

// ThresholdFields are the model spec fields (dotted paths) the loosened
// rules read: a change that touches none of them loosens nothing, so a
// caller comparing many pairs asks Loosened only about the others.
func ThresholdFields(ctx context.Context) ([]string, error) {
	if err := prepareLoosened(ctx); err != nil {
		return nil, err
	}
	return loosenedQuery.fields, nil
}

// Loosened returns every threshold pair.After loosens against
// pair.Before, by field. It is safe for concurrent use.
func Loosened(ctx context.Context, pair ThresholdPair) ([]Loosening, error) {
	if err := prepareLoosened(ctx); err != nil {
		return nil, err
	}
	type platform struct {
		Policy spec.PolicyDefaults `json:"policy"`
	}
	type environment struct {
		Protected bool `json:"protected"`
	}
	doc := struct {
		Base        Base        `json:"base"`
		Model       *spec.Model `json:"model"`
		Platform    platform    `json:"platform"`
		Environment environment `json:"environment"`
	}{Base{Model: pair.Before, Policy: &pair.Policy}, pair.After, platform{pair.Policy}, environment{pair.Protected}}
	// No cache: each pair is asked once.
	var none *valueCache
	v, err := none.value(doc)
	if err != nil {
		return nil, err
	}
	rs, err := loosenedQuery.q.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return nil, fmt.Errorf("evaluate loosened: %w", err)
	}
	// loosened is a set, defined (empty) whenever the module compiled: no
	// result means the rule judged nothing, which is no "nothing loosened".
	if len(rs) != 1 {
		return nil, fmt.Errorf("evaluate loosened: %d results, want 1", len(rs))
	}
	out := []Loosening{}
	set, _ := rs[0].Bindings["x"].([]any)
	for _, c := range set {
		t, ok := c.([]any)
		if !ok || len(t) != 3 {
			return nil, fmt.Errorf("loosened holds %v, not [field, was, now]", c)
		}
		out = append(out, Loosening{Field: fmt.Sprint(t[0]), Was: fmt.Sprint(t[1]), Now: fmt.Sprint(t[2])})
	}
	return out, nil
}
