// Package reconcile plans, applies and checks for drift the Terraform stacks
// a platform's specs call for. It ties together internal/desired (what
// should exist), internal/render (the root modules), internal/changes
// (which stacks a change affects) and internal/terraform (running it), and
// keeps the work dir layout of docs/contracts.md:
//
//	<work dir>/stacks/<env>/<stack>/main.tf.json
//	<work dir>/plans/<env>/<stack>.tfplan, .plan.json, .summary.json, .applied.json
//	<work dir>/state/<env>/<stack>.tfstate       (local backend)
//	<work dir>/modules/<content digest>/...       (embedded modules)
//
// The CLI's plan, apply and drift commands are thin wrappers of Plan, Apply
// and Drift; `slipway check` calls Plan too.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/changes"
	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/parallel"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// FullPlanReason is the reason every stack gets without a base ref.
const FullPlanReason = "full plan: no --base given"

// Options configure a reconciler run.
type Options struct {
	// WorkDir is the work dir; empty means <repository>/.slipway.
	WorkDir string
	// Envs limits the run to these environments; empty means all.
	Envs []string
	// Base is the git ref to detect changes against; empty plans every
	// stack in scope. Apply and drift ignore it.
	Base string
	// Stacks limits plan to these stack ids ("<env>/<name>"); empty means
	// every affected stack in scope.
	Stacks []string
	// Parallel is how many stacks run Terraform at once (at least 1).
	Parallel int
	// Terraform is an explicit binary path (--terraform); when empty,
	// $SLIPWAY_TERRAFORM (through Getenv), else terraform, else tofu on PATH.
	Terraform string
	// LockTimeout is how long Terraform waits for a state lock; 0 means
	// the default of 30s.
	LockTimeout time.Duration
	// WorkDirWait is how long to wait for another run's work-dir lock; 0
	// means WorkDirWait.
	WorkDirWait time.Duration
	// Getenv reads the variables named by pg backends' connEnv; nil means
	// os.Getenv.
	Getenv func(string) string
	// Log receives progress: which stacks start, finish and fail.
	Log *slog.Logger
	// Reuse takes a saved plan instead of planning again when its plan
	// file is the one its summary names and the specs still render the
	// stack it planned: how a job gathers plans made in parallel by other
	// jobs (a workflow's matrix) without planning them twice.
	Reuse bool
	// ReuseOnly runs no Terraform: a stack without a saved plan that
	// still holds is an error wrapping ErrNoSavedPlan. A release judging
	// a saved check result again uses it.
	ReuseOnly bool
}

// ErrNoSavedPlan means ReuseOnly found no saved plan that still holds.
var ErrNoSavedPlan = errors.New("no saved plan that still holds")

