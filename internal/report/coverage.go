package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/parallel"
)

// frameworksJSON lists every item of each framework, its title, and the
// rules that can carry it, each with a one-line rationale. A rule's own
// metadata (Rego METADATA custom.controls) says which items it claims; a
// claim counts only when the item lists the rule here, so an item a rule
// cannot evidence is never covered by it. Adding or removing an item or
// a mapping is an edit of this file alone.
//
//go:embed frameworks.json
var frameworksJSON []byte

type frameworkDef struct {
	Framework string    `json:"framework"`
	Title     string    `json:"title"`
	Items     []itemDef `json:"items"`
}

type itemDef struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Detail bool   `json:"detail"`
	// CarriedBy are the built-in rules whose passing result evidences
	// the item, with why.
	CarriedBy []mappingDef `json:"carriedBy"`
}

type mappingDef struct {
	Rule string `json:"rule"`
	Why  string `json:"why"`
	// Declared: the rule checks a person's declaration is complete, so
	// its pass makes the item declared, not covered.
	Declared bool `json:"declared"`
}

func frameworkDefs() []frameworkDef {
	var doc struct {
		Frameworks []frameworkDef `json:"frameworks"`
	}
	if err := json.Unmarshal(frameworksJSON, &doc); err != nil {
		panic(fmt.Sprintf("embedded frameworks.json: %v", err))
	}
	return doc.Frameworks
}

// controlMatches says whether a rule's control serves an item: the same
// id, or a lettered point under a numbered one the framework lists
// without its points (Annex IV 2(g) serves an item "Annex IV 2").
func controlMatches(control, item string) bool {
	return control == item || (!strings.Contains(item, "(") && strings.HasPrefix(control, item+"("))
}

// coverage builds one table per framework, listing every item.
func (b *builder) coverage() []Framework {
	var out []Framework
	type job struct {
		fw      string
		item    *CoverageItem
		mapping map[string]Mapping
	}
	var jobs []job
	ruleIDs := slices.Sorted(maps.Keys(b.rules))
	for _, fd := range frameworkDefs() {
		f := Framework{Framework: fd.Framework, Title: fd.Title, Items: make([]CoverageItem, len(fd.Items))}
		for i, it := range fd.Items {
			ci := CoverageItem{ID: it.ID, Title: it.Title, Detail: it.Detail, Rules: []string{}, Mappings: []Mapping{}, Models: make([]CoverageCell, len(b.dossiers))}
			byRule := map[string]Mapping{}
			for _, m := range it.CarriedBy {
				mp := Mapping{Rule: m.Rule, Rationale: m.Why, Counts: true, Declared: m.Declared}
				if r, ok := b.rules[m.Rule]; ok && !r.Builtin {
					mp = b.repositoryMapping(m.Rule, m.Why)
				}
				byRule[m.Rule] = mp
			}
			for _, id := range ruleIDs {
				if _, ok := byRule[id]; ok {
					continue
				}
				for _, c := range b.rules[id].Controls {
					if c.Framework == fd.Framework && controlMatches(c.ID, it.ID) {
						byRule[id] = b.claimOnly(id)
						break
					}
				}
			}
			for _, id := range slices.Sorted(maps.Keys(byRule)) {
				ci.Rules = append(ci.Rules, id)
				ci.Mappings = append(ci.Mappings, byRule[id])
			}
			f.Items[i] = ci
		}
		out = append(out, f)
	}
	for fi := range out {
		for i := range out[fi].Items {
			it := &out[fi].Items[i]
			m := map[string]Mapping{}
			for _, mp := range it.Mappings {
				m[mp.Rule] = mp
			}
			jobs = append(jobs, job{out[fi].Framework, it, m})
		}
	}
	parallel.For(len(b.dossiers), func(m int) {
		for _, j := range jobs {
			j.item.Models[m] = b.cell(b.dossiers[m], j.fw, j.item.ID, j.mapping)
		}
	})
	return out
}

