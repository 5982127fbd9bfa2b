package policy

import (
	"fmt"
	"sort"
	"strings"
)

// frameworks in the order the catalogue lists them.
var frameworks = []string{FrameworkEUAIAct, FrameworkNISTRMF, FrameworkISO42001}

// ControlIndex maps each control to the ids of the rules that serve it, for
// control-coverage tables.
func ControlIndex(rules []Rule) map[Control][]string {
	idx := map[Control][]string{}
	for _, r := range rules {
		for _, c := range r.Controls {
			idx[c] = append(idx[c], r.ID)
		}
	}
	for c := range idx {
		sort.Strings(idx[c])
	}
	return idx
}

// CatalogueMarkdown renders the rule catalogue as the Markdown of
// docs/policies.md: a table per pack, then every control with its rules.
func CatalogueMarkdown(rules []Rule) string {
	var b strings.Builder
	b.WriteString("# Policy rule catalogue\n\n")
	b.WriteString("<!-- Generated from the rules' METADATA by `slipway policy rules --format markdown`; TestCatalogueDoc keeps it current. -->\n\n")
	b.WriteString("Every rule `slipway check` reports, with its stable id (the id a waiver names), its severity and the\n")
	b.WriteString("compliance controls it serves: EU AI Act Annex IV points, NIST AI RMF subcategories and ISO/IEC 42001\n")
	b.WriteString("Annex A controls. The audit report builds its control-coverage tables from the same metadata.\n")
	b.WriteString("A `deny` finding fails the check (exit 1) unless an approved, unexpired waiver covers it; a `warn` is reported\n")
	b.WriteString("and does not fail. Rules marked *plan* apply only when the stack was planned (not under `--no-plan`); rules\n")
	b.WriteString("marked *approvals* only when the reviews are known (`slipway check --github`, or a release); rules marked\n")
	b.WriteString("*plan_expected* only when planning was requested.\n\n")
	b.WriteString("A rule may also find the evidence too thin to decide (an estimate within its bound whose 95% interval\n")
	b.WriteString("crosses it, a metric with no interval where the threshold is decided on the interval, a group below\n")
	b.WriteString("`minGroupSize`): its outcome is then `insufficient_evidence`, never a pass. It denies in protected\n")
	b.WriteString("environments and warns elsewhere, and is shown as itself in every output format.\n")
	packs := map[string][]Rule{}
	var names []string
	for _, r := range rules {
		if _, ok := packs[r.Package]; !ok {
			names = append(names, r.Package)
		}
		packs[r.Package] = append(packs[r.Package], r)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "engine") != (names[j] == "engine") {
			return names[j] == "engine"
		}
		return names[i] < names[j]
	})
	for _, pkg := range names {
		title := "`" + pkg + "`"
		if pkg == "engine" {
			title = "Engine checks (fail closed, not waivable)"
		}
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		b.WriteString("| Rule | Severity | Title | EU AI Act | NIST AI RMF | ISO/IEC 42001 |\n|---|---|---|---|---|---|\n")
		for _, r := range packs[pkg] {
			sev := string(r.Severity)
			var notes []string
			notes = append(notes, r.Requires...)
			notes = append(notes, r.Phases...)
			if len(notes) > 0 {
				sev += " (" + strings.Join(notes, ", ") + ")"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |", r.ID, sev, r.Title)
			for _, fw := range frameworks {
				var ids []string
				for _, c := range r.Controls {
					if c.Framework == fw {
						ids = append(ids, c.ID)
					}
				}
				fmt.Fprintf(&b, " %s |", strings.Join(ids, ", "))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
		for _, r := range packs[pkg] {
			fmt.Fprintf(&b, "- `%s`: %s\n", r.ID, oneLine(r.Description))
		}
	}
	b.WriteString("\n## Controls\n\nEach control and the rules that serve it.\n")
	idx := ControlIndex(rules)
	for _, fw := range frameworks {
		fmt.Fprintf(&b, "\n### %s\n\n| Control | Rules |\n|---|---|\n", fw)
		var cs []Control
		for c := range idx {
			if c.Framework == fw {
				cs = append(cs, c)
			}
		}
		sort.Slice(cs, func(i, j int) bool { return controlLess(cs[i].ID, cs[j].ID) })
		for _, c := range cs {
			ids := make([]string, len(idx[c]))
			for i, id := range idx[c] {
				ids[i] = "`" + id + "`"
			}
			fmt.Fprintf(&b, "| %s | %s |\n", c.ID, strings.Join(ids, ", "))
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// controlLess orders control ids naturally, so A.6.2.10 follows A.6.2.9.
func controlLess(a, b string) bool {
	ka, kb := naturalKey(a), naturalKey(b)
	for i := 0; i < len(ka) && i < len(kb); i++ {
		if ka[i] != kb[i] {
			return ka[i] < kb[i]
		}
	}
	return len(ka) < len(kb)
}

func naturalKey(s string) []string {
	var out []string
	cur := ""
	digits := false
	flush := func() {
		if cur == "" {
			return
		}
		if digits {
			cur = fmt.Sprintf("%08s", cur)
		}
		out = append(out, cur)
		cur = ""
	}
	for _, r := range s {
		isDigit := r >= '0' && r <= '9'
		if isDigit != digits {
			flush()
			digits = isDigit
		}
		cur += string(r)
	}
	flush()
	return out
}
