package report

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/slipway-ml/slipway/internal/markdown"
)

// Formats Render writes.
const (
	FormatHTML     = "html"
	FormatMarkdown = "md"
	FormatJSON     = "json"
)

// Render writes the report in format; ctx bounds the browser that
// prints a PDF.
func Render(ctx context.Context, w io.Writer, r *Report, format string) error {
	switch format {
	case FormatHTML:
		return r.HTML(w)
	case FormatMarkdown:
		return r.Markdown(w)
	case FormatJSON:
		return r.JSON(w)
	case FormatModelCard:
		return r.ModelCard(w)
	case FormatPDF:
		return r.PDF(ctx, w)
	}
	return fmt.Errorf("format %q: want html, md, json, pdf or modelcard", format)
}

// matrixMax is the most models a coverage table shows as columns; larger
// portfolios get one row per model instead.
const matrixMax = 8

func fp(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return num(*v)
}

func bound(min, max *float64) string {
	switch {
	case min != nil && max != nil:
		return fmt.Sprintf("%s to %s", num(*min), num(*max))
	case min != nil:
		return ">= " + num(*min)
	case max != nil:
		return "<= " + num(*max)
	}
	return ""
}

func ci(iv []float64) string {
	if len(iv) != 2 {
		return ""
	}
	return fmt.Sprintf("[%s, %s]", num(iv[0]), num(iv[1]))
}

// rowMark is a table row's result: the outcome its rule signed for it
// (rowOutcome), "not judged by RULE" when the rule gave none, empty when
// no rule judges the row.
func rowMark(rule, outcome string) string {
	switch {
	case outcome != "":
		return outcomeMark(outcome)
	case strings.HasSuffix(rule, "."):
		return "not judged by the " + strings.TrimSuffix(rule, ".") + " rules"
	case rule != "":
		return "not judged by " + rule
	}
	return ""
}

func statusMark(s string) string {
	switch s {
	case StatusCovered:
		return "✅ covered"
	case StatusException:
		return "⚠️ exception"
	case StatusNotApplicable:
		return "n/a"
	case StatusDeclared:
		return "declared"
	}
	return "❌ gap"
}

func outcomeMark(o string) string {
	switch o {
	case "pass":
		return "✅ pass"
	case "warn":
		return "⚠️ warn"
	case "waived":
		return "⚠️ waived"
	case "deny":
		return "❌ deny"
	case "insufficient_evidence":
		return "🔍 insufficient evidence"
	}
	return "❌ " + o
}

func waiverMark(s string) string {
	switch s {
	case WaiverActive:
		return "active"
	case WaiverExpiring:
		return "⚠️ EXPIRING"
	case WaiverExpired:
		return "❌ EXPIRED"
	}
	return "❌ " + strings.ToUpper(s)
}

func verifiedMark(ok bool) string {
	if ok {
		return "✅ verified"
	}
	return "❌ FAILS VERIFICATION"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "❌ no"
}

// md makes text literal on one line of GitHub Markdown, table cells
// included (markdown.Text): names, messages and reasons come from specs
// and evidence, which a pull request's author writes.
func md(s string) string { return markdown.Text(s) }

// code wraps s in a code span (digests, paths, ids) that s cannot close.
func code(s string) string { return markdown.CodeCell(s) }

type mdWriter struct {
	w *bufio.Writer
}

func (m *mdWriter) p(format string, args ...any) {
	fmt.Fprintf(m.w, format, args...)
	m.w.WriteByte('\n')
}

func (m *mdWriter) table(head []string, rows [][]string) {
	if len(rows) == 0 {
		m.p("_None._\n")
		return
	}
	m.p("| %s |", strings.Join(head, " | "))
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---"
	}
	m.p("|%s|", strings.Join(seps, "|"))
	for _, r := range rows {
		m.p("| %s |", strings.Join(r, " | "))
	}
	m.p("")
}

