package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/table"
)

// Tasks, named as in the model spec.
const (
	Binary     = "binary-classification"
	Multiclass = "multiclass-classification"
	Regression = "regression"
)

// Errors callers branch on.
var (
	// ErrConfig is wrapped by errors in how an evaluation was asked for.
	ErrConfig = errors.New("invalid evaluation settings")
	// ErrClass is wrapped by errors about label or prediction values
	// outside the task's classes.
	ErrClass = errors.New("value outside the declared classes")
	// ErrValue is wrapped by errors about values out of their domain.
	ErrValue = errors.New("invalid value")
)

// maxAttrs bounds the sensitive attributes, whose value ids pack into one
// 64-bit cell key (16 bits each).
const maxAttrs = 4

// Config says which columns of a predictions file mean what and what to
// compute.
type Config struct {
	// Task is Binary (default), Multiclass or Regression.
	Task string
	// Label, Prediction, Score and Weight name columns. Binary needs
	// Prediction, or Score with Threshold.
	Label, Prediction, Score, Weight string
	// Positive names the positive class of label and prediction; empty
	// means labels are 0/1 or true/false.
	Positive string
	// Threshold turns Score into a prediction (positive when score >=
	// threshold) when there is no Prediction column.
	Threshold *float64
	// Sensitive are the attributes groups are formed by.
	Sensitive []string
	// Intersectional adds groups for every combination of the attributes.
	Intersectional bool
	// ReferenceGroup names each attribute's reference group for disparate
	// impact; unset attributes use the group with the highest selection
	// rate.
	ReferenceGroup map[string]string
	// MinGroupSize excludes smaller groups from the fairness aggregates.
	MinGroupSize int
	// Bootstrap is the number of bootstrap replicates (0: no intervals).
	Bootstrap int
	// Seed makes the bootstrap reproducible.
	Seed int64
	// Workers parse in parallel; 0 is one per CPU.
	Workers int
	// Name is how the file is named in errors and inputs.
	Name string
	// Visit, when set, sees every row of the same scan after the metrics
	// have counted it, so that other work on the predictions (the gold
	// join) needs no second pass over the file.
	Visit *Visitor
}

// Visitor is work done on each row of the predictions during evaluation.
type Visitor struct {
	// Columns are read besides the metrics' own.
	Columns []string
	// Row is called like a table.RowFunc; at[i] is the index of
	// Columns[i] in r.
	Row func(worker int, r *table.Row, at []int) error
}

// Report is the result of evaluating one predictions file: the JSON of
// `slipway evaluate --format json`.
type Report struct {
	Task     string   `json:"task"`
	Rows     int64    `json:"rows"`
	Settings Settings `json:"settings"`
	Overall  Set      `json:"overall"`
	// Undefined repeats the overall set's reasons for undefined metrics at
	// the top, where policies look them up.
	Undefined      map[string]string              `json:"undefined,omitempty"`
	Groups         map[string]map[string]Set      `json:"groups"`
	Fairness       map[string]Fairness            `json:"fairness"`
	ExcludedGroups []ExcludedGroup                `json:"excluded_groups"`
	Inputs         []Input                        `json:"inputs"`
	CI             *CI                            `json:"ci,omitempty"`
	Notes          []string                       `json:"notes,omitempty"`
	groupConf      map[string]map[string]groupRaw `json:"-"`
	cells          []cellAcc
	groupDefs      []groupDef
}

// Settings echo what the report was computed with.
type Settings struct {
	Label          string            `json:"label"`
	Prediction     string            `json:"prediction,omitempty"`
	Score          string            `json:"score,omitempty"`
	Weight         string            `json:"weight,omitempty"`
	Positive       string            `json:"positive,omitempty"`
	Threshold      *float64          `json:"threshold,omitempty"`
	Sensitive      []string          `json:"sensitive"`
	Intersectional bool              `json:"intersectional"`
	ReferenceGroup map[string]string `json:"reference_group,omitempty"`
	MinGroupSize   int               `json:"min_group_size"`
}

// ExcludedGroup is a group left out of the fairness aggregates.
type ExcludedGroup struct {
	Attribute string `json:"attribute"`
	Group     string `json:"group"`
	Count     int64  `json:"count"`
	Reason    string `json:"reason"`
}

// Input is a file the report was computed from.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Missing names the group of rows whose sensitive attribute is empty.
const Missing = "(missing)"

