package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// Gate decides whether a saved plan may be applied. Apply asks it once per
// stack with changes, after checking that the plan file still has the
// digest its summary records and that the specs have not changed since,
// and before Terraform touches the stack. The release issue plugs in a gate
// that answers "is this stack's plan, with this sha256, covered by a
// verified release?".
type Gate interface {
	// AllowApply returns nil to let the plan be applied, or an error
	// saying why not; the stack is then skipped and reported refused.
	AllowApply(ctx context.Context, plan terraform.Summary) error
}

// GateFunc adapts a function to Gate.
type GateFunc func(ctx context.Context, plan terraform.Summary) error

// AllowApply calls f.
func (f GateFunc) AllowApply(ctx context.Context, plan terraform.Summary) error { return f(ctx, plan) }

// AllowAll lets every saved plan through; it is the gate until releases
// are required.
var AllowAll Gate = GateFunc(func(context.Context, terraform.Summary) error { return nil })

// ErrRefused wraps a gate's refusal.
var ErrRefused = errors.New("apply refused")

// ErrNoPlans: there is no saved plan in scope to apply.
var ErrNoPlans = errors.New("no saved plans")

// Apply statuses.
const (
	StatusApplied        = "applied"
	StatusNoChanges      = "no-changes"
	StatusAlreadyApplied = "already-applied"
	StatusRefused        = "refused"
	StatusFailed         = "failed"
)

// ApplyResult is what `slipway apply` prints.
type ApplyResult struct {
	Terraform string        `json:"terraform"`
	Stacks    []StackResult `json:"stacks"`
}

// StackResult is one stack's outcome.
type StackResult struct {
	Stack      string           `json:"stack"`
	Status     string           `json:"status"`
	PlanSHA256 string           `json:"plan_sha256"`
	Changes    terraform.Counts `json:"changes"`
	Error      string           `json:"error,omitempty"`
}

// Applied is written as <stack>.applied.json once a saved plan is applied,
// so it is never applied twice.
type Applied struct {
	Stack      string    `json:"stack"`
	PlanSHA256 string    `json:"plan_sha256"`
	AppliedAt  time.Time `json:"applied_at"`
	// State is the local state the apply left; empty for other backends.
	State terraform.StateMeta `json:"state,omitzero"`
}

// SavedPlans reads the summaries of the saved plans of the environments in
// scope, in promotion order.
func SavedPlans(p *spec.Platform, opts Options) ([]terraform.Summary, error) {
	if err := opts.defaults(p); err != nil {
		return nil, err
	}
	l := render.Layout{Root: opts.WorkDir}
	var out []terraform.Summary
	for _, env := range p.EnvironmentNames() {
		if !opts.inScope(env) {
			continue
		}
		files, err := filepath.Glob(filepath.Join(l.Root, "plans", env, "*.summary.json"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			var s terraform.Summary
			if err := json.Unmarshal(b, &s); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, s)
		}
	}
	sortSummaries(p, out)
	return out, nil
}

