package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/parallel"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/spec"
)

// evidenceFile is one model's evidence summary as read from the work dir.
type evidenceFile struct {
	path   string // repo-relative
	sha256 string
	// doc is the summary as plain JSON values; nil when there is none,
	// which the policy engine denies.
	doc map[string]any
}

// readEvidence reads back the evidence summary of every model in scope as
// the JSON the policies read. A summary that is absent or unreadable is left
// nil: the policy engine turns that into a denial, and the reason is logged.
// Models are read one per core at a time, and logged in scope order.
func (c *checker) readEvidence(scope []unitKey) map[string]evidenceFile {
	var models []string
	seen := map[string]bool{}
	for _, k := range scope {
		if !seen[k.model] {
			seen[k.model] = true
			models = append(models, k.model)
		}
	}
	files := make([]evidenceFile, len(models))
	warns := make([]func(), len(models))
	// readSummary fails no model: it logs why.
	parallel.For(len(models), func(i int) { files[i], warns[i] = c.readSummary(models[i]) })
	out := make(map[string]evidenceFile, len(models))
	for i, model := range models {
		if warns[i] != nil {
			warns[i]()
		}
		out[model] = files[i]
	}
	return out
}

// readSummary reads one model's evidence summary; warn, when not nil,
// logs why there is none.
func (c *checker) readSummary(model string) (ef evidenceFile, warn func()) {
	full := evidence.Path(c.o.WorkDir, model)
	rel, err := filepath.Rel(c.p.Root, full)
	if err != nil {
		rel = full
	}
	ef = evidenceFile{path: filepath.ToSlash(rel)}
	b, err := safefile.ReadFile(full, safefile.Record)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ef, func() { c.o.Log.Warn("no evidence summary: run `slipway evaluate`", "model", model, "path", ef.path) }
	case err != nil:
		return ef, func() { c.o.Log.Warn("evidence summary unreadable", "model", model, "err", err) }
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return ef, func() { c.o.Log.Warn("evidence summary is not JSON", "model", model, "path", ef.path, "err", err) }
	}
	ef.doc = doc
	// The digest of the bytes judged, not of the file read again.
	ef.sha256 = digest.Bytes(b)
	return ef, nil
}

// headlineMetrics are shown for every model when the evidence has them.
var headlineMetrics = []string{"accuracy", "balanced_accuracy", "roc_auc", "precision", "recall", "f1", "positive_rate", "rmse", "mae", "r2"}

// ref summarises the evidence for the check result; nil without evidence.
// Where the baseline comes from and which fairness thresholds apply are
// the policies' decisions (facts): the result shows the figures they
// judged, and shows none where they stated nothing.
func (e evidenceFile) ref(facts policy.Facts, m spec.Model, prev *policy.PreviousRelease) *EvidenceRef {
	if e.doc == nil {
		return nil
	}
	r := &EvidenceRef{Path: e.path, SHA256: e.sha256, Headline: map[string]*float64{}, Baseline: map[string]float64{}, Fairness: map[string]map[string]checkresult.FairnessFigure{}}
	overall := lookup(e.doc, "evaluation", "overall")
	names := append([]string(nil), headlineMetrics...)
	for name := range m.Evaluation.Metrics {
		names = append(names, name)
	}
	for _, name := range names {
		if v, ok := overall[name]; ok {
			r.Headline[name] = number(v)
		}
	}
	r.BaselineSource = facts.BaselineSource
	switch facts.BaselineSource {
	case checkresult.BaselineMeasured:
		r.BaselineFrom, _ = lookup(e.doc, "baseline")["predictions"].(string)
		measured := lookup(e.doc, "baseline", "overall")
		for _, name := range names {
			if v := number(measured[name]); v != nil {
				r.Baseline[name] = *v
			}
		}
	case checkresult.BaselineDeclared:
		if b := m.Evaluation.Baseline; b != nil {
			r.BaselineVersion = b.Version
			for k, v := range b.Metrics {
				r.Baseline[k] = v
			}
		}
	case checkresult.BaselineUnverified, checkresult.BaselineRelease:
		if prev != nil {
			r.BaselineVersion, r.BaselineFrom = prev.Version, prev.Record
		}
		if prev != nil && facts.BaselineSource == checkresult.BaselineRelease {
			for _, name := range names {
				if v := prev.Headline[name]; v != nil {
					r.Baseline[name] = *v
				}
			}
		}
	}
	if m.Fairness != nil {
		fair := lookup(e.doc, "evaluation", "fairness")
		cis := lookup(e.doc, "evaluation", "ci", "fairness")
		for _, attr := range m.Fairness.Sensitive {
			values, _ := fair[attr].(map[string]any)
			ivs, _ := cis[attr].(map[string]any)
			figs := map[string]checkresult.FairnessFigure{}
			for metric, t := range facts.FairnessThresholds {
				fig := checkresult.FairnessFigure{Value: number(values[metric]), Threshold: checkresult.Threshold(t), Outcome: facts.FairnessOutcomes[attr][metric]}
				if iv, _ := ivs[metric].([]any); len(iv) == 2 {
					lo, hi := number(iv[0]), number(iv[1])
					if lo != nil && hi != nil {
						fig.Interval = &[2]float64{*lo, *hi}
					}
				}
				figs[metric] = fig
			}
			r.Fairness[attr] = figs
		}
	}
	return r
}

func lookup(doc map[string]any, keys ...string) map[string]any {
	cur := doc
	for _, k := range keys {
		next, _ := cur[k].(map[string]any)
		if next == nil {
			return map[string]any{}
		}
		cur = next
	}
	return cur
}

func number(v any) *float64 {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil
		}
		return &f
	case float64:
		return &x
	}
	return nil
}