// plan is a Config resolved against the column order of the scan.
type plan struct {
	cfg                           Config
	iLabel, iPred, iScore, iWeigh int
	iSens                         []int
	iVisit                        []int
	pos                           []byte
	posBool                       int8 // -1 false, 1 true, 0 not a boolean
	threshold                     float64
}

func (c Config) plan() (*plan, []string, error) {
	if c.Task == "" {
		c.Task = Binary
	}
	// The smallest group is policy, whose default is the schema's
	// (platform.policy.minGroupSize): the caller passes it, metrics holds
	// no number of its own.
	if len(c.Sensitive) > 0 && c.MinGroupSize < 1 {
		return nil, nil, fmt.Errorf("%w: min group size %d: want at least 1", ErrConfig, c.MinGroupSize)
	}
	p := &plan{cfg: c, iPred: -1, iScore: -1, iWeigh: -1}
	if c.Label == "" {
		return nil, nil, fmt.Errorf("%w: no label column", ErrConfig)
	}
	cols := []string{c.Label}
	add := func(name string) int {
		for i, x := range cols {
			if x == name {
				return i
			}
		}
		cols = append(cols, name)
		return len(cols) - 1
	}
	if c.Prediction != "" {
		p.iPred = add(c.Prediction)
	}
	if c.Score != "" {
		p.iScore = add(c.Score)
	}
	if c.Weight != "" {
		p.iWeigh = add(c.Weight)
	}
	switch c.Task {
	case Binary:
		if c.Prediction == "" && (c.Score == "" || c.Threshold == nil) {
			return nil, nil, fmt.Errorf("%w: binary classification needs a prediction column, or a score column and a threshold", ErrConfig)
		}
		if c.Threshold != nil {
			p.threshold = *c.Threshold
		}
	case Multiclass, Regression:
		if c.Prediction == "" {
			return nil, nil, fmt.Errorf("%w: %s needs a prediction column", ErrConfig, c.Task)
		}
		if c.Bootstrap > 0 {
			return nil, nil, fmt.Errorf("%w: bootstrap intervals are computed for binary classification only", ErrConfig)
		}
	default:
		return nil, nil, fmt.Errorf("%w: unknown task %q", ErrConfig, c.Task)
	}
	if len(c.Sensitive) > maxAttrs {
		return nil, nil, fmt.Errorf("%w: at most %d sensitive attributes", ErrConfig, maxAttrs)
	}
	seen := map[string]bool{}
	for _, s := range c.Sensitive {
		if seen[s] {
			return nil, nil, fmt.Errorf("%w: sensitive attribute %q named twice", ErrConfig, s)
		}
		seen[s] = true
		p.iSens = append(p.iSens, add(s))
	}
	if c.Visit != nil {
		for _, col := range c.Visit.Columns {
			p.iVisit = append(p.iVisit, add(col))
		}
	}
	if c.Positive != "" {
		p.pos = []byte(c.Positive)
		switch strings.ToLower(c.Positive) {
		case "true":
			p.posBool = 1
		case "false":
			p.posBool = -1
		}
	}
	if c.Bootstrap < 0 {
		return nil, nil, fmt.Errorf("%w: negative bootstrap replicates", ErrConfig)
	}
	return p, cols, nil
}

// EvaluateFile reads a predictions file and measures it.
func EvaluateFile(ctx context.Context, path string, c Config) (*Report, error) {
	p, cols, err := c.plan()
	if err != nil {
		return nil, err
	}
	if c.Name == "" {
		c.Name = path
	}
	p.cfg.Name = c.Name
	n := c.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	ws := make([]*worker, n)
	perWorker := 0
	if p.iScore >= 0 && p.cfg.Task == Binary {
		// Size the score buffers once: growing a slice of tens of
		// millions of rows copies it and doubles the peak.
		perWorker = int(table.EstimateRows(path)*21/20) / n
	}
	for i := range ws {
		ws[i] = newWorker(p)
		ws[i].recs = make([]scored, 0, perWorker)
	}
	fn := func(i int, r *table.Row) error { return ws[i].row(r) }
	if v := c.Visit; v != nil {
		fn = func(i int, r *table.Row) error {
			if err := ws[i].row(r); err != nil {
				return err
			}
			return v.Row(i, r, p.iVisit)
		}
	}
	info, err := table.Scan(ctx, path, table.Options{Columns: cols, Workers: n, Name: c.Name}, fn)
	if err != nil {
		return nil, err
	}
	if err := checkClasses(p, ws); err != nil {
		return nil, err
	}
	rep := build(p, ws, info.Rows)
	rep.Inputs = []Input{{Path: c.Name, SHA256: info.SHA256}}
	return rep, nil
}

