package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
)

// TestJoinProblemNamesItsFile: a gold join that fails is the problem of
// the file at fault, so that the denial points at the spec field naming
// it: the predictions (evaluation.predictions) for a missing key column,
// the gold snapshot (a data problem) for a duplicate key.
func TestJoinProblemNamesItsFile(t *testing.T) {
	tests := []struct {
		name string
		file string
		edit func(string) string
		want []Problem
	}{
		{
			name: "predictions without the key column",
			file: "models/churn/evidence/predictions.csv",
			edit: func(s string) string { return strings.Replace(s, "customer_id,", "cust,", 1) },
			want: []Problem{{Kind: KindPredictions, Path: "models/churn/evidence/predictions.csv",
				Message: `models/churn/evidence/predictions.csv: header (line 1), column "customer_id": column not found (columns: cust, churned, churn_probability, segment)`}},
		},
		{
			name: "gold key repeated",
			file: "data/snapshots/customers-gold.csv",
			edit: func(s string) string { return s + strings.Split(s, "\n")[1] + "\n" },
			want: []Problem{{Kind: KindData, Path: "data/snapshots/customers-gold.csv",
				Message: `data/snapshots/customers-gold.csv: row 4001 (line 4002), column "customer_id": duplicate key: the gold set's uniqueKeys must identify one row`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyExample(t)
			path := filepath.Join(dir, tt.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tt.edit(string(b))), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			p, err := spec.Load(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			sums, err := WriteAll(ctx, p, t.TempDir(), []string{"churn"}, Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, sums[0].Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
