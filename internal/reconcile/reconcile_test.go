package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/terraform/tftest"
)

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newPlatform copies the small test platform to a temporary repository.
func newPlatform(t testing.TB) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "platform")
	copyDir(t, "../desired/testdata/small", root)
	return root
}

func load(t testing.TB, root string) *spec.Platform {
	t.Helper()
	p, err := spec.Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func edit(t testing.TB, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func opts(t testing.TB) reconcile.Options {
	return reconcile.Options{Parallel: 2, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func needTerraform(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Terraform; skipped with -short")
	}
	if _, err := terraform.Find(context.Background(), ""); err != nil {
		t.Skip(err)
	}
}

func byStack(sums []terraform.Summary) map[string]terraform.Summary {
	m := map[string]terraform.Summary{}
	for _, s := range sums {
		m[s.Stack] = s
	}
	return m
}

// TestLifecycle plans and applies the small platform, then changes a spec,
// removes a model, and changes state behind Slipway's back.
func TestLifecycle(t *testing.T) { tftest.Each(t, testLifecycle) }

func testLifecycle(t *testing.T, bin *terraform.Binary) {
	ctx := context.Background()
	root := newPlatform(t)
	o := opts(t)
	o.Terraform = bin.Path

	// First plan: everything is created.
	res, err := reconcile.Plan(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range res.Stacks {
		ids = append(ids, s.Stack)
	}
	want := []string{"staging/_shared", "staging/nightly", "staging/scorer", "staging/stream", "production/_shared", "production/scorer", "production/stream"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("planned stacks (-want +got):\n%s", diff)
	}
	scorer := byStack(res.Stacks)["staging/scorer"]
	if scorer.Changes.Create == 0 || scorer.Changes.Update+scorer.Changes.Delete+scorer.Changes.Replace != 0 {
		t.Errorf("first plan of staging/scorer: %+v", scorer.Changes)
	}
	if d := scorer.Deployment; d == nil || d.Kind != "online" || d.Replicas == nil || d.Replicas.Max != 4 || d.Resources.MemoryMiB != 1024 {
		t.Errorf("deployment = %+v", d)
	}
	if diff := cmp.Diff([]string{reconcile.FullPlanReason}, scorer.Reasons); diff != "" {
		t.Error(diff)
	}
	if scorer.PlanFile != ".slipway/plans/staging/scorer.tfplan" || !strings.HasPrefix(scorer.PlanSHA256, "sha256:") {
		t.Errorf("plan file %q sha %q", scorer.PlanFile, scorer.PlanSHA256)
	}
	for _, suffix := range []string{".tfplan", ".plan.json", ".summary.json"} {
		if _, err := os.Stat(filepath.Join(root, ".slipway/plans/staging/scorer"+suffix)); err != nil {
			t.Error(err)
		}
	}

	checkContract(t, filepath.Join(root, ".slipway/plans/staging/scorer.summary.json"))

	// Apply, then apply again: nothing left to do.
	ar, err := reconcile.Apply(ctx, load(t, root), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ar.Stacks {
		if s.Status != reconcile.StatusApplied {
			t.Errorf("%s: %s %s", s.Stack, s.Status, s.Error)
		}
	}
	ar, err = reconcile.Apply(ctx, load(t, root), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ar.Stacks {
		if s.Status != reconcile.StatusAlreadyApplied {
			t.Errorf("second apply %s: %s", s.Stack, s.Status)
		}
	}

	// A plan of unchanged specs changes nothing, and drift finds nothing.
	res, err = reconcile.Plan(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Stacks {
		if s.Changes.Total() != 0 {
			t.Errorf("%s: unchanged specs plan %+v", s.Stack, s.Changes)
		}
	}
	dr, err := reconcile.Drift(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	if dr.Drifted != 0 || len(dr.Stacks) != 7 {
		t.Errorf("drift after apply: %d drifted of %d", dr.Drifted, len(dr.Stacks))
	}

	// A changed spec gives an update of the attributes it feeds.
	edit(t, filepath.Join(root, "models/scorer/model.cue"), `version: "1.0.0"`, `version: "1.1.0"`)
	res, err = reconcile.Plan(ctx, load(t, root), reconcile.Options{Envs: []string{"staging"}, Log: o.Log})
	if err != nil {
		t.Fatal(err)
	}
	scorer = byStack(res.Stacks)["staging/scorer"]
	// The deployment and the serving version its rollback strategy
	// (previous-version) keeps.
	if diff := cmp.Diff(terraform.Counts{Update: 2}, scorer.Changes); diff != "" {
		t.Errorf("update counts (-want +got):\n%s", diff)
	}
	if len(scorer.Resources) != 2 || !slices.Contains(scorer.Resources[0].Changed, "input.model_version") || !slices.Contains(scorer.Resources[0].Changed, "input.labels.version") ||
		!slices.Contains(scorer.Resources[1].Changed, "input.version") {
		t.Errorf("update resources = %+v", scorer.Resources)
	}
	if byStack(res.Stacks)["production/scorer"].Stack != "" {
		t.Errorf("--env staging planned production")
	}

	// Specs changed again after planning: the saved plan is stale.
	edit(t, filepath.Join(root, "models/scorer/model.cue"), `version: "1.1.0"`, `version: "1.2.0"`)
	_, err = reconcile.Apply(ctx, load(t, root), reconcile.Options{Envs: []string{"staging"}, Log: o.Log}, nil)
	if !errors.Is(err, terraform.ErrStalePlan) && (err == nil || !strings.Contains(err.Error(), "specs changed")) {
		t.Fatalf("apply of a stale plan: err = %v", err)
	}
	edit(t, filepath.Join(root, "models/scorer/model.cue"), `version: "1.2.0"`, `version: "1.1.0"`)

	// The gate can refuse a plan: nothing is applied.
	refuse := reconcile.GateFunc(func(_ context.Context, s terraform.Summary) error {
		return errors.New("no verified release covers " + s.PlanSHA256)
	})
	ar, err = reconcile.Apply(ctx, load(t, root), reconcile.Options{Envs: []string{"staging"}, Log: o.Log}, refuse)
	if !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("refused apply: err = %v", err)
	}
	for _, s := range ar.Stacks {
		if s.Stack == "staging/scorer" && s.Status != reconcile.StatusRefused {
			t.Errorf("staging/scorer: %s", s.Status)
		}
	}
	if _, err := reconcile.Apply(ctx, load(t, root), reconcile.Options{Envs: []string{"staging"}, Log: o.Log}, nil); err != nil {
		t.Fatal(err)
	}

	// A removed model's stack is planned as a delete, and goes once applied.
	if err := os.RemoveAll(filepath.Join(root, "models/nightly")); err != nil {
		t.Fatal(err)
	}
	res, err = reconcile.Plan(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	nightly := byStack(res.Stacks)["staging/nightly"]
	if !nightly.Orphan || nightly.Changes.Delete == 0 || nightly.Changes.Create+nightly.Changes.Update != 0 {
		t.Errorf("removed model: %+v", nightly)
	}
	if diff := cmp.Diff([]string{"model nightly removed from the specs"}, nightly.Reasons); diff != "" {
		t.Error(diff)
	}
	if _, err := reconcile.Apply(ctx, load(t, root), o, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".slipway/stacks/staging/nightly")); err == nil {
		t.Errorf("removed stack still rendered after its delete was applied")
	}

	// State changed outside Slipway is drift.
	state := filepath.Join(root, ".slipway/state/production/stream.tfstate")
	// Terraform indents its state; OpenTofu writes it compact.
	if b, _ := os.ReadFile(state); strings.Contains(string(b), `"parallelism":2`) {
		edit(t, state, `"parallelism":2`, `"parallelism":9`)
	} else {
		edit(t, state, `"parallelism": 2`, `"parallelism": 9`)
	}
	dr, err = reconcile.Drift(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	if dr.Drifted != 1 {
		t.Fatalf("drifted = %d, want 1: %+v", dr.Drifted, dr.Stacks)
	}
	for _, s := range dr.Stacks {
		if s.Drifted && (s.Stack != "production/stream" || !slices.Contains(s.Resources[0].Changed, "input.parallelism")) {
			t.Errorf("drift in %s: %+v", s.Stack, s.Resources)
		}
	}
}

func TestPlanWithoutTerraform(t *testing.T) {
	root := newPlatform(t)
	o := opts(t)
	o.Terraform = filepath.Join(t.TempDir(), "no-terraform")
	_, err := reconcile.Plan(context.Background(), load(t, root), o)
	if !errors.Is(err, terraform.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".slipway")); err == nil {
		t.Errorf("work dir written although nothing could be planned")
	}
}

func TestPlanUnwritableWorkDir(t *testing.T) {
	needTerraform(t)
	root := newPlatform(t)
	o := opts(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o.WorkDir = filepath.Join(file, "work")
	_, err := reconcile.Plan(context.Background(), load(t, root), o)
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownEnvironment(t *testing.T) {
	o := opts(t)
	o.Envs = []string{"qa"}
	_, err := reconcile.Plan(context.Background(), load(t, newPlatform(t)), o)
	if err == nil || !strings.Contains(err.Error(), `unknown environment "qa" (have staging, production)`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPGConnMissing(t *testing.T) {
	p := load(t, newPlatform(t))
	e := p.Environments["staging"]
	e.State = spec.State{Backend: "pg", ConnEnv: "SLIPWAY_TEST_NO_SUCH_VAR", SchemaName: "s"}
	p.Environments["staging"] = e
	o := opts(t)
	o.Getenv = func(string) string { return "" }
	_, err := reconcile.Plan(context.Background(), p, o)
	if err == nil || !strings.Contains(err.Error(), "set $SLIPWAY_TEST_NO_SUCH_VAR") {
		t.Fatalf("err = %v", err)
	}
}

func TestApplyWithoutPlans(t *testing.T) {
	_, err := reconcile.Apply(context.Background(), load(t, newPlatform(t)), opts(t), nil)
	if !errors.Is(err, reconcile.ErrNoPlans) {
		t.Fatalf("err = %v", err)
	}
}

func TestAffectedNamedStacks(t *testing.T) {
	p := load(t, newPlatform(t))
	o := opts(t)
	o.Stacks = []string{"staging/scorer", "production/_shared"}
	got, err := reconcile.Affected(context.Background(), p, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.AffectedStack{
		{ID: "staging/scorer", Reasons: []string{reconcile.FullPlanReason}},
		{ID: "production/_shared", Reasons: []string{reconcile.FullPlanReason}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	o.Stacks = []string{"staging/scorer", "staging/nope"}
	if _, err := reconcile.Affected(context.Background(), p, o); err == nil || !strings.Contains(err.Error(), "unknown stack staging/nope") {
		t.Errorf("err = %v", err)
	}
}

// TestNamespaceChangeReplaces checks that moving an environment to another
// namespace plans replacements, as a cluster would recreate the workloads.
func TestNamespaceChangeReplaces(t *testing.T) { tftest.Each(t, testNamespaceChangeReplaces) }

func testNamespaceChangeReplaces(t *testing.T, bin *terraform.Binary) {
	ctx := context.Background()
	root := newPlatform(t)
	o := opts(t)
	o.Terraform = bin.Path
	o.Envs = []string{"staging"}
	if _, err := reconcile.Plan(ctx, load(t, root), o); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.Apply(ctx, load(t, root), o, nil); err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(root, "environments.cue"), `state: backend: "local"`, `state: backend: "local"
		kubernetes: namespace: "ml-staging"`)
	res, err := reconcile.Plan(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Stacks {
		if s.Changes.Replace != 1 || s.Changes.Create+s.Changes.Delete != 0 {
			t.Errorf("%s: %+v, want one replace", s.Stack, s.Changes)
		}
	}
	r := byStack(res.Stacks)["staging/scorer"].Resources
	if len(r) == 0 || r[0].Address != "module.deployment.terraform_data.deployment" || !slices.Contains(r[0].Changed, "triggers_replace.namespace") {
		t.Errorf("scorer resources = %+v", r)
	}
}

// cancelOn cancels a context when a log message is seen.
type cancelOn struct {
	slog.Handler
	msg    string
	cancel context.CancelFunc
}

func (h cancelOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.cancel()
	}
	return h.Handler.Handle(ctx, r)
}

// TestInterrupt cancels a plan after its first stack: the run stops with a
// clear error, leaves no partial plan file, and the next run finds no lock.
func TestInterrupt(t *testing.T) { tftest.Each(t, testInterrupt) }

func testInterrupt(t *testing.T, bin *terraform.Binary) {
	root := newPlatform(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := opts(t)
	o.Terraform = bin.Path
	o.Parallel = 1
	o.Log = slog.New(cancelOn{Handler: slog.NewTextHandler(testWriter{t}, nil), msg: "planned", cancel: cancel})
	_, err := reconcile.Plan(ctx, load(t, root), o)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want an interruption", err)
	}
	tmp, _ := filepath.Glob(filepath.Join(root, ".slipway/plans/*/.*tmp*"))
	if len(tmp) > 0 {
		t.Errorf("partial plan files left: %v", tmp)
	}
	summaries, _ := filepath.Glob(filepath.Join(root, ".slipway/plans/*/*.summary.json"))
	if len(summaries) == 0 || len(summaries) == 7 {
		t.Errorf("%d summaries written, want some but not all", len(summaries))
	}
	o.LockTimeout = time.Millisecond
	o.Log = opts(t).Log
	if _, err := reconcile.Plan(context.Background(), load(t, root), o); err != nil {
		t.Fatalf("plan after the interrupt: %v", err)
	}
}

// checkContract checks a saved summary against the keys docs/contracts.md
// promises the policy engine.
func checkContract(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(m map[string]any, where string, keys ...string) {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", where, k)
			}
		}
	}
	has(doc, "summary", "stack", "environment", "model", "reasons", "changes", "resources", "deployment", "plan_file", "plan_sha256")
	has(doc["changes"].(map[string]any), "changes", "create", "update", "delete", "replace")
	res := doc["resources"].([]any)
	if len(res) == 0 {
		t.Fatal("no resources")
	}
	has(res[0].(map[string]any), "resource", "address", "type", "actions", "changed")
	d := doc["deployment"].(map[string]any)
	has(d, "deployment", "kind", "model", "model_version", "environment", "artifact_uri", "artifact_digest", "resources", "replicas", "alerts", "slos", "labels")
	has(d["resources"].(map[string]any), "deployment.resources", "cpu", "memory_mib")
	has(d["replicas"].(map[string]any), "deployment.replicas", "min", "max")
	if _, ok := d["schedule"]; ok {
		t.Errorf("online deployment has a schedule")
	}
}

// TestPlanReuse takes saved plans that still hold, as a job gathering a
// planning matrix's artifacts does, and plans again what changed. Terraform
// writes a new plan file, with a new digest, every time it plans, so an
// unchanged digest proves the plan was reused.
func TestPlanReuse(t *testing.T) { tftest.Each(t, testPlanReuse) }

func testPlanReuse(t *testing.T, bin *terraform.Binary) {
	ctx := context.Background()
	root := newPlatform(t)
	o := opts(t)
	o.Terraform = bin.Path
	o.Envs = []string{"staging"}
	first, err := reconcile.Plan(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(root, "models/scorer/model.cue"), `version: "1.0.0"`, `version: "1.0.1"`)
	o.Reuse = true
	second, err := reconcile.Plan(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	before, after := byStack(first.Stacks), byStack(second.Stacks)
	if len(after) != len(before) {
		t.Fatalf("second plan has %d stacks, want %d", len(after), len(before))
	}
	for id, s := range after {
		reused := s.PlanSHA256 == before[id].PlanSHA256
		if want := id != "staging/scorer"; reused != want {
			t.Errorf("%s: reused = %v, want %v", id, reused, want)
		}
	}
	// A plan file that no longer matches its summary is planned again.
	if err := os.WriteFile(filepath.Join(root, ".slipway/plans/staging/nightly.tfplan"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := reconcile.Plan(ctx, load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := byStack(third.Stacks)["staging/nightly"].PlanSHA256; got == after["staging/nightly"].PlanSHA256 {
		t.Error("staging/nightly: a plan file that differs from its summary was reused")
	}
}