// Markdown writes the report as GitHub-flavoured Markdown.
func (r *Report) Markdown(w io.Writer) error {
	m := &mdWriter{w: bufio.NewWriter(w)}
	m.p("# Audit report: %s\n", md(r.Platform))
	m.p("Generated %s by Slipway %s. %s\n", md(r.GeneratedAt), md(r.SlipwayVersion), md(scopeText(r.Scope)))
	m.p("Every figure names its source: **signed** (a verified release record), **evidence** (a file whose sha256 the verified record pins) or **spec** (the platform spec as it is now).\n")

	m.p("## Summary\n")
	s := r.Summary
	ledger := "✅ verified"
	if !r.Ledger.OK {
		ledger = "❌ FAILS VERIFICATION"
	}
	m.table([]string{"", ""}, [][]string{
		{"Models", fmt.Sprint(s.Models)},
		{"Releases in scope", fmt.Sprint(s.Releases)},
		{"Ledger", fmt.Sprintf("%s: %d record(s), %d verified, %d failing; head %s; keys %s", ledger, r.Ledger.Records, r.Ledger.Verified, r.Ledger.Failed, code(r.Ledger.Head), keysText(r.Ledger.Fingerprints))},
		{"Releases failing verification", fmt.Sprint(s.FailedReleases)},
		{"Waivers", fmt.Sprintf("%d active, %d expiring within %d days, %d expired, %d unapproved", s.ActiveWaivers, s.ExpiringWaivers, ExpiringWithinDays, s.ExpiredWaivers, s.UnapprovedWaivers)},
		{"Without fairness evidence", md(orNone(s.LackingFairness))},
		{"Without complete handover evidence", md(orNone(s.LackingHandover))},
	})
	var gaps [][]string
	for _, g := range s.Gaps {
		gaps = append(gaps, []string{md(g.Framework), fmt.Sprint(g.Items), fmt.Sprint(g.GapItems), fmt.Sprint(g.Covered), fmt.Sprint(g.Declared), fmt.Sprint(g.Exception), fmt.Sprint(g.Gap)})
	}
	m.table([]string{"Framework", "Items", "Items with a gap", "Covered cells", "Declared cells", "Exception cells", "Gap cells"}, gaps)
	if len(gaps) > 0 {
		m.p("A cell is one model against one item: each framework has as many as its items times the models in scope.\n")
	}
	if len(s.Attention) > 0 {
		m.p("**Needs attention**\n")
		for _, a := range s.Attention {
			m.p("- %s", md(a))
		}
		m.p("")
	}

	m.p("## Portfolio\n")
	var rows [][]string
	for _, p := range r.Portfolio {
		row := []string{md(p.Model), md(p.Owner)}
		for _, env := range r.Environments {
			cell := "—"
			for _, c := range p.Current {
				if c.Environment == env {
					cell = fmt.Sprintf("%s (%s)", md(c.Version), md(c.ReleasedAt[:min(10, len(c.ReleasedAt))]))
				}
			}
			row = append(row, cell)
		}
		decision := "—"
		if p.LatestDecision != "" {
			decision = fmt.Sprintf("%s (verdict %s)", md(p.LatestDecision), md(p.LatestVerdict))
			if p.LoosenedThreshold {
				decision += " ❌ LOOSENED a threshold"
			}
		}
		failed := "0"
		if p.FailedReleases > 0 {
			failed = fmt.Sprintf("❌ %d", p.FailedReleases)
		}
		row = append(row, decision, fmt.Sprintf("%d (%d expiring)", p.OpenWaivers, p.ExpiringWaivers), yesNo(p.Fairness), yesNo(p.Handover), failed, md(monitoredCell(p)))
		rows = append(rows, row)
	}
	head := []string{"Model", "Owner"}
	for _, env := range r.Environments {
		head = append(head, md(env))
	}
	head = append(head, "Latest decision", "Open waivers", "Fairness evidence", "Handover evidence", "Failing releases", "Last monitored")
	m.table(head, rows)

	m.p("## Waivers\n")
	m.waiverTable(r.Waivers, true)

	m.p("## Releases that fail verification\n")
	m.releaseTable(r.Failed, true)

	m.p("## Control coverage\n")
	m.p("%s\n", md(coverageRule))
	for _, f := range r.Coverage {
		m.p("### %s\n", md(f.Title))
		m.coverageMatrix(f, len(r.Models))
		m.mappingTable(f)
	}

	if err := m.w.Flush(); err != nil {
		return err
	}
	parts := make([]bytes.Buffer, renderSlots(len(r.Models)))
	return inOrder(len(r.Models), len(parts), func(s, i int) error {
		parts[s].Reset()
		dm := &mdWriter{w: bufio.NewWriter(&parts[s])}
		dm.dossier(r.Models[i])
		return dm.w.Flush()
	}, func(s, _ int) error {
		_, err := w.Write(parts[s].Bytes())
		return err
	})
}

