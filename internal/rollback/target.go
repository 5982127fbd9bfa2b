package rollback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/verify"
)

// ReleaseRef names one verified release record.
type ReleaseRef struct {
	Version  string `json:"version"`
	Revision int    `json:"revision,omitempty"`
	// Path is the record's repo-relative path; Record its digest.
	Path   string `json:"path"`
	Record string `json:"record"`
	KeyID  string `json:"keyId,omitempty"`
}

// RollbackTarget is what a rollback goes back to, and from.
type RollbackTarget struct {
	// From is the newest release of the model in the environment.
	From ReleaseRef `json:"from"`
	// To is the verified release rolled back to; Stack its model stack.
	To    ReleaseRef   `json:"to"`
	Stack attest.Stack `json:"stack"`
}

// FindRollbackTarget verifies the ledger and picks the release a rollback
// of model in env goes back to: the newest verified release of version
// when given, else the newest verified release of another version than
// the newest release. It refuses (ErrNotCovered) when the ledger's index
// does not verify, when the target does not verify or pins no plan of the
// model's stack: rolling back re-applies only what a verified release
// covers, as apply does.
func FindRollbackTarget(ctx context.Context, root string, keys []*sign.PublicKey, now time.Time, env, model, version string) (*RollbackTarget, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no trusted keys: pass --key, %s or --base, or add signing.trustedKeys to the platform", ErrNotCovered, verify.TrustedKeysEnv)
	}
	rep, err := verify.Ledger(ctx, verify.Options{Root: root, Keys: keys, Now: now, Environment: env, Model: model})
	if err != nil {
		return nil, err
	}
	if len(rep.IndexDamage()) > 0 {
		return nil, fmt.Errorf("%w: the release ledger does not verify: %s", ErrNotCovered, rep.IndexDamage()[0])
	}
	var releases []verify.RecordReport
	for _, r := range rep.Records {
		if r.IsRelease() && r.Environment == env && r.Model == model {
			releases = append(releases, r)
		}
	}
	if len(releases) == 0 {
		return nil, fmt.Errorf("%w: no release of %s in %s", ErrNotCovered, model, env)
	}
	newest := releases[len(releases)-1]
	t := &RollbackTarget{From: ref(newest)}
	var to *verify.RecordReport
	for i := len(releases) - 1; i >= 0; i-- {
		r := releases[i]
		if (version != "" && r.Version == version) || (version == "" && r.Version != newest.Version) {
			to = &releases[i]
			break
		}
	}
	switch {
	case to == nil && version != "":
		return nil, fmt.Errorf("%w: no release of %s %s in %s", ErrNotCovered, model, version, env)
	case to == nil:
		return nil, fmt.Errorf("%w: %s has no release in %s before %s", ErrNotCovered, model, env, newest.Version)
	case !to.OK:
		return nil, fmt.Errorf("%w: release %s does not verify: %s", ErrNotCovered, to.Path, strings.Join(to.Problems, "; "))
	}
	t.To = ref(*to)
	id := env + "/" + model
	for _, s := range to.Statement().Predicate.Stacks {
		if s.ID == id {
			t.Stack = s
		}
	}
	if t.Stack.ID == "" {
		return nil, fmt.Errorf("%w: release %s pins no plan for %s", ErrNotCovered, to.Path, id)
	}
	if t.Stack.Rendered == "" {
		return nil, fmt.Errorf("%w: release %s does not record the rendered root module of %s, which a rollback restores", ErrNotCovered, to.Path, id)
	}
	return t, nil
}

func ref(r verify.RecordReport) ReleaseRef {
	return ReleaseRef{Version: r.Version, Revision: r.Revision, Path: r.Path, Record: r.Digest(), KeyID: r.KeyID}
}

// ErrNotCovered means no verified release covers what was asked.
var ErrNotCovered = errors.New("not covered by a verified release")
