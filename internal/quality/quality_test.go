package quality

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/table"
)

func f(v float64) *float64 { return &v }

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const snapshot = `id,income,segment,updated,extra
a,100,retail,2026-11-20T00:00:00Z,x
b,,premium,2026-11-21T00:00:00Z,x
a,-5,gold,2026-11-19,x
c,abc,retail,2026-11-22T12:00:00Z,x
c,abc,retail,2026-11-22T12:00:00Z,x
`

var source = spec.DataSource{
	Schema: []spec.Field{
		{Name: "id", Type: "string"},
		{Name: "income", Type: "float", Range: &spec.Range{Min: f(0)}},
		{Name: "segment", Type: "string", Allowed: []any{"retail", "premium"}},
		{Name: "updated", Type: "timestamp"},
		{Name: "missing", Type: "int", Nullable: true},
	},
	Quality: &spec.Quality{
		Completeness:     map[string]float64{"*": 0.9},
		UniqueKeys:       []string{"id"},
		Freshness:        &spec.Freshness{Field: "updated", MaxAge: "1d"},
		MaxDuplicateRows: f(0),
	},
}

func TestCheck(t *testing.T) {
	p := write(t, "snap.csv", snapshot)
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	rep, err := Check(context.Background(), p, "data/snap.csv", source, now)
	if err != nil {
		t.Fatal(err)
	}
	rep.SHA256 = ""
	want := &Report{
		Snapshot: "data/snap.csv", Rows: 5,
		Completeness: map[string]float64{"id": 1, "income": 0.8, "segment": 1, "updated": 1},
		UniqueKeys:   &UniqueKeys{Columns: []string{"id"}, Duplicates: 2, Unique: false},
		Validity: map[string]Validity{
			"id": {}, "updated": {},
			"income":  {Invalid: 3, Rate: 0.75},
			"segment": {Invalid: 1, Rate: 0.2},
		},
		Freshness:     &Freshness{Field: "updated", Newest: "2026-11-22T12:00:00Z", AgeSeconds: 36 * 3600, MaxAgeSeconds: 86400, Fresh: false},
		DuplicateRows: 0.2,
		Violations: []Violation{
			{Check: "completeness", Column: "income", Message: "0.8000 of values present, expected at least 0.9000"},
			{Check: "validity", Column: "income", Message: "3 invalid values (first at row 3: -5 is below the minimum 0)"},
			{Check: "validity", Column: "segment", Message: `1 invalid values (first at row 3: "gold" is not an allowed value)`},
			{Check: "schema", Column: "missing", Message: "declared column is missing from the snapshot"},
			{Check: "schema", Column: "extra", Message: "column is not in the declared schema"},
			{Check: "unique_keys", Column: "id", Message: "2 rows repeat a key of an earlier row"},
			{Check: "duplicate_rows", Message: "0.2000 of rows repeat an earlier row, expected at most 0.0000"},
			{Check: "freshness", Column: "updated", Message: "newest record 2026-11-22T12:00:00Z is older than 1d"},
		},
	}
	if diff := cmp.Diff(want, rep, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDrift(t *testing.T) {
	ref := write(t, "ref.csv", "x,c\n1,a\n2,a\n3,b\n4,b\n5,a\n6,b\n7,a\n8,b\n9,a\n10,b\n")
	cur := write(t, "cur.csv", "x,c\n1,a\n1,a\n1,a\n1,b\n1,a\n2,a\n3,a\n4,b\n5,a\n6,b\n")
	d, err := Compare(context.Background(), ref, "ref.csv", cur, "cur.csv", []string{"x", "c"}, map[string]string{"x": "int"})
	if err != nil {
		t.Fatal(err)
	}
	// Reference deciles 1..9: every reference bin holds 0.1; the current
	// puts 0.5 in the first, 0.1 in the next five and nothing in the last
	// four (floored to 0.0001).
	psiX := 0.4*math.Log(5) + 4*(1e-4-0.1)*math.Log(1e-4/0.1)
	ks := 0.4
	lambda := (math.Sqrt(5) + 0.12 + 0.11/math.Sqrt(5)) * ks
	p := 2 * (math.Exp(-2*lambda*lambda) - math.Exp(-8*lambda*lambda) + math.Exp(-18*lambda*lambda))
	// Categories: a 0.5 -> 0.7, b 0.5 -> 0.3.
	psiC := 0.2*math.Log(0.7/0.5) + (-0.2)*math.Log(0.3/0.5)
	want := map[string]FeatureDrift{
		"x": {Kind: "numeric", PSI: &psiX, KS: &ks, KSPValue: &p},
		"c": {Kind: "categorical", PSI: &psiC, Undefined: map[string]string{"ks": "categorical feature"}},
	}
	if diff := cmp.Diff(want, d.Features, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestKS(t *testing.T) {
	tests := []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3}, []float64{1, 2, 3}, 0},
		{[]float64{1, 2}, []float64{3, 4}, 1},
		{[]float64{1, 2, 2, 3}, []float64{2, 2, 2, 2}, 0.25},
	}
	for _, tt := range tests {
		if got := KS(tt.a, tt.b); got != tt.want {
			t.Errorf("KS(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if got := KSPValue(0, 100, 100); got != 1 {
		t.Errorf("p-value at d=0: %v", got)
	}
}

func TestRowsPer(t *testing.T) {
	src := spec.DataSource{
		Schema: []spec.Field{
			{Name: "id", Type: "string"},
			{Name: "label", Type: "int", Allowed: []any{0.0, 1.0, 2.0}},
			{Name: "group", Type: "string", Nullable: true},
		},
		Quality: &spec.Quality{MinRowsPer: map[string]int64{"label": 2, "group": 1, "id": 1}},
	}
	var b []byte
	b = append(b, "id,label,group\n"...)
	for i := range MaxValuesPer + 1 {
		g := "a"
		if i%3 == 0 {
			g = ""
		}
		b = append(b, fmt.Sprintf("r%d,%d,%s\n", i, i%2, g)...)
	}
	rep, err := Check(context.Background(), write(t, "snap.csv", string(b)), "snap.csv", src, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The allowed class 2 is absent: 0 rows. Nulls are no group. An
	// identifier has too many values to be counted.
	want := map[string]map[string]int64{"label": {"0": 501, "1": 500, "2": 0}, "group": {"a": 667}}
	if d := cmp.Diff(want, rep.RowsPer); d != "" {
		t.Errorf("rows per value (-want +got):\n%s", d)
	}
	wantV := []Violation{{Check: "min_rows_per", Column: "id", Message: "more than 1000 distinct values: not classes or groups"}}
	if d := cmp.Diff(wantV, rep.Violations); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
}

// TestCheckKeyOrder checks keys in order, whose check needs no hashed
// sets, against keys out of order, found late or early: the counts are
// the same either way, every row is counted once, and a visitor sees
// each row once, in file order.
func TestCheckKeyOrder(t *testing.T) {
	src := func(keys ...string) spec.DataSource {
		return spec.DataSource{
			Schema:  []spec.Field{{Name: "id", Type: "string"}, {Name: "n", Type: "int"}, {Name: "y", Type: "int", Allowed: []any{0, 1}}},
			Quality: &spec.Quality{UniqueKeys: keys},
		}
	}
	for _, tc := range []struct {
		name, body string
		keys       []string
		want       UniqueKeys
		// dupRows counts rows that repeat an earlier row; invalid the
		// y values that are not 0 or 1.
		dupRows, invalid int64
	}{
		{name: "in byte order", body: "a,1,0\nb,1,1\nc,2,0\n", keys: []string{"id"}, want: UniqueKeys{Unique: true}},
		{name: "integers shorter first", body: "a,8,0\na,9,1\na,10,0\n", keys: []string{"n"}, want: UniqueKeys{Unique: true}},
		{name: "two columns in order", body: "a,2,0\nb,1,1\nb,2,2\n", keys: []string{"id", "n"}, want: UniqueKeys{Unique: true}, invalid: 1},
		{name: "out of order at the last row, repeating a row", body: "a,1,0\nb,2,2\nc,3,1\nb,2,2\n", keys: []string{"id"},
			want: UniqueKeys{Duplicates: 1}, dupRows: 1, invalid: 2},
		{name: "out of order at the second row", body: "b,1,0\na,1,1\nb,2,0\n", keys: []string{"id"}, want: UniqueKeys{Duplicates: 1}},
		{name: "out of order, unique", body: "b,1,0\na,1,3\nc,1,0\n", keys: []string{"id"}, want: UniqueKeys{Unique: true}, invalid: 1},
		{name: "equal keys in a row", body: "a,1,0\na,1,0\n", keys: []string{"id"}, want: UniqueKeys{Duplicates: 1}, dupRows: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, "snap.csv", "id,n,y\n"+tc.body)
			var seen []int64
			var at []int
			v := &Visitor{Columns: []string{"y", "nope", "id"}, Row: func(r *table.Row, a []int) error {
				seen = append(seen, r.Num())
				at = a
				return nil
			}}
			rep, err := CheckVisit(context.Background(), p, "snap.csv", src(tc.keys...), time.Now(), v)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Columns = tc.keys
			if d := cmp.Diff(&tc.want, rep.UniqueKeys); d != "" {
				t.Errorf("unique keys (-want +got):\n%s", d)
			}
			if got, want := rep.DuplicateRows, float64(tc.dupRows)/float64(rep.Rows); got != want {
				t.Errorf("duplicate rows %v, want %v", got, want)
			}
			if got := rep.Validity["y"].Invalid; got != tc.invalid {
				t.Errorf("invalid y %d, want %d", got, tc.invalid)
			}
			var want []int64
			for i := range rep.Rows {
				want = append(want, i+1)
			}
			if d := cmp.Diff(want, seen); d != "" {
				t.Errorf("rows visited (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]int{2, -1, 0}, at); d != "" {
				t.Errorf("visited columns (-want +got):\n%s", d)
			}
		})
	}
}