// Apply applies the saved plans of the environments in scope, never a
// fresh plan. A plan is refused as stale when its file changed since it
// was planned, when the specs now render its stack differently, or when
// Terraform finds the state moved on. gate is asked before each stack with
// changes; nil means AllowAll.
func Apply(ctx context.Context, p *spec.Platform, opts Options, gate Gate) (*ApplyResult, error) {
	if gate == nil {
		gate = AllowAll
	}
	if err := opts.defaults(p); err != nil {
		return nil, err
	}
	ctx, unlock, err := LockWorkDir(ctx, opts.WorkDir, opts.WorkDirWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	plans, err := SavedPlans(p, opts)
	if err != nil {
		return nil, err
	}
	l := render.Layout{Root: opts.WorkDir}
	if len(plans) == 0 {
		return nil, fmt.Errorf("%w under %s: run slipway plan first", ErrNoPlans, filepath.Join(l.Root, "plans"))
	}
	desiredByID := map[string]desired.Stack{}
	for _, s := range desired.Stacks(p) {
		desiredByID[s.ID()] = s
	}
	res := &ApplyResult{Stacks: make([]StackResult, len(plans))}
	// failures keeps Terraform's errors whole, for callers that branch on
	// them (errors.Is).
	failures := make([]error, len(plans))
	var targets []target
	var idx []int
	for i, sum := range plans {
		r := &res.Stacks[i]
		*r = StackResult{Stack: sum.Stack, PlanSHA256: sum.PlanSHA256, Changes: sum.Changes}
		if applied(l, sum) {
			r.Status = StatusAlreadyApplied
			continue
		}
		if sum.Changes.Total() == 0 {
			r.Status = StatusNoChanges
			continue
		}
		rs, err := checkFresh(l, sum, desiredByID)
		if err != nil {
			r.Status, r.Error = StatusFailed, err.Error()
			continue
		}
		if s, ok := desiredByID[sum.Stack]; ok {
			rs.Stack = s
		} else if e, ok := p.Environments[sum.Environment]; ok {
			rs.Backend, rs.Target, rs.Kubernetes = e.State, e.Target, e.K8s
		}
		if err := connEnv(rs.Stack, opts); err != nil {
			r.Status, r.Error = StatusFailed, err.Error()
			continue
		}
		if err := gate.AllowApply(ctx, sum); err != nil {
			r.Status, r.Error = StatusRefused, fmt.Errorf("%w: %w", ErrRefused, err).Error()
			continue
		}
		targets = append(targets, target{rs: rs, orphan: sum.Orphan})
		idx = append(idx, i)
	}
	var runErr error
	if len(targets) > 0 {
		bin, err := terraform.Find(ctx, opts.Terraform)
		if err != nil {
			return nil, err
		}
		res.Terraform = bin.Name + " " + bin.Version
		runner, err := newRunner(bin, l, opts)
		if err != nil {
			return nil, err
		}
		var mu sync.Mutex
		runErr = each(ctx, opts, targets, "applying", func(ctx context.Context, i int, t target) error {
			sum := plans[idx[i]]
			recovered, err := applyOne(ctx, runner, l, t, sum, opts)
			mu.Lock()
			defer mu.Unlock()
			r := &res.Stacks[idx[i]]
			if err != nil {
				r.Status, r.Error = StatusFailed, err.Error()
				failures[idx[i]] = err
				return err
			}
			r.Status = StatusApplied
			if recovered {
				r.Status = StatusAlreadyApplied
			}
			opts.Log.Info("applied", "stack", t.id())
			return nil
		})
	}
	var errs []error
	for i, r := range res.Stacks {
		switch r.Status {
		case StatusFailed:
			if failures[i] != nil {
				errs = append(errs, failures[i])
				continue
			}
			errs = append(errs, fmt.Errorf("stack %s: %s", r.Stack, strings.TrimPrefix(r.Error, "stack "+r.Stack+": ")))
		case StatusRefused:
			errs = append(errs, fmt.Errorf("stack %s: %w: %s", r.Stack, ErrRefused, strings.TrimPrefix(r.Error, ErrRefused.Error()+": ")))
		case "":
			// Not reached: interrupted before this stack started.
		}
	}
	if runErr != nil && ctx.Err() != nil {
		return res, runErr
	}
	return res, errors.Join(errs...)
}

func applied(l render.Layout, sum terraform.Summary) bool {
	b, err := os.ReadFile(l.PlanPath(sum.Environment, stackName(sum), ".applied.json"))
	if err != nil {
		return false
	}
	var a Applied
	return json.Unmarshal(b, &a) == nil && a.PlanSHA256 == sum.PlanSHA256
}

func stackName(sum terraform.Summary) string {
	if sum.Name != "" {
		return sum.Name
	}
	_, name, _ := strings.Cut(sum.Stack, "/")
	return name
}

// ErrStale wraps every reason a saved plan may no longer be applied.
var ErrStale = terraform.ErrStalePlan

// checkFresh makes sure a saved plan is still the one that was planned, for
// the specs as they are now, and returns its rendered stack.
func checkFresh(l render.Layout, sum terraform.Summary, want map[string]desired.Stack) (render.Stack, error) {
	env, name := sum.Environment, stackName(sum)
	planFile := l.PlanPath(env, name, ".tfplan")
	got, err := digest.File(planFile)
	if errors.Is(err, fs.ErrNotExist) {
		return render.Stack{}, fmt.Errorf("stack %s: plan file %s is missing", sum.Stack, planFile)
	}
	if err != nil {
		return render.Stack{}, err
	}
	if got != sum.PlanSHA256 {
		return render.Stack{}, fmt.Errorf("stack %s: %w: plan file digest %s differs from the summary's %s", sum.Stack, ErrStale, got, sum.PlanSHA256)
	}
	dir := l.StackDir(env, name)
	rs := render.Stack{Dir: dir, File: filepath.Join(dir, "main.tf.json"), SHA256: sum.ConfigSHA256}
	rs.Environment, rs.Name, rs.Model = env, name, sum.Model
	s, ok := want[sum.Stack]
	switch {
	case ok && sum.Orphan:
		return rs, fmt.Errorf("stack %s: %w: the plan deletes the stack but the specs want it again; run slipway plan", sum.Stack, ErrStale)
	case !ok && !sum.Orphan:
		return rs, fmt.Errorf("stack %s: %w: the stack left the specs since it was planned; run slipway plan", sum.Stack, ErrStale)
	case ok:
		d, err := render.RootDigest(s)
		if err != nil {
			return rs, err
		}
		if d != sum.ConfigSHA256 {
			return rs, fmt.Errorf("stack %s: %w: the specs changed since it was planned; run slipway plan", sum.Stack, ErrStale)
		}
	}
	// The init key only matters for re-initialising a fresh checkout; an
	// empty key makes the runner init when the stack has no marker.
	return rs, nil
}

func applyOne(ctx context.Context, r *terraform.Runner, l render.Layout, t target, sum terraform.Summary, opts Options) (recovered bool, err error) {
	ts := tfStack(l, t.rs, opts)
	ts.InitKey = ""
	if err := checkState(ts, t); err != nil {
		return false, err
	}
	if !terraform.IsInitialized(ts.Dir) {
		if err := r.Init(ctx, ts); err != nil {
			return false, err
		}
	}
	err = r.Apply(ctx, ts, l.PlanPath(sum.Environment, stackName(sum), ".tfplan"))
	switch {
	case errors.Is(err, terraform.ErrStalePlan):
		// A run that applied this plan but lost its record (a full disk
		// while writing .applied.json) left a state that already holds
		// the configuration: then the plan was applied.
		done, derr := holdsConfig(ctx, r, l, ts)
		if derr != nil || !done {
			return false, fmt.Errorf("%w\nnext: %s", err, replanHint(t))
		}
		opts.Log.Info("the state already holds this plan's configuration: it was applied by an earlier run", "stack", t.id())
		recovered, err = true, nil
	case errors.Is(err, terraform.ErrPartlyApplied):
		return false, fmt.Errorf("%w\nnext: %s", err, replanHint(t))
	case errors.Is(err, terraform.ErrStateNotSaved):
		return false, fmt.Errorf("%w\nnext: %s", err, recoverHint(t))
	case err != nil:
		return false, err
	}
	a := Applied{Stack: sum.Stack, PlanSHA256: sum.PlanSHA256, AppliedAt: time.Now().UTC()}
	if ts.StateFile != "" {
		// What state the apply left, so that recovering from a broken
		// state file can check its backup against it.
		a.State, _ = terraform.ReadStateFile(ts.StateFile)
	}
	if err := writeJSON(l.PlanPath(sum.Environment, stackName(sum), ".applied.json"), a); err != nil {
		return recovered, fmt.Errorf("stack %s: applied, but recording it failed: %w\nnext: fix the cause and run slipway apply again; it finds the plan applied in the state", sum.Stack, err)
	}
	if t.orphan {
		// Its resources are gone: stop planning it.
		if err := r.DeleteWorkspace(ctx, ts); err != nil {
			return recovered, err
		}
		if err := os.RemoveAll(t.rs.Dir); err != nil {
			return recovered, fmt.Errorf("stack %s: %w", sum.Stack, err)
		}
	}
	return recovered, nil
}

// holdsConfig reports whether the stack's state already matches its
// configuration: a plan against the recorded state (no refresh) has no
// changes.
func holdsConfig(ctx context.Context, r *terraform.Runner, l render.Layout, ts terraform.Stack) (bool, error) {
	scratch, err := os.MkdirTemp(l.Root, ".recheck-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(scratch)
	plan, err := r.Plan(ctx, ts, filepath.Join(scratch, "recheck.tfplan"), terraform.NoRefresh)
	if err != nil {
		return false, err
	}
	var sum terraform.Summary
	terraform.Summarize(&sum, plan)
	return sum.Changes.Total() == 0, nil
}

// lastApplied reads the record of the stack's last apply.
func lastApplied(l render.Layout, t target) (Applied, bool) {
	b, err := os.ReadFile(l.PlanPath(t.rs.Environment, t.rs.Name, ".applied.json"))
	if err != nil {
		return Applied{}, false
	}
	var a Applied
	return a, json.Unmarshal(b, &a) == nil
}
