package check

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// TestPlanInDocument: the check result records a plan summary exactly as
// `slipway plan` writes it, values with HTML characters and large numbers
// included.
func TestPlanInDocument(t *testing.T) {
	s := &terraform.Summary{
		Stack: "prod/fraud", Name: "fraud", Environment: "prod", Model: "fraud", Reasons: []string{"spec"}, Mode: "plan",
		Changes: terraform.Counts{Update: 1},
		Resources: []terraform.Resource{{Address: "a.b", Type: "t", Actions: []string{"update"}, Changed: []string{"input.x"},
			Diff: []terraform.AttrDiff{{Path: "input.x", Before: "<a&b>", After: json.Number("12345678901234567890")}}}},
		Deployment: &desired.Deployment{Kind: "online", Model: "fraud", ArtifactURI: "s3://b/<k>"},
		PlanFile:   ".slipway/plans/prod/fraud.tfplan", PlanSHA256: "sha256:1", ConfigSHA256: "sha256:2", TerraformVersion: "1.11.0",
	}
	encode := func(v any) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if diff := cmp.Diff(encode(s), encode(plan(s))); diff != "" {
		t.Errorf("plan summary changed in the document (-summary +document):\n%s", diff)
	}
	if plan(nil) != nil {
		t.Error("plan(nil) is not nil")
	}
}
