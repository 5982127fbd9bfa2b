package policy

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/policies.md")

// TestCatalogueDoc keeps docs/policies.md in step with the rules' METADATA.
func TestCatalogueDoc(t *testing.T) {
	rules, err := Catalogue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := CatalogueMarkdown(rules)
	const path = "../../docs/policies.md"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/policy -run TestCatalogueDoc -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("docs/policies.md is stale; run go test ./internal/policy -run TestCatalogueDoc -update (-want +got):\n%s", d)
	}
}

func TestControlLess(t *testing.T) {
	if !controlLess("A.6.2.9", "A.6.2.10") || controlLess("MEASURE 2.11", "MEASURE 2.3") {
		t.Error("control ids are not ordered naturally")
	}
}
