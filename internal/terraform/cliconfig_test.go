package terraform_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/terraform/tftest"
)

// spy is a shell script standing in for the real binary: it records each
// run's arguments and whether TF_CLI_CONFIG_FILE named an existing file,
// keeps the run's stderr, and passes everything through.
const spy = `#!/bin/sh
n=$(ls "$SPY_LOG" | wc -l)
cfg=missing
[ -n "$TF_CLI_CONFIG_FILE" ] && [ -f "$TF_CLI_CONFIG_FILE" ] && cfg=ok
echo "$cfg $*" > "$SPY_LOG/$n.args"
"$SPY_REAL" "$@" 2> "$SPY_LOG/$n.err"
rc=$?
cat "$SPY_LOG/$n.err" >&2
exit $rc
`

// TestEveryRunGetsSlipwayCLIConfig runs the whole cycle (version, init,
// plan, show, apply, state) with a broken ~/.terraformrc and ~/.tofurc in
// HOME: every run must get Slipway's own existing CLI configuration, none
// may warn about any, and the version is asked once.
func TestEveryRunGetsSlipwayCLIConfig(t *testing.T) {
	tftest.Each(t, func(t *testing.T, bin *terraform.Binary) {
		home, logDir := t.TempDir(), t.TempDir()
		broken := []byte("provider_installation {\n  this is not HCL\n")
		for _, rc := range []string{".terraformrc", ".tofurc"} {
			if err := os.WriteFile(filepath.Join(home, rc), broken, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("HOME", home)
		t.Setenv("TF_CLI_CONFIG_FILE", "")
		t.Setenv("SPY_LOG", logDir)
		t.Setenv("SPY_REAL", bin.Path)
		// The spy's name says which binary it stands for.
		path := filepath.Join(t.TempDir(), bin.Name)
		if err := os.WriteFile(path, []byte(spy), 0o755); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		found, err := terraform.Find(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if found.Name != bin.Name || found.Version != bin.Version {
			t.Fatalf("spy found as %v, want %v", found, bin)
		}
		// Asked again in the same process: no second `version`.
		if _, err := terraform.Find(ctx, path); err != nil {
			t.Fatal(err)
		}
		work := t.TempDir()
		r, err := terraform.NewRunner(found, work)
		if err != nil {
			t.Fatal(err)
		}
		s := terraform.Stack{ID: "test/stack", Dir: filepath.Join(work, "stack"), InitKey: "k"}
		writeRoot(t, s.Dir, rootTmpl)
		if err := r.Init(ctx, s); err != nil {
			t.Fatal(err)
		}
		plan := filepath.Join(work, "p.tfplan")
		if _, err := r.Plan(ctx, s, plan, terraform.Normal); err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(ctx, s, plan); err != nil {
			t.Fatal(err)
		}
		if _, err := r.State(ctx, s); err != nil {
			t.Fatal(err)
		}

		runs, _ := filepath.Glob(filepath.Join(logDir, "*.args"))
		var commands []string
		versions := 0
		for _, f := range runs {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			line := strings.TrimSpace(string(b))
			cfg, args, _ := strings.Cut(line, " ")
			commands = append(commands, args)
			if cfg != "ok" {
				t.Errorf("%s %s ran without Slipway's CLI configuration", bin.Name, args)
			}
			if strings.HasPrefix(args, "version") {
				versions++
			}
			stderr, _ := os.ReadFile(strings.TrimSuffix(f, ".args") + ".err")
			for _, warn := range []string{"Warning", "CLI configuration", "terraformrc", "tofurc"} {
				if strings.Contains(string(stderr), warn) {
					t.Errorf("%s %s printed %q:\n%s", bin.Name, args, warn, stderr)
				}
			}
		}
		if versions != 1 {
			t.Errorf("%s version ran %d times, want once per process; runs: %q", bin.Name, versions, commands)
		}
		if len(commands) < 5 {
			t.Errorf("the spy saw %d runs, want version, init, plan, show, apply, show: %q", len(commands), commands)
		}
	})
}
