package evidence

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/metrics"
)

// joinOrError runs Join and checks its error against wantErr: nil when
// an error was wanted and it was that one.
func joinOrError(t *testing.T, in JoinInput, wantErr string) *joined {
	t.Helper()
	j, err := Join(context.Background(), in)
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Fatalf("error %v, want %s", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return j
}

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
			got := joinOrError(t, JoinInput{Gold: g, GoldName: "gold.csv", Predictions: p, PredictionsName: "preds.csv", Keys: []string{"id"}, KeyTypes: tc.types, Label: "y", Workers: 2}, tc.wantErr)
			if got == nil {
				return
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
	if !got.g.unique {
		t.Error("gold keys in order (two columns) not found sorted")
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

// TestJoinGoldOrder covers the two ways the index proves its keys unique:
// by their order (no table until a prediction leaves the gold order) and
// by the table (keys out of order), with the duplicates of each.
func TestJoinGoldOrder(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name        string
		gold, preds string
		keys        []string
		// sorted: the gold keys proved unique by their order; table: the
		// hash table exists after the join.
		sorted, table bool
		want          *Integrity
		wantErr       string
	}{
		{name: "sorted gold, predictions in its order", gold: "id,y\na,1\nb,0\nc,1\nd,0\n", preds: "id,y\na,1\nb,0\nc,0\nd,0\n",
			sorted: true, want: &Integrity{GoldRows: 4, PredictionRows: 4, Covered: 4, Coverage: 1, LabelMismatches: 1}},
		{name: "sorted gold, predictions skip a row", gold: "id,y\na,1\nb,0\nc,1\nd,0\n", preds: "id,y\na,1\nb,0\nd,0\n",
			sorted: true, table: true, want: &Integrity{GoldRows: 4, PredictionRows: 3, Covered: 3, Coverage: 0.75}},
		{name: "integers sorted by value, not by bytes", gold: "id,y\n8,1\n9,0\n10,1\n11,0\n", preds: "id,y\n8,1\n9,0\n10,1\n11,0\n",
			sorted: true, want: &Integrity{GoldRows: 4, PredictionRows: 4, Covered: 4, Coverage: 1}},
		{name: "sorted gold, predictions out of order, an unknown key", gold: "id,y\na,1\nb,0\nc,1\nd,0\n", preds: "id,y\nd,0\nzz,1\nb,1\na,1\n",
			sorted: true, table: true, want: &Integrity{GoldRows: 4, PredictionRows: 4, UnknownKeys: 1, Covered: 3, Coverage: 0.75, LabelMismatches: 1}},
		{name: "two key columns sorted", gold: "k,n,y\na,1,1\na,2,0\nb,0,1\n", preds: "k,n,y\na,1,1\na,2,0\nb,0,1\n", keys: []string{"k", "n"},
			sorted: true, want: &Integrity{GoldRows: 3, PredictionRows: 3, Covered: 3, Coverage: 1}},
		{name: "unsorted gold", gold: "id,y\nc,1\na,1\nd,0\nb,0\n", preds: "id,y\nc,1\na,1\nd,0\nb,0\n",
			table: true, want: &Integrity{GoldRows: 4, PredictionRows: 4, Covered: 4, Coverage: 1}},
		{name: "labels longer than three bytes", gold: "id,y\na,approved\nb,declined\n", preds: "id,y\na,approved\nb,approved\n",
			sorted: true, want: &Integrity{GoldRows: 2, PredictionRows: 2, Covered: 2, Coverage: 1, LabelMismatches: 1}},
		{name: "duplicate in sorted gold", gold: "id,y\na,1\nb,0\nb,1\nc,0\n", preds: "id,y\na,1\n",
			wantErr: `gold.csv: row 3 (line 4), column "id": duplicate key: the gold set's uniqueKeys must identify one row`},
		{name: "duplicate in unsorted gold", gold: "id,y\nc,1\na,0\nc,1\nb,0\n", preds: "id,y\na,1\n",
			wantErr: `gold.csv: row 3 (line 4), column "id": duplicate key: the gold set's uniqueKeys must identify one row`},
		{name: "JSON Lines gold with a blank line", gold: "{\"id\":\"a\",\"y\":1}\n\n{\"id\":\"b\",\"y\":0}\n", preds: "id,y\nb,0\na,1\n",
			sorted: true, table: true, want: &Integrity{GoldRows: 2, PredictionRows: 2, Covered: 2, Coverage: 1}},
		{name: "duplicate in JSON Lines gold after a blank line", gold: "{\"id\":\"b\",\"y\":1}\n\n{\"id\":\"a\",\"y\":0}\n{\"id\":\"b\",\"y\":0}\n", preds: "id,y\na,0\n",
			wantErr: `gold.jsonl: row 4 (line 4), column "id": duplicate key: the gold set's uniqueKeys must identify one row`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = []string{"id"}
			}
			name := "gold.csv"
			if strings.HasPrefix(tc.gold, "{") {
				name = "gold.jsonl"
			}
			g, p := filepath.Join(dir, name), filepath.Join(dir, "preds.csv")
			if err := os.WriteFile(g, []byte(tc.gold), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(tc.preds), 0o644); err != nil {
				t.Fatal(err)
			}
			j := joinOrError(t, JoinInput{Gold: g, GoldName: name, Predictions: p, PredictionsName: "preds.csv", Keys: keys, Label: "y", Workers: 2}, tc.wantErr)
			if j == nil {
				return
			}
			tc.want.Keys = keys
			if diff := cmp.Diff(tc.want, j.Integrity); diff != "" {
				t.Errorf("integrity (-want +got):\n%s", diff)
			}
			if j.g.unique != tc.sorted {
				t.Errorf("sorted %v, want %v", j.g.unique, tc.sorted)
			}
			if built := len(j.g.slots) > 0; built != tc.table {
				t.Errorf("table built %v, want %v", built, tc.table)
			}
		})
	}
}

