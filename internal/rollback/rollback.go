// Package rollback takes a model in an environment back to an earlier
// verified release with real Terraform and records it in the ledger as a
// signed rollback record; and reads those records back as the rehearsal
// facts the handover policy judges.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/ledgerrecord"
	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/verify"
)

// ErrRefused means the rollback was refused before Terraform ran: no
// verified release covers it.
var ErrRefused = errors.New("rollback refused")

// Request is one rollback.
type Request struct {
	Platform *spec.Platform
	// Reconcile carries the work dir, Terraform binary and logging.
	Reconcile   reconcile.Options
	Environment string
	Model       string
	// To is the version to go back to; empty means the newest verified
	// release of another version than the newest release.
	To string
	// Trust gives the keys that verify the ledger; Signer signs the
	// rollback record.
	Trust  verify.TrustRoot
	Signer *sign.Signer
	Now    time.Time
	// User is who ran the rollback as the environment declares it, and
	// DeclaredBy the variable that said so.
	User, DeclaredBy string
	// Version is Slipway's own version.
	Version string
}

// Outcome is what a rollback did.
type Outcome struct {
	Environment string                    `json:"environment"`
	Model       string                    `json:"model"`
	From        ReleaseRef                `json:"from"`
	To          ReleaseRef                `json:"to"`
	Strategy    string                    `json:"strategy"`
	Result      *reconcile.RollbackResult `json:"result,omitempty"`
	Outcome     string                    `json:"outcome"`
	Error       string                    `json:"error,omitempty"`
	// Record is the rollback record appended to the ledger.
	Record string `json:"record"`
	Seq    int    `json:"seq"`
	KeyID  string `json:"keyId"`
}

// Run rolls the model back and appends the signed rollback record, also
// when Terraform fails: a failed rehearsal is evidence too. A refusal
// (wrapping ErrRefused) records nothing. The returned error is the
// Terraform failure when the record says "failed".
func Run(ctx context.Context, r Request) (*Outcome, error) {
	p := r.Platform
	m, ok := p.Models[r.Model]
	if !ok {
		return nil, fmt.Errorf("%w: unknown model %q", ErrRefused, r.Model)
	}
	if _, ok := p.Environments[r.Environment]; !ok {
		return nil, fmt.Errorf("%w: unknown environment %q", ErrRefused, r.Environment)
	}
	if r.Reconcile.WorkDir == "" {
		r.Reconcile.WorkDir = filepath.Join(p.Root, render.DefaultWorkDir)
	}
	// The pinned plans read, the Terraform run and the record appended
	// stay this run's.
	ctx, unlock, err := reconcile.LockWorkDir(ctx, r.Reconcile.WorkDir, r.Reconcile.WorkDirWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	keys, err := r.Trust.ResolveToAct(ctx, r.Reconcile.Log)
	if err != nil {
		return nil, err
	}
	t, err := FindRollbackTarget(ctx, p.Root, keys.Keys, r.Now, r.Environment, r.Model, r.To)
	if errors.Is(err, ErrNotCovered) {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if err != nil {
		return nil, err
	}
	pinned, err := render.PinnedPlan(r.Reconcile.WorkDir, t.Stack.PlanSHA256)
	if err != nil {
		return nil, fmt.Errorf("%w: the plan release %s pinned for %s: %w", ErrRefused, t.To.Path, t.Stack.ID, err)
	}
	out := &Outcome{Environment: r.Environment, Model: r.Model, From: t.From, To: t.To, Strategy: m.Handover.Rollback.Strategy}
	started := time.Now()
	res, runErr := reconcile.Rollback(ctx, p, r.Reconcile, reconcile.RollbackStack{
		Environment: r.Environment, Name: r.Model, PinnedPlan: pinned, Rendered: t.Stack.Rendered,
	})
	if errors.Is(runErr, reconcile.ErrRefused) {
		return nil, fmt.Errorf("%w: %w", ErrRefused, runErr)
	}
	if res == nil {
		return nil, runErr // nothing ran: Terraform missing, the lock held
	}
	out.Result = res
	out.Outcome = attest.RollbackSucceeded
	if runErr != nil {
		out.Outcome, out.Error = attest.RollbackFailed, runErr.Error()
	}
	duration := res.Duration
	if duration == 0 {
		duration = time.Since(started)
	}
	subject, err := attest.NewSubject(t.To.Path, t.To.Record)
	if err != nil {
		return out, err
	}
	pred := attest.Rollback{
		From:     attest.RollbackRelease{Version: t.From.Version, Revision: t.From.Revision, Record: t.From.Path, Digest: t.From.Record},
		To:       attest.RollbackRelease{Version: t.To.Version, Revision: t.To.Revision, Record: t.To.Path, Digest: t.To.Record},
		Strategy: out.Strategy,
		Stacks: []attest.RollbackStack{{ID: t.Stack.ID, Rendered: t.Stack.Rendered, PinnedPlan: t.Stack.PlanSHA256,
			PlanSHA256: res.PlanSHA256, Changes: attest.Changes(res.Changes)}},
		Outcome: out.Outcome, Error: out.Error,
		StartedAt: r.Now.UTC().Format(time.RFC3339), DurationSeconds: duration.Round(time.Millisecond).Seconds(),
		By:        attest.Actor{KeyID: r.Signer.KeyID, User: r.User, DeclaredBy: r.DeclaredBy},
		Terraform: res.Terraform, Slipway: attest.Tool{Version: r.Version},
	}
	e, err := ledgerrecord.Append(ctx, p.Root, r.Signer, ledgerrecord.Record{
		Kind: ledger.Rollback, Environment: r.Environment, Model: attest.ModelRef{Name: r.Model, Version: t.To.Version},
		Now: r.Now, Subject: subject,
		Predicate: func(h attest.RecordHeader) any { pred.RecordHeader = h; return pred },
	})
	if err != nil {
		return out, fmt.Errorf("record the rollback of %s/%s: %w", r.Environment, r.Model, err)
	}
	out.Record, out.Seq, out.KeyID = e.Path, e.Seq, r.Signer.KeyID
	return out, runErr
}
