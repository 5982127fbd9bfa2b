package release

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/render"
)

// pin copies the plan file at src, whose digest is d, into the store.
// An existing copy is left alone when it is intact: the name is the
// content.
func pin(workDir, src, d string) error {
	if workDir == "" {
		return nil
	}
	// An intact copy stays; a damaged one is replaced by the real plan.
	if _, err := render.PinnedPlan(workDir, d); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if got := digest.Bytes(b); got != d {
		return fmt.Errorf("%w: saved plan %s changed while it was pinned (%s, want %s)", checkresult.ErrStale, src, got, d)
	}
	dst, err := render.PinnedPlanPath(workDir, d)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(dst, b, 0o600); err != nil {
		return fmt.Errorf("pin plan %s: %w", src, err)
	}
	return nil
}
