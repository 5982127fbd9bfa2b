package evidence

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/metrics"
)

func TestJoin(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gold := write("gold.csv", "id,y,x\na,1,5\nb,0,6\nc,1,7\nd,0,8\n")
	for _, tc := range []struct {
		name, preds, gold string
		types             []string
		want              *Integrity
		wantErr           string
	}{
		{name: "clean", preds: "id,y,score\na,1,0.9\nb,0,0.1\nc,1,0.8\nd,0,0.2\n",
			want: &Integrity{Keys: []string{"id"}, GoldRows: 4, PredictionRows: 4, Covered: 4, Coverage: 1}},
		{name: "unknown keys, partial coverage, a relabelled row", preds: "id,y,score\na,0,0.9\nb,0,0.1\nzz,1,0.8\n",
			want: &Integrity{Keys: []string{"id"}, GoldRows: 4, PredictionRows: 3, UnknownKeys: 1, Covered: 2, Coverage: 0.5, LabelMismatches: 1}},
		{name: "missing key column", preds: "y,score\n1,0.9\n",
			wantErr: `preds.csv: header (line 1), column "id": column not found (columns: y, score)`},
		{name: "key of another type", preds: "id,y\n1,1\n2.0,0\n", gold: "id,y\n1,1\n2,0\n", types: []string{"int"},
			wantErr: `preds.csv: row 2 (line 3), column "id": key column differs in type from the gold set: "2.0" is not an int, the gold schema declares int`},
		{name: "keys of the gold type join", preds: "id,y,score\n1,1,0.9\n3,0,0.1\n", gold: "id,y\n1,1\n2,0\n", types: []string{"int"},
			want: &Integrity{Keys: []string{"id"}, GoldRows: 2, PredictionRows: 2, UnknownKeys: 1, Covered: 1, Coverage: 0.5}},
		{name: "missing key column in the gold set", preds: "id,y\na,1\n", gold: "key,y\na,1\n",
			wantErr: `gold.csv: header (line 1), column "id": column not found (columns: key, y)`},
		{name: "duplicate gold key", preds: "id,y\na,1\n", gold: "id,y\na,1\nb,0\na,0\n",
			wantErr: `gold.csv: row 3 (line 4), column "id": duplicate key: the gold set's uniqueKeys must identify one row`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := gold
			if tc.gold != "" {
				g = write("gold2.csv", tc.gold)
			}
			p := write("preds.csv", tc.preds)
			got, err := Join(context.Background(), JoinInput{Gold: g, GoldName: "gold.csv", Predictions: p, PredictionsName: "preds.csv", Keys: []string{"id"}, KeyTypes: tc.types, Label: "y", Workers: 2})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Integrity); diff != "" {
				t.Errorf("integrity (-want +got):\n%s", diff)
			}
			// Riding on the evaluation's scan gives the same counts.
			j, err := loadGold(context.Background(), JoinInput{Gold: g, GoldName: "gold.csv", Keys: []string{"id"}, Label: "y", Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := metrics.EvaluateFile(context.Background(), p, metrics.Config{Label: "y", Score: "score", Threshold: new(0.5), Workers: 2, Visit: j.visitor()})
			if err != nil {
				t.Fatal(err)
			}
			j.finish(rep.Rows)
			if diff := cmp.Diff(tc.want, j.Integrity); diff != "" {
				t.Errorf("integrity in the evaluation's scan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJoinIndex checks the index against a map on keys of two columns,
// in and out of the gold file's order, with more rows than one partition
// of the table holds.
func TestJoinIndex(t *testing.T) {
	dir := t.TempDir()
	const n = 100_000
	var gold, preds strings.Builder
	gold.WriteString("a,b,y\n")
	preds.WriteString("a,b,y,score\n")
	want := Integrity{Keys: []string{"a", "b"}, GoldRows: n}
	covered := map[int]bool{}
	for i := range n {
		fmt.Fprintf(&gold, "k%d,%d,%d\n", i/7, i%7, i%2)
	}
	for i := range n + 500 {
		// Mostly in order, with jumps back and keys that are not gold.
		k := i
		switch {
		case i%97 == 0:
			k = (i * 31) % n
		case i >= n:
			k = n + i
		}
		y := k % 2
		if i%1000 == 3 {
			y = 1 - y
		}
		fmt.Fprintf(&preds, "k%d,%d,%d,0.5\n", k/7, k%7, y)
		want.PredictionRows++
		switch {
		case k >= n:
			want.UnknownKeys++
		case y != k%2:
			want.LabelMismatches++
			covered[k] = true
		default:
			covered[k] = true
		}
	}
	want.Covered = int64(len(covered))
	want.Coverage = float64(want.Covered) / n
	gp, pp := filepath.Join(dir, "gold.csv"), filepath.Join(dir, "preds.csv")
	if err := os.WriteFile(gp, []byte(gold.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pp, []byte(preds.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Join(context.Background(), JoinInput{Gold: gp, GoldName: "gold.csv", Predictions: pp, PredictionsName: "preds.csv", Keys: []string{"a", "b"}, Label: "y", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got.Integrity); diff != "" {
		t.Errorf("integrity (-want +got):\n%s", diff)
	}
	// The first repeat in file order is named, wherever the table put the
	// keys: row 90,001 repeats row 10, row 95,001 repeats row 5.
	lines := strings.SplitAfter(gold.String(), "\n")
	lines[90_001], lines[95_001] = lines[10], lines[5]
	if err := os.WriteFile(gp, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Join(context.Background(), JoinInput{Gold: gp, GoldName: "gold.csv", Predictions: pp, PredictionsName: "preds.csv", Keys: []string{"a", "b"}, Label: "y", Workers: 2})
	if want := `gold.csv: row 90001 (line 90002), column "a": duplicate key: the gold set's uniqueKeys must identify one row`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
