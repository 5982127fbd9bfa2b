// Package synth generates seeded, realistic platform data: prediction files
// with exactly controlled confusion matrices per group, data snapshots, JUnit
// reports, runbooks, and whole synthetic platform repositories for
// benchmarks. Everything it writes is byte-for-byte reproducible from a seed.
package synth

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Attribute is a sensitive attribute and the share of rows in each group.
type Attribute struct {
	Name   string
	Groups []string
	Shares []float64 // same length as Groups, summing to 1
}

// Classifier describes a binary classifier's behaviour on a gold set. Rates
// are met exactly in every cell of the attributes' cross product (up to
// rounding), so fairness gaps come only from Bias.
type Classifier struct {
	Rows      int
	BaseRate  float64 // share of positive labels
	TPR, FPR  float64
	Threshold float64 // score threshold that reproduces the prediction column
	Attrs     []Attribute
	// Bias raises the false positive rate of one group of one attribute,
	// for examples that must fail a fairness check.
	Bias *Bias
	// IDColumn, LabelColumn, ScoreColumn and PredictionColumn name the
	// columns; PredictionColumn may be empty to leave predictions to a
	// threshold on the score.
	IDColumn, LabelColumn, ScoreColumn, PredictionColumn string
	IDPrefix                                             string
}

// Bias moves one group's false positive rate.
type Bias struct {
	Attribute, Group string
	FPR              float64
}

// Row is one generated prediction.
type Row struct {
	ID         string
	Label      int
	Score      float64
	Prediction int
	Groups     []string
}

// Generate generates the classifier's predictions, shuffled.
func (c Classifier) Generate(seed uint64) []Row {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cells := crossProduct(c.Attrs)
	var rows []Row
	for _, cell := range cells {
		n := int(math.Round(float64(c.Rows) * cell.share))
		pos := int(math.Round(float64(n) * c.BaseRate))
		neg := n - pos
		fpr := c.FPR
		if c.Bias != nil && cell.has(c.Attrs, c.Bias.Attribute, c.Bias.Group) {
			fpr = c.Bias.FPR
		}
		tp := int(math.Round(float64(pos) * c.TPR))
		fp := int(math.Round(float64(neg) * fpr))
		add := func(count, label, pred int) {
			for i := 0; i < count; i++ {
				rows = append(rows, Row{Label: label, Prediction: pred, Score: c.score(r, label, pred), Groups: cell.groups})
			}
		}
		add(tp, 1, 1)
		add(pos-tp, 1, 0)
		add(fp, 0, 1)
		add(neg-fp, 0, 0)
	}
	r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	for i := range rows {
		rows[i].ID = fmt.Sprintf("%s%06d", c.IDPrefix, i+1)
	}
	return rows
}

// score draws a score on the side of the threshold the prediction is on;
// positives lean high and negatives low within their band, which gives
// realistic ROC curves rather than a step.
func (c Classifier) score(r *rand.Rand, label, pred int) float64 {
	t := c.Threshold
	u := r.Float64()
	lean := math.Sqrt(u) // towards the top of the band
	if label == 0 {
		lean = u * u // towards the bottom
	}
	var s float64
	if pred == 1 {
		s = t + (1-t)*lean
	} else {
		s = t * lean * 0.999999
	}
	return math.Round(s*1e6) / 1e6
}

// WriteCSV writes rows with a header: id, label, score, prediction (when
// named), then one column per attribute.
func (c Classifier) WriteCSV(w io.Writer, rows []Row) error {
	header := []string{c.IDColumn, c.LabelColumn, c.ScoreColumn}
	if c.PredictionColumn != "" {
		header = append(header, c.PredictionColumn)
	}
	for _, a := range c.Attrs {
		header = append(header, a.Name)
	}
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for _, row := range rows {
		b.WriteString(row.ID)
		b.WriteString("," + strconv.Itoa(row.Label))
		b.WriteString("," + strconv.FormatFloat(row.Score, 'f', -1, 64))
		if c.PredictionColumn != "" {
			b.WriteString("," + strconv.Itoa(row.Prediction))
		}
		for _, g := range row.Groups {
			b.WriteString("," + g)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type cell struct {
	groups []string
	share  float64
}

func (c cell) has(attrs []Attribute, attr, group string) bool {
	for i, a := range attrs {
		if a.Name == attr {
			return c.groups[i] == group
		}
	}
	return false
}

func crossProduct(attrs []Attribute) []cell {
	cells := []cell{{share: 1}}
	for _, a := range attrs {
		var next []cell
		for _, c := range cells {
			for i, g := range a.Groups {
				next = append(next, cell{groups: append(append([]string(nil), c.groups...), g), share: c.share * a.Shares[i]})
			}
		}
		cells = next
	}
	return cells
}

// Column generates one column of a data snapshot.
type Column struct {
	Name string
	// Gen returns the value for row i; an empty string is a null.
	Gen func(r *rand.Rand, i int) string
}

// WriteSnapshot writes a CSV snapshot of n rows.
func WriteSnapshot(w io.Writer, seed uint64, n int, cols []Column) error {
	r := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	var b strings.Builder
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	b.WriteString(strings.Join(names, ",") + "\n")
	for i := 0; i < n; i++ {
		for j, c := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.Gen(r, i))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Normal returns a generator of normally distributed numbers rounded to
// the given decimals and clamped at lo.
func Normal(mean, sd, lo float64, decimals int) func(*rand.Rand, int) string {
	return func(r *rand.Rand, _ int) string {
		v := math.Max(lo, mean+sd*r.NormFloat64())
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
}

// Choice returns a generator picking values with the given weights.
func Choice(values []string, weights []float64) func(*rand.Rand, int) string {
	cum := make([]float64, len(weights))
	total := 0.0
	for i, w := range weights {
		total += w
		cum[i] = total
	}
	return func(r *rand.Rand, _ int) string {
		u := r.Float64() * total
		i := sort.SearchFloat64s(cum, u)
		if i >= len(values) {
			i = len(values) - 1
		}
		return values[i]
	}
}

// Sequence returns a generator of ids prefix000001, prefix000002, ...
func Sequence(prefix string) func(*rand.Rand, int) string {
	return func(_ *rand.Rand, i int) string { return fmt.Sprintf("%s%06d", prefix, i+1) }
}

// Sometimes wraps a generator so it yields a null with probability p.
func Sometimes(p float64, gen func(*rand.Rand, int) string) func(*rand.Rand, int) string {
	return func(r *rand.Rand, i int) string {
		if r.Float64() < p {
			return ""
		}
		return gen(r, i)
	}
}
