package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// RollbackDir is where, inside the work dir, a rollback restores a
// release's root module to plan and apply it: rollback/ENV/STACK sits as
// deep as stacks/ENV/STACK, so the rendered relative paths to the state
// and the modules resolve to the same files.
const RollbackDir = "rollback"

// RollbackStack is one stack to roll back: the saved plan a verified
// release pinned and the digest of the root module the release signed.
type RollbackStack struct {
	Environment string
	// Name is the stack's name, the model's.
	Name string
	// PinnedPlan is the pinned plan file, its digest already checked.
	PinnedPlan string
	// Rendered is the signed digest of the release's root module.
	Rendered string
}

// RollbackResult is what re-applying a release's configuration did.
type RollbackResult struct {
	Terraform string `json:"terraform"`
	Stack     string `json:"stack"`
	// PlanSHA256 is the digest of the plan the rollback made and applied.
	PlanSHA256 string           `json:"plan_sha256"`
	Changes    terraform.Counts `json:"changes"`
	// Applied is true once Terraform applied the plan.
	Applied  bool          `json:"applied"`
	Duration time.Duration `json:"-"`
}

// Rollback restores the root module a release pinned and applies it to
// the stack's current state. A saved plan is bound to the state it was
// made against: Terraform refuses to apply it once another apply moved
// the state on, which every rollback follows. So the configuration the
// release signed is taken from its pinned plan's configuration snapshot,
// checked against the release's rendered digest, planned against the
// current state and applied. The caller has already checked that a
// verified release pins that plan.
func Rollback(ctx context.Context, p *spec.Platform, opts Options, rb RollbackStack) (*RollbackResult, error) {
	if err := opts.defaults(p); err != nil {
		return nil, err
	}
	id := rb.Environment + "/" + rb.Name
	var want *desired.Stack
	for _, s := range desired.Stacks(p, rb.Environment) {
		if s.Name == rb.Name {
			want = &s
			break
		}
	}
	if want == nil {
		return nil, fmt.Errorf("stack %s: %w: the specs no longer deploy it; rolling back needs the stack's current backend", id, ErrRefused)
	}
	if err := connEnv(*want, opts); err != nil {
		return nil, err
	}
	root, err := terraform.PlanRoot(rb.PinnedPlan)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	if d := digest.Bytes(root); d != rb.Rendered {
		return nil, fmt.Errorf("stack %s: %w: the pinned plan's root module is %s, the release signed %s", id, ErrRefused, d, rb.Rendered)
	}
	current, err := render.Root(*want)
	if err != nil {
		return nil, err
	}
	if err := sameBackend(root, current); err != nil {
		return nil, fmt.Errorf("stack %s: %w: %w", id, ErrRefused, err)
	}
	bin, err := terraform.Find(ctx, opts.Terraform)
	if err != nil {
		return nil, err
	}
	ctx, unlock, err := LockWorkDir(ctx, opts.WorkDir, opts.WorkDirWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	l := render.Layout{Root: opts.WorkDir}
	if _, err := render.ExtractModules(l); err != nil {
		return nil, err
	}
	dir := filepath.Join(l.Root, RollbackDir, rb.Environment, rb.Name)
	if err := moduleSourcesExist(dir, root); err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	rs := render.Stack{Stack: *want, Dir: dir, File: filepath.Join(dir, "main.tf.json"), SHA256: rb.Rendered}
	if err := atomicfile.WriteFile(rs.File, root, 0o644); err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	runner, err := newRunner(bin, l, opts)
	if err != nil {
		return nil, err
	}
	res := &RollbackResult{Terraform: bin.Name + " " + bin.Version, Stack: id}
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	ts := tfStack(l, rs, opts)
	ts.InitKey = "" // init every time: the restored root may differ from the last
	if err := checkState(ts, target{rs: rs}); err != nil {
		return nil, err
	}
	if err := runner.Init(ctx, ts); err != nil {
		return res, err
	}
	planFile := filepath.Join(dir, "rollback.tfplan")
	plan, err := runner.Plan(ctx, ts, planFile, terraform.Normal)
	if err != nil {
		return res, err
	}
	var sum terraform.Summary
	terraform.Summarize(&sum, plan)
	res.Changes = sum.Changes
	if res.PlanSHA256, err = digest.File(planFile); err != nil {
		return res, err
	}
	opts.Log.Info("rolling back", "stack", id, "changes", res.Changes.Total())
	if res.Changes.Total() > 0 {
		if err := runner.Apply(ctx, ts, planFile); err != nil {
			return res, err
		}
	}
	res.Applied = true
	return res, nil
}

// sameBackend refuses a restored root module whose backend differs from
// the one the specs give the stack now: its plan would read and write
// another state than the stack's.
func sameBackend(restored, current []byte) error {
	var a, b struct {
		Terraform struct {
			Backend json.RawMessage `json:"backend"`
		} `json:"terraform"`
	}
	if err := json.Unmarshal(restored, &a); err != nil {
		return fmt.Errorf("restored root module: %w", err)
	}
	if err := json.Unmarshal(current, &b); err != nil {
		return err
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a.Terraform.Backend) != nil || json.Compact(&cb, b.Terraform.Backend) != nil || !bytes.Equal(ca.Bytes(), cb.Bytes()) {
		return errors.New("the environment's state backend changed since the release: its configuration would plan against another state")
	}
	return nil
}

// moduleSourcesExist checks that every module the restored root calls is
// in the work dir: the modules live under modules/<content digest>, so a
// release made by another Slipway build needs that build's modules.
func moduleSourcesExist(dir string, root []byte) error {
	var doc struct {
		Module map[string]struct {
			Source string `json:"source"`
		} `json:"module"`
	}
	if err := json.Unmarshal(root, &doc); err != nil {
		return fmt.Errorf("restored root module: %w", err)
	}
	for name, m := range doc.Module {
		src := path.Clean(m.Source)
		if !strings.HasPrefix(src, "../../../modules/") {
			return fmt.Errorf("module %s: source %q is not one of Slipway's modules", name, m.Source)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(src))); err != nil {
			return fmt.Errorf("module %s: %s is not in the work dir (the release was made by another Slipway build; run rollback with that build): %w", name, src, err)
		}
	}
	return nil
}
