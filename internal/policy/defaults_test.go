package policy

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/policies"
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

// TestNoRetypedDefaults: a built-in rule reads the platform policy through
// lib.policy, never with a fallback of its own (object.get(lib.policy,
// "driftThreshold", 0.2)), which would be a second home for the default.
func TestNoRetypedDefaults(t *testing.T) {
	retyped := regexp.MustCompile(`object\.get\(\s*(lib\.)?policy\s*,|object\.get\(\s*input\s*,\s*\[\s*"platform"\s*,\s*"policy"|input\.platform\.policy`)
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isRego(path, false) {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			// lib.policy itself is where the input's policy meets the defaults.
			if path == "lib.rego" && strings.HasPrefix(line, "policy := policy_of(") {
				continue
			}
			if retyped.MatchString(line) {
				t.Errorf("policies/%s:%d: reads the platform policy past lib.policy: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadInputFillsPolicy: an input document without platform.policy
// (written by hand for slipway policy eval) reads with the schema's
// defaults, not Go's zero values, and is judged as a check's would be.
func TestReadInputFillsPolicy(t *testing.T) {
	in := fixture(t) // policies/fixtures_test.rego sets no policy
	if d := cmp.Diff(spec.DefaultPolicy(), in.Platform.Policy); d != "" {
		t.Errorf("policy of an input that sets none (-default +read):\n%s", d)
	}
	doc, err := inputDocument(in)
	if err != nil {
		t.Fatal(err)
	}
	delete(doc, "platform")
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := ReadInput(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(spec.DefaultPolicy(), bare.Platform.Policy); d != "" {
		t.Errorf("policy of an input without platform (-default +read):\n%s", d)
	}
	if _, err := ReadInput([]byte(`{"platform": {"policy": {"minGroupSize": 0}}}`)); err == nil || !strings.Contains(err.Error(), "minGroupSize") {
		t.Errorf("minGroupSize 0: err = %v, want one naming the field", err)
	}
	e := newEngine(t, "")
	if v := Verdict(e.Evaluate(context.Background(), nil, bare)); v != OutcomePass {
		t.Errorf("verdict of the fixture without platform: %s, want pass", v)
	}
}