func scopeText(s Scope) string {
	var parts []string
	if s.Model != "" {
		parts = append(parts, "model "+s.Model)
	}
	if s.Environment != "" {
		parts = append(parts, "environment "+s.Environment)
	}
	if s.Since != "" {
		parts = append(parts, "since "+s.Since)
	}
	if s.Until != "" {
		parts = append(parts, "until "+s.Until)
	}
	if len(parts) == 0 {
		return "Scope: every model, every environment, all time."
	}
	return "Scope: " + strings.Join(parts, ", ") + "."
}

func (m *mdWriter) waiverTable(ws []WaiverRow, withModel bool) {
	var rows [][]string
	for _, w := range ws {
		row := []string{}
		if withModel {
			row = append(row, md(w.Model))
		}
		row = append(row, code(w.Rule), md(w.Environment), md(w.Reason), md(w.ApprovedBy), md(w.Expires), waiverMark(w.Status), fmt.Sprint(w.DaysLeft), md(w.Ticket), md(w.Source))
		rows = append(rows, row)
	}
	head := []string{}
	if withModel {
		head = append(head, "Model")
	}
	m.table(append(head, "Rule", "Env", "Reason", "Approved by", "Expires", "Status", "Days left", "Ticket", "Source"), rows)
}

func (m *mdWriter) releaseTable(rs []ReleaseRow, withModel bool) {
	var rows [][]string
	for _, r := range rs {
		row := []string{fmt.Sprint(r.Seq)}
		if withModel {
			row = append(row, md(r.Model))
		}
		notes := append(append([]string{}, r.Problems...), r.Notes...)
		row = append(row, md(r.Environment), md(r.Version), md(r.ReleasedAt), verifiedMark(r.Verified), md(r.Decision), md(r.KeyID), code(r.Record), md(strings.Join(notes, "; ")))
		rows = append(rows, row)
	}
	head := []string{"#"}
	if withModel {
		head = append(head, "Model")
	}
	m.table(append(head, "Env", "Version", "Released at", "Verification", "Decision", "Key", "Record", "Problems and notes"), rows)
}

func (m *mdWriter) coverageMatrix(f Framework, models int) {
	if models <= matrixMax {
		var rows [][]string
		var head []string
		for i, it := range f.Items {
			row := []string{"**" + md(it.ID) + "**", md(it.Title)}
			if i == 0 {
				head = []string{"Item", "Title"}
			}
			for _, c := range it.Models {
				if i == 0 {
					head = append(head, md(c.Model))
				}
				row = append(row, statusMark(c.Status))
			}
			row = append(row, md(orNone(countingRules(it))))
			rows = append(rows, row)
		}
		m.table(append(head, "Rules that can carry it"), rows)
		return
	}
	// Many models: one row per model listing its gaps.
	gaps := map[string][]string{}
	counts := map[string][3]int{}
	var order []string
	for _, it := range f.Items {
		for _, c := range it.Models {
			if _, ok := counts[c.Model]; !ok {
				order = append(order, c.Model)
			}
			n := counts[c.Model]
			switch c.Status {
			case StatusCovered:
				n[0]++
			case StatusException:
				n[1]++
			default:
				n[2]++
				gaps[c.Model] = append(gaps[c.Model], it.ID)
			}
			counts[c.Model] = n
		}
	}
	var rows [][]string
	for _, mdl := range order {
		n := counts[mdl]
		rows = append(rows, []string{md(mdl), fmt.Sprint(n[0]), fmt.Sprint(n[1]), fmt.Sprint(n[2]), md(orNone(gaps[mdl]))})
	}
	m.table([]string{"Model", "Covered", "Exceptions", "Gaps", "Gap items"}, rows)
}

