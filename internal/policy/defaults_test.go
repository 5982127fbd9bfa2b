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
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/policies"
	"github.com/slipway-ml/slipway/schemas"
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

// TestPolicyFollowsSchemaDefault follows a changed default from the schema
// to a verdict: an edited schema's defaults, rendered as DefaultsFile is,
// decide a unit whose input leaves the field out.
func TestPolicyFollowsSchemaDefault(t *testing.T) {
	src, err := fs.ReadFile(schemas.FS, "platform.cue")
	if err != nil {
		t.Fatal(err)
	}
	const old, edited = "driftThreshold:       *0.2 |", "driftThreshold:       *0.06 |"
	if !strings.Contains(string(src), old) {
		t.Fatalf("schema no longer holds %q: update the test", old)
	}
	// The model sets no threshold of its own, the platform none either.
	doc, err := inputDocument(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	delete(doc["model"].(map[string]any)["monitoring"].(map[string]any)["drift"].(map[string]any), "threshold")
	delete(doc["platform"].(map[string]any)["policy"].(map[string]any), "driftThreshold")
	for _, tt := range []struct {
		schema string
		want   []string
	}{
		{string(src), nil},
		{strings.Replace(string(src), old, edited, 1), []string{"feature loan_amount drifted: psi 0.08 over threshold 0.06"}},
	} {
		d, err := spec.DefaultsOf([]byte(tt.schema))
		if err != nil {
			t.Fatal(err)
		}
		mods, _, err := loadModules("", false)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ast.ParseModuleWithOpts(DefaultsFile, string(DefaultsRego(d)), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		mods[BuiltinPrefix+DefaultsFile] = m
		var opts []func(*rego.Rego)
		for _, m := range mods {
			opts = append(opts, rego.ParsedModule(m))
		}
		opts = append(opts, rego.Query("[r.msg | some r in data.slipway.data.deny]"), rego.Input(doc))
		rs, err := rego.New(opts...).Eval(context.Background())
		if err != nil || len(rs) != 1 {
			t.Fatalf("eval: %v (%d results)", err, len(rs))
		}
		var got []string
		for _, x := range rs[0].Expressions[0].Value.([]any) {
			got = append(got, x.(string))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("data.deny (-want +got):\n%s", diff)
		}
	}
}