// negSeen is where a non-positive class value first appeared.
type negSeen struct {
	row, line int64
	col       string
	colIdx    int
}

// before orders first appearances by row, then column, then value.
func (a negSeen) before(b negSeen, av, bv string) bool {
	if a.row != b.row {
		return a.row < b.row
	}
	if a.colIdx != b.colIdx {
		return a.colIdx < b.colIdx
	}
	return av < bv
}

// worker accumulates the rows one scan worker sees, per cell (one
// combination of sensitive attribute values).
type worker struct {
	p       *plan
	dicts   []map[string]int32
	vals    [][]string
	cellIdx map[uint64]int32
	keys    []uint64
	cells   []cellAcc
	recs    []scored
	side    []float64 // weights that are not exact float32s, see keepScore
	lastNeg []byte
	negs    map[string]negSeen
	classes map[string]int32
	names   []string
	dense   []int32 // cell by packed value ids, when they fit
	shift   []uint
}

func newWorker(p *plan) *worker {
	w := &worker{p: p, cellIdx: map[uint64]int32{}, negs: map[string]negSeen{}, classes: map[string]int32{}}
	for range p.iSens {
		w.dicts = append(w.dicts, map[string]int32{})
		w.vals = append(w.vals, nil)
	}
	w.reindex()
	return w
}

// cellAcc holds the sufficient statistics of one cell.
type cellAcc struct {
	n   [4]int64 // tp, fp, tn, fn
	w   [4]float64
	reg regAcc
	mc  map[[2]int32]*[2]float64 // (label, prediction) -> weight, count
}

const eceBins = 10

// logLossEps clips probabilities like scikit-learn's default (the float64
// machine epsilon) so a confident mistake costs a large finite loss.
const logLossEps = 2.220446049250313e-16

// smallDict is the dictionary size up to which a linear scan beats a map
// lookup for the short strings sensitive attributes hold.
const smallDict = 12

// denseBits bounds the direct-indexed cell table (2^16 entries).
const denseBits = 16

func (w *worker) cell(r *table.Row) (int32, error) {
	var key, d uint64
	grew := false
	for a, col := range w.p.iSens {
		b := r.Bytes(col)
		id := int32(-1)
		vals := w.vals[a]
		if len(vals) <= smallDict {
			for i, v := range vals {
				// Length and first byte first: most mismatches end there
				// without a call into the byte comparison.
				if len(v) == len(b) && (len(b) == 0 || v[0] == b[0]) && v == string(b) {
					id = int32(i)
					break
				}
			}
		} else if x, ok := w.dicts[a][string(b)]; ok {
			id = x
		}
		if id < 0 {
			if len(vals) >= 1<<16-1 {
				return 0, r.Errorf(col, fmt.Errorf("%w: more than %d distinct values in a sensitive attribute", ErrValue, 1<<16-1))
			}
			id = int32(len(vals))
			s := string(b)
			w.dicts[a][s] = id
			w.vals[a] = append(vals, s)
			grew = true
		}
		key = key<<16 | uint64(id)
		if !grew && w.dense != nil {
			d |= uint64(id) << w.shift[a]
		}
	}
	if grew {
		w.reindex()
		d = w.denseIndex(key)
	}
	if w.dense != nil {
		if c := w.dense[d]; c >= 0 {
			return c, nil
		}
		c := w.newCell(key)
		w.dense[d] = c
		return c, nil
	}
	c, ok := w.cellIdx[key]
	if !ok {
		c = w.newCell(key)
	}
	return c, nil
}

// denseIndex is the position of a packed key in the dense table.
func (w *worker) denseIndex(key uint64) uint64 {
	var d uint64
	for a := range w.vals {
		d |= (key >> (16 * uint(len(w.vals)-1-a)) & 0xffff) << w.shift[a]
	}
	return d
}

func (w *worker) newCell(key uint64) int32 {
	c := int32(len(w.cells))
	w.cellIdx[key] = c
	w.keys = append(w.keys, key)
	w.cells = append(w.cells, cellAcc{})
	return c
}