// TestSortedKeysAcrossRuns checks the comparison of the runs the workers
// read: each run is in order, the order between them decides.
func TestSortedKeysAcrossRuns(t *testing.T) {
	key := func(s string) [][]byte { return [][]byte{[]byte(s)} }
	run := func(first int64, start, end string) keyRun {
		return keyRun{first: first, start: key(start), end: key(end)}
	}
	for _, tc := range []struct {
		name string
		// runs of worker 0 and worker 1; the last run's end is prev.
		w0, w1 []keyRun
		want   bool
	}{
		{"runs in order", []keyRun{run(1, "a", "c"), run(21, "g", "i")}, []keyRun{run(11, "d", "f"), run(31, "j", "k")}, true},
		{"second worker's run before the first's", []keyRun{run(1, "d", "f"), run(21, "g", "i")}, []keyRun{run(11, "a", "c")}, false},
		{"a run starts on the key the previous one ends on", []keyRun{run(1, "a", "c")}, []keyRun{run(11, "c", "f")}, false},
		{"integers across runs", []keyRun{run(1, "8", "9")}, []keyRun{run(11, "10", "99")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var orders []keyOrder
			for _, runs := range [][]keyRun{tc.w0, tc.w1} {
				o := keyOrder{lex: true, short: true, runs: append([]keyRun(nil), runs...)}
				o.prev = runs[len(runs)-1].end
				orders = append(orders, o)
			}
			if got := sortedKeys(orders); got != tc.want {
				t.Errorf("sortedKeys %v, want %v", got, tc.want)
			}
		})
	}
}

