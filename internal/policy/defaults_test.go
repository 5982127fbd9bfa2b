package policy

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
)

// TestDefaultsRego keeps policies/defaults.rego equal to the schema's
// defaults: a default changed in schemas/platform.cue, or one edited in
// the generated file, fails here until the file is regenerated.
func TestDefaultsRego(t *testing.T) {
	got := DefaultsRego(spec.SchemaDefaults())
	path := "../../policies/" + DefaultsFile
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/policy -run TestDefaultsRego -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("policies/%s differs from the schema's defaults; run go test ./internal/policy -run TestDefaultsRego -update (-want +got):\n%s", DefaultsFile, d)
	}
}
