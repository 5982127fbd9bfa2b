package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// frontMatter splits a model card into its parsed YAML front matter and
// its body.
func frontMatter(t *testing.T, card []byte) (cardMeta, string) {
	t.Helper()
	rest, ok := bytes.CutPrefix(card, []byte("---\n"))
	if !ok {
		t.Fatalf("the card does not open with front matter:\n%s", card)
	}
	fm, body, ok := bytes.Cut(rest, []byte("\n---\n"))
	if !ok {
		t.Fatalf("the front matter is not closed:\n%s", card)
	}
	var meta cardMeta
	dec := yaml.NewDecoder(bytes.NewReader(fm))
	dec.KnownFields(true)
	if err := dec.Decode(&meta); err != nil {
		t.Fatalf("front matter does not parse back: %v\n%s", err, fm)
	}
	return meta, string(body)
}

// TestModelCard: the card's model-index holds exactly the dossier's
// signed metrics, parses back as YAML, and shows the declarations as
// declared by their owners.
func TestModelCard(t *testing.T) {
	root := releasedExample(t)
	rep := build(t, root, reportAt, func(o *Options) { o.Model = "credit-default" })
	got := render(t, rep, FormatModelCard)
	golden(t, "credit-default.modelcard.md", scrub(rep, got))

	meta, body := frontMatter(t, got)
	d := dossierOf(t, rep, "credit-default")
	if len(meta.ModelIndex) != 1 || len(meta.ModelIndex[0].Results) != 1 {
		t.Fatalf("model-index: %+v", meta.ModelIndex)
	}
	res := meta.ModelIndex[0].Results[0]
	if d := cmp.Diff(cardTask{Type: "tabular-classification", Name: "binary-classification"}, res.Task); d != "" {
		t.Errorf("task (-want +got):\n%s", d)
	}
	if res.Dataset.Name != "applications-gold" || !strings.HasPrefix(res.Dataset.Revision, "sha256:") {
		t.Errorf("dataset = %+v, want applications-gold at its signed version", res.Dataset)
	}
	want := map[string]float64{}
	for _, m := range d.Evaluation.Metrics {
		if m.Value != nil && m.Source == SourceSigned {
			want[m.Name] = *m.Value
		}
	}
	gotOverall := map[string]float64{}
	for _, m := range res.Metrics {
		if m.Type == "" || m.Name == "" {
			t.Errorf("metric without type or name: %+v", m)
		}
		if m.Type == m.Name {
			gotOverall[m.Name] = m.Value
		}
	}
	if len(want) == 0 {
		t.Fatal("the dossier has no signed metric")
	}
	if d := cmp.Diff(want, gotOverall); d != "" {
		t.Errorf("overall metrics (-signed +card):\n%s", d)
	}
	if meta.Slipway.Record != d.Reference.Record || !meta.Slipway.Verified || meta.Slipway.Key == "" {
		t.Errorf("provenance = %+v, want the verified reference record %s with its key", meta.Slipway, d.Reference.Record)
	}
	for _, s := range []string{"declared by head-of-underwriting@example.com", "declared by model-risk@example.com", "Residual risk accepted by Chief Risk Officer"} {
		if !strings.Contains(body, s) {
			t.Errorf("the card does not say %q", s)
		}
	}
	if strings.Contains(strings.ToLower(body), "verified by head") {
		t.Error("a declaration is shown as verified")
	}
}

// TestModelCardNoRelease: without a verified release the card has no
// model-index at all, never figures from the work dir.
func TestModelCardNoRelease(t *testing.T) {
	d := Dossier{Model: "m", Task: "regression", Evaluation: nil, Declared: []Declaration{}}
	meta, _ := frontMatter(t, []byte(modelCard(d)))
	if meta.ModelIndex != nil {
		t.Errorf("model-index without a release: %+v", meta.ModelIndex)
	}
}

