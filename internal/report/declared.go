package report

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/slipway-ml/slipway/internal/spec"
)

// StatusDeclared: the only rules serving the item that passed check a
// declaration a person made (policies declared.*): complete, not true.
// It is shown as "declared by <owner>", never as covered.
const StatusDeclared = "declared"

// Declaration is one block of what only people can state about a model,
// shown as declared by its owner, never as verified.
type Declaration struct {
	// Block is the model spec field: purpose, oversight, instructions
	// or riskRegister.
	Block string `json:"block"`
	Title string `json:"title"`
	// Rule is the policy that checks the block is complete.
	Rule string `json:"rule"`
	// Owner is who declares the block; empty when it is not declared.
	Owner string `json:"owner"`
	// Status is "declared by <owner>" or "not declared".
	Status string `json:"status"`
	// Outcome is the signed outcome of Rule in the reference release;
	// empty without one.
	Outcome    string          `json:"outcome,omitempty"`
	Items      []DeclaredItem  `json:"items"`
	Risks      []RiskRow       `json:"risks,omitempty"`
	Acceptance *RiskAcceptance `json:"acceptance,omitempty"`
	// Source is signed (the spec the reference release signed) or spec.
	Source string `json:"source"`
}

// DeclaredItem is one statement of a declaration.
type DeclaredItem struct {
	Label  string   `json:"label"`
	Values []string `json:"values"`
}

// RiskRow is one risk of a risk register.
type RiskRow struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Likelihood  string   `json:"likelihood"`
	Severity    string   `json:"severity"`
	Mitigation  string   `json:"mitigation"`
	Rules       []string `json:"rules"`
	Suites      []string `json:"suites"`
}

// RiskAcceptance is a named role accepting the residual risk, as the
// signed spec states it.
type RiskAcceptance = spec.RiskAcceptance

// declaredTemplate renders Dossier.Declared in the HTML report.
//
//go:embed declared.html.tmpl
var declaredTemplate string

// declarationKinds are the declaration blocks, in the order the report
// shows them, with the rule that checks each and how to read its owner.
var declarationKinds = []struct {
	block, title, rule string
	owner              func(*spec.Model) string
}{
	{"purpose", "Intended purpose and foreseeable misuse", "declared.purpose", func(m *spec.Model) string {
		if m.Purpose == nil {
			return ""
		}
		return m.Purpose.Owner
	}},
	{"oversight", "Human oversight", "declared.oversight", func(m *spec.Model) string {
		if m.Oversight == nil {
			return ""
		}
		return m.Oversight.Owner
	}},
	{"instructions", "Instructions for use", "declared.instructions", func(m *spec.Model) string {
		if m.Instructions == nil {
			return ""
		}
		return m.Instructions.Owner
	}},
	{"riskRegister", "Risk register", "declared.risk_register", func(m *spec.Model) string {
		if m.RiskRegister == nil {
			return ""
		}
		return m.RiskRegister.Owner
	}},
}

// declaredByOwner is how the report names a declaration's owner.
func declaredByOwner(owner string) string {
	if owner == "" {
		return "not declared"
	}
	return "declared by " + owner
}

// declaredOwner is the owner of the block the declared rule checks, from
// the dossier's model spec (the signed one when there is a release).
func declaredOwner(d *dossier, rule string) string {
	if d.model == nil {
		return ""
	}
	for _, k := range declarationKinds {
		if k.rule == rule {
			return k.owner(d.model)
		}
	}
	return ""
}

// declarations builds the dossier's declarations from its model spec.
func (b *builder) declarations(d *dossier) []Declaration {
	out := []Declaration{}
	if d.model == nil {
		return out
	}
	m := d.model
	for _, k := range declarationKinds {
		dc := Declaration{Block: k.block, Title: k.title, Rule: k.rule, Owner: k.owner(m), Items: []DeclaredItem{}, Source: d.Identity}
		dc.Status = declaredByOwner(dc.Owner)
		if o, ok := d.outcomes[k.rule]; ok {
			dc.Outcome = o.Outcome
		}
		item := func(label string, values ...string) {
			var vs []string
			for _, v := range values {
				if strings.TrimSpace(v) != "" {
					vs = append(vs, v)
				}
			}
			if len(vs) > 0 {
				dc.Items = append(dc.Items, DeclaredItem{Label: label, Values: vs})
			}
		}
		switch k.block {
		case "purpose":
			if p := m.Purpose; p != nil {
				item("Intended purpose", p.Intended)
				item("Intended users", p.Users...)
				item("Reasonably foreseeable misuse", p.Misuse...)
			}
		case "oversight":
			if o := m.Oversight; o != nil {
				item("Measures", o.Measures...)
				item("May override an output", o.OverrideBy...)
				if o.ReferralRate != nil {
					item("Expected referral rate", fmt.Sprintf("%.4g%% of decisions", *o.ReferralRate*100))
				}
				item("How to stop it", o.Stop)
			}
		case "instructions":
			if i := m.Instructions; i != nil {
				item("Document", i.Document)
				item("Known limitations", i.Limitations...)
				item("Input data", i.Inputs)
				item("Lifetime and maintenance", i.Maintenance)
			}
		case "riskRegister":
			if rr := m.RiskRegister; rr != nil {
				dc.Risks = []RiskRow{}
				for _, r := range rr.Risks {
					dc.Risks = append(dc.Risks, RiskRow{ID: r.ID, Description: r.Description, Likelihood: r.Likelihood, Severity: r.Severity,
						Mitigation: r.Mitigation.Description, Rules: nonNil(r.Mitigation.Rules), Suites: nonNil(r.Mitigation.Suites)})
				}
				if a := rr.Acceptance; a != nil {
					acc := *a
					dc.Acceptance = &acc
				}
			}
		}
		out = append(out, dc)
	}
	return out
}

// declaredMarkdown writes the dossier's declarations.
func (m *mdWriter) declared(ds []Declaration) {
	if len(ds) == 0 {
		return
	}
	m.p("### Declared by people\n")
	m.p("What only people can state. Slipway checks that each block is complete (its rule); it cannot check that it is true, so each is shown as declared by its owner, never as verified.\n")
	for _, dc := range ds {
		status := md(dc.Status)
		if dc.Outcome != "" {
			status += "; " + code(dc.Rule) + " " + outcomeMark(dc.Outcome)
		}
		m.p("#### %s\n", md(dc.Title))
		m.p("*%s* (source: %s)\n", status, md(dc.Source))
		var rows [][]string
		for _, it := range dc.Items {
			rows = append(rows, []string{md(it.Label), md(strings.Join(it.Values, "; "))})
		}
		if len(rows) > 0 {
			m.table([]string{"", ""}, rows)
		}
		if len(dc.Risks) > 0 {
			var rs [][]string
			for _, r := range dc.Risks {
				links := append(codes(r.Rules), mdAll(r.Suites, "suite ")...)
				rs = append(rs, []string{code(r.ID), md(r.Description), md(r.Likelihood), md(r.Severity), md(r.Mitigation), strings.Join(links, ", ")})
			}
			m.table([]string{"Risk", "Description", "Likelihood", "Severity", "Mitigation", "Evidenced by"}, rs)
		}
		if a := dc.Acceptance; a != nil {
			m.p("Residual risk accepted by %s (%s) on %s. %s\n", md(a.Role), md(a.By), md(a.Date), md(a.Note))
		}
	}
}

func codes(ss []string) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, code(s))
	}
	return out
}

func mdAll(ss []string, prefix string) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, md(prefix+s))
	}
	return out
}
