package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/checkresult"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/policy"
	qualitypkg "github.com/slipway-ml/slipway/internal/quality"
	"github.com/slipway-ml/slipway/internal/spec"
)

func (b *builder) dossier(name string, recs []*record) *dossier {
	d := &dossier{current: map[string]*record{}}
	d.Model = name
	for _, r := range recs {
		if b.inPeriod(r.at) {
			d.history = append(d.history, r)
		}
		if r.verified() && (b.o.Until.IsZero() || r.at.Before(b.o.Until)) {
			if c, ok := d.current[r.row.Environment]; !ok || r.row.Seq > c.row.Seq {
				d.current[r.row.Environment] = r
			}
		}
	}
	for env, r := range d.current {
		if err := b.full(r); err != nil {
			r.lite, r.row.Verified = nil, false
			r.row.Problems = append(r.row.Problems, err.Error())
			delete(d.current, env)
		}
	}
	envs := slices.Sorted(maps.Keys(d.current))
	sort.SliceStable(envs, func(i, j int) bool { return b.envRank(envs[i]) < b.envRank(envs[j]) })
	for _, env := range envs {
		d.currentOrdered = append(d.currentOrdered, d.current[env])
	}
	if n := len(d.currentOrdered); n > 0 {
		d.ref = d.currentOrdered[n-1]
		ref := d.ref.row
		d.Reference = &ref
		d.outcomes = ruleOutcomes(d.ref.st.Predicate)
		d.findings = releaseFindings(b.p.Root, &d.ref.st.Predicate)
		// Frameworks whose items the release's own results claim for
		// rules the catalogue no longer has.
		d.claims = map[string]bool{}
		d.controls = map[string][]ruleControl{}
		for _, r := range d.ref.st.Predicate.Results {
			_, known := b.rules[r.Rule]
			for _, c := range r.Controls {
				d.controls[c.Framework] = append(d.controls[c.Framework], ruleControl{rule: r.Rule, id: c.ID})
				if !known {
					d.claims[c.Framework] = true
				}
			}
		}
	}
	d.Releases = []ReleaseRow{}
	for _, r := range d.history {
		d.Releases = append(d.Releases, r.row)
	}

	// Identity: the signed spec of the reference release, else the spec.
	d.Identity = SourceSpec
	if d.ref != nil {
		if m, err := signedModel(d.ref.st); err == nil {
			d.model, d.Identity = m, SourceSigned
		}
	}
	if d.model == nil {
		if m, ok := b.p.Models[name]; ok {
			d.model = &m
		}
	}
	d.IntendedUse.OutOfScope = []string{}
	if m := d.model; m != nil {
		d.Version, d.Owner, d.Team, d.Task = m.Version, m.Owner, m.Team, m.Task
		d.IntendedUse = IntendedUse{Summary: m.IntendedUse.Summary, AffectsPeople: m.IntendedUse.AffectsPeople, OutOfScope: nonNil(m.IntendedUse.OutOfScope)}
		d.Artifact = Artifact{URI: m.Artifact.URI, Digest: m.Artifact.Digest, Format: m.Artifact.Format}
	}
	if d.ref != nil {
		a := d.ref.st.Predicate.Artifact
		d.Version, d.Artifact = d.ref.row.Version, Artifact{URI: a.URI, Digest: a.Digest, Format: a.Format}
	}

	var evMatch string
	if d.ref != nil && d.ref.st.Predicate.Evidence != nil {
		d.ev, evMatch = readEvidence(b.p.Root, &d.ref.st.Predicate)
	}
	if d.ev != nil {
		d.ciNote = b.intervals(d)
	}
	d.Lineage = b.lineage(d, evMatch)
	d.Evaluation = b.evaluation(d)
	d.Fairness = b.fairnessSection(d)
	d.Tests = b.tests(d)
	d.Handover = b.handover(d)
	d.Results = b.results(d)
	d.Declared = b.declarations(d)
	d.waiverRows = b.modelWaivers(d)
	d.Waivers = d.waiverRows
	d.Approvals, d.Signatures, d.Infrastructure = []ApprovalRow{}, []SignatureRow{}, []InfraRow{}
	for _, r := range d.history {
		d.Signatures = append(d.Signatures, SignatureRow{Environment: r.row.Environment, Version: r.row.Version, Record: r.row.Record,
			KeyID: r.row.KeyID, KeyFingerprint: b.fingerprint(r.row.KeyID), SignedAt: r.row.ReleasedAt, Verified: r.verified()})
		if !r.verified() {
			continue
		}
		p := r.lite
		for _, a := range p.Approvals {
			d.Approvals = append(d.Approvals, ApprovalRow{Environment: p.Environment, Version: p.Model.Version, User: a.User, State: a.State, SubmittedAt: a.SubmittedAt, Source: SourceSigned})
		}
		for _, s := range p.Stacks {
			d.Infrastructure = append(d.Infrastructure, InfraRow{Environment: p.Environment, Version: p.Model.Version, Stack: s.ID,
				Create: s.Changes.Create, Update: s.Changes.Update, Delete: s.Changes.Delete, Replace: s.Changes.Replace,
				PlanSHA256: s.PlanSHA256, Rendered: s.Rendered, Source: SourceSigned})
		}
	}
	d.Gaps = b.gaps(d, evMatch)
	d.Earlier = b.earlier(d)
	d.Diffs = b.releaseDiffs(d, recs)
	for _, df := range d.Diffs {
		// Only the releases in force: an old loosening a later release
		// tightened again is history, shown in the diffs.
		if c := d.current[df.Environment]; c == nil || c.row.Record != df.Record {
			continue
		}
		if df.Problem != "" {
			d.Gaps = append(d.Gaps, fmt.Sprintf("release %s against %s: %s", df.Record, df.Previous, df.Problem))
		}
		if len(df.Loosened) > 0 {
			var names []string
			for _, c := range df.Loosened {
				names = append(names, fmt.Sprintf("%s %s -> %s", c.Threshold, c.Before, c.After))
			}
			d.Gaps = append(d.Gaps, fmt.Sprintf("release %s LOOSENED threshold(s) of %s: %s", df.Record, df.Previous, strings.Join(names, "; ")))
		}
	}
	return d
}

