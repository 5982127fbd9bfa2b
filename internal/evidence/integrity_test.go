package evidence

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
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
		{name: "keys of the gold type join", preds: "id,y\n1,1\n3,0\n", gold: "id,y\n1,1\n2,0\n", types: []string{"int"},
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
		})
	}
}
