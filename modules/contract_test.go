package modules_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/modules"
)

var update = flag.Bool("update", false, "rewrite each target's variables.tf, and the local rollback.tf files, from contract/")

// TestContractFiles keeps every target's variables.tf assembled from the one
// source of its kind's contract in contract/: Terraform has no include, so
// the files are written out, never edited by hand.
func TestContractFiles(t *testing.T) {
	for _, kind := range desired.Kinds {
		want := contractFile(t, kind)
		for _, target := range modules.Targets {
			path := filepath.Join(target, kind, "variables.tf")
			if *update {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("%s is not contract/ assembled; edit contract/ and run go test ./modules -update (-want +got):\n%s", path, diff)
			}
		}
	}
}

// TestLocalRollbackFiles keeps each local deployment module's rollback.tf
// (the state a rollback strategy takes back) a copy of the one source,
// contract/local-rollback.tf, for the same reason: Terraform has no include.
func TestLocalRollbackFiles(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("contract", "local-rollback.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range desired.Kinds {
		if kind == "shared" {
			continue
		}
		path := filepath.Join("local", kind, "rollback.tf")
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s is not contract/local-rollback.tf; edit that and run go test ./modules -update (-want +got):\n%s", path, diff)
		}
	}
}

// contractFile assembles a kind's variables.tf: a header, then for a
// deployment kind the common variables and its own.
func contractFile(t *testing.T, kind string) string {
	t.Helper()
	if kind == "shared" {
		return "# Contract of the shared module: every target declares exactly these\n" +
			"# variables and outputs (checked by modules_test.go).\n\n" + contractBody(t, "shared")
	}
	return fmt.Sprintf("# Contract of the %s deployment module: every target declares exactly\n", kind) +
		"# these variables and outputs (checked by modules_test.go).\n\n" +
		contractBody(t, "common") + "\n" + contractBody(t, kind)
}

// contractBody is a contract source without its leading comment.
func contractBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("contract", name+".tf"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for strings.HasPrefix(s, "#") {
		_, s, _ = strings.Cut(s, "\n")
	}
	return strings.TrimPrefix(s, "\n")
}