// fingerprint is the SHA-256 of the trusted key with the given id.
func (b *builder) fingerprint(id string) string {
	for _, k := range b.o.Keys {
		if id != "" && k.ID == id {
			return k.Fingerprint
		}
	}
	return ""
}

// earlier is the per-group evidence of every other verified release in
// scope that keeps an evidence bundle, read from the bundle: an older
// release's figures stay in the report after later checks replaced the
// work dir, and on a fresh clone.
func (b *builder) earlier(d *dossier) []ReleaseEvidence {
	out := []ReleaseEvidence{}
	for i := len(d.history) - 1; i >= 0; i-- {
		r := d.history[i]
		if r == d.ref || !r.verified() || r.lite.Bundle.Blob(attest.BlobEvidence) == "" {
			continue
		}
		re := ReleaseEvidence{Environment: r.row.Environment, Version: r.row.Version, Record: r.row.Record, ReleasedAt: r.row.ReleasedAt}
		if err := b.full(r); err != nil {
			re.Problem = err.Error()
			out = append(out, re)
			continue
		}
		e := &dossier{ref: r, current: map[string]*record{}, outcomes: ruleOutcomes(r.st.Predicate), findings: releaseFindings(b.p.Root, &r.st.Predicate)}
		e.Model = d.Model
		if m, err := signedModel(r.st); err == nil {
			e.model = m
		}
		var match string
		e.ev, match = readEvidence(b.p.Root, &r.st.Predicate)
		re.Evidence = match
		if e.ev == nil || e.model == nil {
			blob, _ := ledger.BlobPath(r.st.Predicate.Bundle.Blob(attest.BlobEvidence))
			re.Problem = fmt.Sprintf("evidence bundle blob %s is %s", blob, strings.TrimPrefix(match, "blob "))
			out = append(out, re)
			continue
		}
		l := b.lineage(e, match)
		re.Sources, re.Drift = l.Sources, l.Drift
		re.Fairness = b.fairnessSection(e)
		re.Tests = b.tests(e)
		out = append(out, re)
	}
	return out
}

