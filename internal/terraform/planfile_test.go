package terraform_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/terraform/tftest"
)

// TestPlanRoot: the root module a saved plan was made from comes back byte
// for byte from the plan file, with either binary; a file that is no plan
// is an error.
func TestPlanRoot(t *testing.T) { tftest.Each(t, testPlanRoot) }

func testPlanRoot(t *testing.T, bin *terraform.Binary) {
	ctx := context.Background()
	work := t.TempDir()
	r, err := terraform.NewRunner(bin, work)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "stack")
	root := `{"resource": {"terraform_data": {"x": {"input": "v1"}}}}` + "\n"
	writeJSONRoot(t, dir, root)
	s := terraform.Stack{ID: "test/stack", Dir: dir, InitKey: "k1"}
	if err := r.Init(ctx, s); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(work, "p.tfplan")
	if _, err := r.Plan(ctx, s, planFile, terraform.Normal); err != nil {
		t.Fatal(err)
	}
	// The work tree moves on; the plan keeps what it was made from.
	writeJSONRoot(t, dir, `{"resource": {"terraform_data": {"x": {"input": "v2"}}}}`)
	got, err := terraform.PlanRoot(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(root, string(got)); d != "" {
		t.Errorf("root module (-want +got):\n%s", d)
	}
	notPlan := filepath.Join(work, "not.tfplan")
	if err := os.WriteFile(notPlan, []byte("saved plan staging/x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := terraform.PlanRoot(notPlan); err == nil || !strings.Contains(err.Error(), notPlan) {
		t.Errorf("PlanRoot of a non-plan: %v", err)
	}
	if _, err := terraform.PlanRoot(filepath.Join(work, "missing.tfplan")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("PlanRoot of a missing file: %v", err)
	}
}

func writeJSONRoot(t *testing.T, dir, body string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
