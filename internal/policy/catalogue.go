package policy

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/slipway-ml/slipway/internal/checkresult"
)

// Severity is what a rule's finding does to a unit: deny blocks, warn
// reports.
type Severity = checkresult.Severity

// Severities.
const (
	SeverityDeny = checkresult.SeverityDeny
	SeverityWarn = checkresult.SeverityWarn
)

// Control is one compliance item a rule serves, such as
// {"EU AI Act", "Annex IV 2(g)"}.
type Control = checkresult.Control

// Frameworks named in the built-in rules' controls.
const (
	FrameworkEUAIAct  = "EU AI Act"
	FrameworkNISTRMF  = "NIST AI RMF"
	FrameworkISO42001 = "ISO/IEC 42001"
)

// Rule is one entry of the rule catalogue, read from a Rego rule's METADATA
// annotation or, for the engine's own checks, declared in Go.
type Rule struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Severity    Severity  `json:"severity"`
	Controls    []Control `json:"controls"`
	// Package is the Rego package, such as slipway.fairness; "engine" for
	// checks the engine makes itself.
	Package string `json:"package"`
	// Requires lists the top-level input keys that must not be null (or
	// false) for
	// the rule to apply: "plan" (not under --no-plan), "approvals" (the
	// reviews are known: check --github, or a release).
	Requires []string `json:"requires,omitempty"`
	// Phases lists the phases ("check", "release") the rule applies in;
	// empty means every phase.
	Phases []string `json:"phases,omitempty"`
	// Units lists the unit kinds (model, orphan, shared, monitoring) the rule judges;
	// empty means model only.
	Units []string `json:"units,omitempty"`
	// Builtin is true for Slipway's own rules, false for a repository's.
	Builtin bool `json:"builtin"`
	// Location is where the rule's annotation is, such as
	// builtin/fairness.rego:42.
	Location string `json:"location,omitempty"`
}

// applies reports whether the rule judges a unit with the given phase and
// input; a rule that does not apply is neither a pass nor a finding.
func (r Rule) applies(phase, kind string, present func(key string) bool) bool {
	if kind != KindModel && !slices.Contains(r.Units, kind) {
		return false
	}
	for _, req := range r.Requires {
		if !present(req) {
			return false
		}
	}
	if len(r.Phases) == 0 {
		return true
	}
	for _, p := range r.Phases {
		if p == phase {
			return true
		}
	}
	return false
}

// Rule ids of the checks the engine makes itself, outside Rego, so that they
// hold whatever the policies say.
const (
	RuleEvidenceMissing    = "evidence.missing"
	RuleEvidenceUnreadable = "evidence.unreadable"
	RuleWaiverExpired      = "waiver.expired"
	RuleWaiverUnapproved   = "waiver.unapproved"
	RulePolicyError        = "policy.error"
	RulePolicyUndefined    = "policy.undefined"
)

var (
	euAnnexIV2g   = Control{Framework: FrameworkEUAIAct, ID: "Annex IV 2(g)"}
	nistGovern14  = Control{Framework: FrameworkNISTRMF, ID: "GOVERN 1.4"}
	nistMeasure21 = Control{Framework: FrameworkNISTRMF, ID: "MEASURE 2.1"}
	isoA624       = Control{Framework: FrameworkISO42001, ID: "A.6.2.4"}
)

// engineRules are the checks the engine makes itself.
var engineRules = []Rule{
	{ID: RuleEvidenceMissing, Title: "Evidence summary present", Severity: SeverityDeny,
		Description: "A unit without an evidence summary (.slipway/evidence/<model>.json) is denied: no evidence is never a pass.",
		Controls:    []Control{euAnnexIV2g, nistMeasure21, isoA624}},
	{ID: RuleEvidenceUnreadable, Title: "All evidence readable", Severity: SeverityDeny,
		Description: "Every evidence file the spec names (predictions, JUnit reports, snapshots, runbook) could be read; each problem the evidence engine records is a denial.",
		Controls:    []Control{euAnnexIV2g, nistMeasure21, isoA624}},
	{ID: RuleWaiverExpired, Title: "Waivers not expired", Severity: SeverityDeny,
		Description: "A waiver past its expiry date waives nothing and is itself a denial until it is renewed or removed.",
		Controls:    []Control{{Framework: FrameworkEUAIAct, ID: "Annex IV 5"}, nistGovern14}},
	{ID: RuleWaiverUnapproved, Title: "Waivers approved", Severity: SeverityDeny,
		Description: "A waiver without approvedBy waives nothing and is itself a denial.",
		Controls:    []Control{{Framework: FrameworkEUAIAct, ID: "Annex IV 5"}, nistGovern14}},
	{ID: RulePolicyError, Title: "Policies evaluate without error", Severity: SeverityDeny,
		Description: "A policy pack that fails to evaluate (a conflict, a builtin's error, running past platform.policy.timeout), or returns a malformed result, denies the unit with the error: a broken policy is never a pass.",
		Controls:    []Control{nistGovern14}},
	{ID: RulePolicyUndefined, Title: "Policy decisions defined", Severity: SeverityDeny,
		Description: "A policy pack whose decision is undefined denies the unit.",
		Controls:    []Control{nistGovern14}},
}

