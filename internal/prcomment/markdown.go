package prcomment

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/changes"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/markdown"
)

// Marker is the hidden HTML comment that identifies Slipway's sticky
// comment on a pull request, so each run finds and updates it.
const Marker = "<!-- slipway:sticky -->"

// MarkerFor is the marker of the sticky comment named key: Marker for the
// pull request check (key ""), another for, say, the results of the release
// after merge, so one never overwrites the other.
func MarkerFor(key string) string {
	if key == "" {
		return Marker
	}
	return "<!-- slipway:sticky:" + key + " -->"
}

// Options say where links in the comment point.
type Options struct {
	// RepoURL is the repository's web address (https://github.com/OWNER/REPO);
	// when empty, spec positions are shown without links.
	RepoURL string
	// Ref is the commit spec links point at; the result's commit when empty.
	Ref string
	// RunURL is the workflow run whose artifacts hold the full report.
	RunURL string
	// Title names the report in its heading; "Slipway" when empty.
	Title string
	// PathPrefix is the platform repository's directory under the git
	// repository's top level ("" when they are the same): spec positions are
	// platform-relative, links and annotations need top-level paths.
	PathPrefix changes.Prefix
}

func (o Options) ref(r *Result) string {
	if o.Ref != "" {
		return o.Ref
	}
	return r.Commit
}

// Markdown renders the whole report as one Markdown document; Split cuts it
// into comment bodies and adds the hidden markers.
func Markdown(r *Result, o Options) string {
	var b strings.Builder
	title := o.Title
	if title == "" {
		title = "Slipway"
	}
	fmt.Fprintf(&b, "## %s %s: %s\n\n", icon(r.Verdict), title, headline(r))
	writeContext(&b, r)
	writeOverview(&b, r)
	shown := map[string]string{} // evidence digest → the unit whose section shows it
	for _, u := range r.Units {
		writeUnit(&b, r, u, o, shown)
	}
	writeShared(&b, r)
	writeWaivers(&b, r, o)
	writeErrors(&b, r)
	writeFooter(&b, r, o)
	return b.String()
}

// headline is the summary line: verdict, then what is affected.
func headline(r *Result) string {
	models, envs := scope(r)
	if len(r.Units) == 0 {
		return string(r.Verdict) + " — no model is affected by this change"
	}
	return fmt.Sprintf("%s — %s in %s", r.Verdict, plural(len(models), "model"), plural(len(envs), "environment"))
}

func scope(r *Result) (models, envs []string) {
	ms, es := map[string]bool{}, map[string]bool{}
	for _, u := range r.Units {
		if !ms[u.Model] {
			ms[u.Model] = true
			models = append(models, u.Model)
		}
		if !es[u.Environment] {
			es[u.Environment] = true
			envs = append(envs, u.Environment)
		}
	}
	return models, envs
}

func writeContext(b *strings.Builder, r *Result) {
	models, envs := scope(r)
	var parts []string
	if r.Platform != "" {
		parts = append(parts, "Platform **"+markdown.Text(r.Platform)+"**")
	}
	if r.Commit != "" {
		parts = append(parts, "commit "+markdown.Code(short(r.Commit)))
	}
	if r.Base != "" {
		parts = append(parts, "base "+markdown.Code(r.Base))
	}
	d, w, wv := tally(r)
	parts = append(parts, fmt.Sprintf("%s, %s, %s", plural(d, "denial"), plural(w, "warning"), plural(wv, "waived rule")))
	b.WriteString(strings.Join(parts, " · ") + "\n\n")
	if len(models) > 0 {
		fmt.Fprintf(b, "Models: %s. Environments: %s.\n\n", codeList(models), codeList(envs))
	}
}

func tally(r *Result) (deny, warn, waived int) {
	for _, u := range r.Units {
		for _, p := range u.Results {
			switch {
			case p.Outcome == Waived:
				waived++
			case p.Outcome.Verdict(p.Severity) == Deny:
				deny++
			case p.Outcome.Verdict(p.Severity) == Warn:
				warn++
			}
		}
	}
	return deny, warn, waived
}