// reindex lays out the direct-indexed cell table again after an
// attribute gained a value: each attribute gets enough bits for its
// dictionary, and the table is used while they fit in denseBits.
func (w *worker) reindex() {
	w.shift = w.shift[:0]
	total := uint(0)
	bits := make([]uint, len(w.vals))
	for a := len(w.vals) - 1; a >= 0; a-- {
		n := uint(1)
		for 1<<n < len(w.vals[a]) {
			n++
		}
		bits[a] = n
	}
	for a := range w.vals {
		w.shift = append(w.shift, 0)
		_ = a
	}
	for a := len(w.vals) - 1; a >= 0; a-- {
		w.shift[a] = total
		total += bits[a]
	}
	if total > denseBits {
		w.dense = nil
		return
	}
	w.dense = make([]int32, 1<<total)
	for i := range w.dense {
		w.dense[i] = -1
	}
	for c, key := range w.keys {
		w.dense[w.denseIndex(key)] = int32(c)
	}
}

func (w *worker) row(r *table.Row) error {
	p := w.p
	wt := 1.0
	if p.iWeigh >= 0 {
		v, err := r.Float(p.iWeigh)
		if err != nil {
			return err
		}
		if v < 0 {
			return r.Errorf(p.iWeigh, fmt.Errorf("%w: negative weight %v", ErrValue, v))
		}
		wt = v
	}
	switch p.cfg.Task {
	case Regression:
		y, err := r.Float(p.iLabel)
		if err != nil {
			return err
		}
		yh, err := r.Float(p.iPred)
		if err != nil {
			return err
		}
		c, err := w.cell(r)
		if err != nil {
			return err
		}
		w.cells[c].reg.add(y, yh, wt)
		return nil
	case Multiclass:
		y, err := w.class(r, p.iLabel)
		if err != nil {
			return err
		}
		yh, err := w.class(r, p.iPred)
		if err != nil {
			return err
		}
		c, err := w.cell(r)
		if err != nil {
			return err
		}
		acc := &w.cells[c]
		if acc.mc == nil {
			acc.mc = map[[2]int32]*[2]float64{}
		}
		e := acc.mc[[2]int32{y, yh}]
		if e == nil {
			e = new([2]float64)
			acc.mc[[2]int32{y, yh}] = e
		}
		e[0] += wt
		e[1]++
		return nil
	}
	y, err := w.binary(r, p.iLabel)
	if err != nil {
		return err
	}
	var s float64
	if p.iScore >= 0 {
		if s, err = r.Float(p.iScore); err != nil {
			return err
		}
	}
	var yh bool
	if p.iPred >= 0 {
		if yh, err = w.binary(r, p.iPred); err != nil {
			return err
		}
	} else {
		yh = s >= p.threshold
	}
	c, err := w.cell(r)
	if err != nil {
		return err
	}
	acc := &w.cells[c]
	k := 0 // tp
	switch {
	case !y && yh:
		k = 1
	case !y && !yh:
		k = 2
	case y && !yh:
		k = 3
	}
	acc.n[k]++
	acc.w[k] += wt
	if p.iScore < 0 {
		return nil
	}
	var label uint32
	if y {
		label = 1
	}
	// Brier, log loss and calibration are summed per distinct score in
	// the ranking pass, so the logarithm is taken once per distinct score
	// rather than once per row.
	w.keepScore(scoreKey(s), uint32(c)<<1|label, wt)
	return nil
}

// binary reads a label or prediction as the positive class or not.
func (w *worker) binary(r *table.Row, i int) (bool, error) {
	if r.IsNull(i) {
		return false, r.Errorf(i, table.ErrMissingValue)
	}
	b := r.Bytes(i)
	p := w.p
	if p.pos == nil {
		if len(b) == 1 {
			switch b[0] {
			case '1':
				return true, nil
			case '0':
				return false, nil
			}
		}
		switch {
		case bytes.EqualFold(b, []byte("true")) || string(b) == "1.0":
			return true, nil
		case bytes.EqualFold(b, []byte("false")) || string(b) == "0.0":
			return false, nil
		}
		return false, r.Errorf(i, fmt.Errorf("%w: %q is not one of 0, 1, true, false (name the positive class to use other values)", ErrClass, b))
	}
	if bytes.Equal(b, p.pos) {
		return true, nil
	}
	if p.posBool != 0 {
		switch {
		case bytes.EqualFold(b, []byte("true")):
			return p.posBool > 0, nil
		case bytes.EqualFold(b, []byte("false")):
			return p.posBool < 0, nil
		}
	}
	if !bytes.Equal(b, w.lastNeg) {
		w.lastNeg = append(w.lastNeg[:0], b...)
		if seen, ok := w.negs[string(b)]; !ok || r.Num() < seen.row || (r.Num() == seen.row && i < seen.colIdx) {
			if ok || len(w.negs) < 16 {
				w.negs[string(b)] = negSeen{row: r.Num(), line: r.Line(), col: r.Name(i), colIdx: i}
			}
		}
	}
	return false, nil
}

