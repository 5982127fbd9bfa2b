package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// frameworksJSON lists, per framework, the control items the report
// shows and their titles. Which rule serves which item is not here: it is
// the rules' own metadata (Rego METADATA custom.controls).
//
//go:embed frameworks.json
var frameworksJSON []byte

type frameworkDef struct {
	Framework string `json:"framework"`
	Title     string `json:"title"`
	// Include is "listed" (show the listed items) or "cited" (show the
	// items the catalogue cites, plus listed items marked always).
	Include string    `json:"include"`
	Items   []itemDef `json:"items"`
}

type itemDef struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Detail bool   `json:"detail"`
	Always bool   `json:"always"`
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
// id, or a lettered point under a numbered one (Annex IV 2(g) serves
// Annex IV 2).
func controlMatches(control, item string) bool {
	return control == item || (!strings.Contains(item, "(") && strings.HasPrefix(control, item+"("))
}

// coverage builds one table per framework.
func (b *builder) coverage() []Framework {
	var out []Framework
	type job struct {
		fw      string
		item    *CoverageItem
		serving map[string]bool
	}
	var jobs []job
	ruleIDs := slices.Sorted(maps.Keys(b.rules))
	for _, fd := range frameworkDefs() {
		items := fd.Items
		if fd.Include == "cited" {
			items = citedItems(fd, b)
		}
		f := Framework{Framework: fd.Framework, Title: fd.Title, Items: make([]CoverageItem, len(items))}
		for i, it := range items {
			f.Items[i] = CoverageItem{ID: it.ID, Title: it.Title, Detail: it.Detail, Rules: []string{}, Models: make([]CoverageCell, len(b.dossiers))}
			serving := map[string]bool{}
			for _, id := range ruleIDs {
				for _, c := range b.rules[id].Controls {
					if c.Framework == fd.Framework && controlMatches(c.ID, it.ID) {
						serving[id] = true
						f.Items[i].Rules = append(f.Items[i].Rules, id)
						break
					}
				}
			}
		}
		out = append(out, f)
	}
	for fi := range out {
		for i := range out[fi].Items {
			it := &out[fi].Items[i]
			serving := map[string]bool{}
			for _, id := range it.Rules {
				serving[id] = true
			}
			jobs = append(jobs, job{out[fi].Framework, it, serving})
		}
	}
	parallel(len(b.dossiers), func(m int) {
		for _, j := range jobs {
			j.item.Models[m] = b.cell(b.dossiers[m], j.fw, j.item.ID, j.serving)
		}
	})
	return out
}

// citedItems are the items of a framework the catalogue cites, in the
// order of the framework's list, then any unlisted ones by id.
func citedItems(fd frameworkDef, b *builder) []itemDef {
	cited := map[string]bool{}
	for _, r := range b.rules {
		for _, c := range r.Controls {
			if c.Framework == fd.Framework {
				cited[c.ID] = true
			}
		}
	}
	var out []itemDef
	for _, it := range fd.Items {
		if it.Always || cited[it.ID] {
			out = append(out, it)
			delete(cited, it.ID)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(cited)) {
		out = append(out, itemDef{ID: id, Title: "(no title recorded)"})
	}
	return out
}

// cell judges one model against one item from its reference release: the
// signed outcomes of the rules serving the item, by the catalogue or by
// the controls the release itself signed.
func (b *builder) cell(d *dossier, framework, item string, serving map[string]bool) CoverageCell {
	c := CoverageCell{Model: d.Model, Status: StatusGap, Results: []RuleOutcome{}}
	if d.ref == nil {
		c.Note = "no verified release"
		return c
	}
	p := d.ref.st.Predicate
	c.Record = d.ref.row.Record
	if p.Evidence != nil {
		c.Evidence = p.Evidence.SHA256
	}
	rules := map[string]bool{}
	for id := range serving {
		rules[id] = true
	}
	for _, r := range p.Results {
		for _, ctl := range r.Controls {
			if ctl.Framework == framework && controlMatches(ctl.ID, item) {
				rules[r.Rule] = true
			}
		}
	}
	if len(rules) == 0 {
		c.Note = "no rule's metadata names this item"
		return c
	}
	outcomes := d.outcomes
	vacuous := false
	covered, exception := false, false
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		o, ok := outcomes[id]
		if !ok {
			continue
		}
		if o.Outcome == "pass" {
			// A pass's message is the rule's title; the dossier's policy
			// results carry it.
			o.Message = ""
		}
		c.Results = append(c.Results, o)
		switch {
		case o.Outcome == "pass" && strings.HasPrefix(id, "fairness.") && !d.fairness:
			// A fairness rule finds nothing to judge without sensitive
			// attributes; its pass is no evidence of fairness.
			vacuous = true
		case o.Outcome == "pass":
			covered = true
		case o.Outcome == "waived" || o.Outcome == "warn" || o.Outcome == "insufficient_evidence":
			exception = true
		}
	}
	switch {
	case covered:
		c.Status = StatusCovered
	case exception:
		c.Status = StatusException
		c.Note = "only waived or warned results"
	case vacuous:
		c.Note = "fairness rules passed without fairness evidence"
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
	return s
}
