package metrics

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/parallel"
)

// groupDef is one group: the overall population (attr ""), one value of
// one attribute, or one intersection of all of them.
type groupDef struct {
	attr, value string
	cells       []int32
	count       int64
	conf        Confusion
	n           [4]int64
}

// groupRaw keeps what fairness and bootstrap need of a group.
type groupRaw struct {
	count int64
	conf  Confusion
}

func (a *cellAcc) merge(o *cellAcc, classMap []int32) {
	for k := range a.n {
		a.n[k] += o.n[k]
		a.w[k] += o.w[k]
	}
	a.reg.merge(o.reg)
	if o.mc != nil {
		if a.mc == nil {
			a.mc = map[[2]int32]*[2]float64{}
		}
		for k, v := range o.mc {
			g := [2]int32{classMap[k[0]], classMap[k[1]]}
			e := a.mc[g]
			if e == nil {
				e = new([2]float64)
				a.mc[g] = e
			}
			e[0] += v[0]
			e[1] += v[1]
		}
	}
}

func (c cellAcc) confusion() Confusion {
	return Confusion{TP: c.w[0], FP: c.w[1], TN: c.w[2], FN: c.w[3]}
}

func (c cellAcc) count() int64 { return c.n[0] + c.n[1] + c.n[2] + c.n[3] + c.reg.n + c.mcCount() }

func (c cellAcc) mcCount() int64 {
	var n int64
	for _, v := range c.mc {
		n += int64(v[1])
	}
	return n
}