func (m *mdWriter) dossier(d Dossier) {
	m.p("---\n")
	m.p("## Model %s\n", md(d.Model))
	if len(d.Gaps) > 0 {
		m.p("**Gaps and findings**\n")
		for _, g := range d.Gaps {
			m.p("- %s", md(g))
		}
		m.p("")
	}
	m.p("### Identity and intended use\n")
	ref := "none"
	if d.Reference != nil {
		ref = fmt.Sprintf("%s %s in %s, %s", code(d.Reference.Record), md(d.Reference.Version), md(d.Reference.Environment), md(d.Reference.ReleasedAt))
	}
	m.table([]string{"", ""}, [][]string{
		{"Version", md(d.Version)},
		{"Owner", md(d.Owner)},
		{"Team", md(d.Team)},
		{"Task", md(d.Task)},
		{"Intended use", md(d.IntendedUse.Summary)},
		{"Affects people", fmt.Sprint(d.IntendedUse.AffectsPeople)},
		{"Out of scope", md(orNone(d.IntendedUse.OutOfScope))},
		{"Artifact", fmt.Sprintf("%s %s", md(d.Artifact.URI), code(d.Artifact.Digest))},
		{"Reference release", ref},
		{"Source", md(d.Identity)},
	})
	m.declared(d.Declared)

	m.p("### Releases\n")
	m.releaseTable(d.Releases, false)
	if len(d.Diffs) > 0 {
		m.p("Each release against the release before it in its environment, from the two signed records; whether a threshold loosened is %s's own finding:\n", code("policy.threshold_loosened"))
		var rows [][]string
		for _, df := range d.Diffs {
			c := df.cells()
			var fields []string
			for _, f := range c.Fields {
				t := md(f.Text)
				if f.Loosened {
					t = "❌ LOOSENED " + t
				}
				fields = append(fields, t)
			}
			loosened := markdown.Cell(strings.Join(c.Loosened, "\n"))
			if len(df.Loosened) > 0 {
				loosened = "❌ LOOSENED " + loosened
			}
			rows = append(rows, []string{md(df.Environment+" "+df.Version) + "<br>" + code(df.Record), md(df.PreviousVersion), strings.Join(fields, "<br>"), loosened, markdown.Cell(strings.Join(c.Metrics, "\n")), md(c.Policy)})
		}
		m.table([]string{"Release", "Against", "Spec fields changed", "Thresholds loosened", "Headline metrics (signed)", "Policy bundle"}, rows)
	}

	m.p("### Data lineage\n")
	var rows [][]string
	for _, s := range d.Lineage.Sources {
		rows = append(rows, []string{md(s.Name), md(strings.Join(s.Roles, ", ")), md(s.Owner), md(s.Classification), md(orNone(s.PII)), code(s.Version), md(s.Snapshot), code(s.SnapshotSHA256), rowsText(s.Rows), md(s.Source)})
	}
	m.table([]string{"Source", "Role", "Owner", "Classification", "PII", "Version", "Snapshot", "Snapshot sha256", "Rows", "Source"}, rows)
	m.qualityDrift(d.Lineage.Sources, d.Lineage.Drift)
	rows = nil
	if e := d.Lineage.EvidenceSummary; e != nil {
		rows = append(rows, []string{code(e.Path) + " (evidence summary)", code(e.SHA256), matchMark(e.Match)})
	}
	for _, in := range d.Lineage.Inputs {
		rows = append(rows, []string{code(in.Path), code(in.SHA256), matchMark(in.Match)})
	}
	m.p("Hashed evidence files the release pins:\n")
	m.table([]string{"File", "Signed sha256", "File at hand"}, rows)

	m.p("### Evaluation\n")
	if e := d.Evaluation; e != nil {
		if e.Note != "" {
			m.p("_%s_\n", md(e.Note))
		}
		rows = nil
		for _, r := range e.Metrics {
			rows = append(rows, metricRow(r, true))
		}
		m.table([]string{"Metric", "Value", "95% CI", "Threshold", "Result", "Baseline", "Delta", "Source"}, rows)
		if e.Baseline != "" {
			m.p("Baseline: %s.\n", md(e.Baseline))
		}
		if e.CINote != "" {
			m.p("Confidence intervals: %s.\n", md(e.CINote))
		}
	} else {
		m.p("_No verified release: no signed evaluation._\n")
	}

	m.p("### Fairness\n")
	m.fairness(d.Fairness)

	m.p("### Tests\n")
	m.tests(d.Tests)

	m.earlier(d.Earlier)

	m.monitoring(d.Monitoring)

	m.p("### Handover checklist\n")
	rows = nil
	for _, h := range d.Handover {
		rows = append(rows, []string{md(h.Item), code(h.Rule), outcomeMark(h.Outcome), md(h.Evidence), md(h.Message), md(h.Source)})
	}
	m.table([]string{"Item", "Rule", "Outcome", "Evidence", "Finding", "Source"}, rows)

	m.p("### Policy results\n")
	rows = nil
	for _, r := range d.Results {
		rows = append(rows, []string{md(r.Environment), code(r.Rule), md(r.Severity), outcomeMark(r.Outcome), md(r.Message), md(controlsText(r.Controls)), md(r.Waiver)})
	}
	m.table([]string{"Env", "Rule", "Severity", "Outcome", "Message", "Controls", "Waiver"}, rows)

	m.p("### Waivers\n")
	m.waiverTable(d.Waivers, false)

	m.p("### Approvals\n")
	rows = nil
	for _, a := range d.Approvals {
		rows = append(rows, []string{md(a.Environment), md(a.Version), md(a.User), md(a.State), md(a.SubmittedAt), md(a.Source)})
	}
	m.table([]string{"Env", "Version", "User", "State", "Submitted at", "Source"}, rows)

	m.p("### Signatures\n")
	rows = nil
	for _, s := range d.Signatures {
		rows = append(rows, []string{md(s.Environment), md(s.Version), md(s.KeyID), code(s.KeyFingerprint), md(s.SignedAt), verifiedMark(s.Verified), code(s.Record)})
	}
	m.table([]string{"Env", "Version", "Key id", "Key SHA-256", "Signed at", "Verification", "Record"}, rows)

	m.p("### Infrastructure changes\n")
	rows = nil
	for _, i := range d.Infrastructure {
		rows = append(rows, []string{md(i.Environment), md(i.Version), code(i.Stack), fmt.Sprint(i.Create), fmt.Sprint(i.Update), fmt.Sprint(i.Delete), fmt.Sprint(i.Replace), code(i.PlanSHA256)})
	}
	m.table([]string{"Env", "Version", "Stack", "Create", "Update", "Delete", "Replace", "Plan sha256"}, rows)

	m.p("### Control coverage\n")
	for _, f := range d.coverage {
		m.p("**%s**\n", md(f.Framework))
		rows = nil
		var unserved []string
		for _, it := range f.Items {
			c := it.Models[0]
			if len(it.Rules) == 0 && len(c.Results) == 0 {
				unserved = append(unserved, it.ID)
				continue
			}
			rows = append(rows, []string{md(it.ID), statusMark(c.Status), md(resultsText(c.Results, it.Detail)), md(c.Note)})
		}
		m.table([]string{"Item", "Status", "Rules and signed outcomes", "Note"}, rows)
		if len(unserved) > 0 {
			m.p("❌ Gaps no rule serves (%d): %s.\n", len(unserved), md(strings.Join(unserved, ", ")))
		}
	}
}