func writeOverview(b *strings.Builder, r *Result) {
	if len(r.Units) == 0 {
		return
	}
	b.WriteString("| Model | Environment | Verdict | Plan changes | Deny | Warn |\n")
	b.WriteString("|---|---|---|---|---:|---:|\n")
	for _, u := range r.Units {
		d, w := 0, 0
		for _, p := range u.Results {
			switch {
			case p.Outcome == Waived:
			case p.Outcome.Verdict(p.Severity) == Deny:
				d++
			case p.Outcome.Verdict(p.Severity) == Warn:
				w++
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s %s | %s | %d | %d |\n",
			modelName(u), cell(u.Environment), icon(u.Verdict), cell(string(u.Verdict)), planCell(u.Plan), d, w)
	}
	b.WriteString("\n")
}

func writeUnit(b *strings.Builder, r *Result, u Unit, o Options, evidenceShown map[string]string) {
	fmt.Fprintf(b, "### %s %s → %s: %s\n\n", icon(u.Verdict), modelName(u), cell(u.Environment), cell(string(u.Verdict)))

	if u.Plan != nil {
		fmt.Fprintf(b, "**Plan** %s: %s\n\n", markdown.Code(u.Plan.Stack), changesText(u.Plan.Changes))
		for _, reason := range u.Plan.Reasons {
			fmt.Fprintf(b, "- %s\n", inline(reason))
		}
		if len(u.Plan.Reasons) > 0 {
			b.WriteString("\n")
		}
	} else {
		b.WriteString("**Plan**: not planned\n\n")
	}

	results := sortedResults(u.Results)
	var shown, passed []PolicyResult
	for _, p := range results {
		if p.Outcome == Pass {
			passed = append(passed, p)
		} else {
			shown = append(shown, p)
		}
	}
	if len(shown) > 0 {
		b.WriteString("**Policy**\n\n")
		writeResultTable(b, r, shown, o)
	}
	if len(passed) > 0 {
		// Passed rules stay short: with dozens per unit, links and controls
		// would crowd out what needs attention.
		fmt.Fprintf(b, "<details><summary>%s passed</summary>\n\n", plural(len(passed), "rule"))
		b.WriteString("| Rule | Result |\n|---|---|\n")
		for _, p := range passed {
			fmt.Fprintf(b, "| %s | %s |\n", markdown.CodeCell(p.Rule), cell(p.Message))
		}
		b.WriteString("\n</details>\n\n")
	}

	if e := u.Evidence; e != nil {
		// Evidence is per model, not per environment: show it once.
		key := u.Model + "\x00" + e.SHA256
		if first, ok := evidenceShown[key]; ok && e.SHA256 != "" {
			fmt.Fprintf(b, "**Metrics and fairness**: the same evidence as %s above.\n\n", first)
		} else {
			evidenceShown[key] = modelName(u) + " → " + cell(u.Environment)
			writeMetrics(b, e)
			writeFairness(b, e)
		}
		writeBaseline(b, e, u.Environment)
	}

	if u.Plan != nil && len(u.Plan.Resources) > 0 {
		writeResources(b, u.Plan)
	}
}

func writeResultTable(b *strings.Builder, r *Result, ps []PolicyResult, o Options) {
	b.WriteString("| | Rule | Message | Spec | Controls |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, p := range ps {
		fmt.Fprintf(b, "| %s %s | %s | %s | %s | %s |\n",
			icon(p.Outcome), cell(string(p.Outcome)), markdown.CodeCell(p.Rule), cell(p.Message), posLink(r, p.Pos, p.Field, o), controls(p.Controls))
	}
	b.WriteString("\n")
}

func writeMetrics(b *strings.Builder, e *Evidence) {
	if len(e.Headline) == 0 {
		return
	}
	b.WriteString("**Metrics**\n\n")
	b.WriteString("| Metric | Value | Baseline | Change |\n")
	b.WriteString("|---|---:|---:|---:|\n")
	for _, name := range slices.Sorted(maps.Keys(e.Headline)) {
		v := e.Headline[name]
		base, change := "—", "—"
		if bv, ok := e.Baseline[name]; ok {
			base = num(bv)
			if v != nil {
				change = signed(*v - bv)
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", cell(name), numPtr(v), base, change)
	}
	b.WriteString("\n")
}

// writeBaseline says what the unit's metrics were compared with: the
// baseline is per environment (the previous release there), so it is
// written for each unit even when the evidence was shown above.
func writeBaseline(b *strings.Builder, e *Evidence, env string) {
	switch e.BaselineSource {
	case checkresult.BaselineDeclared:
		b.WriteString("<sub>Baseline *declared* in the spec, not measured.</sub>\n\n")
	case "":
	default:
		fmt.Fprintf(b, "<sub>Baseline: %s.</sub>\n\n", inline(e.BaselineText(env)))
	}
}

func writeFairness(b *strings.Builder, e *Evidence) {
	if len(e.Fairness) == 0 {
		return
	}
	b.WriteString("**Fairness**\n\n")
	b.WriteString("| Attribute | Metric | Value | Threshold | |\n")
	b.WriteString("|---|---|---:|---|---|\n")
	for _, attr := range slices.Sorted(maps.Keys(e.Fairness)) {
		figs := e.Fairness[attr]
		for _, m := range slices.Sorted(maps.Keys(figs)) {
			f := figs[m]
			value := numPtr(f.Value)
			if f.Interval != nil {
				value += fmt.Sprintf(" [%s, %s]", num(f.Interval[0]), num(f.Interval[1]))
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", cell(attr), cell(m), value, thresholdText(f.Threshold), withinIcon(f))
		}
	}
	b.WriteString("\n")
}

func writeResources(b *strings.Builder, p *Plan) {
	fmt.Fprintf(b, "<details><summary>Planned resources of <code>%s</code> (%d)</summary>\n\n", markdown.HTML(p.Stack), len(p.Resources))
	b.WriteString("| Address | Actions | Changed attributes |\n")
	b.WriteString("|---|---|---|\n")
	for _, res := range p.Resources {
		fmt.Fprintf(b, "| %s | %s | %s |\n", markdown.CodeCell(res.Address), cell(actionsText(res.Actions)), codeList(res.Changed))
	}
	b.WriteString("\n</details>\n\n")
}

func writeShared(b *strings.Builder, r *Result) {
	var changed []*Plan
	for _, p := range r.Shared {
		if p != nil && p.Changes != (Changes{}) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return
	}
	b.WriteString("### Shared stacks\n\n")
	b.WriteString("| Stack | Plan changes |\n|---|---|\n")
	for _, p := range changed {
		fmt.Fprintf(b, "| %s | %s |\n", markdown.CodeCell(p.Stack), changesShort(p.Changes))
	}
	b.WriteString("\n")
	for _, p := range changed {
		if len(p.Resources) > 0 {
			writeResources(b, p)
		}
	}
}

func writeWaivers(b *strings.Builder, r *Result, o Options) {
	if len(r.Waivers) == 0 {
		return
	}
	now, _ := time.Parse(time.RFC3339, r.GeneratedAt)
	b.WriteString("### Waivers\n\n")
	b.WriteString("| Rule | Model | Environment | Status | Expires | Approved by | Ticket | Reason | Spec |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, w := range r.Waivers {
		approver := "—"
		if w.ApprovedBy != "" {
			approver = markdown.CodeCell(w.ApprovedBy)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s %s | %s | %s | %s | %s | %s |\n",
			markdown.CodeCell(w.Rule), cell(w.Model), cell(w.Environment), waiverIcon(w.Status), cell(w.Status), expiry(w.Expires, now),
			approver, cell(orDash(w.Ticket)), cell(w.Reason), posLink(r, w.Pos, "", o))
	}
	b.WriteString("\n")
}

func writeErrors(b *strings.Builder, r *Result) {
	if len(r.Errors) == 0 {
		return
	}
	b.WriteString("### Errors\n\n")
	for _, e := range r.Errors {
		fmt.Fprintf(b, "- %s\n", inline(e))
	}
	b.WriteString("\n")
}

func writeFooter(b *strings.Builder, r *Result, o Options) {
	var parts []string
	v := r.SlipwayVersion
	if v == "" {
		v = "dev"
	}
	parts = append(parts, "slipway "+v)
	if r.GeneratedAt != "" {
		parts = append(parts, "checked "+r.GeneratedAt)
	}
	if o.RunURL != "" {
		parts = append(parts, "[full report and plans in the run's artifacts]("+o.RunURL+")")
	}
	b.WriteString("<sub>" + strings.Join(parts, " · ") + "</sub>\n")
}

// sortedResults puts denials first, then warnings, waived and passed rules,
// each by rule id, so the reason a change cannot ship is read first.
func sortedResults(ps []PolicyResult) []PolicyResult {
	out := append([]PolicyResult(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		oi, oj := out[i].Outcome.Rank(), out[j].Outcome.Rank()
		if oi != oj {
			return oi < oj
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

func icon(v Outcome) string {
	switch v {
	case Pass:
		return "✅"
	case Warn:
		return "⚠️"
	case Deny:
		return "❌"
	case Waived:
		return "🏳️"
	case Insufficient:
		return "🔍"
	}
	return "❔"
}

func waiverIcon(status string) string {
	switch status {
	case "active":
		return "🟢"
	case "expired":
		return "🔴"
	case "unapproved":
		return "🟠"
	}
	return "❔"
}

func modelName(u Unit) string {
	if u.ModelVersion == "" {
		return markdown.CodeCell(u.Model)
	}
	return markdown.CodeCell(u.Model) + " " + cell(u.ModelVersion)
}

func planCell(p *Plan) string {
	if p == nil {
		return "not planned"
	}
	return changesShort(p.Changes)
}

// changesShort is Terraform's own notation: +create ~update -destroy and
// -/+ for replacements.
func changesShort(c Changes) string {
	s := fmt.Sprintf("+%d ~%d -%d", c.Create, c.Update, c.Delete)
	if c.Replace > 0 {
		s += fmt.Sprintf(" -/+%d", c.Replace)
	}
	return s
}

func changesText(c Changes) string {
	if c == (Changes{}) {
		return "no changes"
	}
	s := fmt.Sprintf("%d to create, %d to update, %d to destroy", c.Create, c.Update, c.Delete)
	if c.Replace > 0 {
		s += fmt.Sprintf(", %d to replace", c.Replace)
	}
	return s + " (`" + changesShort(c) + "`)"
}

func actionsText(actions []string) string {
	switch strings.Join(actions, ",") {
	case "create":
		return "+ create"
	case "update":
		return "~ update"
	case "delete":
		return "- destroy"
	case "delete,create":
		return "-/+ replace"
	case "create,delete":
		return "+/- replace"
	case "no-op", "":
		return "no-op"
	}
	return strings.Join(actions, ", ")
}

func posLink(r *Result, p Pos, field string, o Options) string {
	if p.File == "" {
		if field != "" {
			return markdown.CodeCell(field)
		}
		return "—"
	}
	text := p.File
	if p.Line > 0 {
		text += ":" + strconv.Itoa(p.Line)
	}
	s := markdown.CodeCell(text)
	if ref := o.ref(r); o.RepoURL != "" && ref != "" {
		// The path comes from the result: escaped, it cannot end the link
		// destination and start markup of its own.
		u := strings.TrimRight(o.RepoURL, "/") + "/blob/" + url.PathEscape(ref) + "/" + pathEscape(o.PathPrefix.Top(p.File))
		if p.Line > 0 {
			u += "#L" + strconv.Itoa(p.Line)
		}
		s = "[" + s + "](" + u + ")"
	}
	if field != "" {
		s += " " + markdown.CodeCell(field)
	}
	return s
}

func controls(cs []Control) string {
	if len(cs) == 0 {
		return "—"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = cell(c.Framework + " " + c.ID)
	}
	return strings.Join(parts, "<br>")
}

func thresholdText(t Threshold) string {
	switch {
	case t.Min != nil && t.Max != nil:
		return num(*t.Min) + " – " + num(*t.Max)
	case t.Min != nil:
		return "≥ " + num(*t.Min)
	case t.Max != nil:
		return "≤ " + num(*t.Max)
	}
	return "—"
}

// withinIcon shows what the fairness rules decided of the figure; a result
// saved before they said shows none rather than a second judgement here.
func withinIcon(f FairnessFigure) string {
	if f.Value == nil {
		return "❔ undefined"
	}
	switch f.Outcome {
	case Deny:
		return "❌ outside"
	case Insufficient:
		return "🔍 insufficient evidence"
	case Pass:
		return "✅ within"
	}
	return ""
}

func expiry(expires string, now time.Time) string {
	if expires == "" {
		return "—"
	}
	t, err := parseDate(expires)
	if err != nil || now.IsZero() {
		return cell(expires)
	}
	days := int(math.Floor(t.Sub(now).Hours() / 24))
	switch {
	case days < 0:
		return fmt.Sprintf("%s (%s ago)", expires, plural(-days, "day"))
	case days == 0:
		return expires + " (today)"
	}
	return fmt.Sprintf("%s (in %s)", expires, plural(days, "day"))
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func numPtr(v *float64) string {
	if v == nil {
		return "undefined"
	}
	return num(*v)
}

func signed(d float64) string {
	s := num(d)
	if s == "0.0000" || s == "-0.0000" {
		return "±0.0000"
	}
	if d > 0 {
		return "+" + s
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func codeList(xs []string) string {
	if len(xs) == 0 {
		return "—"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = markdown.CodeCell(x)
	}
	return strings.Join(parts, ", ")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// cell makes text literal inside a Markdown table cell (markdown.Cell).
func cell(s string) string { return markdown.Cell(s) }

// inline keeps a message literal and on one list line (markdown.Text).
func inline(s string) string { return markdown.Text(s) }

// pathEscape escapes each segment of a slash-separated path for a URL.
func pathEscape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
