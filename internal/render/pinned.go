package render

import (
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/slipway-ml/slipway/internal/digest"
)

// PinnedDir is where, inside the work dir, a release keeps a copy of every
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