func (m *mdWriter) qualityDrift(sources []DataSourceRow, drift []DriftRow) {
	var rows [][]string
	for _, s := range sources {
		for _, q := range s.Quality {
			rows = append(rows, []string{md(s.Name), md(q.Check), md(q.Column), fp(q.Value), md(q.Bound), qualityMark(q), md(q.Detail), md(s.QualitySource)})
		}
	}
	if len(rows) > 0 {
		m.p("Data quality:\n")
		m.table([]string{"Source", "Check", "Column", "Value", "Bound", "Rule outcome", "Detail", "Source"}, rows)
	}
	rows = nil
	for _, r := range drift {
		rows = append(rows, []string{md(r.Feature), fp(r.PSI), fp(r.KS), fp(r.KSPValue), md(r.Metric), fp(r.Threshold), rowMark(r.DriftRule(), r.RuleOutcome), md(r.Source)})
	}
	if len(rows) > 0 {
		dr := drift[0]
		m.p("Drift from %s to %s:\n", code(dr.Reference), code(dr.Current))
		m.table([]string{"Feature", "PSI", "KS", "KS p-value", "Judged by", "Threshold", "data.drift outcome", "Source"}, rows)
	}
}

func (m *mdWriter) fairness(f *FairnessSection) {
	var rows [][]string
	if f != nil && f.Missing != "" {
		m.p("❌ **No fairness evidence**: %s.\n", md(f.Missing))
	} else if f != nil && f.Unavailable != "" {
		m.p("_%s._\n", md(f.Unavailable))
	} else if f != nil {
		for _, a := range f.Attributes {
			m.p("**%s** (reference group %s)\n", md(a.Name), md(a.Reference))
			rows = nil
			for _, g := range a.Groups {
				rows = append(rows, []string{md(g.Group), fmt.Sprint(g.Count), fp(g.SelectionRate), ci(g.SelectionCI), fp(g.TPR), ci(g.TPRCI), fp(g.FPR), ci(g.FPRCI)})
			}
			m.table([]string{"Group", "Count", "Selection rate", "95% CI", "TPR", "95% CI", "FPR", "95% CI"}, rows)
			rows = nil
			for _, r := range a.Metrics {
				rows = append(rows, metricRow(r, false))
			}
			m.table([]string{"Metric", "Value", "95% CI", "Threshold", "Result", "Source"}, rows)
			for _, c := range a.Charts {
				if c.Threshold != nil {
					m.p("- %s: threshold line at %s (%s)", md(c.Title), num(*c.Threshold), md(c.ThresholdLabel))
				}
			}
			m.p("")
		}
		if len(f.Excluded) > 0 {
			rows = nil
			for _, g := range f.Excluded {
				rows = append(rows, []string{md(g.Attribute), md(g.Group), fmt.Sprint(g.Count), md(g.Reason)})
			}
			m.p("Groups left out of the fairness aggregates:\n")
			m.table([]string{"Attribute", "Group", "Count", "Reason"}, rows)
		}
		m.p("Source: %s.\n", md(f.Source))
		if f.CINote != "" {
			m.p("Confidence intervals: %s.\n", md(f.CINote))
		}
	}
}