// repositoryMapping is a repository rule serving an item: shown, and
// counted only when the platform trusts repository controls.
func (b *builder) repositoryMapping(id, why string) Mapping {
	m := Mapping{Rule: id, Rationale: why, Repository: true, Counts: b.p.Policy.TrustRepositoryControls}
	if m.Rationale == "" {
		m.Rationale = "claimed by the repository rule's own metadata"
	}
	if !m.Counts {
		m.Rationale += "; repository rules count only with policy.trustRepositoryControls"
	}
	return m
}

// claimOnly is a rule whose metadata names the item although the item
// does not list it as one that can carry it.
func (b *builder) claimOnly(id string) Mapping {
	if r, ok := b.rules[id]; ok && !r.Builtin {
		return b.repositoryMapping(id, "")
	}
	return Mapping{Rule: id, Rationale: "claimed by the rule's metadata, but the item cannot rest on this rule (frameworks.json does not list it)"}
}

// cell judges one model against one item from its reference release: the
// signed outcomes of the rules serving the item. Only a rule that may
// carry the item, judged evidence (not "not applicable") and passed makes
// it covered.
func (b *builder) cell(d *dossier, framework, item string, mapping map[string]Mapping) CoverageCell {
	c := CoverageCell{Model: d.Model, Status: StatusGap, Results: []RuleOutcome{}}
	if d.ref == nil {
		c.Note = "no verified release"
		return c
	}
	if len(mapping) == 0 && !d.claims[framework] {
		// Nothing serves the item: the common case, kept cheap at a
		// thousand models.
		c.Note = "no rule serves this item"
		return c
	}
	p := d.ref.st.Predicate
	c.Record = d.ref.row.Record
	c.RecordDigest = d.ref.digest
	if p.Evidence != nil {
		c.Evidence = p.Evidence.SHA256
	}
	// The item's mapping is shared by every model's cell: copied only
	// when a result claims the item for a rule the mapping lacks.
	rules, copied := mapping, false
	for _, rc := range d.controls[framework] {
		if _, ok := rules[rc.rule]; ok || !controlMatches(rc.id, item) {
			continue
		}
		if !copied {
			rules, copied = make(map[string]Mapping, len(mapping)+1), true
			maps.Copy(rules, mapping)
		}
		rules[rc.rule] = b.claimOnly(rc.rule)
	}
	if len(rules) == 0 {
		c.Note = "no rule serves this item"
		return c
	}
	c.Results = make([]RuleOutcome, 0, len(rules))
	vacuous, na, uncounted := false, false, false
	covered, exception := false, false
	var declaredBy []string
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		o, ok := d.outcomes[id]
		if !ok {
			continue
		}
		m := rules[id]
		if o.Outcome == "pass" {
			// A pass's message is the rule's title; the dossier's policy
			// results carry it.
			o.Message = ""
		}
		if m.Repository {
			o.Label = "repository rule " + id
			if p.Bundle != nil && p.Bundle.Policy != "" {
				o.Label += " (policy " + p.Bundle.Policy + ")"
			}
		}
		switch {
		case !m.Counts:
			uncounted = true
			o.NotCounted = m.Rationale
		case o.Outcome == OutcomeNotApplicable:
			na = true
		case o.Outcome == "pass" && strings.HasPrefix(id, "fairness.") && !d.fairness:
			// A fairness rule finds nothing to judge without sensitive
			// attributes; its pass is no evidence of fairness.
			vacuous = true
			o.NotCounted = "passed without fairness evidence"
		case o.Outcome == "pass" && m.Declared:
			// A complete declaration is what a person states, not
			// evidence Slipway checked.
			o.Label = declaredByOwner(declaredOwner(d, id))
			o.NotCounted = "a declaration, complete but not verified"
			declaredBy = append(declaredBy, o.Label)
		case o.Outcome == "pass":
			covered = true
		case o.Outcome == "waived" || o.Outcome == "warn" || o.Outcome == "insufficient_evidence":
			exception = true
		}
		c.Results = append(c.Results, o)
	}
	switch {
	case covered:
		c.Status = StatusCovered
	case len(declaredBy) > 0:
		c.Status = StatusDeclared
		c.Note = strings.Join(slices.Compact(slices.Sorted(slices.Values(declaredBy))), "; ") + ", not verified"
	case exception:
		c.Status = StatusException
		c.Note = "only waived or warned results"
	case na:
		c.Status = StatusNotApplicable
		c.Note = "the rules serving this item found nothing to judge"
	case vacuous:
		c.Note = "fairness rules passed without fairness evidence"
	case uncounted:
		c.Note = "only rules that cannot carry this item passed"
	case len(c.Results) == 0:
		c.Note = "the release holds no result of the rules serving this item"
	}
	return c
}

