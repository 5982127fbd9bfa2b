package report

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/slipway-ml/slipway/internal/svgchart"
)

// The HTML report is one file: inline CSS, inline SVG, no script at all,
// so it opens offline, prints to PDF and cannot phone home.
//
//go:embed report.html.tmpl
var htmlTemplate string

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"scope":  scopeText,
	"join":   func(s []string) string { return strings.Join(s, ", ") },
	"fp":     fp,
	"ci":     ci,
	"bound":  bound,
	"result": func(rule, outcome string) template.HTML { return htmlMark(rowMark(rule, outcome)) },
	// rowclass colours a row by the outcome its rule signed for it.
	"rowclass": func(outcome string) template.HTMLAttr {
		if outcome == "" {
			return ""
		}
		return template.HTMLAttr(rowClass(outcome))
	},
	"delta": func(d *float64) string {
		if d == nil {
			return ""
		}
		return fmt.Sprintf("%+.4f", *d)
	},
	"rows":         rowsText,
	"quality":      func(q QualityCheck) template.HTML { return htmlMark(qualityMark(q)) },
	"match":        func(s string) template.HTML { return htmlMark(matchMark(s)) },
	"icon":         icon,
	"iconSprite":   func() template.HTML { return iconSprite },
	"status":       func(s string) template.HTML { return htmlMark(statusMark(s)) },
	"coverageRule": func() string { return coverageRule },
	"counting":     countingRules,
	"mappings":     mappingRows,
	"outcome":      func(s string) template.HTML { return htmlMark(outcomeMark(s)) },
	"waiver":       func(s string) template.HTML { return htmlMark(waiverMark(s)) },
	"verified":     func(ok bool) template.HTML { return htmlMark(verifiedMark(ok)) },
	"yes":          func(ok bool) template.HTML { return htmlMark(yesNo(ok)) },
	"controls":     controlsText,
	"results":      resultsText,
	"day": func(s string) string {
		if len(s) >= 10 {
			return s[:10]
		}
		return s
	},
	"statusClass": func(s string) string {
		switch s {
		case StatusCovered:
			return ""
		case StatusException, StatusDeclared:
			return "warn"
		}
		return "bad"
	},
	"waiverClass": func(s string) string {
		switch s {
		case WaiverActive:
			return ""
		case WaiverExpiring:
			return "warn"
		}
		return "bad"
	},
	"current": func(p PortfolioRow, env string) *Current {
		for i := range p.Current {
			if p.Current[i].Environment == env {
				return &p.Current[i]
			}
		}
		return nil
	},
	"coverage": func(d Dossier) []Framework { return d.coverage },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"gapbar":        gapBar,
	"resultRows":    resultRows,
	"approvalRows":  approvalRows,
	"signatureRows": signatureRows,
	"infraRows":     infraRows,
	"releaseRows":   releaseRows,
	"diffRows":      diffRows,
	"coverageRows":  coverageRows,
	"gapsPerModel":  gapsPerModel,
	"chart":         chartSVG,
	"modelcard":     func(d Dossier) string { return plainMarks.Replace(modelCard(d)) },
}).Parse(htmlTemplate + declaredTemplate))

