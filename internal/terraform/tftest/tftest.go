// Package tftest runs a test once per Terraform binary on PATH, terraform
// and tofu: Slipway supports both, and CI has both.
package tftest

import (
	"context"
	"testing"

	"github.com/slipway-ml/slipway/internal/terraform"
)

// Each runs fn as a subtest named after each binary on PATH (terraform,
// then tofu). It skips under -short, these tests running the real thing,
// and when neither binary is there.
func Each(t *testing.T, fn func(t *testing.T, bin *terraform.Binary)) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Terraform; skipped with -short")
	}
	bins, err := terraform.FindAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) == 0 {
		t.Skip("no terraform or tofu on PATH")
	}
	for _, bin := range bins {
		t.Run(bin.Name, func(t *testing.T) { fn(t, bin) })
	}
}
