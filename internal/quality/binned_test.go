package quality

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBinnedMatchesRaw checks that drift measured from bin counts, as the
// database returns them, agrees with drift measured on the raw values:
// PSI exactly, KS within the grid's resolution.
func TestBinnedMatchesRaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ref, cur []float64
	var b strings.Builder
	b.WriteString("x,c\n")
	for i := range 3000 {
		v := math.Round(rng.NormFloat64()*100) / 10
		ref = append(ref, v)
		fmt.Fprintf(&b, "%v,%s\n", v, []string{"a", "b", "c"}[i%3])
	}
	for range 2000 {
		cur = append(cur, math.Round((rng.NormFloat64()*12+3)*10)/10)
	}
	path := filepath.Join(t.TempDir(), "ref.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	profs, _, err := Profiles(context.Background(), path, "ref.csv", []string{"x", "c"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := profs["x"]
	var bn Binned
	for _, v := range cur {
		p.BinCount(&bn, v)
	}
	got := p.Compare(bn)
	slices.Sort(ref)
	slices.Sort(cur)
	wantPSI, wantKS := NumericPSI(ref, cur), KS(ref, cur)
	if got.PSI == nil || math.Abs(*got.PSI-wantPSI) > 1e-9 {
		t.Errorf("binned PSI %v, raw %v", got.PSI, wantPSI)
	}
	if got.KS == nil || *got.KS > wantKS+1e-12 || wantKS-*got.KS > 2.0/ksGrid {
		t.Errorf("binned KS %v, raw %v", got.KS, wantKS)
	}
	cat := profs["c"].Compare(Binned{Categories: map[string]float64{"a": 10, "b": 10, "d": 10}})
	want := CategoricalPSI(map[string]float64{"a": 1000, "b": 1000, "c": 1000}, map[string]float64{"a": 10, "b": 10, "d": 10})
	if cat.Kind != "categorical" || cat.PSI == nil || *cat.PSI != want {
		t.Errorf("categorical %+v, want PSI %v", cat, want)
	}
	empty := p.Compare(Binned{Counts: make([]float64, len(p.Edges)+1)})
	if empty.PSI != nil || empty.Undefined["psi"] != "no non-null values in the window" {
		t.Errorf("empty window: %+v", empty)
	}
}
