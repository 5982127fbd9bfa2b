package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/monitor"
	"github.com/slipway-ml/slipway/internal/svgchart"
	"github.com/slipway-ml/slipway/internal/verify"
)

// MonitoringSection is a model's post-market monitoring (EU AI Act Art.
// 72, Annex IV 9): per environment, the signed monitoring records in the
// period as time series, their breaches, and whether the model is
// monitored on schedule. Every figure is read from a monitoring record
// whose signature, chain and content verified.
type MonitoringSection struct {
	Environments []MonitoringEnv `json:"environments"`
	Source       string          `json:"source"`
}

// MonitoringEnv is one environment's monitoring of the model.
type MonitoringEnv struct {
	Environment string `json:"environment"`
	// Status is the freshness decision monitoring.fresh also judges;
	// nil when the model is not released there or has no
	// monitoring.source.
	Status *MonitoredStatus `json:"status"`
	// DriftThreshold is the spec's monitoring.drift.threshold.
	DriftThreshold *float64        `json:"drift_threshold"`
	DriftMetric    string          `json:"drift_metric,omitempty"`
	Runs           []MonitoringRun `json:"runs"`
	Breaches       []Breach        `json:"breaches"`
}

// MonitoredStatus says when a model was last monitored in an environment
// and whether it is overdue (stale), as monitor.Status decides.
type MonitoredStatus struct {
	Environment string `json:"environment"`
	// LastMonitored is when the newest verified monitoring record was
	// signed; empty when there is none.
	LastMonitored string `json:"last_monitored"`
	Due           string `json:"due"`
	Stale         bool   `json:"stale"`
}

// MonitoringRun is one verified monitoring record.
type MonitoringRun struct {
	Record     string `json:"record"`
	RecordedAt string `json:"recorded_at"`
	From       string `json:"from"`
	To         string `json:"to"`
	Rows       int64  `json:"rows"`
	Verdict    string `json:"verdict"`
	// Drift is each feature's drift figure (PSI, or KS when the spec
	// judges drift by KS).
	Drift map[string]*float64 `json:"drift"`
	// Live are the live metrics over labelled requests; nil without
	// outcomes.
	Live            map[string]*float64 `json:"live"`
	Labelled        int64               `json:"labelled"`
	UnreleasedShare float64             `json:"unreleased_share"`
	// Issue is the GitHub issue the record says the run opened or
	// updated; empty when the record holds none.
	Issue string `json:"issue,omitempty"`
}

// Breach is one denial of a monitoring run.
type Breach struct {
	Record     string `json:"record"`
	RecordedAt string `json:"recorded_at"`
	Rule       string `json:"rule"`
	Message    string `json:"message"`
	Issue      string `json:"issue,omitempty"`
}

// ledgerFacts are what the monitoring section needs from verifying the
// ledger: the index entries of the records that verified (the freshness
// decision reads them as `slipway check` reads the index) and the
// monitoring records themselves.
type ledgerFacts struct {
	entries    []ledger.Entry
	monitoring []verify.RecordReport
}

func (f *ledgerFacts) add(e ledger.Entry, rr verify.RecordReport) {
	if !rr.OK {
		return
	}
	f.entries = append(f.entries, e)
	if rr.Kind == ledger.Monitoring {
		f.monitoring = append(f.monitoring, rr)
	}
}

// monitoring builds each dossier's monitoring section and its
// portfolio standing.
func (b *builder) monitoring(f *ledgerFacts) {
	if f == nil {
		f = &ledgerFacts{}
	}
	var entries []ledger.Entry
	for _, e := range f.entries {
		if b.o.Until.IsZero() || parseTime(e.RecordedAt).Before(b.o.Until) {
			entries = append(entries, e)
		}
	}
	now := b.o.Now
	if !b.o.Until.IsZero() && b.o.Until.Before(now) {
		now = b.o.Until
	}
	for _, d := range b.dossiers {
		m, ok := b.p.Models[d.Model]
		sec := &MonitoringSection{Environments: []MonitoringEnv{}, Source: SourceSigned}
		for _, env := range b.envs {
			me := MonitoringEnv{Environment: env, Runs: []MonitoringRun{}, Breaches: []Breach{}}
			if ok {
				if st := monitor.Status(m, env, entries, now); st != nil {
					me.Status = &MonitoredStatus{Environment: env, LastMonitored: st.Last, Due: st.Due, Stale: st.Overdue}
					d.monitored = append(d.monitored, *me.Status)
				}
				if th := m.Monitoring.Drift.Threshold; th > 0 {
					me.DriftThreshold = &th
				}
				me.DriftMetric = m.Monitoring.Drift.Metric
			}
			for _, rr := range f.monitoring {
				if rr.Environment != env || rr.Model != d.Model {
					continue
				}
				run, breaches, err := monitoringRun(rr, me.DriftMetric)
				if err != nil || !b.inPeriod(parseTime(run.RecordedAt)) {
					continue
				}
				me.Runs = append(me.Runs, run)
				me.Breaches = append(me.Breaches, breaches...)
			}
			if me.Status != nil || len(me.Runs) > 0 {
				sec.Environments = append(sec.Environments, me)
			}
		}
		if len(sec.Environments) > 0 {
			d.Monitoring = sec
		}
	}
}

