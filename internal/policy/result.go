package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/spec"
)

// Outcome is what a rule decided for a unit; the check result document
// defines the vocabulary.
type Outcome = checkresult.Outcome

// Outcomes, in the order results are listed.
const (
	OutcomeDeny         = checkresult.Deny
	OutcomeInsufficient = checkresult.InsufficientEvidence
	OutcomeWarn         = checkresult.Warn
	OutcomeWaived       = checkresult.Waived
	OutcomePass         = checkresult.Pass
	// OutcomeNotApplicable: the rule found nothing to judge.
	OutcomeNotApplicable = checkresult.NotApplicable
)

// Result is one rule's decision for one unit: the check result
// document's finding, which the engine produces as it is recorded.
type Result = checkresult.Finding

// AppliedWaiver is the waiver that turned a denial into a waived result.
type AppliedWaiver = checkresult.AppliedWaiver

// Waiver statuses.
const (
	WaiverActive     = checkresult.WaiverActive
	WaiverExpired    = checkresult.WaiverExpired
	WaiverUnapproved = checkresult.WaiverUnapproved
)

// WaiverStatus says whether w waives anything at now: a waiver expires at
// the end of its expiry date (UTC) and needs an approver.
func WaiverStatus(w checkresult.Waiver, now time.Time) string {
	if w.ApprovedBy == "" {
		return WaiverUnapproved
	}
	if checkresult.WaiverExpiredAt(w.Expires, now) {
		return WaiverExpired
	}
	return WaiverActive
}

// Waives says whether waiver w covers rule for the unit (model, env): it
// names the rule and the model, and the environment or "*". An empty rule
// or env stands for any, for callers that list a unit's waivers. Every
// match of a waiver to a unit or a result goes through here.
func Waives(w checkresult.Waiver, rule, model, env string) bool {
	return (rule == "" || w.Rule == rule) && w.Model == model &&
		(env == "" || w.Environment == env || w.Environment == "*")
}

// Verdict folds outcomes: deny if any result denies (insufficient
// evidence included, where it denies), warn if any warns, else pass.
func Verdict(results []Result) Outcome { return checkresult.Verdict(results) }

// unit collects the results of one evaluation.
type unit struct {
	e   *Engine
	loc Locator
	in  Input
	// value is the unit's input as OPA reads it; nil when it could not
	// be built.
	value   ast.Object
	results []Result
	// kind is the unit's kind, KindModel by default.
	kind string
	// judged are the rule ids with a finding, so the rest can pass.
	judged map[string]bool
	// notApplicable are the rules that said they had nothing to judge,
	// with why: they are reported as such instead of passing.
	notApplicable map[string]string
	// facts are the packs' facts documents, merged.
	facts map[string]any
}

// add records a finding. field is model-relative, path platform-level.
func (u *unit) add(id string, set Severity, msg, field, path string) {
	u.addOutcome(id, set, Outcome(set), msg, field, path)
}

// addOutcome records a finding with its outcome. Insufficient evidence
// denies in a protected environment and warns elsewhere, whatever the
// rule's own severity: this is the one place that decides it.
func (u *unit) addOutcome(id string, set Severity, outcome Outcome, msg, field, path string) {
	r := Result{Rule: id, Severity: set, Outcome: outcome, Message: msg,
		Model: u.in.Model.Name, Environment: u.in.Environment.Name, Controls: []Control{}}
	if rule, ok := u.e.rules[id]; ok {
		r.Severity = rule.Severity
		r.Controls = rule.Controls
	}
	if outcome == OutcomeInsufficient {
		r.Severity = SeverityWarn
		if u.in.Environment.Protected {
			r.Severity = SeverityDeny
		}
	}
	switch {
	case path != "":
		r.Field = path
		r.Pos = u.pos(cuePath(splitField(path)))
	default:
		r.Field = field
		r.Pos = u.pos(spec.ModelPath(u.in.Model.Name, splitField(field)...))
	}
	u.results = append(u.results, r)
	if u.judged == nil {
		u.judged = map[string]bool{}
	}
	u.judged[id] = true
}