// lineage lists the data sources the model names and the files its
// evidence was computed from.
func (b *builder) lineage(d *dossier, evMatch string) Lineage {
	l := Lineage{Sources: []DataSourceRow{}, Inputs: []InputRow{}, Drift: []DriftRow{}, Source: SourceSigned}
	if d.ref == nil {
		l.Source = SourceSpec
	}
	if d.ref != nil && d.ref.st.Predicate.Evidence != nil {
		ev := d.ref.st.Predicate.Evidence
		l.EvidenceSummary = &InputRow{Path: ev.Path, SHA256: ev.SHA256, Match: evMatch}
		for _, in := range ev.Inputs {
			l.Inputs = append(l.Inputs, InputRow{Path: in.Path, SHA256: in.SHA256, Match: fileMatch(b.p.Root, in.Path, in.SHA256)})
		}
	}
	if d.model == nil {
		return l
	}
	if d.ev != nil && d.ev.Data.Drift != nil {
		dr := d.ev.Data.Drift
		metric := d.model.Monitoring.Drift.Metric
		if metric == "" {
			metric = spec.DefaultModel().Monitoring.Drift.Metric
		}
		// As the drift rule does: the model's threshold, else the
		// platform's; and only the features monitoring.drift names. The
		// table shows the rule's own outcome, so the two cannot disagree.
		var threshold *float64
		if t := d.model.Monitoring.Drift.Threshold; t > 0 {
			threshold = &t
		} else if t := b.p.Policy.DriftThreshold; t > 0 {
			threshold = &t
		}
		judged := map[string]int{}
		for i, f := range d.model.Monitoring.Drift.Features {
			judged[f] = i
		}
		for _, name := range slices.Sorted(maps.Keys(dr.Features)) {
			f := dr.Features[name]
			row := DriftRow{Feature: name, Reference: dr.Reference, Current: dr.Current, Metric: metric, PSI: f.PSI, KS: f.KS, KSPValue: f.KSPValue,
				Source: SourceEvidence}
			i, ok := judged[name]
			if !ok {
				row.Metric = "not judged (not in monitoring.drift.features)"
				l.Drift = append(l.Drift, row)
				continue
			}
			row.Threshold = threshold
			row.RuleOutcome = rowOutcome(d.findings, "data.drift", aboutFeature(i, name))
			l.Drift = append(l.Drift, row)
		}
	}
	roles := map[string][]string{}
	var names []string
	add := func(n, role string) {
		if _, ok := roles[n]; !ok {
			names = append(names, n)
		}
		roles[n] = append(roles[n], role)
	}
	for _, n := range d.model.Training.Data {
		add(n, "training")
	}
	if d.model.Evaluation.Data != "" {
		add(d.model.Evaluation.Data, "evaluation")
	}
	// The data sources' owner, classification and PII as released, from
	// the bundle; the spec as it is now only for releases without one.
	sources, srcFrom := b.p.DataSources, SourceSpec
	if d.ref != nil {
		if s := signedSources(b.p.Root, &d.ref.st.Predicate); s != nil {
			sources, srcFrom = s, SourceSigned
		}
	}
	for _, n := range names {
		row := DataSourceRow{Name: n, Roles: roles[n], PII: []string{}, Quality: []QualityCheck{}, Source: srcFrom}
		ds, ok := sources[n]
		if ok {
			row.Owner, row.Classification, row.PII, row.Version, row.Snapshot = ds.Owner, ds.Classification, nonNil(ds.PII), ds.Version, ds.Snapshot
		}
		if d.ev != nil {
			if se, ok := d.ev.Data.Sources[n]; ok && se != nil {
				row.QualitySource = SourceEvidence
				rows := se.Rows
				row.SnapshotSHA256, row.Rows = se.SHA256, &rows
				if se.Snapshot != "" {
					row.Snapshot = se.Snapshot
				}
				row.Quality = quality(n, se, ds.Quality, d.findings)
			}
		}
		if d.ev != nil && d.ev.Gold != nil && d.ev.Gold.DataSource == n {
			// evaluation.gold_dataset judges the gold snapshot's version;
			// all its findings concern this row.
			const rule = "evaluation.gold_dataset"
			row.Quality = append(row.Quality, QualityCheck{Check: "gold version", Rule: rule, Outcome: rowOutcome(d.findings, rule, func(string, string) bool { return true }),
				Detail: fmt.Sprintf("declared %s, snapshot %s is %s", d.ev.Gold.DeclaredVersion, d.ev.Gold.Snapshot, d.ev.Gold.SnapshotSHA256)})
			row.QualitySource = SourceEvidence
		}
		l.Sources = append(l.Sources, row)
	}
	return l
}

// quality lists a data source's measured quality, each row with the
// outcome data.quality signed for it: the rule denies every violation the
// quality package found against the source's expectations, so a row is
// judged where an expectation bounds it and shows the rule's finding on
// it, never a comparison made here again. A figure no expectation bounds
// is shown, not judged.
func quality(source string, se *qualitypkg.Report, q *spec.Quality, fs []finding) []QualityCheck {
	out := []QualityCheck{}
	judged := func(c QualityCheck, check string) QualityCheck {
		c.Rule = "data.quality"
		c.Outcome = rowOutcome(fs, c.Rule, aboutQuality(source, check, c.Column))
		return c
	}
	for _, col := range slices.Sorted(maps.Keys(se.Completeness)) {
		v := se.Completeness[col]
		c := QualityCheck{Check: "completeness", Column: col, Value: &v}
		if q != nil {
			bound, ok := q.Completeness[col]
			if !ok {
				bound, ok = q.Completeness["*"]
			}
			if ok {
				c.Bound = fmt.Sprintf(">= %s", num(bound))
				c = judged(c, "completeness")
			}
		}
		out = append(out, c)
	}
	if u := se.UniqueKeys; u != nil {
		dup := float64(u.Duplicates)
		out = append(out, judged(QualityCheck{Check: "unique keys", Column: strings.Join(u.Columns, ","), Value: &dup, Bound: "0 duplicates"}, "unique_keys"))
	}
	if f := se.Freshness; f != nil {
		age := f.AgeSeconds
		out = append(out, judged(QualityCheck{Check: "freshness", Column: f.Field, Value: &age, Bound: fmt.Sprintf("<= %s s", num(f.MaxAgeSeconds)), Detail: "newest " + f.Newest}, "freshness"))
	}
	dup := se.DuplicateRows
	c := QualityCheck{Check: "duplicate rows", Value: &dup}
	if q != nil && q.MaxDuplicateRows != nil {
		c.Bound = fmt.Sprintf("<= %s", num(*q.MaxDuplicateRows))
		c = judged(c, "duplicate_rows")
	}
	out = append(out, c)
	// A violation of a judged figure's check is told on the figure's row,
	// which carries the rule's finding on it; any other is a row of its
	// own.
	names := map[string]string{"completeness": "completeness", "unique keys": "unique_keys", "freshness": "freshness", "duplicate rows": "duplicate_rows"}
	rows := map[[2]string]int{}
	for i, c := range out {
		if c.Rule != "" {
			rows[[2]string{names[c.Check], c.Column}] = i
		}
	}
	for _, v := range se.Violations {
		if i, ok := rows[[2]string{v.Check, v.Column}]; ok {
			out[i].Detail = strings.TrimPrefix(out[i].Detail+"; "+v.Message, "; ")
			continue
		}
		out = append(out, judged(QualityCheck{Check: v.Check, Column: v.Column, Detail: v.Message}, v.Check))
	}
	return out
}

