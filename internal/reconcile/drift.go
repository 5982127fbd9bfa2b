package reconcile

import (
	"context"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// DriftResult is what `slipway drift` prints.
type DriftResult struct {
	Terraform string `json:"terraform"`
	// Drifted counts stacks where the world or the state no longer matches
	// the specs.
	Drifted int `json:"drifted"`
	// Stacks are the deployed stacks checked; each summary's drift lists
	// what changed in the world since the state was recorded (refresh-only
	// plan) and its resources what in the state differs from the specs
	// (a plan against the recorded state).
	Stacks []DriftStack `json:"stacks"`
	// NotDeployed lists stacks in scope that hold no resources yet.
	NotDeployed []string `json:"not_deployed"`
}

// DriftStack is one stack's drift report.
type DriftStack struct {
	terraform.Summary
	Drifted bool `json:"drifted"`
}

// Drift runs a refresh-only plan on every deployed stack in scope, which
// reports what differs between the real world and the recorded state, and
// then a plan against the refreshed-free recorded state, which reports what
// in the state no longer matches the specs (someone changed it outside
// Slipway). Nothing is saved for apply.
func Drift(ctx context.Context, p *spec.Platform, opts Options) (*DriftResult, error) {
	if err := opts.defaults(p); err != nil {
		return nil, err
	}
	ctx, unlock, err := LockWorkDir(ctx, opts.WorkDir, opts.WorkDirWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	l := render.Layout{Root: opts.WorkDir}
	stacks := desired.Stacks(p, opts.Envs...)
	for _, s := range stacks {
		if err := connEnv(s, opts); err != nil {
			return nil, err
		}
	}
	res := &DriftResult{Stacks: []DriftStack{}, NotDeployed: []string{}}
	bin, err := terraform.Find(ctx, opts.Terraform)
	if err != nil {
		return nil, err
	}
	res.Terraform = bin.Name + " " + bin.Version
	rendered, err := render.Write(l, stacks)
	if err != nil {
		return nil, err
	}
	runner, err := newRunner(bin, l, opts)
	if err != nil {
		return nil, err
	}
	targets := make([]target, len(rendered))
	for i, rs := range rendered {
		targets[i] = target{rs: rs}
	}
	out := make([]*DriftStack, len(targets))
	scratch, err := os.MkdirTemp(l.Root, ".drift-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	err = each(ctx, opts, targets, "checking drift", func(ctx context.Context, i int, t target) error {
		ts := tfStack(l, t.rs, opts)
		// An empty state would read as "not deployed".
		if err := checkState(ts, t); err != nil {
			return err
		}
		if err := runner.Init(ctx, ts); err != nil {
			return err
		}
		base := filepath.Join(scratch, t.rs.Environment+"-"+t.rs.Name)
		refresh, err := runner.Plan(ctx, ts, base+".refresh.tfplan", terraform.RefreshOnly)
		if err != nil {
			return err
		}
		if !terraform.Deployed(refresh) {
			return nil // not deployed
		}
		recorded, err := runner.Plan(ctx, ts, base+".state.tfplan", terraform.NoRefresh)
		if err != nil {
			return err
		}
		ds := &DriftStack{Summary: terraform.Summary{
			Stack: t.id(), Name: t.rs.Name, Environment: t.rs.Environment, Model: t.rs.Model, Mode: "drift",
			Deployment: t.rs.Deployment(), ConfigSHA256: t.rs.SHA256,
		}}
		terraform.Summarize(&ds.Summary, recorded)
		var drift terraform.Summary
		terraform.Summarize(&drift, refresh)
		ds.Drift = append(drift.Drift, ds.Drift...)
		ds.Drifted = len(ds.Drift) > 0 || ds.Changes.Total() > 0
		ds.Reasons = []string{}
		if len(ds.Drift) > 0 {
			ds.Reasons = append(ds.Reasons, "resources changed outside Terraform since the state was recorded")
		}
		if ds.Changes.Total() > 0 {
			ds.Reasons = append(ds.Reasons, "state differs from the specs")
		}
		out[i] = ds
		opts.Log.Info("checked", "stack", t.id(), "drifted", ds.Drifted)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, ds := range out {
		if ds == nil {
			res.NotDeployed = append(res.NotDeployed, targets[i].id())
			continue
		}
		if ds.Drifted {
			res.Drifted++
		}
		res.Stacks = append(res.Stacks, *ds)
	}
	return res, nil
}
