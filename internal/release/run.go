package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/verify"
)

// Check modes: where the release's check result comes from.
const (
	// CheckAuto reuses the saved result when fresh, else runs the check.
	CheckAuto = "auto"
	// CheckReuse only reuses the saved result; a missing or stale one is
	// an error.
	CheckReuse = "reuse"
	// CheckRun always runs the check.
	CheckRun = "run"
)

// CheckModes are the modes, for flag help and validation.
var CheckModes = []string{CheckAuto, CheckReuse, CheckRun}

// ValidCheckMode says why mode is none of CheckModes, or nil. A command
// asks before it reads a key, so that a mistyped flag costs nothing.
func ValidCheckMode(mode string) error {
	if !slices.Contains(CheckModes, mode) {
		return fmt.Errorf("%q: want auto, reuse or run", mode)
	}
	return nil
}

// Request is a release with the choice of its check result: Options
// without Input, how to get it, and how to run the check.
type Request struct {
	Options
	// CheckMode is CheckAuto, CheckReuse or CheckRun.
	CheckMode string
	// RunCheck runs the check of the environment, which rewrites the
	// result in the work dir. (check imports release, so the check comes
	// in as a function.)
	RunCheck func(ctx context.Context) error
	// KeyName names the signing key in messages, such as its file.
	KeyName string
	Log     *slog.Logger
}

// Run makes a release the way slipway release does: it checks that the
// signing key is one the platform trusts, takes the check result as
// CheckMode says (re-running a stale one under CheckAuto), and releases.
func Run(ctx context.Context, r Request) (*Outcome, error) {
	if err := ValidCheckMode(r.CheckMode); err != nil {
		return nil, fmt.Errorf("check mode %w", err)
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := signerTrusted(r.Options, r.KeyName, log); err != nil {
		return nil, err
	}
	if err := untracked(ctx, r.Platform.Root, r.WorkDir); err != nil {
		return nil, err
	}
	resultPath := filepath.Join(r.WorkDir, filepath.FromSlash(checkresult.File))
	ran := false
	runCheck := func() (*checkresult.Result, error) {
		ran = true
		log.Info("running the check", "env", r.Environment)
		if err := r.RunCheck(ctx); err != nil {
			return nil, err
		}
		return checkresult.Read(resultPath)
	}
	var err error
	if r.CheckMode == CheckRun {
		r.Input, err = runCheck()
	} else {
		r.Input, err = checkresult.Read(resultPath)
		if r.CheckMode == CheckAuto && errors.Is(err, checkresult.ErrNoCheck) {
			r.Input, err = runCheck()
		}
	}
	if err != nil {
		return nil, err
	}
	out, err := Release(ctx, r.Options)
	if r.CheckMode == CheckAuto && !ran && (errors.Is(err, checkresult.ErrStale) || errors.Is(err, ErrRejudged)) {
		log.Info("the saved check result is stale or not what the policies say: running the check", "reason", err.Error())
		if r.Input, err = runCheck(); err != nil {
			return nil, err
		}
		out, err = Release(ctx, r.Options)
	}
	if n := len(Recorded(r.Input)); n > 0 && r.Reviews == nil && err == nil {
		log.Warn("the check result records approvals, which a release without --github cannot confirm: none was counted or signed", "approvals", n)
	}
	return out, err
}

// ErrTrackedWorkDir means the work dir has files in git: a pull request
// could commit a check result of its own making.
var ErrTrackedWorkDir = errors.New("work dir is tracked in git")

// untracked refuses a work dir with files git tracks. The check result a
// release reads must be one a check wrote here, not one a commit brought.
// A work dir outside the repository, or no git, tracks nothing.
func untracked(ctx context.Context, root, workDir string) error {
	out, _, err := git(ctx, root, []string{"ls-files", "--", workDir})
	if err != nil || out == "" {
		return nil
	}
	first, _, _ := strings.Cut(out, "\n")
	return fmt.Errorf("%w: %s is tracked (git ls-files %s): remove the work dir from git (git rm -r --cached) and ignore it", ErrTrackedWorkDir, first, workDir)
}

// signerTrusted refuses a signing key the platform does not list: its
// releases would never verify.
func signerTrusted(o Options, name string, log *slog.Logger) error {
	trusted, err := verify.TrustedKeys(o.Platform)
	if err != nil {
		return err
	}
	if len(trusted) == 0 {
		log.Warn("the platform lists no signing.trustedKeys: nothing will verify this release until its public key is added", "keyId", o.Signer.KeyID)
		return nil
	}
	if !slices.ContainsFunc(trusted, func(k *sign.PublicKey) bool { return k.Fingerprint == o.Signer.KeyID }) {
		return fmt.Errorf("key %s (%s) is not in signing.trustedKeys: its releases would not verify", name, o.Signer.KeyID)
	}
	return nil
}