func monitoringRun(rr verify.RecordReport, metric string) (MonitoringRun, []Breach, error) {
	st := rr.LedgerRecord()
	if st == nil {
		return MonitoringRun{}, nil, fmt.Errorf("%s did not verify", rr.Path)
	}
	var p monitor.Predicate
	if err := st.Decode(&p); err != nil {
		return MonitoringRun{}, nil, err
	}
	f := p.Figures
	run := MonitoringRun{Record: rr.Path, RecordedAt: p.RecordedAt, From: stamp(f.Window.From), To: stamp(f.Window.To),
		Rows: f.Rows, Verdict: p.Verdict, Drift: map[string]*float64{}, UnreleasedShare: f.UnreleasedShare}
	for name, fd := range f.Drift {
		run.Drift[name] = fd.PSI
		if metric == "ks" {
			run.Drift[name] = fd.KS
		}
	}
	if f.Outcomes != nil {
		run.Labelled = f.Outcomes.Labelled
		run.Live = map[string]*float64{}
		maps.Copy(run.Live, f.Outcomes.Overall.Values)
	}
	if p.Issue != nil {
		run.Issue = p.Issue.URL
	}
	var out []Breach
	for _, r := range p.Results {
		if r.Outcome == "deny" {
			out = append(out, Breach{Record: rr.Path, RecordedAt: p.RecordedAt, Rule: r.Rule, Message: r.Message, Issue: run.Issue})
		}
	}
	return run, out, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// driftChart draws each feature's drift by run against the threshold.
func driftChart(e MonitoringEnv) *svgchart.Lines {
	names := map[string]bool{}
	for _, r := range e.Runs {
		for n := range r.Drift {
			names[n] = true
		}
	}
	if len(names) == 0 {
		return nil
	}
	metric := "PSI"
	if e.DriftMetric == "ks" {
		metric = "KS"
	}
	c := &svgchart.Lines{Title: fmt.Sprintf("Input drift (%s) by monitoring run, %s", metric, e.Environment), Labels: runLabels(e.Runs), Threshold: e.DriftThreshold}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		s := svgchart.Series{Name: n}
		for _, r := range e.Runs {
			s.Values = append(s.Values, r.Drift[n])
		}
		c.Series = append(c.Series, s)
	}
	return c
}

// liveMetrics are the live metrics charted, in this order.
var liveMetrics = []string{"accuracy", "precision", "recall", "f1", "selection_rate"}

// liveChart draws the live metrics by run.
func liveChart(e MonitoringEnv) *svgchart.Lines {
	c := &svgchart.Lines{Title: "Live performance by monitoring run, " + e.Environment, Labels: runLabels(e.Runs)}
	for _, n := range liveMetrics {
		s := svgchart.Series{Name: n}
		measured := false
		for _, r := range e.Runs {
			v := r.Live[n]
			measured = measured || v != nil
			s.Values = append(s.Values, v)
		}
		if measured {
			c.Series = append(c.Series, s)
		}
	}
	if len(c.Series) == 0 {
		return nil
	}
	return c
}

// runLabels name each run by its window's end, to the minute when runs
// share a day.
func runLabels(runs []MonitoringRun) []string {
	days := map[string]int{}
	for _, r := range runs {
		days[day(parseTime(r.To))]++
	}
	out := make([]string, len(runs))
	for i, r := range runs {
		t := parseTime(r.To).UTC()
		out[i] = t.Format("01-02")
		if days[day(t)] > 1 {
			out[i] = t.Format("01-02 15:04")
		}
	}
	return out
}

