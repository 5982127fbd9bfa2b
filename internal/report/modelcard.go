package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FormatModelCard is a Hugging Face-style model card (README.md) of one
// model: `model-index` YAML front matter and a Markdown body.
const FormatModelCard = "modelcard"

// cardMeta is the model card's YAML front matter, following the Hugging
// Face model card metadata: model-index → results → task, dataset and
// metrics (type, value, name). Field order is the order written.
type cardMeta struct {
	Tags       []string     `yaml:"tags"`
	ModelIndex []cardModel  `yaml:"model-index,omitempty"`
	Slipway    cardProvence `yaml:"slipway"`
}

type cardModel struct {
	Name    string       `yaml:"name"`
	Results []cardResult `yaml:"results"`
}

type cardResult struct {
	Task    cardTask     `yaml:"task"`
	Dataset cardDataset  `yaml:"dataset"`
	Metrics []cardMetric `yaml:"metrics"`
}

type cardTask struct {
	Type string `yaml:"type"`
	Name string `yaml:"name"`
}

type cardDataset struct {
	Type     string `yaml:"type"`
	Name     string `yaml:"name"`
	Revision string `yaml:"revision,omitempty"`
}

type cardMetric struct {
	Type  string  `yaml:"type"`
	Value float64 `yaml:"value"`
	Name  string  `yaml:"name"`
}

// cardProvence says where the card's figures come from, so a reader can
// check them against the ledger.
type cardProvence struct {
	Version  string `yaml:"version,omitempty"`
	Record   string `yaml:"record,omitempty"`
	Verified bool   `yaml:"verified"`
	Key      string `yaml:"key_sha256,omitempty"`
}

// plainMarks drops the card's emoji marks from the copy in the HTML
// dossier, which must print without an emoji or symbol font: each mark
// is followed by its word (pass, warn, deny), which says the same.
var plainMarks = strings.NewReplacer("✅ ", "", "⚠️ ", "", "❌ ", "", "🔍 ", "")

// hfTask maps a Slipway task to a Hugging Face task type.
var hfTask = map[string]string{
	"binary-classification":     "tabular-classification",
	"multiclass-classification": "tabular-classification",
	"regression":                "tabular-regression",
}

// ModelCard writes the report's one model as a model card. Its metrics
// come only from the verified release record and the evidence it pins, as
// the dossier reads them; what people declared is shown as declared.
func (r *Report) ModelCard(w io.Writer) error {
	if len(r.Models) != 1 {
		return fmt.Errorf("a model card is of one model, the report has %d: give --model", len(r.Models))
	}
	_, err := io.WriteString(w, modelCard(r.Models[0]))
	return err
}

// cardMetrics are the dossier's measured figures: overall metrics, then
// each sensitive attribute's fairness metrics.
func cardMetrics(d Dossier) []cardMetric {
	var out []cardMetric
	if e := d.Evaluation; e != nil {
		for _, m := range e.Metrics {
			if m.Value != nil && (m.Source == SourceSigned || m.Source == SourceEvidence) {
				out = append(out, cardMetric{Type: m.Name, Value: *m.Value, Name: m.Name})
			}
		}
	}
	if f := d.Fairness; f != nil {
		for _, a := range f.Attributes {
			for _, m := range a.Metrics {
				if m.Value != nil && (m.Source == SourceSigned || m.Source == SourceEvidence) {
					out = append(out, cardMetric{Type: m.Name, Value: *m.Value, Name: m.Name + " (" + a.Name + ")"})
				}
			}
		}
	}
	return out
}

// cardFrontMatter is the card's YAML front matter.
func cardFrontMatter(d Dossier) ([]byte, error) {
	meta := cardMeta{Tags: []string{"slipway"}}
	if d.Task != "" {
		meta.Tags = append(meta.Tags, d.Task)
	}
	if ref := d.Reference; ref != nil {
		meta.Slipway = cardProvence{Version: ref.Version, Record: ref.Record, Verified: ref.Verified}
		for _, s := range d.Signatures {
			if s.Record == ref.Record {
				meta.Slipway.Key = s.KeyFingerprint
			}
		}
	}
	if ms := cardMetrics(d); len(ms) > 0 {
		ds := cardDataset{}
		for _, s := range d.Lineage.Sources {
			for _, role := range s.Roles {
				if role == "evaluation" {
					ds = cardDataset{Type: s.Name, Name: s.Name}
					if s.Source == SourceSigned || s.Source == SourceEvidence {
						ds.Revision = s.Version
					}
				}
			}
		}
		task := cardTask{Type: hfTask[d.Task], Name: d.Task}
		meta.ModelIndex = []cardModel{{Name: d.Model, Results: []cardResult{{Task: task, Dataset: ds, Metrics: ms}}}}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(meta); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// modelCard renders one dossier as a model card.
func modelCard(d Dossier) string {
	fm, err := cardFrontMatter(d)
	if err != nil {
		// The front matter is plain strings and numbers: it always
		// encodes.
		panic(fmt.Sprintf("model card front matter: %v", err))
	}
	var b strings.Builder
	bw := bufio.NewWriter(&b)
	bw.WriteString("---\n")
	bw.Write(fm)
	bw.WriteString("---\n\n")
	m := &mdWriter{w: bw}
	m.p("# Model card: %s %s\n", md(d.Model), md(d.Version))
	if ref := d.Reference; ref != nil {
		m.p("Written by Slipway from the verified release record %s (%s, %s). Its metrics come only from that signed record and the evidence bundle it pins; the sections declared by people are what their owners state, not what Slipway verified.\n", code(ref.Record), md(ref.Environment), md(ref.ReleasedAt))
	} else {
		m.p("No verified release: this card has no measured figures, only what is declared.\n")
	}
	m.p("## Model details\n")
	m.table([]string{"", ""}, [][]string{
		{"Owner", md(d.Owner)},
		{"Team", md(d.Team)},
		{"Task", md(d.Task)},
		{"Artifact", fmt.Sprintf("%s %s", md(d.Artifact.URI), code(d.Artifact.Digest))},
		{"Intended use", md(d.IntendedUse.Summary)},
		{"Out of scope", md(orNone(d.IntendedUse.OutOfScope))},
		{"Source", md(d.Identity)},
	})
	m.p("## Evaluation\n")
	if e := d.Evaluation; e != nil && len(e.Metrics) > 0 {
		var rows [][]string
		for _, r := range e.Metrics {
			rows = append(rows, []string{md(r.Name), fp(r.Value), ci(r.CI), bound(r.Min, r.Max), rowMark(r.Rule, r.Outcome), md(r.Source)})
		}
		m.table([]string{"Metric", "Value", "95% CI", "Threshold", "Result", "Source"}, rows)
		if e.Rows > 0 {
			m.p("%d gold rows.\n", e.Rows)
		}
	} else {
		m.p("*No signed evaluation.*\n")
	}
	if f := d.Fairness; f != nil && len(f.Attributes) > 0 {
		m.p("## Fairness\n")
		var rows [][]string
		for _, a := range f.Attributes {
			for _, r := range a.Metrics {
				rows = append(rows, []string{md(a.Name), md(r.Name), fp(r.Value), ci(r.CI), bound(r.Min, r.Max), rowMark(r.Rule, r.Outcome), md(r.Source)})
			}
		}
		m.table([]string{"Attribute", "Metric", "Value", "95% CI", "Threshold", "Result", "Source"}, rows)
	} else if f != nil && f.Missing != "" {
		m.p("## Fairness\n")
		m.p("*No fairness evidence: %s.*\n", md(f.Missing))
	}
	m.declared(d.Declared)
	bw.Flush()
	return b.String()
}