// waivers lists every model's waivers, soonest expiry first.
func (b *builder) waivers() []WaiverRow {
	out := []WaiverRow{}
	for _, d := range b.dossiers {
		out = append(out, d.waiverRows...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Expires != out[j].Expires {
			return out[i].Expires < out[j].Expires
		}
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// summary is the one-screen overview and what needs attention first.
func (b *builder) summary(rep *Report) Summary {
	s := Summary{Models: len(b.dossiers), FailedReleases: len(rep.Failed), LackingFairness: []string{}, LackingHandover: []string{},
		Unreleased: []string{}, Gaps: []FrameworkGaps{}, Attention: []string{}}
	for _, d := range b.dossiers {
		s.Releases += len(d.history)
		if d.ref == nil {
			s.Unreleased = append(s.Unreleased, d.Model)
		}
		if !d.fairness {
			s.LackingFairness = append(s.LackingFairness, d.Model)
		}
		if !d.handover {
			s.LackingHandover = append(s.LackingHandover, d.Model)
		}
	}
	for _, w := range rep.Waivers {
		switch w.Status {
		case WaiverActive:
			s.ActiveWaivers++
		case WaiverExpiring:
			s.ExpiringWaivers++
		case WaiverExpired:
			s.ExpiredWaivers++
		case WaiverUnapproved:
			s.UnapprovedWaivers++
		}
	}
	for _, f := range rep.Coverage {
		g := FrameworkGaps{Framework: f.Framework, Items: len(f.Items)}
		for _, it := range f.Items {
			gap := false
			for _, c := range it.Models {
				g.Cells++
				switch c.Status {
				case StatusCovered:
					g.Covered++
				case StatusException:
					g.Exception++
				case StatusNotApplicable:
					g.NotApplicable++
				case StatusDeclared:
					g.Declared++
				default:
					g.Gap++
					gap = true
				}
			}
			if gap {
				g.GapItems++
			}
		}
		s.Gaps = append(s.Gaps, g)
	}
	att := func(format string, args ...any) { s.Attention = append(s.Attention, fmt.Sprintf(format, args...)) }
	if n := len(rep.Failed); n > 0 {
		var paths []string
		for _, r := range rep.Failed {
			paths = append(paths, r.Record)
		}
		att("%d release record(s) FAIL VERIFICATION: %s", n, strings.Join(paths, ", "))
	}
	for _, p := range rep.Ledger.Problems {
		att("ledger: %s", p)
	}
	for _, w := range rep.Waivers {
		switch w.Status {
		case WaiverExpired:
			att("waiver of %s for %s (%s) EXPIRED on %s", w.Rule, w.Model, w.Ticket, w.Expires)
		case WaiverExpiring:
			att("waiver of %s for %s (%s) expires on %s, in %d day(s)", w.Rule, w.Model, w.Ticket, w.Expires, w.DaysLeft)
		case WaiverUnapproved:
			att("waiver of %s for %s (%s) has no approver", w.Rule, w.Model, w.Ticket)
		}
	}
	if len(s.LackingFairness) > 0 {
		att("no fairness evidence: %s", strings.Join(s.LackingFairness, ", "))
	}
	if len(s.LackingHandover) > 0 {
		att("handover evidence incomplete: %s", strings.Join(s.LackingHandover, ", "))
	}
	if len(s.Unreleased) > 0 {
		att("no verified release in scope: %s", strings.Join(s.Unreleased, ", "))
	}
	var loosened []string
	for _, p := range rep.Portfolio {
		if p.LoosenedThreshold {
			loosened = append(loosened, p.Model)
		}
	}
	if len(loosened) > 0 {
		att("latest release LOOSENED a threshold: %s", strings.Join(loosened, ", "))
	}
	return s
}
