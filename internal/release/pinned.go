package release

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
)

// PinnedDir is where, inside the work dir, release keeps a copy of every
// plan it pins, named by its digest: a re-plan rewrites
// plans/ENV/STACK.tfplan, never a pinned copy, so apply and rollback can
// always find the exact plan a release signed.
const PinnedDir = "plans/sha256"

var sha256Digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// PinnedPlanPath returns where the pinned copy of the plan with digest d
// lives in workDir.
func PinnedPlanPath(workDir, d string) (string, error) {
	if !sha256Digest.MatchString(d) {
		return "", fmt.Errorf("plan digest %q: want sha256:<64 hex digits>", d)
	}
	return filepath.Join(workDir, filepath.FromSlash(PinnedDir), digest.Hex(d)+".tfplan"), nil
}

// PinnedPlan returns the path of the pinned plan with digest d after
// checking that its bytes still have that digest; fs.ErrNotExist when no
// release in this work dir pinned it.
func PinnedPlan(workDir, d string) (string, error) {
	p, err := PinnedPlanPath(workDir, d)
	if err != nil {
		return "", err
	}
	got, err := digest.File(p)
	if err != nil {
		return "", err
	}
	if got != d {
		return "", fmt.Errorf("pinned plan %s: content is %s, not the plan it is named after", p, got)
	}
	return p, nil
}

// pin copies the plan file at src, whose digest is d, into the store.
// An existing copy is left alone when it is intact: the name is the
// content.
func pin(workDir, src, d string) error {
	if workDir == "" {
		return nil
	}
	// An intact copy stays; a damaged one is replaced by the real plan.
	if _, err := PinnedPlan(workDir, d); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if got := digest.Bytes(b); got != d {
		return fmt.Errorf("%w: saved plan %s changed while it was pinned (%s, want %s)", checkresult.ErrStale, src, got, d)
	}
	dst, err := PinnedPlanPath(workDir, d)
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