var ruleIDPattern = regexp.MustCompile(`^[a-z]+\.[a-z0-9_]+$`)

// readCatalogue collects the rules annotated in the slipway.* packages.
func readCatalogue(c *ast.Compiler, builtin map[string]bool) (map[string]Rule, error) {
	rules := map[string]Rule{}
	for _, r := range engineRules {
		r.Package = "engine"
		r.Builtin = true
		rules[r.ID] = r
	}
	var problems []string
	for _, ref := range c.GetAnnotationSet().Flatten() {
		a := ref.Annotations
		if a == nil || a.Scope != "rule" {
			continue
		}
		rule := ref.GetRule()
		if rule == nil {
			continue
		}
		name := ruleName(rule)
		if name != "deny" && name != "warn" {
			continue
		}
		pkg := strings.TrimPrefix(ref.GetPackage().Path.String(), "data.")
		if !strings.HasPrefix(pkg, "slipway.") {
			continue
		}
		loc := ""
		if a.Location != nil {
			loc = fmt.Sprintf("%s:%d", a.Location.File, a.Location.Row)
		}
		r, err := ruleFromAnnotation(a, name, pkg, loc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", loc, err))
			continue
		}
		file := ""
		if a.Location != nil {
			file = a.Location.File
		}
		r.Builtin = builtin[file]
		if prev, ok := rules[r.ID]; ok {
			problems = append(problems, fmt.Sprintf("%s: rule id %q already annotated at %s", loc, r.ID, prev.Location))
			continue
		}
		rules[r.ID] = r
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("policy metadata:\n  %s", strings.Join(problems, "\n  "))
	}
	return rules, nil
}

func ruleFromAnnotation(a *ast.Annotations, name, pkg, loc string) (Rule, error) {
	r := Rule{Title: a.Title, Description: strings.TrimSpace(a.Description), Package: pkg, Location: loc}
	id, _ := a.Custom["id"].(string)
	if !ruleIDPattern.MatchString(id) {
		return r, fmt.Errorf("custom.id %q: want a rule id such as fairness.demographic_parity", id)
	}
	r.ID = id
	sev, _ := a.Custom["severity"].(string)
	if sev != name {
		return r, fmt.Errorf("rule %s: custom.severity %q must be %q, the name of the rule it annotates", id, sev, name)
	}
	r.Severity = Severity(sev)
	if r.Title == "" {
		return r, fmt.Errorf("rule %s: no title", id)
	}
	raw, _ := a.Custom["controls"].([]any)
	for i, c := range raw {
		m, _ := c.(map[string]any)
		fw, _ := m["framework"].(string)
		cid, _ := m["id"].(string)
		if fw == "" || cid == "" {
			return r, fmt.Errorf("rule %s: custom.controls[%d]: want {framework, id}", id, i)
		}
		r.Controls = append(r.Controls, Control{Framework: fw, ID: cid})
	}
	r.Requires = stringList(a.Custom["requires"])
	r.Phases = stringList(a.Custom["phases"])
	r.Units = stringList(a.Custom["units"])
	for _, k := range r.Units {
		if k != KindModel && k != KindOrphan && k != KindShared && k != KindMonitoring {
			return r, fmt.Errorf("rule %s: custom.units: unknown kind %q: want model, orphan, shared or monitoring", id, k)
		}
	}
	return r, nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// sortedRules returns the catalogue ordered by id.
func sortedRules(m map[string]Rule) []Rule {
	out := make([]Rule, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ruleName is the name of the document a rule defines, such as deny.
func ruleName(r *ast.Rule) string {
	ref := r.Head.Ref()
	if len(ref) != 1 {
		return ""
	}
	return ref[0].Value.String()
}