func (o *Options) defaults(p *spec.Platform) error {
	if o.WorkDir == "" {
		o.WorkDir = filepath.Join(p.Root, render.DefaultWorkDir)
	}
	abs, err := filepath.Abs(o.WorkDir)
	if err != nil {
		return err
	}
	// A committed symlink at .slipway would take plans and state elsewhere.
	if err := atomicfile.CheckDir(p.Root, abs); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	o.WorkDir = abs
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Terraform == "" {
		o.Terraform = o.Getenv(terraform.BinaryEnv)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, e := range o.Envs {
		if _, ok := p.Environments[e]; !ok {
			return fmt.Errorf("unknown environment %q (have %s)", e, strings.Join(p.EnvironmentNames(), ", "))
		}
	}
	return nil
}

func (o *Options) inScope(env string) bool {
	if len(o.Envs) == 0 {
		return true
	}
	for _, e := range o.Envs {
		if e == env {
			return true
		}
	}
	return false
}

// PlanResult is what `slipway plan` prints.
type PlanResult struct {
	Platform string `json:"platform"`
	// Base and BaseCommit are set when changes were detected against a ref.
	Base       string `json:"base,omitempty"`
	BaseCommit string `json:"base_commit,omitempty"`
	// Terraform is the binary that planned, e.g. "terraform 1.11.4".
	Terraform string `json:"terraform"`
	// Stacks are the planned stacks' summaries in promotion order.
	Stacks []terraform.Summary `json:"stacks"`
	// Unaffected lists the stacks in scope the change did not touch.
	Unaffected []string `json:"unaffected"`
	// Timing splits the run's wall time, for benchmarks.
	Timing Timing `json:"-"`
}

// Timing is where a run spent its time.
type Timing struct {
	// Render is spent deciding and rendering stacks; Terraform waiting for
	// Terraform (summed over stacks); Summary building and writing
	// summaries (summed over stacks).
	Render, Terraform, Summary time.Duration
}

// target is a stack to run Terraform on.
type target struct {
	rs      render.Stack
	reasons []string
	orphan  bool
}

func (t target) id() string { return t.rs.ID() }

// Plan renders and plans the stacks in scope that the change affects and
// saves each plan with its summary under the work dir.
func Plan(ctx context.Context, p *spec.Platform, opts Options) (*PlanResult, error) {
	if err := opts.defaults(p); err != nil {
		return nil, err
	}
	start := time.Now()
	l := render.Layout{Root: opts.WorkDir}
	sel, err := selectStacks(ctx, p, l, opts)
	if err != nil {
		return nil, err
	}
	want, reasons, orphans := sel.want, sel.reasons, sel.orphans
	res := &PlanResult{Platform: p.Name, Base: sel.base, BaseCommit: sel.commit, Unaffected: sel.unaffected, Stacks: []terraform.Summary{}}
	if len(want)+len(orphans) == 0 {
		res.Timing.Render = time.Since(start)
		return res, nil
	}
	for _, s := range want {
		if err := connEnv(s, opts); err != nil {
			return nil, err
		}
	}
	findStart := time.Now()
	bin, err := terraform.Find(ctx, opts.Terraform)
	if err != nil {
		return nil, err
	}
	// Asking Terraform its version is Terraform's time, not Slipway's.
	findTime := time.Since(findStart)
	// Nothing is written before Terraform is found; from here on, this
	// run owns the work dir.
	ctx, unlock, err := LockWorkDir(ctx, opts.WorkDir, opts.WorkDirWait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res.Timing.Terraform += findTime
	res.Terraform = bin.Name + " " + bin.Version
	rendered, err := render.Write(l, want)
	if err != nil {
		return nil, err
	}
	var targets []target
	for _, rs := range rendered {
		targets = append(targets, target{rs: rs, reasons: reasons[rs.ID()]})
	}
	runner, err := newRunner(bin, l, opts)
	if err != nil {
		return nil, err
	}
	// A fresh checkout (CI) has no rendered stacks to tell what was
	// deployed before; a pg backend knows from its workspaces.
	known := map[string]bool{}
	for _, s := range desired.Stacks(p) {
		known[s.ID()] = true
	}
	for _, o := range orphans {
		known[o.env+"/"+o.name] = true
	}
	extra, err := pgOrphans(ctx, p, l, runner, opts, known)
	if err != nil {
		return nil, err
	}
	orphans = append(orphans, extra...)
	for _, o := range orphans {
		e := p.Environments[o.env]
		// An empty root module with the environment's backend: planning it
		// deletes everything the stack's state holds.
		ors, err := render.Write(l, []desired.Stack{{Environment: o.env, Name: o.name, Target: e.Target, Backend: e.State, Kubernetes: e.K8s}})
		if err != nil {
			return nil, err
		}
		if err := connEnv(ors[0].Stack, opts); err != nil {
			return nil, err
		}
		targets = append(targets, target{rs: ors[0], reasons: []string{o.reason}, orphan: true})
	}
	res.Timing.Render = time.Since(start) - findTime
	summaries := make([]terraform.Summary, len(targets))
	var mu sync.Mutex
	err = each(ctx, opts, targets, "planning", func(ctx context.Context, i int, t target) error {
		if opts.Reuse || opts.ReuseOnly {
			if sum, ok := reusable(l, t); ok {
				sum.Reasons = t.reasons
				summaries[i] = sum
				opts.Log.Info("reusing saved plan", "stack", t.id(), "plan_sha256", sum.PlanSHA256)
				return nil
			}
			if opts.ReuseOnly {
				return fmt.Errorf("%s: %w (the specs no longer render what was planned, or the plan or its summary changed)", t.id(), ErrNoSavedPlan)
			}
		}
		sum, tfTime, sumTime, err := planOne(ctx, runner, l, p, t, opts)
		mu.Lock()
		res.Timing.Terraform += tfTime
		res.Timing.Summary += sumTime
		mu.Unlock()
		if err != nil {
			return err
		}
		summaries[i] = *sum
		opts.Log.Info("planned", "stack", t.id(), "create", sum.Changes.Create, "update", sum.Changes.Update,
			"delete", sum.Changes.Delete, "replace", sum.Changes.Replace)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Stacks = summaries
	return res, nil
}

// selection is the stacks a plan covers and why.
type selection struct {
	base, commit string
	want         []desired.Stack
	reasons      map[string][]string
	orphans      []orphan
	unaffected   []string
}

func selectStacks(ctx context.Context, p *spec.Platform, l render.Layout, opts Options) (*selection, error) {
	sel := &selection{reasons: map[string][]string{}, unaffected: []string{}}
	set := changes.Everything(FullPlanReason)
	if opts.Base != "" {
		var err error
		if set, err = changes.Detect(ctx, p, opts.Base); err != nil {
			return nil, err
		}
		sel.base, sel.commit = set.Base, set.Commit
	}
	only := map[string]bool{}
	for _, id := range opts.Stacks {
		only[id] = true
	}
	named := len(only) > 0
	found := map[string]bool{}
	for _, s := range desired.Stacks(p, opts.Envs...) {
		r := set.Reasons(s)
		if named {
			if !only[s.ID()] {
				continue
			}
			found[s.ID()] = true
			if len(r) == 0 {
				r = []string{"named with --stack"}
			}
		}
		if len(r) == 0 {
			sel.unaffected = append(sel.unaffected, s.ID())
			continue
		}
		sel.want = append(sel.want, s)
		sel.reasons[s.ID()] = r
	}
	orphans, err := findOrphans(p, l, opts)
	if err != nil {
		return nil, err
	}
	for _, o := range orphans {
		if named {
			if !only[o.env+"/"+o.name] {
				continue
			}
			found[o.env+"/"+o.name] = true
		}
		sel.orphans = append(sel.orphans, o)
	}
	var unknown []string
	for id := range only {
		if !found[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown stack %s: stacks are <env>/<model> or <env>/%s", strings.Join(unknown, ", "), desired.SharedStack)
	}
	return sel, nil
}

// AffectedStack is a stack a plan would cover, and why.
type AffectedStack struct {
	ID      string   `json:"id"`
	Reasons []string `json:"reasons"`
}

// Affected lists the stacks Plan would plan with the same options, without
// running Terraform or writing anything.
func Affected(ctx context.Context, p *spec.Platform, opts Options) ([]AffectedStack, error) {
	if err := opts.defaults(p); err != nil {
		return nil, err
	}
	sel, err := selectStacks(ctx, p, render.Layout{Root: opts.WorkDir}, opts)
	if err != nil {
		return nil, err
	}
	out := []AffectedStack{}
	for _, s := range sel.want {
		out = append(out, AffectedStack{ID: s.ID(), Reasons: sel.reasons[s.ID()]})
	}
	for _, o := range sel.orphans {
		out = append(out, AffectedStack{ID: o.env + "/" + o.name, Reasons: []string{o.reason}})
	}
	return out, nil
}

func newRunner(bin *terraform.Binary, l render.Layout, opts Options) (*terraform.Runner, error) {
	if err := os.MkdirAll(l.Root, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	r, err := terraform.NewRunner(bin, l.Root)
	if err != nil {
		return nil, err
	}
	if opts.LockTimeout > 0 {
		r.LockTimeout = opts.LockTimeout
	}
	return r, nil
}

// tfStack is what the runner needs of a rendered stack.
func tfStack(l render.Layout, rs render.Stack, opts Options) terraform.Stack {
	s := terraform.Stack{ID: rs.ID(), Dir: rs.Dir, Workspace: render.Workspace(rs.Stack), InitKey: rs.InitKey,
		BuiltinOnly: rs.Target == "" || rs.Target == "local", ReadsOwnState: render.ReadsOwnState(rs.Stack)}
	switch rs.Backend.Backend {
	case "pg":
		s.Env = map[string]string{"PG_CONN_STR": pgConnString(opts.Getenv(rs.Backend.ConnEnv), rs.Backend)}
	case "", "local":
		s.StateFile = l.StatePath(rs.Environment, rs.Name)
	}
	return s
}

// connEnv fails early when a pg stack's connection string is not set.
func connEnv(s desired.Stack, opts Options) error {
	if s.Backend.Backend != "pg" {
		return nil
	}
	if s.Backend.ConnEnv == "" || opts.Getenv(s.Backend.ConnEnv) == "" {
		return fmt.Errorf("stack %s: environment %s keeps state in PostgreSQL: set $%s to the connection string", s.ID(), s.Environment, s.Backend.ConnEnv)
	}
	return nil
}

// reusable returns the saved plan of t when it still holds: the summary
// names this stack, the plan file has the summary's digest, and the stack
// as rendered now is the one that was planned.
func reusable(l render.Layout, t target) (terraform.Summary, bool) {
	env, name := t.rs.Environment, t.rs.Name
	b, err := os.ReadFile(l.PlanPath(env, name, ".summary.json"))
	if err != nil {
		return terraform.Summary{}, false
	}
	var sum terraform.Summary
	if json.Unmarshal(b, &sum) != nil || sum.Stack != t.id() || sum.Orphan != t.orphan || sum.Mode != "plan" || sum.ConfigSHA256 != t.rs.SHA256 {
		return terraform.Summary{}, false
	}
	if d, err := digest.File(l.PlanPath(env, name, ".tfplan")); err != nil || d != sum.PlanSHA256 {
		return terraform.Summary{}, false
	}
	return sum, true
}

func planOne(ctx context.Context, r *terraform.Runner, l render.Layout, p *spec.Platform, t target, opts Options) (sum *terraform.Summary, tfTime, sumTime time.Duration, err error) {
	ts := tfStack(l, t.rs, opts)
	env, name := t.rs.Environment, t.rs.Name
	if err := checkState(ts, t); err != nil {
		return nil, 0, 0, err
	}
	tfStart := time.Now()
	if err := r.Init(ctx, ts); err != nil {
		return nil, time.Since(tfStart), 0, err
	}
	planFile := l.PlanPath(env, name, ".tfplan")
	plan, err := r.Plan(ctx, ts, planFile, terraform.Normal)
	tfTime = time.Since(tfStart)
	if err != nil {
		return nil, tfTime, 0, err
	}
	sumStart := time.Now()
	defer func() { sumTime = time.Since(sumStart) }()
	sum = &terraform.Summary{
		Stack: t.id(), Name: name, Environment: env, Model: t.rs.Model, Reasons: t.reasons, Mode: "plan",
		Deployment: t.rs.Deployment(), Orphan: t.orphan, ConfigSHA256: t.rs.SHA256,
		PlanFile: repoRel(p, planFile),
	}
	if t.orphan {
		sum.Model = ""
		if name != desired.SharedStack {
			sum.Model = name
		}
	}
	terraform.Summarize(sum, plan)
	if sum.PlanSHA256, err = digest.File(planFile); err != nil {
		return nil, tfTime, 0, err
	}
	js, err := terraform.RedactedJSON(plan)
	if err != nil {
		return nil, tfTime, 0, fmt.Errorf("stack %s: plan JSON: %w", t.id(), err)
	}
	if err := atomicfile.WriteFile(l.PlanPath(env, name, ".plan.json"), js, 0o644); err != nil {
		return nil, tfTime, 0, fmt.Errorf("stack %s: %w", t.id(), err)
	}
	// The summary is written last: apply only trusts plans that have one.
	if err := writeJSON(l.PlanPath(env, name, ".summary.json"), sum); err != nil {
		return nil, tfTime, 0, fmt.Errorf("stack %s: %w", t.id(), err)
	}
	return sum, tfTime, 0, nil
}

func repoRel(p *spec.Platform, path string) string {
	if r, err := filepath.Rel(p.Root, path); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return path
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

type orphan struct{ env, name, reason string }

// findOrphans lists stacks rendered earlier in environments in scope that
// the specs no longer call for. Stacks of environments removed from the
// specs are left alone: their backend settings went with them.
func findOrphans(p *spec.Platform, l render.Layout, opts Options) ([]orphan, error) {
	existing, err := render.Existing(l)
	if err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	want := map[string]bool{}
	for _, s := range desired.Stacks(p) {
		want[s.ID()] = true
	}
	var out []orphan
	for _, e := range existing {
		env, name := e[0], e[1]
		if want[env+"/"+name] || !opts.inScope(env) {
			continue
		}
		if _, ok := p.Environments[env]; !ok {
			opts.Log.Warn("environment left the specs; its stacks are not planned", "stack", env+"/"+name)
			continue
		}
		reason := "model " + name + " removed from the specs"
		if _, ok := p.Models[name]; ok {
			reason = "model " + name + " no longer deployed to " + env
		}
		out = append(out, orphan{env, name, reason})
	}
	return out, nil
}

// pgOrphans finds stacks the pg backends of the environments in scope hold
// state for (workspaces "<env>.<stack>") that the specs no longer call for.
// It asks the backend through each environment's shared stack, which the
// specs always have. Stacks named with --stack limit the search.
func pgOrphans(ctx context.Context, p *spec.Platform, l render.Layout, r *terraform.Runner, opts Options, known map[string]bool) ([]orphan, error) {
	only := map[string]bool{}
	for _, id := range opts.Stacks {
		only[id] = true
	}
	var out []orphan
	for _, env := range p.EnvironmentNames() {
		e := p.Environments[env]
		if !opts.inScope(env) || e.State.Backend != "pg" {
			continue
		}
		var shared desired.Stack
		for _, s := range desired.EnvironmentStacks(p, env) {
			if s.Name == desired.SharedStack {
				shared = s
			}
		}
		if err := connEnv(shared, opts); err != nil {
			return nil, err
		}
		rs, err := render.Write(l, []desired.Stack{shared})
		if err != nil {
			return nil, err
		}
		ts := tfStack(l, rs[0], opts)
		if err := r.Init(ctx, ts); err != nil {
			return nil, err
		}
		names, err := r.Workspaces(ctx, ts)
		if err != nil {
			return nil, err
		}
		for _, ws := range names {
			name, ok := strings.CutPrefix(ws, env+".")
			id := env + "/" + name
			if !ok || name == "" || known[id] || (len(only) > 0 && !only[id]) {
				continue
			}
			reason := "model " + name + " removed from the specs"
			if _, ok := p.Models[name]; ok {
				reason = "model " + name + " no longer deployed to " + env
			}
			out = append(out, orphan{env, name, reason})
		}
	}
	return out, nil
}

// each runs fn on every target with opts.Parallel workers, logging progress.
// A failed stack does not stop the others; an interrupt stops them all.
func each(ctx context.Context, opts Options, targets []target, verb string, fn func(context.Context, int, target) error) error {
	errs := make([]error, len(targets))
	// An interrupt starts no further stack; it is reported once, below.
	parallel.ForContext(ctx, len(targets), opts.Parallel, func(i int) {
		t := targets[i]
		opts.Log.Info(verb, "stack", t.id())
		if err := fn(ctx, i, t); err != nil {
			opts.Log.Error("failed", "stack", t.id(), "err", firstLine(err))
			errs[i] = err
		}
		// A failed stack is that stack's result: the others go on.
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted; Terraform was stopped and released its locks: %w", err)
	}
	return errors.Join(errs...)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// sortSummaries orders summaries by environment promotion order, the
// shared stack first, then by name.
func sortSummaries(p *spec.Platform, s []terraform.Summary) {
	order := map[string]int{}
	for i, e := range p.EnvironmentNames() {
		order[e] = i
	}
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Environment != b.Environment {
			return order[a.Environment] < order[b.Environment]
		}
		if (a.Model == "") != (b.Model == "") {
			return a.Model == ""
		}
		return a.Stack < b.Stack
	})
}
