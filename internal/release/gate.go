package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

// SharedStack is the name of each environment's shared stack.
const SharedStack = "_shared"

// Coverage is the apply gate's answer for one saved plan.
type Coverage struct {
	// Covered is true when a verified release pins exactly this plan.
	Covered bool `json:"covered"`
	// Reason says why not, or names the release that covers the plan.
	Reason  string `json:"reason"`
	Record  string `json:"record,omitempty"`
	Version string `json:"version,omitempty"`
	KeyID   string `json:"keyId,omitempty"`
}

// GateQuery names the stack apply wants to run and its saved plan.
type GateQuery struct {
	Root        string
	Keys        []*sign.PublicKey
	Environment string
	// Stack is the stack name: a model name or "_shared".
	Stack string
	// PlanSHA256 is the "sha256:<hex>" digest of the saved plan file.
	PlanSHA256 string
	Now        time.Time
}

// Gate answers one query; see Gatekeeper.Check. It verifies the ledger
// each time: apply asks a Gatekeeper, which verifies it once.
func Gate(ctx context.Context, q GateQuery) (Coverage, error) {
	g := NewGatekeeper(q.Root, q.Keys, q.Now)
	return g.Check(ctx, q.Environment, q.Stack, q.PlanSHA256)
}

// Gatekeeper answers the apply gate's question for many stacks from one
// verification of the ledger.
type Gatekeeper struct {
	root string
	keys []*sign.PublicKey
	now  time.Time

	once sync.Once
	rep  *verify.Report
	err  error
}

// NewGatekeeper returns a gatekeeper over the ledger of the repository at
// root, trusting keys. The ledger is verified on the first Check.
func NewGatekeeper(root string, keys []*sign.PublicKey, now time.Time) *Gatekeeper {
	return &Gatekeeper{root: root, keys: keys, now: now}
}

// Check answers whether the saved plan of a stack may be applied: only
// when the newest release covering the stack verifies (signature by a
// trusted key, ledger intact, decision pass) and pins this very plan. A
// model stack is covered by the newest release of that model in the
// environment; the shared stack ("_shared") by the newest release in the
// environment that pins it. The error is for failures to look, never for
// "no".
func (g *Gatekeeper) Check(ctx context.Context, env, stack, planSHA256 string) (Coverage, error) {
	id := env + "/" + stack
	if len(g.keys) == 0 {
		return Coverage{Reason: "no trusted keys: add signing.trustedKeys to the platform"}, nil
	}
	g.once.Do(func() {
		g.rep, g.err = verify.Ledger(ctx, verify.Options{Root: g.root, Keys: g.keys, Now: g.now})
	})
	if g.err != nil {
		return Coverage{}, g.err
	}
	rep := g.rep
	if len(rep.IndexDamage()) > 0 {
		return Coverage{Reason: "the release ledger does not verify: " + rep.IndexDamage()[0]}, nil
	}
	for i := len(rep.Records) - 1; i >= 0; i-- {
		r := rep.Records[i]
		if !r.IsRelease() || r.Environment != env || (stack != SharedStack && r.Model != stack) {
			continue
		}
		var pinned string
		found := false
		if r.SignedStatement() != nil {
			for _, s := range r.SignedStatement().Predicate.Stacks {
				if s.ID == id {
					pinned, found = s.PlanSHA256, true
				}
			}
		}
		if !found && stack == SharedStack {
			continue
		}
		c := Coverage{Record: r.Path, Version: r.Version, KeyID: r.KeyID}
		switch {
		case r.SignedStatement() == nil:
			c.Reason = fmt.Sprintf("release %s does not verify: %s", r.Path, strings.Join(r.Problems, "; "))
		case !found:
			c.Reason = fmt.Sprintf("release %s does not pin a plan for %s", r.Path, id)
		case pinned != planSHA256:
			// Checked before the record's other problems: a plan made
			// after the release also shows there as "plan changed".
			c.Reason = fmt.Sprintf("saved plan %s differs from the plan release %s pinned (%s): plan again from the released specs or release again", planSHA256, r.Path, pinned)
		case !r.OK:
			c.Reason = fmt.Sprintf("release %s does not verify: %s", r.Path, strings.Join(r.Problems, "; "))
		default:
			c.Covered = true
			c.Reason = fmt.Sprintf("covered by release %s (%s, signed by %s)", r.Path, r.Version, r.KeyID)
		}
		return c, nil
	}
	return Coverage{Reason: fmt.Sprintf("no release covers %s: run `slipway release --env %s`", id, env)}, nil
}

// ApplyGate is apply's decision for each saved plan: it runs only when
// the newest verified release of its stack pins exactly that plan, or,
// with AllowUnreleased, in an environment that is not protected.
type ApplyGate struct {
	Platform *spec.Platform
	// AllowUnreleased lets plans no release covers run in environments
	// that are not protected; in protected ones it changes nothing.
	AllowUnreleased bool
	// Trust resolves the keys the first time a plan needs them (it may
	// read git), at most once; Now is the gatekeeper's clock, and Log is
	// warned when the keys come from the work tree.
	Trust verify.TrustRoot
	Now   time.Time
	Log   *slog.Logger

	once sync.Once
	gk   *Gatekeeper
	err  error
}

// Admit returns nil coverage and no error for a plan AllowUnreleased lets
// through unchecked, the release coverage of a plan that may run, or an
// error saying why the plan may not run.
func (g *ApplyGate) Admit(ctx context.Context, env, stack, planSHA256 string) (*Coverage, error) {
	e, ok := g.Platform.Environments[env]
	if g.AllowUnreleased && ok && !e.Protected {
		return nil, nil
	}
	g.once.Do(func() {
		var keys *verify.Keys
		if keys, g.err = g.Trust.ResolveToAct(ctx, g.Log); g.err == nil {
			g.gk = NewGatekeeper(g.Platform.Root, keys.Keys, g.Now)
		}
	})
	if g.err != nil {
		return nil, g.err
	}
	c, err := g.gk.Check(ctx, env, stack, planSHA256)
	if err != nil {
		return nil, err
	}
	if !c.Covered {
		if g.AllowUnreleased {
			return nil, fmt.Errorf("%s (--allow-unreleased does not apply: %s is protected)", c.Reason, env)
		}
		return nil, errors.New(c.Reason)
	}
	return &c, nil
}