// addFinding records a pack's finding; one that says where in a field it
// is (at) is placed there rather than on the field.
func (u *unit) addFinding(f finding) {
	outcome := f.outcome
	if outcome == "" {
		outcome = Outcome(f.set)
	}
	u.addOutcome(f.id, Severity(f.set), outcome, f.msg, f.field, f.path)
	if f.at.IsValid() {
		u.results[len(u.results)-1].Pos = f.at
	}
}

// position reads a result's at, {file, line, column}; the zero Position
// when it is absent or malformed.
func position(v any) spec.Position {
	m, ok := v.(map[string]any)
	if !ok {
		return spec.Position{}
	}
	file, _ := m["file"].(string)
	num := func(k string) int {
		switch n := m[k].(type) {
		case json.Number:
			i, _ := n.Int64()
			return int(i)
		case float64:
			return int(n)
		}
		return 0
	}
	return spec.Position{File: file, Line: num("line"), Column: num("column")}
}

func (u *unit) pos(path string) spec.Position {
	if u.loc == nil {
		return spec.Position{}
	}
	return u.loc.Pos(path)
}

// evalPack evaluates one pack's query and records its findings; an error
// or an undefined decision is a denial. Findings of a pack that reads the
// same values as a unit judged before in the batch are reused. It returns
// false when the unit's deadline passed, which leaves no time for the
// other packs.
func (u *unit) evalPack(ctx context.Context, p pack, input ast.Object, cache *valueCache) bool {
	key, memo := "", false
	if cache != nil {
		key, memo = memoKey(p, input)
	}
	if memo {
		if m, ok := cache.memoGet(key); ok {
			for _, f := range m.findings {
				u.record(f)
			}
			u.addFacts(m.facts)
			return true
		}
	}
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(input))
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("policy %s: evaluation exceeded policy.timeout (%s)", p.name, u.in.timeout()), "", "")
		return false
	case err != nil:
		u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("policy %s: %v", p.name, err), "", "")
		return true
	case len(rs) == 0:
		u.add(RulePolicyUndefined, SeverityDeny, fmt.Sprintf("policy %s: decision undefined", p.name), "", "")
		return true
	}
	fs := []finding{}
	clean := true
	var facts map[string]any
	if p.facts {
		var ok bool
		if facts, ok = rs[0].Bindings[factsDoc].(map[string]any); !ok {
			u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("policy %s: %s is %T, want an object", p.name, factsDoc, rs[0].Bindings[factsDoc]), "", "")
			clean = false
		}
		u.addFacts(facts)
	}
	for _, b := range p.sets {
		items, ok := rs[0].Bindings[b.name].([]any)
		if !ok {
			u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("policy %s: %s is %T, want a set", b.pkg, b.set, rs[0].Bindings[b.name]), "", "")
			clean = false
			continue
		}
		for _, item := range items {
			obj, _ := item.(map[string]any)
			id, _ := obj["id"].(string)
			msg, _ := obj["msg"].(string)
			if id == "" || msg == "" {
				u.add(RulePolicyError, SeverityDeny, fmt.Sprintf("policy %s: %s result %v lacks a string id or msg", b.pkg, b.set, item), "", "")
				clean = false
				continue
			}
			field, _ := obj["field"].(string)
			path, _ := obj["path"].(string)
			// A rule marks a finding whose evidence is too thin to decide
			// with outcome insufficient_evidence (lib.insufficient).
			outcome := Outcome(b.set)
			if o, _ := obj["outcome"].(string); o == string(OutcomeInsufficient) {
				outcome = OutcomeInsufficient
			}
			f := finding{id: id, set: b.set, outcome: outcome, msg: msg, field: field, path: path, at: position(obj["at"])}
			fs = append(fs, f)
			u.record(f)
		}
	}
	if memo && clean {
		cache.memoPut(key, memoEntry{findings: fs, facts: facts})
	}
	return true
}

// record adds a pack's finding: a deny or warn result, or a rule's
// statement that it had nothing to judge.
func (u *unit) record(f finding) {
	if f.set == setNotApplicable {
		if u.notApplicable == nil {
			u.notApplicable = map[string]string{}
		}
		u.notApplicable[f.id] = f.msg
		return
	}
	u.addFinding(f)
}