func (m *mdWriter) tests(t *Tests) {
	if t != nil {
		var rows [][]string
		for _, s := range t.Suites {
			rows = append(rows, []string{md(s.Name), fmt.Sprint(s.Required), fmt.Sprint(s.Tests), fmt.Sprint(s.Failures), fmt.Sprint(s.Errors), fmt.Sprint(s.Skipped), rowMark(s.Rule, s.Outcome)})
		}
		m.table([]string{"Suite", "Required", "Tests", "Failures", "Errors", "Skipped", "Rule outcome"}, rows)
		m.p("Total %d tests, %d failures, %d errors, %d skipped. Source: %s.\n", t.Tests, t.Failures, t.Errors, t.Skipped, md(t.Source))
	} else {
		m.p("_No test evidence at hand with its signed digest._\n")
	}
}

// earlier shows the bundled evidence of the model's other releases.
func (m *mdWriter) earlier(es []ReleaseEvidence) {
	if len(es) == 0 {
		return
	}
	m.p("### Evidence of earlier releases\n")
	m.p("_Read from each release's evidence bundle (releases/blobs), the digests its signed record pins._\n")
	for _, e := range es {
		m.p("#### %s %s in %s, %s\n", code(e.Record), md(e.Version), md(e.Environment), md(e.ReleasedAt))
		if e.Problem != "" {
			m.p("❌ %s.\n", md(e.Problem))
			continue
		}
		m.qualityDrift(e.Sources, e.Drift)
		m.p("Fairness:\n")
		m.fairness(e.Fairness)
		m.p("Tests:\n")
		m.tests(e.Tests)
	}
}