// build merges the workers' cells and computes every metric.
func build(p *plan, ws []*worker, rows int64) *Report {
	attrs := p.cfg.Sensitive
	index := map[string]int32{}
	var (
		cellVals [][]string
		cells    []cellAcc
	)
	classIdx := map[string]int32{}
	var classes []string
	l2g := make([][]int32, len(ws))
	for wi, w := range ws {
		cmap := make([]int32, len(w.names))
		for i, name := range w.names {
			g, ok := classIdx[name]
			if !ok {
				g = int32(len(classes))
				classIdx[name] = g
				classes = append(classes, name)
			}
			cmap[i] = g
		}
		l2g[wi] = make([]int32, len(w.cells))
		for c, key := range w.keys {
			vals := make([]string, len(attrs))
			for a := len(attrs) - 1; a >= 0; a-- {
				vals[a] = w.vals[a][key&0xffff]
				key >>= 16
			}
			k := strings.Join(vals, "\x00")
			g, ok := index[k]
			if !ok {
				g = int32(len(cells))
				index[k] = g
				cellVals = append(cellVals, vals)
				cells = append(cells, cellAcc{})
			}
			cells[g].merge(&w.cells[c], cmap)
			l2g[wi][c] = g
		}
	}

	// Put the cells in the order of their values, so that the bootstrap
	// draws the same numbers for the same cells however many workers read
	// the file.
	perm := make([]int32, len(cells)) // new position -> old
	for i := range perm {
		perm[i] = int32(i)
	}
	sort.Slice(perm, func(i, j int) bool {
		return slices.Compare(cellVals[perm[i]], cellVals[perm[j]]) < 0
	})
	inv := make([]int32, len(cells))
	sortedCells := make([]cellAcc, len(cells))
	sortedVals := make([][]string, len(cells))
	for pos, old := range perm {
		inv[old] = int32(pos)
		sortedCells[pos], sortedVals[pos] = cells[old], cellVals[old]
	}
	cells, cellVals = sortedCells, sortedVals
	for _, m := range l2g {
		for i, g := range m {
			m[i] = inv[g]
		}
	}

	// Groups: overall first, then each attribute's values, then the
	// intersections.
	all := make([]int32, len(cells))
	for i := range all {
		all[i] = int32(i)
	}
	groups := []groupDef{{cells: all}}
	display := func(v string) string {
		if v == "" {
			return Missing
		}
		return v
	}
	for a, attr := range attrs {
		byVal := map[string][]int32{}
		for c, vals := range cellVals {
			byVal[vals[a]] = append(byVal[vals[a]], int32(c))
		}
		for _, v := range slices.Sorted(maps.Keys(byVal)) {
			groups = append(groups, groupDef{attr: attr, value: display(v), cells: byVal[v]})
		}
	}
	interAttr := ""
	if p.cfg.Intersectional && len(attrs) > 1 {
		interAttr = strings.Join(attrs, "|")
		order := make([]int32, len(cells))
		names := make([]string, len(cells))
		for c, vals := range cellVals {
			order[c] = int32(c)
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = display(v)
			}
			names[c] = strings.Join(parts, "|")
		}
		sort.Slice(order, func(i, j int) bool { return names[order[i]] < names[order[j]] })
		for _, c := range order {
			groups = append(groups, groupDef{attr: interAttr, value: names[c], cells: []int32{c}})
		}
	}
	groupsOf := make([][]int32, len(cells))
	for gi := range groups {
		g := &groups[gi]
		for _, c := range g.cells {
			groupsOf[c] = append(groupsOf[c], int32(gi))
			g.count += cells[c].count()
			g.conf = g.conf.add(cells[c].confusion())
			for k := range g.n {
				g.n[k] += cells[c].n[k]
			}
		}
	}

	rep := &Report{
		Task: p.cfg.Task, Rows: rows,
		Settings: Settings{Label: p.cfg.Label, Prediction: p.cfg.Prediction, Score: p.cfg.Score, Weight: p.cfg.Weight,
			Positive: p.cfg.Positive, Threshold: p.cfg.Threshold, Sensitive: append([]string{}, attrs...),
			Intersectional: p.cfg.Intersectional, ReferenceGroup: p.cfg.ReferenceGroup, MinGroupSize: p.cfg.MinGroupSize},
		Groups:         map[string]map[string]Set{},
		Fairness:       map[string]Fairness{},
		ExcludedGroups: []ExcludedGroup{},
	}

	// Rank metrics need every scored row in score order.
	var rank []rankStats
	if p.cfg.Task == Binary && p.iScore >= 0 {
		runs := make([][]scored, len(ws))
		sides := make([][]float64, len(ws))
		parallel.For(len(ws), func(wi int) {
			w, m := ws[wi], l2g[wi]
			for i := range w.recs {
				t := w.recs[i].tag
				w.recs[i].tag = uint32(m[t>>1])<<1 | t&1
			}
			radixSort(w.recs)
			runs[wi], sides[wi] = w.recs, w.side
		})
		pos, neg := make([]float64, len(groups)), make([]float64, len(groups))
		m, n := make([]int64, len(groups)), make([]int64, len(groups))
		for gi, g := range groups {
			pos[gi], neg[gi] = g.conf.TP+g.conf.FN, g.conf.FP+g.conf.TN
			m[gi], n[gi] = g.n[0]+g.n[3], g.n[1]+g.n[2]
		}
		rank = rankWalk(runs, sides, groupsOf, pos, neg, m, n)
		for _, w := range ws {
			w.recs, w.side = nil, nil
		}
	}

	sets := make([]Set, len(groups))
	for gi, g := range groups {
		var s Set
		switch p.cfg.Task {
		case Regression:
			var a regAcc
			for _, c := range g.cells {
				a.merge(cells[c].reg)
			}
			s = regressionSet(a)
		case Multiclass:
			mc := map[[2]int32]float64{}
			for _, c := range g.cells {
				for k, v := range cells[c].mc {
					mc[k] += v[0]
				}
			}
			s = multiclassSet(g.count, classes, mc)
		default:
			s = BinarySet(g.conf, g.count)
			if p.iScore >= 0 {
				scoreMetrics(s, rank[gi])
			}
		}
		if p.iWeigh >= 0 {
			tw := g.conf.TP + g.conf.FP + g.conf.TN + g.conf.FN
			if p.cfg.Task == Regression {
				for _, c := range g.cells {
					tw += cells[c].reg.w
				}
			}
			for _, c := range g.cells {
				for _, v := range cells[c].mc {
					tw += v[0]
				}
			}
			s.put("weight", tw)
		}
		sets[gi] = s
		if g.attr == "" {
			rep.Overall = s
			if len(s.Undefined) > 0 {
				rep.Undefined = s.Undefined
			}
			continue
		}
		if rep.Groups[g.attr] == nil {
			rep.Groups[g.attr] = map[string]Set{}
		}
		rep.Groups[g.attr][g.value] = s
	}

	// Fairness per attribute, over the groups large enough.
	fairAttrs := append([]string{}, attrs...)
	if interAttr != "" {
		fairAttrs = append(fairAttrs, interAttr)
	}
	rep.groupConf = map[string]map[string]groupRaw{}
	for _, attr := range fairAttrs {
		rep.groupConf[attr] = map[string]groupRaw{}
		for _, g := range groups {
			if g.attr != attr {
				continue
			}
			rep.groupConf[attr][g.value] = groupRaw{count: g.count, conf: g.conf}
			if g.count < int64(p.cfg.MinGroupSize) {
				rep.ExcludedGroups = append(rep.ExcludedGroups, ExcludedGroup{Attribute: attr, Group: g.value, Count: g.count,
					Reason: fmt.Sprintf("fewer than %d rows (min group size)", p.cfg.MinGroupSize)})
			}
		}
	}
	if p.cfg.Task != Binary {
		if len(attrs) > 0 {
			rep.Notes = append(rep.Notes, "fairness gaps are computed for binary classification only")
		}
		return rep
	}
	for _, attr := range fairAttrs {
		rep.Fairness[attr] = FairnessOf(eligible(rep.groupConf[attr], p.cfg.MinGroupSize, nil), p.cfg.ReferenceGroup[attr])
	}
	rep.cells, rep.groupDefs = cells, groups
	if p.cfg.Bootstrap > 0 {
		rep.CI = bootstrap(p, cells, groups, rep, rank)
	}
	return rep
}

