package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/slipway-ml/slipway/internal/spec"
)

// factsDoc is the object in which a built-in pack states what its rules
// judged a unit against (`facts.baseline_source := baseline_source`). The
// check result reports these instead of working them out again, so the
// rule and the report can never disagree.
const factsDoc = "facts"

// Facts are what the built-in rules decided for a unit besides their
// findings. A fact whose pack did not run (a stack unit, a pack that
// failed) is left zero, and the check result then shows nothing for it.
type Facts struct {
	// BaselineSource is evaluation.rego's baseline_source: where the
	// baseline the metrics were compared with comes from, one of
	// checkresult's Baseline* constants.
	BaselineSource string `json:"baseline_source,omitempty"`
	// FairnessThresholds are lib.fairness_thresholds, the thresholds the
	// fairness rules applied: the model's own or, when it sets none, the
	// platform's.
	FairnessThresholds map[string]spec.Threshold `json:"fairness_thresholds,omitempty"`
	// FairnessOutcomes are, per sensitive attribute and bounded metric,
	// what the fairness rules decided of the figure before waivers:
	// OutcomeDeny, OutcomeInsufficient or OutcomePass.
	FairnessOutcomes map[string]map[string]Outcome `json:"fairness_outcomes,omitempty"`
}

// isBuiltinPackage says whether pkg (slipway.fairness) is one of
// Slipway's own.
func isBuiltinPackage(pkg string) bool {
	ref := ast.MustParseRef("data." + pkg)
	for _, b := range builtinPackages() {
		if ref.Equal(b) {
			return true
		}
	}
	return false
}

// addFacts merges a pack's facts document into the unit's.
func (u *unit) addFacts(doc map[string]any) {
	if len(doc) == 0 {
		return
	}
	if u.facts == nil {
		u.facts = map[string]any{}
	}
	for k, v := range doc {
		u.facts[k] = v
	}
}

// judgement finishes the unit: its results and the facts its packs stated.
// Facts that do not decode are a policy error, not silently dropped.
func (u *unit) judgement() Judgement {
	var f Facts
	if len(u.facts) > 0 {
		b, err := json.Marshal(u.facts)
		if err == nil {
			err = json.Unmarshal(b, &f)
		}
		if err != nil {
			u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("policy facts: %v", err), "", "")
			f = Facts{}
		}
	}
	return Judgement{Results: u.finish(), Facts: f}
}

// fairnessQuery is lib.fairness_thresholds, prepared once per process over
// the built-in library alone.
var fairnessQuery = sync.OnceValues(func() (rego.PreparedEvalQuery, error) {
	c, err := compileBuiltin(libPackage)
	if err != nil {
		return rego.PreparedEvalQuery{}, err
	}
	q, err := rego.New(rego.Compiler(c), rego.Query("x := data."+libPackage+".fairness_thresholds"), rego.StrictBuiltinErrors(true)).PrepareForEval(context.Background())
	if err != nil {
		return q, fmt.Errorf("%w: prepare fairness_thresholds: %v", ErrLoad, err)
	}
	return q, nil
})

// FairnessThresholds are the thresholds the fairness rules apply to model m
// under the platform's policy defaults (lib.fairness_thresholds): the
// model's own or, when it sets none, the platform's. The audit report asks
// here for a release's thresholds, which its check result does not carry,
// instead of choosing between the two itself.
func FairnessThresholds(ctx context.Context, m *spec.Model, defaults spec.PolicyDefaults) (map[string]spec.Threshold, error) {
	q, err := fairnessQuery()
	if err != nil {
		return nil, err
	}
	type platform struct {
		Policy spec.PolicyDefaults `json:"policy"`
	}
	doc := struct {
		Model    *spec.Model `json:"model"`
		Platform platform    `json:"platform"`
	}{m, platform{defaults}}
	var none *valueCache
	v, err := none.value(doc)
	if err != nil {
		return nil, err
	}
	rs, err := q.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return nil, fmt.Errorf("evaluate fairness_thresholds: %w", err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("evaluate fairness_thresholds: %d results, want 1", len(rs))
	}
	b, err := json.Marshal(rs[0].Bindings["x"])
	if err != nil {
		return nil, err
	}
	out := map[string]spec.Threshold{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("fairness_thresholds: %w", err)
	}
	return out, nil
}