// HTML writes the report as one self-contained HTML file.
func (r *Report) HTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := htmlTmpl.Execute(bw, r); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	// Dossiers are independent: render them on every CPU, write them in
	// order.
	parts := make([]bytes.Buffer, renderSlots(len(r.Models)))
	err := inOrder(len(r.Models), len(parts), func(s, i int) error {
		parts[s].Reset()
		if err := htmlTmpl.ExecuteTemplate(&parts[s], "dossier", r.Models[i]); err != nil {
			return fmt.Errorf("render html: model %s: %w", r.Models[i].Model, err)
		}
		return nil
	}, func(s, _ int) error {
		_, err := bw.Write(parts[s].Bytes())
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("</body>\n</html>\n")
	return bw.Flush()
}

// htmlMark turns a Markdown mark ("✅ covered") into a coloured span
// led by an inline SVG icon: no glyph of the page needs an emoji or
// symbol font, so a browser and its PDF draw every mark whatever fonts
// the machine has (TestIconsDrawn screenshots them in Chromium).
func htmlMark(m string) template.HTML {
	class := ""
	for _, g := range []struct{ emoji, class string }{
		{"✅ ", "ok"}, {"⚠️ ", "warn"}, {"❌ ", "bad"}, {"🔍 ", "insufficient"},
	} {
		if strings.HasPrefix(m, g.emoji) {
			class, m = g.class, strings.TrimPrefix(m, g.emoji)
			break
		}
	}
	text := template.HTMLEscapeString(m)
	if class == "" {
		return template.HTML(text)
	}
	return template.HTML(`<span class="` + class + `">` + string(icon(class)) + text + `</span>`)
}

// icons are the marks of the HTML report, drawn as paths in a 16x16 box
// in the colour of the text around them.
var icons = map[string]string{
	// A tick in a circle.
	"ok": `<circle cx="8" cy="8" r="7.5"/><path d="M4.2 8.3l2.5 2.5 5-5.2" fill="none" stroke="#fff" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round"/>`,
	// An exclamation mark in a triangle.
	"warn": `<path d="M8 .8l7.6 13.9H.4z"/><path d="M8 5.4v4.6" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/><circle cx="8" cy="12.4" r="1" fill="#fff"/>`,
	// A cross in a circle.
	"bad": `<circle cx="8" cy="8" r="7.5"/><path d="M5.2 5.2l5.6 5.6m0-5.6l-5.6 5.6" stroke="#fff" stroke-width="1.9" stroke-linecap="round"/>`,
	// A magnifying glass: the evidence is too thin to decide.
	"insufficient": `<circle cx="6.5" cy="6.5" r="4.6" fill="none" stroke="currentColor" stroke-width="2"/><path d="M10 10l4.6 4.6" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/>`,
}

// icon is the inline SVG of one mark (ok, warn, bad or insufficient): a
// reference to its symbol, which iconSprite draws once per page (a
// thousand dossiers carry some 200,000 marks).
func icon(kind string) template.HTML {
	return template.HTML(`<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><use href="#icon-` + kind + `"/></svg>`)
}

// iconSprite defines every icon once, at the top of the page's body.
var iconSprite = func() template.HTML {
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" style="position:absolute" aria-hidden="true">`)
	for _, k := range []string{"ok", "warn", "bad", "insufficient"} {
		b.WriteString(`<symbol id="icon-` + k + `" viewBox="0 0 16 16" fill="currentColor">` + icons[k] + `</symbol>`)
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}()

// gapBar draws a framework's covered/exception/gap shares as a stacked
// bar of plain elements.
func gapBar(g FrameworkGaps) template.HTML {
	if g.Cells == 0 {
		return ""
	}
	var b strings.Builder
	for _, p := range []struct {
		class string
		n     int
	}{{"c", g.Covered}, {"e", g.Exception}, {"g", g.Gap}} {
		if p.n > 0 {
			fmt.Fprintf(&b, `<span class="%s" style="width:%s%%"></span>`, p.class, num(100*float64(p.n)/float64(g.Cells)))
		}
	}
	return template.HTML(b.String())
}

// modelGaps is one model's standing on one framework.
type modelGaps struct {
	Model                   string
	Covered, Exception, Gap int
	Items                   []string
}

func gapsPerModel(f Framework) []modelGaps {
	var out []modelGaps
	index := map[string]int{}
	for _, it := range f.Items {
		for _, c := range it.Models {
			i, ok := index[c.Model]
			if !ok {
				i = len(out)
				index[c.Model] = i
				out = append(out, modelGaps{Model: c.Model})
			}
			switch c.Status {
			case StatusCovered:
				out[i].Covered++
			case StatusException:
				out[i].Exception++
			default:
				out[i].Gap++
				out[i].Items = append(out[i].Items, it.ID)
			}
		}
	}
	return out
}

// chartSVG draws one per-group chart of an attribute. The SVG is built
// by svgchart from numbers and escaped labels only.
func chartSVG(a FairnessAttribute, c Chart) template.HTML {
	bars := svgchart.Bars{Title: c.Title, Threshold: c.Threshold, ThresholdLabel: c.ThresholdLabel, Max: 1}
	for _, g := range a.Groups {
		bar := svgchart.Bar{Label: g.Group, Note: fmt.Sprintf("n=%d", g.Count)}
		var iv []float64
		switch c.Metric {
		case "selection_rate":
			bar.Value, iv = g.SelectionRate, g.SelectionCI
		case "tpr":
			bar.Value, iv = g.TPR, g.TPRCI
		case "fpr":
			bar.Value, iv = g.FPR, g.FPRCI
		}
		if len(iv) == 2 {
			lo, hi := iv[0], iv[1]
			bar.Low, bar.High = &lo, &hi
		}
		bars.Bars = append(bars.Bars, bar)
	}
	return template.HTML(bars.SVG())
}

// The two largest tables of a dossier are written in Go: at a thousand
// dossiers, html/template's reflection and escaping per field cost more
// than the rest of the rendering. Every text goes through
// template.HTMLEscapeString.

var esc = template.HTMLEscapeString

func rowClass(outcome string) string {
	switch outcome {
	case "pass":
		return ""
	case "waived", "warn":
		return ` class="warn"`
	}
	return ` class="bad"`
}

// rows writes table rows straight into one buffer, each text escaped in
// place: concatenating a row first built every row twice, and at a
// thousand dossiers of 143 coverage items that copying was most of the
// tables' cost.
type rows struct{ strings.Builder }

// raw writes trusted markup.
func (w *rows) raw(ss ...string) {
	for _, s := range ss {
		w.WriteString(s)
	}
}

// text writes s escaped.
func (w *rows) text(s string) { w.WriteString(esc(s)) }

// mark writes a Markdown mark as htmlMark draws it. The rows' marks are
// a handful of fixed texts, each drawn once per process.
func (w *rows) mark(m string) {
	h, ok := drawnMarks.Load(m)
	if !ok {
		h, _ = drawnMarks.LoadOrStore(m, string(htmlMark(m)))
	}
	w.WriteString(h.(string))
}

var drawnMarks sync.Map

func (w *rows) html() template.HTML { return template.HTML(w.String()) }

// resultRows are the rows of the policy results table.
func resultRows(rs []PolicyResult) template.HTML {
	var w rows
	w.Grow(400 * len(rs))
	for _, r := range rs {
		w.raw("<tr", rowClass(r.Outcome), "><td>")
		w.text(r.Environment)
		w.raw("</td><td><code>")
		w.text(r.Rule)
		w.raw("</code>")
		if r.Title != "" {
			w.raw(`<br><span class="src">`)
			w.text(r.Title)
			w.raw("</span>")
		}
		w.raw("</td><td>")
		w.text(r.Severity)
		w.raw("</td><td>")
		w.mark(outcomeMark(r.Outcome))
		w.raw("</td><td>")
		w.text(r.Message)
		w.raw("</td><td>")
		// As controlsText, escaped part by part: its separators need no
		// escaping.
		for i, c := range r.Controls {
			if i > 0 {
				w.raw("; ")
			}
			w.text(c.Framework)
			w.raw(" ")
			w.text(c.ID)
		}
		w.raw("</td><td>")
		w.text(r.Waiver)
		w.raw("</td></tr>\n")
	}
	return w.html()
}

// coverageRows are the rows of one framework's table in a dossier: the
// dossier's own column of the coverage table.
func coverageRows(f Framework) template.HTML {
	var w rows
	w.Grow(500 * len(f.Items))
	var unserved []string
	for _, it := range f.Items {
		if len(it.Rules) == 0 && len(it.Models) == 1 && len(it.Models[0].Results) == 0 {
			unserved = append(unserved, it.ID)
			continue
		}
		for _, c := range it.Models {
			class := ""
			switch c.Status {
			case StatusException:
				class = "warn"
			case StatusGap:
				class = "bad"
			}
			w.raw(`<tr class="`, class, `"><td><b>`)
			w.text(it.ID)
			w.raw("</b></td><td>")
			w.mark(statusMark(c.Status))
			w.raw("</td><td>")
			w.text(resultsText(c.Results, it.Detail))
			w.raw("</td><td>")
			// Each digest sits beside what it is the digest of.
			if c.Record != "" {
				w.raw("record <code>")
				w.text(c.Record)
				w.raw("</code>")
				if c.RecordDigest != "" {
					w.raw(" <code>")
					w.text(c.RecordDigest)
					w.raw("</code>")
				}
			}
			if c.Evidence != "" {
				w.raw("<br>evidence summary <code>")
				w.text(c.Evidence)
				w.raw("</code>")
			}
			w.raw("</td><td>")
			w.text(c.Note)
			w.raw("</td></tr>\n")
		}
	}
	if len(unserved) > 0 {
		w.raw(`<tr class="bad"><td colspan="5">`)
		w.mark(statusMark(StatusGap))
		w.raw(fmt.Sprintf(" no rule serves these %d item(s): ", len(unserved)))
		w.text(strings.Join(unserved, ", "))
		w.raw("</td></tr>\n")
	}
	return w.html()
}

// approvalRows are the rows of a dossier's approvals table.
func approvalRows(as []ApprovalRow) template.HTML {
	var b strings.Builder
	for _, a := range as {
		b.WriteString("<tr><td>" + esc(a.Environment) + "</td><td>" + esc(a.Version) + "</td><td>" + esc(a.User) + "</td><td>" + esc(a.State) +
			"</td><td>" + esc(a.SubmittedAt) + `</td><td class="src">` + esc(a.Source) + "</td></tr>\n")
	}
	return template.HTML(b.String())
}

// signatureRows are the rows of a dossier's signatures table.
func signatureRows(ss []SignatureRow) template.HTML {
	var b strings.Builder
	for _, s := range ss {
		class := ""
		if !s.Verified {
			class = ` class="bad"`
		}
		b.WriteString("<tr" + class + "><td>" + esc(s.Environment) + "</td><td>" + esc(s.Version) + "</td><td>" + esc(s.KeyID) + "</td><td><code>" + esc(s.KeyFingerprint) + "</code></td><td>" +
			esc(s.SignedAt) + "</td><td>" + string(htmlMark(verifiedMark(s.Verified))) + "</td><td><code>" + esc(s.Record) + "</code></td></tr>\n")
	}
	return template.HTML(b.String())
}

// infraRows are the rows of a dossier's infrastructure changes table.
func infraRows(is []InfraRow) template.HTML {
	var b strings.Builder
	for _, i := range is {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td><code>%s</code></td><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td><code>%s</code></td></tr>`+"\n",
			esc(i.Environment), esc(i.Version), esc(i.Stack), i.Create, i.Update, i.Delete, i.Replace, esc(i.PlanSHA256))
	}
	return template.HTML(b.String())
}

// releaseRows are the rows of a releases table, with a model column when
// it lists several models.
func releaseRows(rs []ReleaseRow, withModel bool) template.HTML {
	var b strings.Builder
	for _, r := range rs {
		class := ""
		if !r.Verified {
			class = ` class="bad"`
		}
		fmt.Fprintf(&b, `<tr%s><td class="num">%d</td>`, class, r.Seq)
		if withModel {
			b.WriteString("<td>" + esc(r.Model) + "</td>")
		}
		b.WriteString("<td>" + esc(r.Environment) + "</td><td>" + esc(r.Version) + "</td><td>" + esc(r.ReleasedAt) + "</td><td>" +
			string(htmlMark(verifiedMark(r.Verified))) + "</td><td>" + esc(r.Decision))
		if r.Verdict != "" {
			b.WriteString(` <span class="src">verdict ` + esc(r.Verdict) + "</span>")
		}
		b.WriteString("</td><td>" + esc(r.KeyID) + "</td><td><code>" + esc(r.Record) + "</code></td><td>")
		for _, p := range r.Problems {
			b.WriteString(`<div class="bad">` + esc(p) + "</div>")
		}
		for _, n := range r.Notes {
			b.WriteString(`<div class="src">` + esc(n) + "</div>")
		}
		b.WriteString("</td></tr>\n")
	}
	return template.HTML(b.String())
}

type mappingRow struct {
	Item string
	Mapping
}

// mappingRows flattens a framework's mappings for its table.
func mappingRows(f Framework) []mappingRow {
	var out []mappingRow
	for _, it := range f.Items {
		for _, m := range it.Mappings {
			out = append(out, mappingRow{Item: it.ID, Mapping: m})
		}
	}
	return out
}

// diffRows are the rows of a dossier's release diffs table.
func diffRows(ds []ReleaseDiff) template.HTML {
	var b strings.Builder
	for _, df := range ds {
		c := df.cells()
		class := ""
		if len(df.Loosened) > 0 || df.Problem != "" {
			class = ` class="bad"`
		}
		b.WriteString("<tr" + class + "><td>" + esc(df.Environment) + " " + esc(df.Version) + "<br><code>" + esc(df.Record) + "</code></td><td>" + esc(df.PreviousVersion) + "</td><td>")
		for i, f := range c.Fields {
			if i > 0 {
				b.WriteString("<br>")
			}
			if f.Loosened {
				b.WriteString(string(htmlMark("❌ LOOSENED ")))
			}
			b.WriteString(esc(f.Text))
		}
		b.WriteString("</td><td>")
		if len(df.Loosened) > 0 {
			b.WriteString(string(htmlMark("❌ LOOSENED ")))
		}
		b.WriteString(esc(strings.Join(c.Loosened, "; ")) + "</td><td>" + esc(strings.Join(c.Metrics, "; ")) + "</td><td><code>" + esc(c.Policy) + "</code></td></tr>\n")
	}
	return template.HTML(b.String())
}