// TestModelCardYAMLEscapes: names that are YAML syntax come back intact.
func TestModelCardYAMLEscapes(t *testing.T) {
	v := 0.5
	hostile := "a: b # c\n- [d] {e} 'f' \"g\" &h *i !j |k >l %m @n `o`"
	d := Dossier{Model: hostile, Task: "binary-classification", Reference: &ReleaseRow{Record: hostile, Verified: true},
		Evaluation: &Evaluation{Metrics: []MetricRow{{Name: hostile, Value: &v, Source: SourceSigned}}},
		Lineage:    Lineage{Sources: []DataSourceRow{{Name: hostile, Roles: []string{"evaluation"}, Version: "yes", Source: SourceSigned}}}}
	meta, _ := frontMatter(t, []byte(modelCard(d)))
	want := []cardModel{{Name: hostile, Results: []cardResult{{
		Task:    cardTask{Type: "tabular-classification", Name: "binary-classification"},
		Dataset: cardDataset{Type: hostile, Name: hostile, Revision: "yes"},
		Metrics: []cardMetric{{Type: hostile, Value: 0.5, Name: hostile}},
	}}}}
	if d := cmp.Diff(want, meta.ModelIndex); d != "" {
		t.Errorf("model-index (-want +got):\n%s", d)
	}
}

// TestModelCardOneModel: a portfolio has no single card.
func TestModelCardOneModel(t *testing.T) {
	rep := &Report{Models: []Dossier{{Model: "a"}, {Model: "b"}}}
	var buf bytes.Buffer
	if err := Render(context.Background(), &buf, rep, FormatModelCard); err == nil || !strings.Contains(err.Error(), "--model") {
		t.Errorf("err = %v, want one asking for --model", err)
	}
}

// TestDeclaredCoverage: an item served only by a declared rule that
// passed is declared by its owner, never covered; a declaration beside a
// verified rule leaves the item covered.
func TestDeclaredCoverage(t *testing.T) {
	root := releasedExample(t)
	rep := build(t, root, reportAt, func(o *Options) { o.Model = "credit-default" })
	cells := map[string]CoverageCell{}
	for _, f := range rep.Coverage {
		for _, it := range f.Items {
			cells[f.Framework+" "+it.ID] = it.Models[0]
		}
	}
	for item, want := range map[string]struct{ status, note string }{
		"EU AI Act Art. 14":       {StatusDeclared, "declared by head-of-underwriting@example.com, not verified"},
		"EU AI Act Art. 9":        {StatusDeclared, "declared by model-risk@example.com, not verified"},
		"EU AI Act Annex IV 1(h)": {StatusDeclared, "declared by risk-ml@example.com, not verified"},
		"NIST AI RMF MANAGE 1.4":  {StatusDeclared, "declared by model-risk@example.com, not verified"},
		"EU AI Act Annex IV 3":    {StatusCovered, ""},
		"ISO/IEC 42001 A.9.2":     {StatusDeclared, "declared by head-of-underwriting@example.com, not verified"},
		"EU AI Act Annex IV 2(e)": {StatusDeclared, "declared by head-of-underwriting@example.com, not verified"},
		"EU AI Act Annex IV 1(a)": {StatusDeclared, "declared by risk-ml@example.com, not verified"},
		"NIST AI RMF MAP 5.1":     {StatusDeclared, "declared by model-risk@example.com, not verified"},
		"ISO/IEC 42001 A.5.3":     {StatusDeclared, "declared by model-risk@example.com, not verified"},
		"EU AI Act Annex IV 5":    {StatusDeclared, "declared by model-risk@example.com, not verified"},
		"NIST AI RMF MAP 3.5":     {StatusDeclared, "declared by head-of-underwriting@example.com, not verified"},
		"EU AI Act Art. 13":       {StatusDeclared, "declared by risk-ml@example.com, not verified"},
		"NIST AI RMF MAP 1.1":     {StatusDeclared, "declared by risk-ml@example.com, not verified"},
		"ISO/IEC 42001 A.9.4":     {StatusDeclared, "declared by risk-ml@example.com, not verified"},
		"NIST AI RMF MAP 2.2":     {StatusDeclared, "declared by risk-ml@example.com, not verified"},
		"NIST AI RMF MAP 3.3":     {StatusDeclared, "declared by risk-ml@example.com, not verified"},
		"NIST AI RMF MANAGE 1.3":  {StatusDeclared, "declared by model-risk@example.com, not verified"},
		"EU AI Act Annex IV 2(g)": {StatusCovered, ""},
		"EU AI Act Annex IV 1(b)": {StatusGap, "no rule serves this item"},
	} {
		c, ok := cells[item]
		if !ok {
			t.Errorf("%s: no such item", item)
			continue
		}
		if c.Status != want.status || (want.note != "" && c.Note != want.note) {
			t.Errorf("%s: %s (%s), want %s (%s)", item, c.Status, c.Note, want.status, want.note)
		}
	}
}