func chartHTML(c *svgchart.Lines) template.HTML {
	if c == nil {
		return ""
	}
	return template.HTML(c.SVG()) // built from numbers and escaped labels only
}

// staleText words a model's freshness for the portfolio.
func staleText(st MonitoredStatus) string {
	last := "never"
	if st.LastMonitored != "" {
		last = st.LastMonitored[:min(16, len(st.LastMonitored))]
	}
	if st.Stale {
		return fmt.Sprintf("❌ %s: %s (stale: due %s)", st.Environment, last, st.Due)
	}
	return fmt.Sprintf("%s: %s", st.Environment, last)
}

// monitoredCell is the portfolio's "last monitored" cell.
func monitoredCell(p PortfolioRow) string {
	if len(p.LastMonitored) == 0 {
		return "—"
	}
	var parts []string
	for _, st := range p.LastMonitored {
		parts = append(parts, staleText(st))
	}
	return strings.Join(parts, "; ")
}

// markdownMonitoring writes a dossier's post-market monitoring section.
func (m *mdWriter) monitoring(s *MonitoringSection) {
	m.p("### Post-market monitoring\n")
	if s == nil {
		m.p("*No monitoring.source, and no monitoring record.*\n")
		return
	}
	for _, e := range s.Environments {
		m.p("#### %s\n", md(e.Environment))
		if e.Status != nil {
			m.p("Last monitored: %s.\n", md(staleText(*e.Status)))
		}
		if len(e.Runs) == 0 {
			m.p("*No verified monitoring record in the period.*\n")
			continue
		}
		feats := map[string]bool{}
		for _, r := range e.Runs {
			for n := range r.Drift {
				feats[n] = true
			}
		}
		names := slices.Sorted(maps.Keys(feats))
		head := []string{"Record", "Window end", "Requests", "Verdict"}
		for _, n := range names {
			head = append(head, md(n))
		}
		head = append(head, "Labelled", "Accuracy", "Recall", "Unreleased share")
		var rows [][]string
		for _, r := range e.Runs {
			row := []string{code(r.Record), md(r.To), fmt.Sprint(r.Rows), outcomeMark(r.Verdict)}
			for _, n := range names {
				row = append(row, fp(r.Drift[n]))
			}
			row = append(row, fmt.Sprint(r.Labelled), fp(r.Live["accuracy"]), fp(r.Live["recall"]), fmt.Sprintf("%.4f", r.UnreleasedShare))
			rows = append(rows, row)
		}
		m.table(head, rows)
		if len(e.Breaches) > 0 {
			rows = nil
			for _, x := range e.Breaches {
				rows = append(rows, []string{code(x.Record), code(x.Rule), md(x.Message), issueCell(x.Issue)})
			}
			m.p("Breaches:\n")
			m.table([]string{"Record", "Rule", "Finding", "Issue"}, rows)
		}
	}
	m.p("Source: %s (verified monitoring records).\n", s.Source)
}

// issueCell links a breach's issue: an autolink when the URL is a plain
// https URL (what GitHub returns), else a code span, so a URL read from a
// record cannot break the table or inject markup.
func issueCell(url string) string {
	if url == "" {
		return "—"
	}
	if strings.HasPrefix(url, "https://") && !strings.ContainsAny(url, " <>|`\\\n\r\t") {
		return "<" + url + ">"
	}
	return code(url)
}

// monitoringHTML is the dossier's monitoring partial.
//
//go:embed monitoring.html.tmpl
var monitoringHTML string

var _ = template.Must(htmlTmpl.Funcs(template.FuncMap{
	"driftChart":    func(e MonitoringEnv) template.HTML { return chartHTML(driftChart(e)) },
	"liveChart":     func(e MonitoringEnv) template.HTML { return chartHTML(liveChart(e)) },
	"staleText":     func(st MonitoredStatus) template.HTML { return htmlMark(staleText(st)) },
	"monitoredCell": func(p PortfolioRow) template.HTML { return monitoredHTML(p) },
}).New("monitoring.html.tmpl").Parse(monitoringHTML))

func monitoredHTML(p PortfolioRow) template.HTML {
	if len(p.LastMonitored) == 0 {
		return "—"
	}
	var parts []string
	for _, st := range p.LastMonitored {
		parts = append(parts, string(htmlMark(staleText(st))))
	}
	return template.HTML(strings.Join(parts, "<br>"))
}