// eligible lists the groups of one attribute with at least min rows, with
// their confusion matrices (or the replicate's, when conf is set).
func eligible(gs map[string]groupRaw, min int, conf map[string]Confusion) []GroupRates {
	var out []GroupRates
	for _, name := range slices.Sorted(maps.Keys(gs)) {
		g := gs[name]
		if g.count < int64(min) {
			continue
		}
		c := g.conf
		if conf != nil {
			c = conf[name]
		}
		out = append(out, GroupRates{Name: name, C: c})
	}
	return out
}

// scoreMetrics adds the score-based metrics of a group.
func scoreMetrics(s Set, rk rankStats) {
	switch {
	case rk.auc.ok:
		s.put("roc_auc", rk.auc.v)
	case rk.pos == 0:
		s.undefined("roc_auc", reasonNoPositives)
	default:
		s.undefined("roc_auc", reasonNoNegatives)
	}
	if rk.ap.ok {
		s.put("average_precision", rk.ap.v)
	} else {
		s.undefined("average_precision", reasonNoPositives)
	}
	pr := rk.prob
	if pr.out > 0 {
		why := fmt.Sprintf("%d scores outside [0, 1] are not probabilities", pr.out)
		for _, k := range []string{"brier", "log_loss", "ece"} {
			s.undefined(k, why)
		}
		return
	}
	if pr.sw == 0 {
		for _, k := range []string{"brier", "log_loss", "ece"} {
			s.undefined(k, reasonNoRows)
		}
		return
	}
	s.put("brier", pr.brier/pr.sw)
	s.put("log_loss", pr.ll/pr.sw)
	// ECE = sum over bins of (W_b/W) |mean label - mean score|
	//     = sum over bins of |sum w*y - sum w*s| / W.
	var ece float64
	for _, b := range pr.bins {
		ece += math.Abs(b[2] - b[1])
	}
	s.put("ece", ece/pr.sw)
}

// multiclassSet computes multiclass metrics from a weighted confusion
// matrix keyed by (label, prediction) class ids.
func multiclassSet(count int64, classes []string, mc map[[2]int32]float64) Set {
	s := newSet(count)
	order := make([]int, len(classes))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return classes[order[i]] < classes[order[j]] })
	k := len(classes)
	matrix := make([][]float64, k)
	for i := range matrix {
		matrix[i] = make([]float64, k)
	}
	pos := make([]int, k) // class id -> position in sorted order
	for p, id := range order {
		pos[id] = p
	}
	var total, trace float64
	for key, w := range mc {
		matrix[pos[key[0]]][pos[key[1]]] += w
		total += w
		if key[0] == key[1] {
			trace += w
		}
	}
	labels := make([]string, k)
	perClass := map[string]map[string]*float64{}
	var sums [3]float64
	var defined [3]int
	for i := range k {
		labels[i] = classes[order[i]]
		var actual, predicted float64
		for j := range k {
			actual += matrix[i][j]
			predicted += matrix[j][i]
		}
		tp := matrix[i][i]
		cs := newSet(0)
		cs.ratio("precision", tp, predicted, "class never predicted")
		cs.ratio("recall", tp, actual, "class absent from the labels")
		cs.ratio("f1", 2*tp, actual+predicted, "class absent from labels and predictions")
		cs.put("support", actual)
		for j, name := range []string{"precision", "recall", "f1"} {
			if v, ok := cs.Get(name); ok {
				sums[j] += v
				defined[j]++
			}
		}
		perClass[labels[i]] = cs.Values
	}
	s.ratio("accuracy", trace, total, reasonNoRows)
	for j, name := range []string{"precision", "recall", "f1"} {
		s.ratio("macro_"+name, sums[j], float64(defined[j]), "undefined for every class")
		// Each row has one label and one prediction, so micro averages
		// all equal accuracy.
		s.ratio("micro_"+name, trace, total, reasonNoRows)
	}
	s.Extra = map[string]any{
		"per_class": perClass,
		"confusion": map[string]any{"labels": labels, "matrix": matrix},
	}
	return s
}