// TestJoinSortedAcrossChunks reads a sorted gold file of several chunks on
// two workers: its order holds across them, and predictions in the same
// order join without a table.
func TestJoinSortedAcrossChunks(t *testing.T) {
	dir := t.TempDir()
	const n = 300_000 // about 3.6 MB: four chunks
	var gold strings.Builder
	gold.WriteString("id,y\n")
	for i := range n {
		fmt.Fprintf(&gold, "%09d,%d\n", i, i%2)
	}
	gp, pp := filepath.Join(dir, "gold.csv"), filepath.Join(dir, "preds.csv")
	for _, p := range []string{gp, pp} {
		if err := os.WriteFile(p, []byte(gold.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	j, err := Join(context.Background(), JoinInput{Gold: gp, GoldName: "gold.csv", Predictions: pp, PredictionsName: "preds.csv", Keys: []string{"id"}, Label: "y", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := &Integrity{Keys: []string{"id"}, GoldRows: n, PredictionRows: n, Covered: n, Coverage: 1}
	if diff := cmp.Diff(want, j.Integrity); diff != "" {
		t.Errorf("integrity (-want +got):\n%s", diff)
	}
	if !j.g.unique || len(j.g.slots) > 0 {
		t.Errorf("sorted %v, table of %d slots; want sorted and no table", j.g.unique, len(j.g.slots))
	}
}

// TestJoinOnQualityScan checks that the join whose gold index is filled
// on the gold snapshot's quality scan (Evaluate) counts what the join on
// its own counts, and fails as it fails.
func TestJoinOnQualityScan(t *testing.T) {
	preds := "id,label,score,prediction,sex,age_band\n" +
		"a,1,0.9,1,F,18-25\nb,0,0.1,0,M,18-25\nc,1,0.2,0,F,26-35\nzz,0,0.3,0,M,26-35\nd,1,0.8,1,F,18-25\n"
	for _, tc := range []struct{ name, gold, wantErr string }{
		{name: "gold in key order", gold: "id,label,income\na,1,5\nb,0,6\nc,0,7\nd,1,8\ne,0,9\n"},
		{name: "gold out of order", gold: "id,label,income\nd,1,8\nb,0,6\ne,0,9\na,1,5\nc,0,7\n"},
		{name: "duplicate key at the end", gold: "id,label,income\na,1,5\nb,0,6\nc,0,7\nb,0,7\n",
			wantErr: `gold.csv: row 4 (line 5), column "id": duplicate key: the gold set's uniqueKeys must identify one row`},
		{name: "label column missing", gold: "id,y,income\na,1,5\nb,0,6\n",
			wantErr: `gold.csv: header (line 1), column "label": column not found (columns: id, y, income)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range map[string]string{"gold.csv": tc.gold, "predictions.csv": preds} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := benchPlatform(dir, "gold.csv")
			s, err := Evaluate(context.Background(), p, "m", Options{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			b := &builder{ctx: context.Background(), p: p}
			if gj, _ := b.prepareJoin(p.Models["m"], time.Now(), Options{Workers: 2}); gj.onCheck != (tc.wantErr == "") {
				t.Errorf("gold index filled on the quality scan: %v, want %v", gj.onCheck, tc.wantErr == "")
			}
			alone, err := Join(context.Background(), JoinInput{
				Gold: filepath.Join(dir, "gold.csv"), GoldName: "gold.csv", Predictions: filepath.Join(dir, "predictions.csv"), PredictionsName: "predictions.csv",
				Keys: []string{"id"}, KeyTypes: []string{"string"}, Label: "label", Workers: 2,
			})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("join alone: error %v, want %s", err, tc.wantErr)
				}
				want := Problem{Kind: KindData, Path: "gold.csv", Message: tc.wantErr}
				if !slices.Contains(s.Problems, want) || s.Evaluation.Integrity != nil {
					t.Errorf("problems %+v, integrity %+v: want %+v", s.Problems, s.Evaluation.Integrity, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			alone.TrainingOverlap = map[string]int64{}
			if diff := cmp.Diff(alone.Integrity, s.Evaluation.Integrity); diff != "" {
				t.Errorf("integrity (-alone +on the quality scan):\n%s", diff)
			}
		})
	}
}