// finish applies waivers, adds a pass for every rule that applies and found
// nothing, and sorts.
func (u *unit) finish() []Result {
	now, err := time.Parse(time.RFC3339, u.in.Now)
	if err != nil {
		now = time.Now()
	}
	var active []AppliedWaiver
	for i, w := range u.in.Waivers {
		var wpos spec.Position
		if i < len(u.in.waiverPos) {
			wpos = u.in.waiverPos[i]
		}
		doc := w.Document()
		switch WaiverStatus(doc, now) {
		case WaiverUnapproved:
			u.addAt(RuleWaiverUnapproved, fmt.Sprintf("waiver of %s (%s) has no approvedBy, so it waives nothing", w.Rule, w.Ticket), wpos)
		case WaiverExpired:
			u.addAt(RuleWaiverExpired, fmt.Sprintf("waiver of %s (%s) expired on %s, so it waives nothing", w.Rule, w.Ticket, w.Expires), wpos)
		default:
			active = append(active, AppliedWaiver{Waiver: doc, Pos: wpos})
		}
	}
	for i := range u.results {
		r := &u.results[i]
		if !r.Outcome.Blocks(r.Severity) || !waivable(r.Rule) {
			continue
		}
		// The first active waiver that covers the result applies.
		for _, w := range active {
			if Waives(w.Waiver, r.Rule, r.Model, r.Environment) {
				r.Outcome = OutcomeWaived
				r.Waiver = &w
				break
			}
		}
	}
	for _, rule := range u.e.rules {
		if rule.Package == "engine" || u.judged[rule.ID] || !rule.applies(u.in.Phase, u.kind, u.present) {
			continue
		}
		outcome, msg := OutcomePass, rule.Title
		if why, ok := u.notApplicable[rule.ID]; ok {
			outcome, msg = OutcomeNotApplicable, why
		}
		u.results = append(u.results, Result{Rule: rule.ID, Severity: rule.Severity, Outcome: outcome,
			Message: msg, Model: u.in.Model.Name, Environment: u.in.Environment.Name,
			Pos: u.pos(spec.ModelPath(u.in.Model.Name)), Controls: rule.Controls})
	}
	sort.SliceStable(u.results, func(i, j int) bool {
		a, b := u.results[i], u.results[j]
		if a.Outcome.Rank() != b.Outcome.Rank() {
			return a.Outcome.Rank() < b.Outcome.Rank()
		}
		// The engine's own findings (missing evidence, a broken policy)
		// explain the others, so they come first.
		if ea, eb := !waivable(a.Rule), !waivable(b.Rule); ea != eb {
			return ea
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Message < b.Message
	})
	return u.results
}

// present says whether the input has a value other than null or false at
// key.
func (u *unit) present(key string) bool {
	if u.value == nil {
		return false
	}
	t := u.value.Get(ast.InternedTerm(key))
	if t == nil {
		return false
	}
	switch v := t.Value.(type) {
	case ast.Null:
		return false
	case ast.Boolean:
		return bool(v)
	}
	return true
}

func (u *unit) addAt(id, msg string, pos spec.Position) {
	u.add(id, SeverityDeny, msg, "", "")
	last := &u.results[len(u.results)-1]
	last.Pos = pos
	last.Field = ""
}

// waivable says whether a waiver may excuse a rule: the engine's own
// fail-closed checks cannot be waived.
func waivable(id string) bool {
	for _, r := range engineRules {
		if r.ID == id {
			return false
		}
	}
	return true
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// splitField splits "handover.alerts[0].severity" into the selectors
// handover, alerts, [0], severity.
func splitField(field string) []string {
	if field == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(field, ".") {
		idx := indexRE.FindAllStringIndex(part, -1)
		if len(idx) == 0 || idx[0][0] == 0 {
			out = append(out, part)
			continue
		}
		out = append(out, part[:idx[0][0]])
		for _, ix := range idx {
			out = append(out, part[ix[0]:ix[1]])
		}
	}
	return out
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// cuePath renders selectors as a CUE path, quoting labels that are not
// identifiers, for platform-level paths such as dataSources."x-y".owner.
func cuePath(sels []string) string {
	var b strings.Builder
	for i, s := range sels {
		if strings.HasPrefix(s, "[") {
			b.WriteString(s)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if identRE.MatchString(s) {
			b.WriteString(s)
		} else {
			b.WriteString(strconv.Quote(s))
		}
	}
	return b.String()
}