// keysText lists trusted keys with their fingerprints.
func keysText(ks []KeyFingerprint) string {
	var parts []string
	for _, k := range ks {
		parts = append(parts, md(k.ID)+" (SHA-256 "+code(k.Fingerprint)+")")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func rowsText(n *int64) string {
	if n == nil {
		return ""
	}
	return fmt.Sprint(*n)
}

// qualityMark is a data quality row's result: its rule's outcome, or
// that no expectation bounds the figure, so no rule judged it.
func qualityMark(q QualityCheck) string {
	if q.Rule == "" {
		return "not judged: no expectation bounds it"
	}
	return rowMark(q.Rule, q.Outcome)
}

func matchMark(m string) string {
	switch m {
	case matchOK:
		return "✅ same digest"
	case matchBundled:
		return "✅ in the release's bundle, digest checked"
	case matchBlobMissing:
		return "❌ bundle blob MISSING"
	case matchBlobChanged:
		return "❌ bundle blob EDITED"
	case matchChanged:
		return "❌ CHANGED"
	}
	return "not at hand"
}

func metricRow(r MetricRow, baseline bool) []string {
	row := []string{md(r.Name), fp(r.Value), ci(r.CI), bound(r.Min, r.Max), rowMark(r.Rule, r.Outcome)}
	if baseline {
		b, dl := "", ""
		if r.Baseline != nil {
			b = num(*r.Baseline)
		}
		if r.Delta != nil {
			dl = fmt.Sprintf("%+.4f", *r.Delta)
		}
		row = append(row, b, dl)
	}
	return append(row, md(r.Source))
}

func controlsText(cs []Control) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Framework+" "+c.ID)
	}
	return strings.Join(parts, "; ")
}

// coverageRule says when an item is covered, in every format.
const coverageRule = "An item is covered for a model only when a built-in rule that can carry it (the mappings below, each with its reason) judged evidence and passed in the model's verified release, the newest in the furthest environment in scope. " +
	"A rule that found nothing to judge counts as not applicable; a rule whose metadata claims an item it cannot carry, and a repository rule unless the platform sets policy.trustRepositoryControls, never make it covered. " +
	"An item served only by a rule that checks a person's declaration (declared.*) is declared by that person, never covered. Items no rule serves are gaps."

// countingRules are the rules whose pass can make the item covered.
func countingRules(it CoverageItem) []string {
	var out []string
	for _, m := range it.Mappings {
		if m.Counts {
			out = append(out, m.Rule)
		}
	}
	return out
}

// mappingTable lists every mapping of a framework with its rationale.
func (m *mdWriter) mappingTable(f Framework) {
	var rows [][]string
	for _, it := range f.Items {
		for _, mp := range it.Mappings {
			can := yesNo(mp.Counts)
			if mp.Declared {
				can = "declared only"
			}
			rows = append(rows, []string{md(it.ID), code(mp.Rule), can, md(mp.Rationale)})
		}
	}
	if len(rows) == 0 {
		return
	}
	m.p("Mappings of %s:\n", md(f.Framework))
	m.table([]string{"Item", "Rule", "Can cover", "Why"}, rows)
}

func resultsText(rs []RuleOutcome, detail bool) string {
	var parts []string
	for _, r := range rs {
		name := r.Rule
		if r.Label != "" {
			name = r.Label
		}
		s := name + ": " + r.Outcome
		if detail && r.Message != "" {
			s += " (" + r.Message + ")"
		}
		if r.NotCounted != "" {
			s += " [does not count: " + r.NotCounted + "]"
		}
		parts = append(parts, s)
	}
	return orNone(parts)
}
