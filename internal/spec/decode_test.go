package spec

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ml/slipway/internal/synth"
)

// TestDecodeMatchesJSON keeps decode's result equal to decoding CUE's JSON,
// on the example, a synthetic repository with every template kind, and the
// small base repository.
func TestDecodeMatchesJSON(t *testing.T) {
	synthetic := t.TempDir()
	if err := synth.Repo(synthetic, 2*parallelMin); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"../../examples/credit-risk", synthetic, readBase(t).write(t)} {
		root, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		viaJSON, err := loadWith(context.Background(), root, true)
		if err != nil {
			t.Fatal(err)
		}
		direct, err := loadWith(context.Background(), root, false)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(viaJSON, direct, cmpopts.IgnoreUnexported(Platform{})); diff != "" {
			t.Errorf("%s: decode differs from JSON (-json +decode):\n%s", dir, diff)
		}
	}
}