// evaluation lists every metric the spec bounds or baselines, or the
// signed record headlines.
func (b *builder) evaluation(d *dossier) *Evaluation {
	if d.ref == nil || d.model == nil {
		return nil
	}
	e := &Evaluation{Metrics: []MetricRow{}, Source: SourceSigned}
	var headline map[string]*float64
	var base map[string]float64
	signed := d.ref.st.Predicate.Evidence
	if signed != nil {
		headline = signed.Headline
	}
	if signed != nil && signed.BaselineSource != "" {
		// The release signed what the check compared the metrics with.
		base = signed.Baseline
		ref := checkresult.EvidenceRef{BaselineSource: signed.BaselineSource, BaselineFrom: signed.BaselineFrom, BaselineVersion: signed.BaselineVersion}
		e.Baseline = ref.BaselineText(d.ref.row.Environment)
	} else if bl := d.model.Evaluation.Baseline; bl != nil && len(bl.Metrics) > 0 {
		// A record signed before baselines were told apart: the spec's
		// typed-in metrics are all there is, and only declared.
		base = bl.Metrics
		e.Baseline = "declared in the spec, not measured"
	}
	var overall *metrics.Set
	var ci map[string]metrics.Interval
	if d.ev != nil && d.ev.Evaluation != nil {
		overall = &d.ev.Evaluation.Overall
		e.Rows = d.ev.Evaluation.Rows
		if d.ev.Evaluation.CI != nil {
			ci = d.ev.Evaluation.CI.Overall
		}
	}
	names := map[string]bool{}
	for n := range d.model.Evaluation.Metrics {
		names[n] = true
	}
	for n := range base {
		names[n] = true
	}
	for n := range headline {
		names[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		row := MetricRow{Name: n, Source: SourceSigned}
		if v, ok := headline[n]; ok && v != nil {
			row.Value = v
		} else if overall != nil {
			if v, ok := overall.Get(n); ok {
				row.Value, row.Source = &v, SourceEvidence
			}
		}
		if row.Value == nil && headline[n] == nil && overall == nil {
			row.Source = ""
		}
		if iv, ok := ci[n]; ok {
			row.CI = []float64{iv[0], iv[1]}
		}
		if t, ok := d.model.Evaluation.Metrics[n]; ok {
			row.Min, row.Max = t.Min, t.Max
			row.Rule = "evaluation.metric_threshold"
			row.Outcome = rowOutcome(d.findings, row.Rule, aboutMetric(n))
		}
		if bv, ok := base[n]; ok {
			bv := bv
			row.Baseline = &bv
			if row.Value != nil {
				delta := round(*row.Value - bv)
				row.Delta = &delta
			}
		}
		e.Metrics = append(e.Metrics, row)
	}
	if ci != nil {
		e.CINote = d.ciNote
	}
	if overall == nil {
		e.Note = "the evidence summary is not at hand with its signed digest: only the signed headline metrics are shown"
	}
	return e
}

// round trims float noise from differences so reports stay stable.
func round(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// fairnessSection is the per-group table of each sensitive attribute.
func (b *builder) fairnessSection(d *dossier) *FairnessSection {
	f := &FairnessSection{Attributes: []FairnessAttribute{}, Excluded: []ExcludedGroup{}, Source: SourceEvidence}
	switch {
	case d.model == nil:
		f.Missing = "the model is neither in the platform nor released"
	case d.ref == nil:
		f.Missing = "no verified release: no signed fairness evidence"
	case d.model.Fairness == nil || len(d.model.Fairness.Sensitive) == 0:
		f.Missing = "the released spec declares no sensitive attributes, so no fairness was measured"
		if d.model.IntendedUse.AffectsPeople {
			f.Missing += " although the model affects people"
		}
	case d.ref.st.Predicate.Evidence == nil:
		f.Missing = "the release pins no evidence summary"
	case d.ev == nil || d.ev.Evaluation == nil:
		// The release rests on fairness evidence; only its per-group
		// figures cannot be recomputed here.
		f.Unavailable = "the evidence summary the release pins is not at hand with its signed digest, so the per-group figures cannot be shown; the signed fairness results are under Policy results"
	case len(d.ev.Evaluation.Groups) == 0:
		f.Missing = "the signed evidence has no per-group results"
	}
	if f.Missing != "" || f.Unavailable != "" {
		f.Source = ""
		return f
	}
	ev := d.ev.Evaluation
	// The thresholds the fairness policy applies to the released spec
	// under today's defaults, as it decides them.
	thresholds, err := policy.FairnessThresholds(b.ctx, d.model, b.p.Policy)
	if err != nil {
		f.Source = ""
		f.Unavailable = "the fairness thresholds of the released spec could not be worked out: " + err.Error()
		return f
	}
	for _, attr := range slices.Sorted(maps.Keys(ev.Groups)) {
		a := FairnessAttribute{Name: attr, Groups: []GroupRow{}, Metrics: []MetricRow{}, Charts: []Chart{}}
		fm, hasFM := ev.Fairness[attr]
		if hasFM {
			a.Reference = fm.ReferenceGroup
		}
		var gci map[string]map[string]metrics.Interval
		if ev.CI != nil {
			gci = ev.CI.Groups[attr]
		}
		for _, g := range slices.Sorted(maps.Keys(ev.Groups[attr])) {
			s := ev.Groups[attr][g]
			row := GroupRow{Group: g, Count: s.Count}
			row.SelectionRate, row.SelectionCI = value(s, "selection_rate"), interval(gci[g], "selection_rate")
			row.TPR, row.TPRCI = value(s, "tpr"), interval(gci[g], "tpr")
			row.FPR, row.FPRCI = value(s, "fpr"), interval(gci[g], "fpr")
			a.Groups = append(a.Groups, row)
		}
		if hasFM {
			vals := fm.Values()
			var fci map[string]metrics.Interval
			if ev.CI != nil {
				fci = ev.CI.Fairness[attr]
			}
			for _, n := range slices.Sorted(maps.Keys(thresholds)) {
				t := thresholds[n]
				row := MetricRow{Name: n, Value: vals[n], Min: t.Min, Max: t.Max, Source: SourceEvidence}
				if iv, ok := fci[n]; ok {
					row.CI = []float64{iv[0], iv[1]}
				}
				row.Rule = "fairness."
				row.Outcome = rowOutcome(d.findings, row.Rule, aboutFairness(attr, n))
				a.Metrics = append(a.Metrics, row)
			}
		}
		a.Charts = charts(a, thresholds)
		if ev.CI != nil {
			f.CINote = d.ciNote
		}
		f.Attributes = append(f.Attributes, a)
	}
	for _, g := range ev.ExcludedGroups {
		f.Excluded = append(f.Excluded, ExcludedGroup{Attribute: g.Attribute, Group: g.Group, Count: g.Count, Reason: g.Reason})
	}
	return f
}

func value(s metrics.Set, name string) *float64 {
	if v, ok := s.Get(name); ok {
		return &v
	}
	return nil
}

func interval(m map[string]metrics.Interval, name string) []float64 {
	if iv, ok := m[name]; ok {
		return []float64{iv[0], iv[1]}
	}
	return nil
}

// charts describes the per-group charts of an attribute and where their
// threshold line lies: the spec bounds gaps between groups, so the line
// marks the lowest rate a group may have given the reference group's
// (disparate impact) or the highest group's rate (differences).
func charts(a FairnessAttribute, th map[string]spec.Threshold) []Chart {
	ref := func(pick func(GroupRow) *float64) *float64 {
		var best *float64
		for _, g := range a.Groups {
			v := pick(g)
			if v == nil {
				continue
			}
			if g.Group == a.Reference {
				x := *v
				return &x
			}
			if best == nil || *v > *best {
				x := *v
				best = &x
			}
		}
		return best
	}
	sel := Chart{Metric: "selection_rate", Title: "Selection rate by " + a.Name}
	if r := ref(func(g GroupRow) *float64 { return g.SelectionRate }); r != nil {
		if t, ok := th["disparate_impact"]; ok && t.Min != nil {
			v := round(*r * *t.Min)
			sel.Threshold = &v
			sel.ThresholdLabel = fmt.Sprintf("disparate impact >= %s: %s x reference rate %s", num(*t.Min), num(*t.Min), num(*r))
		} else if t, ok := th["demographic_parity_difference"]; ok && t.Max != nil {
			v := round(math.Max(0, *r-*t.Max))
			sel.Threshold = &v
			sel.ThresholdLabel = fmt.Sprintf("demographic parity difference <= %s below rate %s", num(*t.Max), num(*r))
		}
	}
	tpr := Chart{Metric: "tpr", Title: "True positive rate by " + a.Name}
	if r := ref(func(g GroupRow) *float64 { return g.TPR }); r != nil {
		for _, n := range []string{"equal_opportunity_difference", "equalized_odds_difference"} {
			if t, ok := th[n]; ok && t.Max != nil {
				v := round(math.Max(0, *r-*t.Max))
				tpr.Threshold = &v
				tpr.ThresholdLabel = fmt.Sprintf("%s <= %s below rate %s", strings.ReplaceAll(n, "_", " "), num(*t.Max), num(*r))
				break
			}
		}
	}
	return []Chart{sel, tpr}
}

func (b *builder) tests(d *dossier) *Tests {
	if d.ev == nil {
		return nil
	}
	t := &Tests{Suites: []Suite{}, Source: SourceEvidence}
	tt := d.ev.Tests
	t.Tests, t.Failures, t.Errors, t.Skipped = tt.Total.Tests, tt.Total.Failures, tt.Total.Errors, tt.Total.Skipped
	// Each suite shows the outcome of the testing rules that judge it: a
	// required suite's (present, passing, nothing skipped), another's
	// testing.other_failures.
	required := map[string]int{}
	if d.model != nil {
		for i, s := range d.model.Tests.RequiredSuites {
			required[s] = i
		}
	}
	suite := func(s Suite) Suite {
		i, ok := required[s.Name]
		s.Required, s.Rule = ok, "testing.other_failures"
		if !ok {
			i = -1
		} else {
			s.Rule = "testing."
		}
		s.Outcome = rowOutcome(d.findings, s.Rule, aboutSuite(s.Name, i))
		return s
	}
	for _, n := range slices.Sorted(maps.Keys(tt.Suites)) {
		s := tt.Suites[n]
		t.Suites = append(t.Suites, suite(Suite{Name: n, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Passed: s.Passed}))
	}
	for _, n := range slices.Sorted(maps.Keys(required)) {
		if _, ok := tt.Suites[n]; !ok {
			t.Suites = append(t.Suites, suite(Suite{Name: n}))
		}
	}
	return t
}

// ruleOutcomes folds a release's results per rule: the worst outcome and
// the messages of that outcome.
func ruleOutcomes(p attest.Release) map[string]RuleOutcome {
	out := map[string]RuleOutcome{}
	for _, r := range p.Results {
		cur, ok := out[r.Rule]
		switch {
		case !ok || checkresult.Outcome(r.Outcome).Rank() < checkresult.Outcome(cur.Outcome).Rank():
			out[r.Rule] = RuleOutcome{Rule: r.Rule, Outcome: r.Outcome, Message: r.Message}
		case r.Outcome == cur.Outcome && r.Message != "" && r.Message != cur.Message && r.Outcome != "pass":
			cur.Message += "; " + r.Message
			out[r.Rule] = cur
		}
	}
	return out
}

// handover is the handover checklist: every rule of the handover pack
// in the catalogue, with its signed outcome and the evidence it judged.
func (b *builder) handover(d *dossier) []ChecklistItem {
	out := []ChecklistItem{}
	outcomes := d.outcomes
	for _, id := range slices.Sorted(maps.Keys(b.rules)) {
		r := b.rules[id]
		if !strings.HasPrefix(id, "handover.") {
			continue
		}
		item := ChecklistItem{Rule: id, Item: r.Title, Outcome: "missing", Source: SourceSigned}
		if o, ok := outcomes[id]; ok {
			item.Outcome = o.Outcome
			if o.Outcome != "pass" {
				item.Message = o.Message
			}
		}
		if d.ref == nil {
			item.Outcome, item.Source = "unreleased", ""
		}
		item.Evidence = handoverEvidence(id, d)
		out = append(out, item)
	}
	return out
}

// handoverEvidence names what a handover rule judged: the runbook file
// (pinned by digest in the evidence inputs) or the part of the signed
// spec.
func handoverEvidence(rule string, d *dossier) string {
	m := d.model
	if m == nil {
		return ""
	}
	h := m.Handover
	switch rule {
	case "handover.runbook_exists", "handover.runbook_sections", "handover.placeholder", "handover.runbook_content":
		s := "runbook " + h.Runbook
		if d.ref != nil && d.ref.st.Predicate.Evidence != nil {
			for _, in := range d.ref.st.Predicate.Evidence.Inputs {
				if in.Path == h.Runbook {
					s += " (" + in.SHA256 + ")"
				}
			}
		}
		if d.ev != nil && len(d.ev.Runbook.Sections) > 0 {
			s += "; sections: " + strings.Join(d.ev.Runbook.Sections, ", ")
		}
		return s
	case "handover.on_call":
		return "on-call " + h.OnCall.Team + optional(" rotation ", h.OnCall.Rotation) + optional(" escalation ", h.OnCall.Escalation)
	case "handover.support_plan":
		return "support " + h.SupportPlan.Tier + " via " + h.SupportPlan.Contact + optional(" until ", h.SupportPlan.Until)
	case "handover.slos":
		var names []string
		for _, s := range h.SLOs {
			names = append(names, fmt.Sprintf("%s %s over %s", s.Name, num(s.Objective), s.Window))
		}
		return "SLOs: " + orNone(names)
	case "handover.paging_alert":
		var names []string
		for _, a := range h.Alerts {
			names = append(names, a.Name+" ("+a.Severity+")")
		}
		return "alerts: " + orNone(names)
	case "handover.alert_conditions":
		var conds []string
		for _, a := range h.Alerts {
			conds = append(conds, a.Name+": "+a.Condition)
		}
		return "alert conditions parsed as PromQL: " + orNone(conds)
	case "handover.slo_alerts":
		var metrics []string
		for _, s := range h.SLOs {
			metrics = append(metrics, s.Name+optional(" on ", s.Metric))
		}
		return "SLO metrics read by alerts: " + orNone(metrics)
	case "handover.error_coverage":
		var codes []string
		for _, e := range h.ErrorTypes {
			codes = append(codes, e.Code)
		}
		return "error codes in alerts or the runbook's Diagnosis: " + orNone(codes)
	case "handover.page_rotation":
		return "paging rotation " + orNone(nonEmpty(h.OnCall.Rotation))
	case "handover.health_checks":
		if k := m.Deployment.Resolved.Kind; k != "online" && k != "streaming" {
			return k + " deployment: no health checks apply"
		}
		return healthEvidence(m.Deployment.Resolved.Health)
	case "handover.prediction_logging":
		if !h.Logging.Predictions {
			return "predictions not logged"
		}
		return fmt.Sprintf("predictions logged %s, kept %d days", optional("to ", h.Logging.Destination), h.Logging.RetentionDays)
	case "handover.error_types":
		var codes []string
		for _, e := range h.ErrorTypes {
			codes = append(codes, e.Code)
		}
		return "error types: " + orNone(codes)
	case "handover.rollback_tested":
		if h.Rollback.Tested {
			return "rollback " + h.Rollback.Strategy + " tested" + optional(" on ", h.Rollback.TestedOn)
		}
		return "rollback " + h.Rollback.Strategy + " not tested"
	case "handover.acceptance", "handover.acceptance_pending":
		// Only the signed review accepts; what the spec types is the
		// team to ask, and at most a declaration.
		if d.ref != nil && d.ref.st.Predicate.Acceptance != nil {
			a := d.ref.st.Predicate.Acceptance
			return fmt.Sprintf("accepted by %s (%s): approving review %d of commit %s, %s", a.User, a.Team, a.ReviewID, a.Commit, a.SubmittedAt)
		}
		if a := h.Acceptance; a != nil {
			return "no acceptance on the record: team " + a.Team + " to ask" + optional(", declared by ", a.By)
		}
		return "no acceptance team named"
	}
	return "spec handover section"
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// healthEvidence names a template's readiness and liveness checks.
func healthEvidence(h *spec.Health) string {
	probe := func(name string, p *spec.Probe) string {
		switch {
		case p == nil:
			return name + " none"
		case p.Path != "":
			return fmt.Sprintf("%s GET %s every %ds", name, p.Path, p.PeriodSeconds)
		default:
			return fmt.Sprintf("%s %s every %ds", name, strings.Join(p.Command, " "), p.PeriodSeconds)
		}
	}
	if h == nil {
		h = &spec.Health{}
	}
	return "health checks: " + probe("readiness", h.Readiness) + "; " + probe("liveness", h.Liveness)
}

func optional(prefix, v string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// results lists the signed policy results of the current release in each
// environment.
func (b *builder) results(d *dossier) []PolicyResult {
	n := 0
	for _, r := range d.currentOrdered {
		n += len(r.st.Predicate.Results)
	}
	out := make([]PolicyResult, 0, n)
	for _, r := range d.currentOrdered {
		p := r.st.Predicate
		for _, res := range p.Results {
			pr := PolicyResult{Environment: p.Environment, Version: p.Model.Version, Rule: res.Rule, Severity: res.Severity,
				Outcome: res.Outcome, Message: res.Message, Controls: make([]Control, 0, len(res.Controls)), Source: SourceSigned}
			if rule, ok := b.rules[res.Rule]; ok {
				pr.Title = rule.Title
			}
			for _, c := range res.Controls {
				pr.Controls = append(pr.Controls, Control{Framework: c.Framework, ID: c.ID})
			}
			if res.Waiver != nil {
				pr.Waiver = res.Waiver.Ticket + " until " + res.Waiver.Expires
			}
			out = append(out, pr)
		}
	}
	return out
}

// waiverStatus says where a waiver stands at now.
func waiverStatus(approvedBy, expires string, now time.Time) (string, int) {
	end, ok := checkresult.WaiverEnd(expires)
	if !ok {
		return WaiverExpired, 0
	}
	days := int(math.Floor(end.Sub(now).Hours() / 24))
	switch {
	case !now.Before(end):
		return WaiverExpired, days
	case approvedBy == "":
		return WaiverUnapproved, days
	case days < ExpiringWithinDays:
		return WaiverExpiring, days
	}
	return WaiverActive, days
}

// modelWaivers are the waivers of the model: those signed into its
// releases and those the spec holds now.
func (b *builder) modelWaivers(d *dossier) []WaiverRow {
	type key struct{ rule, env, expires, ticket string }
	rows := map[key]*WaiverRow{}
	var order []key
	add := func(w attest.Waiver, source, record string) {
		k := key{w.Rule, w.Environment, w.Expires, w.Ticket}
		row, ok := rows[k]
		if !ok {
			st, days := waiverStatus(w.ApprovedBy, w.Expires, b.o.Now)
			row = &WaiverRow{Rule: w.Rule, Model: w.Model, Environment: w.Environment, Reason: w.Reason, ApprovedBy: w.ApprovedBy,
				Expires: w.Expires, Ticket: w.Ticket, Status: st, DaysLeft: days, Signed: []string{}, Source: source}
			rows[k] = row
			order = append(order, k)
		}
		if record != "" {
			row.Signed = append(row.Signed, record)
			row.Source = SourceSigned
		}
	}
	for _, r := range d.history {
		if r.verified() {
			for _, w := range r.lite.Waivers {
				add(w, SourceSigned, r.row.Record)
			}
		}
	}
	for _, w := range b.p.Waivers {
		if doc := w.Document(); policy.Waives(doc, "", d.Model, b.o.Environment) {
			add(attest.Waiver(doc), SourceSpec, "")
		}
	}
	out := []WaiverRow{}
	for _, k := range order {
		out = append(out, *rows[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Expires != out[j].Expires {
			return out[i].Expires < out[j].Expires
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// gaps states the model's problems in plain words, worst first.
func (b *builder) gaps(d *dossier, evMatch string) []string {
	out := []string{}
	for _, r := range d.history {
		if !r.verified() {
			out = append(out, fmt.Sprintf("release record %s FAILS VERIFICATION: %s", r.row.Record, strings.Join(r.row.Problems, "; ")))
		}
	}
	if d.ref == nil {
		out = append(out, "no verified release in scope")
	}
	switch evMatch {
	case matchMissing:
		out = append(out, "the evidence summary the release pins is not at hand; figures beyond the signed headline cannot be recomputed")
	case matchChanged:
		out = append(out, "the evidence summary at hand differs from the one the release pins; it is not used")
	case matchBlobMissing, matchBlobChanged:
		blob, _ := ledger.BlobPath(d.ref.st.Predicate.Bundle.Blob(attest.BlobEvidence))
		out = append(out, fmt.Sprintf("the evidence bundle's summary %s is %s: run slipway verify; its figures are not shown", blob, strings.TrimPrefix(evMatch, "blob ")))
	}
	if d.Fairness != nil && d.Fairness.Missing != "" {
		out = append(out, "no fairness evidence: "+d.Fairness.Missing)
	} else {
		d.fairness = d.ref != nil
	}
	var missing []string
	for _, h := range d.Handover {
		if h.Outcome != "pass" && h.Outcome != "waived" {
			missing = append(missing, h.Rule+" ("+h.Outcome+")")
		}
	}
	d.handover = d.ref != nil && len(missing) == 0 && len(d.Handover) > 0
	if d.ref != nil && len(missing) > 0 {
		out = append(out, "handover incomplete: "+strings.Join(missing, ", "))
	}
	for _, w := range d.waiverRows {
		switch w.Status {
		case WaiverExpired:
			out = append(out, fmt.Sprintf("waiver of %s (%s) EXPIRED on %s", w.Rule, w.Ticket, w.Expires))
		case WaiverExpiring:
			out = append(out, fmt.Sprintf("waiver of %s (%s) expires on %s, in %d day(s)", w.Rule, w.Ticket, w.Expires, w.DaysLeft))
		case WaiverUnapproved:
			out = append(out, fmt.Sprintf("waiver of %s (%s) has no approver", w.Rule, w.Ticket))
		}
	}
	return out
}

// num formats a number briefly and stably.
func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return fmt.Sprintf("%d", int64(x))
	}
	s := fmt.Sprintf("%.4f", x)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
