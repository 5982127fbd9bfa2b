package quality

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// ksGrid is the number of reference quantile bins binned KS is measured
// on: fine enough that it differs from the exact statistic by at most
// about 1/ksGrid of the reference, coarse enough to ship to a database.
const ksGrid = 200

// Profile is the binned reference of one feature: what a current sample is
// compared with when only its bin counts are known, as when production
// logs are aggregated inside the database.
type Profile struct {
	Kind string `json:"kind"`
	// Edges are the quantile grid current values are binned by, bins
	// (e[i-1], e[i]] as in NumericPSI; PSI's decile edges are among them.
	Edges []float64 `json:"edges,omitempty"`
	// Counts are the reference's counts in the len(Edges)+1 bins.
	Counts []float64 `json:"-"`
	// Categories are the reference's counts per category.
	Categories map[string]float64 `json:"-"`
	N          int64              `json:"n"`
	// psiBin maps a grid bin to its decile bin.
	psiBin []int
}

// Binned is the current sample of one feature as counts: Counts by the
// profile's Edges for a numeric feature, Categories otherwise.
type Binned struct {
	Counts     []float64
	Categories map[string]float64
}

// Profiles reads a reference snapshot and bins each feature. A feature is
// numeric when its declared type (types) is int or float, or, undeclared,
// when every value parses as a number.
func Profiles(ctx context.Context, path, name string, features []string, types map[string]string) (map[string]*Profile, Input, error) {
	samples, info, err := readSamples(ctx, path, name, features)
	if err != nil {
		return nil, Input{}, err
	}
	out := map[string]*Profile{}
	for _, f := range features {
		s := samples[f]
		p := &Profile{Kind: "categorical", N: s.n, Categories: s.cats}
		numeric := !s.nonNum && s.n > 0
		switch types[f] {
		case "int", "float", "":
		default:
			numeric = false
		}
		if numeric {
			slices.Sort(s.nums)
			p.Kind, p.Categories = "numeric", nil
			deciles := QuantileEdges(s.nums, psiBins)
			p.Edges = slices.Compact(slices.Sorted(slices.Values(append(QuantileEdges(s.nums, ksGrid), deciles...))))
			p.Counts = binCounts(p.Edges, s.nums)
			p.psiBin = make([]int, len(p.Edges)+1)
			for j, e := range p.Edges {
				p.psiBin[j] = Bin(deciles, e)
			}
			p.psiBin[len(p.Edges)] = len(deciles)
		}
		out[f] = p
	}
	return out, Input{Path: name, SHA256: info.SHA256}, nil
}

// binCounts counts sorted xs in the bins of edges.
func binCounts(edges, xs []float64) []float64 {
	out := make([]float64, len(edges)+1)
	prev := 0
	for i, e := range edges {
		k := sort.Search(len(xs), func(j int) bool { return xs[j] > e })
		out[i] = float64(k - prev)
		prev = k
	}
	out[len(edges)] = float64(len(xs) - prev)
	return out
}

// Compare measures the drift of a binned current sample from the profile:
// PSI over the reference deciles, as NumericPSI gives on the raw values,
// and KS over the grid (a lower bound of the exact statistic).
func (p *Profile) Compare(cur Binned) FeatureDrift {
	fd := FeatureDrift{Kind: p.Kind, Undefined: map[string]string{}}
	var n float64
	for _, c := range cur.Counts {
		n += c
	}
	for _, c := range cur.Categories {
		n += c
	}
	switch {
	case p.N == 0 || n == 0:
		why := fmt.Sprintf("no non-null values in the %s", map[bool]string{true: "reference snapshot", false: "window"}[p.N == 0])
		fd.Undefined["psi"] = why
		fd.Undefined["ks"] = why
	case p.Kind == "numeric":
		if len(cur.Counts) != len(p.Counts) {
			why := fmt.Sprintf("%d bins, want %d", len(cur.Counts), len(p.Counts))
			fd.Undefined["psi"], fd.Undefined["ks"] = why, why
			break
		}
		deciles := p.psiBin[len(p.psiBin)-1] + 1
		rs, cs := make([]float64, deciles), make([]float64, deciles)
		var rn float64
		for _, c := range p.Counts {
			rn += c
		}
		var psi, ks, rc, cc float64
		for j := range p.Counts {
			rs[p.psiBin[j]] += p.Counts[j] / rn
			cs[p.psiBin[j]] += cur.Counts[j] / n
			rc += p.Counts[j] / rn
			cc += cur.Counts[j] / n
			ks = max(ks, abs(rc-cc))
		}
		for i := range rs {
			psi += psiTerm(rs[i], cs[i])
		}
		pv := KSPValue(ks, int(p.N), int(n))
		fd.PSI, fd.KS, fd.KSPValue = &psi, &ks, &pv
	default:
		psi := CategoricalPSI(p.Categories, cur.Categories)
		fd.PSI = &psi
		fd.Undefined["ks"] = "categorical feature"
	}
	if len(fd.Undefined) == 0 {
		fd.Undefined = nil
	}
	return fd
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// BinCount counts one current value into b by the profile's bins.
func (p *Profile) BinCount(b *Binned, x float64) {
	if b.Counts == nil {
		b.Counts = make([]float64, len(p.Edges)+1)
	}
	b.Counts[Bin(p.Edges, x)]++
}
