package quality

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/slipway-ml/slipway/internal/table"
)

// Drift compares the features of a current snapshot with a reference one.
type Drift struct {
	Reference string                  `json:"reference"`
	Current   string                  `json:"current"`
	Features  map[string]FeatureDrift `json:"features"`
	// Inputs are the digests of the two snapshots.
	Inputs []Input `json:"-"`
}

// Input is a file read, with its digest.
type Input struct {
	Path   string
	SHA256 string
}

// FeatureDrift is the drift of one feature. KS is null for categorical
// features.
type FeatureDrift struct {
	Kind      string            `json:"kind"`
	PSI       *float64          `json:"psi"`
	KS        *float64          `json:"ks"`
	KSPValue  *float64          `json:"ks_p_value"`
	Undefined map[string]string `json:"undefined,omitempty"`
}

// psiBins is the number of reference quantile bins numeric PSI uses.
const psiBins = 10

// psiFloor replaces empty bin shares so PSI stays finite; 0.0001 is the
// usual choice in credit-risk practice.
const psiFloor = 1e-4

// column values of one snapshot.
type sample struct {
	nums   []float64
	cats   map[string]float64
	nonNum bool
	n      int64
}

func readSamples(ctx context.Context, path, name string, features []string) (map[string]*sample, table.Info, error) {
	out := map[string]*sample{}
	for _, f := range features {
		out[f] = &sample{cats: map[string]float64{}}
	}
	info, err := table.Scan(ctx, path, table.Options{Columns: features, Workers: 1, Name: name}, func(_ int, r *table.Row) error {
		for i, f := range features {
			if r.IsNull(i) {
				continue
			}
			s := out[f]
			s.n++
			b := r.Bytes(i)
			s.cats[string(b)]++
			if !s.nonNum {
				if v, ok := table.ParseFloat(b); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					s.nums = append(s.nums, v)
				} else {
					s.nonNum, s.nums = true, nil
				}
			}
		}
		return nil
	})
	return out, info, err
}

// Compare measures the drift of features from the reference snapshot to
// the current one. types maps a feature to its declared type; an
// undeclared feature is numeric when every value of both snapshots parses
// as a number.
func Compare(ctx context.Context, refPath, refName, curPath, curName string, features []string, types map[string]string) (*Drift, error) {
	ref, refInfo, err := readSamples(ctx, refPath, refName, features)
	if err != nil {
		return nil, err
	}
	cur, curInfo, err := readSamples(ctx, curPath, curName, features)
	if err != nil {
		return nil, err
	}
	d := &Drift{Reference: refName, Current: curName, Features: map[string]FeatureDrift{},
		Inputs: []Input{{refName, refInfo.SHA256}, {curName, curInfo.SHA256}}}
	for _, f := range features {
		r, c := ref[f], cur[f]
		fd := FeatureDrift{Undefined: map[string]string{}}
		numeric := !r.nonNum && !c.nonNum
		switch types[f] {
		case "int", "float":
		case "":
		default:
			numeric = false
		}
		switch {
		case r.n == 0 || c.n == 0:
			fd.Kind = "categorical"
			if numeric {
				fd.Kind = "numeric"
			}
			why := fmt.Sprintf("no non-null values in the %s snapshot", map[bool]string{true: "reference", false: "current"}[r.n == 0])
			fd.Undefined["psi"] = why
			fd.Undefined["ks"] = why
		case numeric:
			fd.Kind = "numeric"
			slices.Sort(r.nums)
			slices.Sort(c.nums)
			psi := NumericPSI(r.nums, c.nums)
			ks := KS(r.nums, c.nums)
			p := KSPValue(ks, len(r.nums), len(c.nums))
			fd.PSI, fd.KS, fd.KSPValue = &psi, &ks, &p
		default:
			fd.Kind = "categorical"
			psi := CategoricalPSI(r.cats, c.cats)
			fd.PSI = &psi
			fd.Undefined["ks"] = "categorical feature"
		}
		if len(fd.Undefined) == 0 {
			fd.Undefined = nil
		}
		d.Features[f] = fd
	}
	return d, nil
}

// QuantileEdges are the upper edges of n quantile bins of a sorted,
// non-empty sample: the ceil(i*len/n)-th smallest value closes bin i. Bins
// are (e[i-1], e[i]] with open outer ends; equal edges merge, so a sample
// with fewer distinct values than n gets fewer bins.
func QuantileEdges(sorted []float64, n int) []float64 {
	var edges []float64
	for i := 1; i < n; i++ {
		e := sorted[max(0, (i*len(sorted)+n-1)/n-1)]
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	if len(edges) > 0 && edges[len(edges)-1] >= sorted[len(sorted)-1] {
		edges = edges[:len(edges)-1]
	}
	return edges
}

// Bin is the index of the bin (e[i-1], e[i]] that x falls in: the number
// of edges below x.
func Bin(edges []float64, x float64) int { return sort.SearchFloat64s(edges, x) }

// psiTerm is one bin's contribution (c - r) ln(c / r), shares floored.
func psiTerm(r, c float64) float64 {
	r, c = max(r, psiFloor), max(c, psiFloor)
	return (c - r) * math.Log(c/r)
}

// NumericPSI bins both samples (sorted) by the reference's deciles and
// sums the bin terms. Bins are (e[i-1], e[i]] with open outer ends, so
// current values outside the reference's range land in the end bins; a
// reference with fewer distinct values than bins gets fewer bins.
func NumericPSI(ref, cur []float64) float64 {
	edges := QuantileEdges(ref, psiBins)
	share := func(xs []float64) []float64 {
		out := make([]float64, len(edges)+1)
		prev := 0
		for i, e := range edges {
			// xs[prev:k] are <= e.
			k := sort.Search(len(xs), func(j int) bool { return xs[j] > e })
			out[i] = float64(k-prev) / float64(len(xs))
			prev = k
		}
		out[len(edges)] = float64(len(xs)-prev) / float64(len(xs))
		return out
	}
	rs, cs := share(ref), share(cur)
	var psi float64
	for i := range rs {
		psi += psiTerm(rs[i], cs[i])
	}
	return psi
}

// CategoricalPSI sums the terms over every category seen in either
// sample.
func CategoricalPSI(ref, cur map[string]float64) float64 {
	var rn, cn float64
	for _, v := range ref {
		rn += v
	}
	for _, v := range cur {
		cn += v
	}
	keys := map[string]bool{}
	for k := range ref {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var psi float64
	for _, k := range names {
		psi += psiTerm(ref[k]/rn, cur[k]/cn)
	}
	return psi
}

// KS is the two-sample Kolmogorov–Smirnov statistic sup |F_ref - F_cur|
// of two sorted samples, evaluated after every distinct value.
func KS(a, b []float64) float64 {
	i, j := 0, 0
	var d float64
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// KSPValue is the asymptotic p-value of the two-sample statistic d
// (Kolmogorov distribution with Stephens' small-sample correction, as in
// Numerical Recipes).
func KSPValue(d float64, n, m int) float64 {
	ne := float64(n) * float64(m) / float64(n+m)
	sq := math.Sqrt(ne)
	lambda := (sq + 0.12 + 0.11/sq) * d
	if lambda < 1e-3 {
		return 1
	}
	var sum, sign = 0.0, 1.0
	for k := 1; k <= 100; k++ {
		term := sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-12 {
			break
		}
		sign = -sign
	}
	return min(1, max(0, 2*sum))
}