// class reads a multiclass label or prediction.
func (w *worker) class(r *table.Row, i int) (int32, error) {
	if r.IsNull(i) {
		return 0, r.Errorf(i, table.ErrMissingValue)
	}
	b := r.Bytes(i)
	id, ok := w.classes[string(b)]
	if !ok {
		id = int32(len(w.names))
		w.classes[string(b)] = id
		w.names = append(w.names, string(b))
	}
	return id, nil
}

// checkClasses fails when labels and predictions of a binary task hold
// more than one value besides the positive class, naming where the third
// class first appears.
func checkClasses(p *plan, ws []*worker) error {
	if p.cfg.Task != Binary || p.pos == nil {
		return nil
	}
	all := map[string]negSeen{}
	for _, w := range ws {
		for v, s := range w.negs {
			if old, ok := all[v]; !ok || s.before(old, v, v) {
				all[v] = s
			}
		}
	}
	if len(all) < 2 {
		return nil
	}
	vals := make([]string, 0, len(all))
	for v := range all {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool { return all[vals[i]].before(all[vals[j]], vals[i], vals[j]) })
	s := all[vals[1]]
	return &table.Error{File: p.cfg.Name, Row: s.row, Line: s.line, Column: s.col,
		Err: fmt.Errorf("%w: %q is a third class; a binary task has two: %q (positive) and %q", ErrClass, vals[1], p.pos, vals[0])}
}

// regAcc holds weighted regression sums; mean and M2 of the labels merge
// with Chan's formula so R^2 stays accurate for labels far from 0.
type regAcc struct {
	w, meanY, m2 float64
	abs, sq      float64
	ape, apeW    float64
	zeroY        int64
	n            int64
}

func (a *regAcc) add(y, yh, wt float64) {
	a.n++
	e := y - yh
	a.abs += wt * math.Abs(e)
	a.sq += wt * e * e
	if y != 0 {
		a.ape += wt * math.Abs(e/y)
		a.apeW += wt
	} else {
		a.zeroY++
	}
	if wt == 0 {
		return
	}
	a.w += wt
	d := y - a.meanY
	a.meanY += d * wt / a.w
	a.m2 += wt * d * (y - a.meanY)
}

func (a *regAcc) merge(b regAcc) {
	if b.w > 0 {
		tot := a.w + b.w
		d := b.meanY - a.meanY
		a.m2 += b.m2 + d*d*a.w*b.w/tot
		a.meanY += d * b.w / tot
		a.w = tot
	}
	a.abs += b.abs
	a.sq += b.sq
	a.ape += b.ape
	a.apeW += b.apeW
	a.zeroY += b.zeroY
	a.n += b.n
}

func regressionSet(a regAcc) Set {
	s := newSet(a.n)
	if a.w == 0 {
		for _, k := range []string{"mae", "rmse", "r2", "mape"} {
			s.undefined(k, reasonNoRows)
		}
		return s
	}
	s.put("mae", a.abs/a.w)
	s.put("rmse", math.Sqrt(a.sq/a.w))
	s.ratio("r2", a.m2-a.sq, a.m2, "labels are constant")
	s.ratio("mape", a.ape, a.apeW, "every label is 0")
	return s
}

// keepScore stores a row for the rank metrics. Its weight goes into the
// record as a float32 while that is exact; at the first weight that is
// not, every weight moves to the side slice and records keep its index.
func (w *worker) keepScore(key uint64, tag uint32, wt float64) {
	if w.side == nil && float64(float32(wt)) == wt {
		w.recs = append(w.recs, scored{key: key, tag: tag, w: float32(wt)})
		return
	}
	if w.side == nil {
		w.side = make([]float64, len(w.recs), cap(w.recs))
		for i := range w.recs {
			w.side[i] = float64(w.recs[i].w)
			w.recs[i].w = math.Float32frombits(uint32(i))
		}
	}
	w.recs = append(w.recs, scored{key: key, tag: tag, w: math.Float32frombits(uint32(len(w.side)))})
	w.side = append(w.side, wt)
}
