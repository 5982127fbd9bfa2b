package metrics

import (
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// CI holds 95% confidence intervals, keyed like the report.
type CI struct {
	Method string `json:"method"`
	// FairnessMethod names the method of the Fairness intervals alone.
	FairnessMethod string                                    `json:"fairness_method"`
	Replicates     int                                       `json:"replicates"`
	Seed           int64                                     `json:"seed"`
	Level          float64                                   `json:"level"`
	Overall        map[string]Interval                       `json:"overall"`
	Groups         map[string]map[string]map[string]Interval `json:"groups"`
	Fairness       map[string]map[string]Interval            `json:"fairness"`
}

// Interval is a [low, high] confidence interval.
type Interval [2]float64

// MarshalJSON writes the interval as a two-number array.
func (iv Interval) MarshalJSON() ([]byte, error) { return json.Marshal([2]float64(iv)) }

const (
	ciLevel = 0.95
	z975    = 1.959963984540054
)

// ciMethod documents how each interval is made; docs/metrics.md explains
// why.
const ciMethod = "Poisson bootstrap of the per-cell confusion counts: percentile intervals for confusion-matrix metrics, bias-corrected percentile intervals for fairness differences and ratios over groups (" + FairnessCIMethod + "); DeLong variance for roc_auc; normal approximation for brier and log_loss; none for average_precision and ece"

// FairnessCIMethod names how the intervals of the fairness metrics are
// made. A difference (max minus min over groups) or a ratio (min over
// max) is not smooth where groups tie: its bootstrap replicates sit
// above (below) the estimate, so a plain percentile interval can miss the
// estimate entirely. The interval is widened toward the estimate by twice
// the bootstrap's own estimate of that bias, clipped to the metric's
// range, and never leaves out the estimate. Where the groups' rates are
// truly equal the widening still misses 0 (or 1 for a ratio) about one
// time in five, so the interval also reaches that value whenever a test of
// equal rates does not reject (equalRatesHeld; docs/metrics.md).
const FairnessCIMethod = "percentile bootstrap widened by twice the bootstrap bias, extended to the equal-groups value when a 5% Wald test of equal group rates does not reject"

// bootstrap resamples the confusion counts of every cell (one
// combination of sensitive attribute values and one of TP/FP/TN/FN).
// Resampling rows with replacement gives each row a Multinomial count;
// the Poisson bootstrap gives each row an independent Poisson(1) count
// instead, and a sum of c independent Poisson(1) draws is one
// Poisson(c) draw. So a replicate costs one draw per cell and outcome,
// however many rows the file has. Weighted cells scale the drawn count by
// the cell's mean weight.
func bootstrap(p *plan, cells []cellAcc, groups []groupDef, rep *Report, rank []rankStats) *CI {
	rng := rand.New(rand.NewPCG(uint64(p.cfg.Seed), 0x736c6970776179))
	samples := map[string][]float64{}
	// groupSamples[g][m] are the replicates of binaryNames[m] in group g.
	groupSamples := make([][][]float64, len(groups))
	for g := range groupSamples {
		groupSamples[g] = make([][]float64, len(binaryNames))
		for m := range groupSamples[g] {
			groupSamples[g][m] = make([]float64, 0, p.cfg.Bootstrap)
		}
	}
	vals := make([]float64, len(binaryNames))
	conf := make([]Confusion, len(cells))
	cnt := make([]int64, len(cells))
	fairAttrs := slices.Sorted(maps.Keys(rep.Fairness))
	refs := map[string]string{}
	for _, a := range fairAttrs {
		refs[a] = rep.Fairness[a].ReferenceGroup
	}
	for range p.cfg.Bootstrap {
		for c := range cells {
			var draw [4]float64
			cnt[c] = 0
			for k := range draw {
				n := cells[c].n[k]
				if n == 0 {
					continue
				}
				d := poisson(rng, float64(n))
				cnt[c] += d
				draw[k] = float64(d) * cells[c].w[k] / float64(n)
			}
			conf[c] = Confusion{TP: draw[0], FP: draw[1], TN: draw[2], FN: draw[3]}
		}
		byAttr := map[string]map[string]Confusion{}
		for gi, g := range groups {
			var gc Confusion
			for _, c := range g.cells {
				gc = gc.add(conf[c])
			}
			binaryValues(gc, vals)
			for m, v := range vals {
				if !math.IsNaN(v) {
					groupSamples[gi][m] = append(groupSamples[gi][m], v)
				}
			}
			if g.attr != "" {
				if byAttr[g.attr] == nil {
					byAttr[g.attr] = map[string]Confusion{}
				}
				byAttr[g.attr][g.value] = gc
			}
		}
		for _, attr := range fairAttrs {
			f := FairnessOf(eligible(rep.groupConf[attr], p.cfg.MinGroupSize, byAttr[attr]), refs[attr])
			for name, v := range f.Values() {
				if v != nil {
					k := "f\x00" + attr + "\x00" + name
					samples[k] = append(samples[k], *v)
				}
			}
		}
	}
	ci := &CI{Method: ciMethod, FairnessMethod: FairnessCIMethod, Replicates: p.cfg.Bootstrap, Seed: p.cfg.Seed, Level: ciLevel,
		Overall: map[string]Interval{}, Groups: map[string]map[string]map[string]Interval{}, Fairness: map[string]map[string]Interval{}}
	put := func(key string, iv Interval) {
		parts := strings.Split(key, "\x00")
		switch parts[0] {
		case "o":
			ci.Overall[parts[1]] = iv
		case "g":
			if ci.Groups[parts[1]] == nil {
				ci.Groups[parts[1]] = map[string]map[string]Interval{}
			}
			if ci.Groups[parts[1]][parts[2]] == nil {
				ci.Groups[parts[1]][parts[2]] = map[string]Interval{}
			}
			ci.Groups[parts[1]][parts[2]][parts[3]] = iv
		case "f":
			if ci.Fairness[parts[1]] == nil {
				ci.Fairness[parts[1]] = map[string]Interval{}
			}
			ci.Fairness[parts[1]][parts[2]] = iv
		}
	}
	for gi, g := range groups {
		prefix := "o\x00"
		if g.attr != "" {
			prefix = "g\x00" + g.attr + "\x00" + g.value + "\x00"
		}
		for m, xs := range groupSamples[gi] {
			samples[prefix+binaryNames[m]] = xs
		}
	}
	for key, xs := range samples {
		if len(xs) < 2 {
			continue
		}
		slices.Sort(xs)
		iv := Interval{quantile(xs, (1-ciLevel)/2), quantile(xs, 1-(1-ciLevel)/2)}
		if parts := strings.Split(key, "\x00"); parts[0] == "f" {
			if est := rep.Fairness[parts[1]].Values()[parts[2]]; est != nil {
				iv = fairnessInterval(xs, *est, parts[2])
				if equalRatesHeld(parts[2], parts[1], p.cfg.MinGroupSize, groups, groupSamples) {
					iv = withEqualValue(iv, parts[2])
				}
			}
		}
		put(key, iv)
	}
	// Score metrics: asymptotic intervals.
	for gi, g := range groups {
		prefix := "o\x00"
		if g.attr != "" {
			prefix = "g\x00" + g.attr + "\x00" + g.value + "\x00"
		}
		if rank != nil && rank[gi].auc.ok && rank[gi].aucVar.ok {
			se := math.Sqrt(rank[gi].aucVar.v)
			a := rank[gi].auc.v
			put(prefix+"roc_auc", Interval{max(0, a-z975*se), min(1, a+z975*se)})
		}
		if rank == nil {
			continue
		}
		pr := rank[gi].prob
		n := float64(g.count)
		if pr.out > 0 || pr.sw == 0 || n < 2 {
			continue
		}
		for _, m := range []struct {
			name    string
			s1, s2  float64
			lowZero bool
		}{{"brier", pr.brier, pr.brier2, true}, {"log_loss", pr.ll, pr.ll2, true}} {
			mean := m.s1 / pr.sw
			se := math.Sqrt(max(0, m.s2/pr.sw-mean*mean) / (n - 1))
			put(prefix+m.name, Interval{max(0, mean-z975*se), mean + z975*se})
		}
	}
	return ci
}

// fairnessInterval is the interval of a fairness metric with estimate est
// from its sorted replicates xs: the percentile interval, widened on the
// side the bootstrap bias points to (the bias is the mean of the
// replicates minus the estimate) by twice that bias, clipped to the
// metric's range (differences and ratios lie in [0, 1]; disparate impact
// is only bounded below). Replicates of max minus min centre on about
// est+bias and est on about truth+bias, so the truth lies near est-bias:
// widening by 2*bias reaches it, and holds est, where the percentile
// interval alone lies wholly above it. Away from ties the bias is about
// zero and the interval is the percentile interval.
func fairnessInterval(xs []float64, est float64, metric string) Interval {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	bias := sum/float64(len(xs)) - est
	lo := quantile(xs, (1-ciLevel)/2)
	hi := quantile(xs, 1-(1-ciLevel)/2)
	lo, hi = min(lo, lo-2*bias), max(hi, hi-2*bias)
	lo = max(lo, 0)
	if metric != "disparate_impact" {
		hi = min(hi, 1)
	}
	// A guard, not the method: with a 95% level the widening already
	// holds est unless the replicates are wildly skewed.
	return Interval{min(lo, est), max(hi, est)}
}

// withEqualValue extends iv to the metric's value for equal groups: 0 for
// a difference, 1 for a ratio or disparate impact.
func withEqualValue(iv Interval, metric string) Interval {
	e := 1.0
	if strings.HasSuffix(metric, "_difference") {
		e = 0
	}
	return Interval{min(iv[0], e), max(iv[1], e)}
}

// quantile interpolates linearly between order statistics (NumPy's
// default), xs sorted.
func quantile(xs []float64, q float64) float64 {
	h := q * float64(len(xs)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-lo)*(xs[i+1]-xs[i])
}

// poisson draws from Poisson(lambda): by multiplying uniforms for small
// lambda, and by Hörmann's transformed rejection with squeeze (PTRS, 1993)
// otherwise, which needs about one uniform pair per draw at any lambda.
func poisson(rng *rand.Rand, lambda float64) int64 {
	if lambda < 10 {
		l := math.Exp(-lambda)
		var k int64
		p := rng.Float64()
		for p > l {
			k++
			p *= rng.Float64()
		}
		return k
	}
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int64(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int64(k)
		}
	}
}
