package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/slipway-ml/slipway/internal/cli"
	"github.com/slipway-ml/slipway/internal/terraform"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"slipway": func() {
			os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
		},
	})
}

// bothBinaries are the scripts that run Terraform end to end (plan, apply,
// drift, release, the apply gate): they run once per binary on PATH,
// terraform and tofu. The others run with the first binary only.
var bothBinaries = []string{"plan_*.txtar", "release_*.txtar", "rollback_blue_green.txtar"}

// TestScript runs the end-to-end scripts in testdata/script, as a subtest
// per Terraform binary. Scripts find the repository's examples through
// $EXAMPLES; slipway finds the binary through $SLIPWAY_TERRAFORM, which
// scripts also use to run it directly; $TF_NAME is its name.
func TestScript(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scripts (Terraform, PostgreSQL, cosign); skipped with -short")
	}
	bins, err := terraform.FindAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) == 0 {
		// The scripts that need Terraform fail and say so.
		testscript.Run(t, scriptParams(t, nil, nil))
		return
	}
	for i, bin := range bins {
		t.Run(bin.Name, func(t *testing.T) {
			var files []string
			if i > 0 {
				for _, pattern := range bothBinaries {
					m, err := filepath.Glob(filepath.Join("testdata/script", pattern))
					if err != nil {
						t.Fatal(err)
					}
					files = append(files, m...)
				}
			}
			testscript.Run(t, scriptParams(t, bin, files))
		})
	}
}

// scriptParams runs files (all scripts when nil) with bin (none when nil).
func scriptParams(t *testing.T, bin *terraform.Binary, files []string) testscript.Params {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	p := testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"github-fake": githubFake},
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", wd+"/../../examples")
			env.Setenv("CHECKPOINT_DISABLE", "1")
			// Scripts commit their repositories: a release signs the
			// commit it is made from.
			for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
				env.Setenv(k, "Slipway Test")
			}
			for _, k := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
				env.Setenv(k, "test@example.com")
			}
			if bin != nil {
				env.Setenv(terraform.BinaryEnv, bin.Path)
				env.Setenv("TF_NAME", bin.Name)
			}
			return nil
		},
	}
	if files != nil {
		p.Dir, p.Files = "", files
	}
	return p
}
