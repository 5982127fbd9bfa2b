package terraform_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/terraform/tftest"
)

func TestCandidates(t *testing.T) {
	if diff := cmp.Diff([]string{"terraform", "tofu"}, terraform.Candidates("")); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"/opt/tf"}, terraform.Candidates("/opt/tf")); diff != "" {
		t.Error(diff)
	}
}

func TestCLIConfig(t *testing.T) {
	got := string(terraform.CLIConfig("/w/.slipway/plugin-cache"))
	for _, want := range []string{`plugin_cache_dir   = "/w/.slipway/plugin-cache"`, "disable_checkpoint = true"} {
		if !strings.Contains(got, want) {
			t.Errorf("CLI config lacks %q:\n%s", want, got)
		}
	}
}

func TestFindMissing(t *testing.T) {
	_, err := terraform.Find(context.Background(), filepath.Join(t.TempDir(), "no-such-terraform"))
	if !errors.Is(err, terraform.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "--terraform PATH") {
		t.Errorf("error gives no hint: %v", err)
	}
}

func TestFindTooOld(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\necho '{\"terraform_version\":\"1.3.0\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := terraform.Find(context.Background(), fake)
	if !errors.Is(err, terraform.ErrTooOld) {
		t.Fatalf("err = %v, want ErrTooOld", err)
	}
}

func writeRoot(t *testing.T, dir, body string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const rootTmpl = `
terraform {
  backend "local" { path = "state.tfstate" }
}
variable "secret" {
  type      = string
  sensitive = true
  default   = "SECRET_VALUE"
}
resource "terraform_data" "d" {
  input = {
    digest = "DIGEST"
    cpu    = 1
    token  = var.secret
  }
}
`

func TestPlanApplySummary(t *testing.T) { tftest.Each(t, testPlanApplySummary) }

func testPlanApplySummary(t *testing.T, bin *terraform.Binary) {
	ctx := context.Background()
	work := t.TempDir()
	r, err := terraform.NewRunner(bin, work)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "stack")
	writeRoot(t, dir, strings.ReplaceAll(rootTmpl, "DIGEST", "sha256:aa"))
	s := terraform.Stack{ID: "test/stack", Dir: dir, InitKey: "k1"}
	if err := r.Init(ctx, s); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(work, "plans", "p.tfplan")
	plan, err := r.Plan(ctx, s, planFile, terraform.Normal)
	if err != nil {
		t.Fatal(err)
	}
	var sum terraform.Summary
	terraform.Summarize(&sum, plan)
	if diff := cmp.Diff(terraform.Counts{Create: 1}, sum.Changes); diff != "" {
		t.Errorf("create counts: %s", diff)
	}
	if err := r.Apply(ctx, s, planFile); err != nil {
		t.Fatal(err)
	}
	// Applying the same plan again is refused as stale.
	if err := r.Apply(ctx, s, planFile); !errors.Is(err, terraform.ErrStalePlan) {
		t.Errorf("second apply err = %v, want ErrStalePlan", err)
	}

	// A changed input and a changed sensitive value are an update.
	body := strings.ReplaceAll(rootTmpl, "DIGEST", "sha256:bb")
	body = strings.ReplaceAll(body, "SECRET_VALUE", "OTHER_SECRET")
	writeRoot(t, dir, body)
	plan, err = r.Plan(ctx, s, planFile, terraform.Normal)
	if err != nil {
		t.Fatal(err)
	}
	terraform.Summarize(&sum, plan)
	want := []terraform.Resource{{
		Address: "terraform_data.d", Type: "terraform_data", Actions: []string{"update"},
		Changed: []string{"input.digest", "input.token"},
		Diff: []terraform.AttrDiff{
			{Path: "input.digest", Before: "sha256:aa", After: "sha256:bb"},
			{Path: "input.token", Before: terraform.Redacted, After: terraform.Redacted},
		},
	}}
	if diff := cmp.Diff(want, sum.Resources); diff != "" {
		t.Errorf("update summary (-want +got):\n%s", diff)
	}
	js, err := terraform.RedactedJSON(plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"SECRET_VALUE", "OTHER_SECRET"} {
		if strings.Contains(string(js), secret) {
			t.Errorf("saved plan JSON leaks %s", secret)
		}
	}
	// Init is skipped when the init key is unchanged.
	fi, _ := os.Stat(filepath.Join(dir, ".terraform", "slipway-init"))
	if err := r.Init(ctx, s); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(filepath.Join(dir, ".terraform", "slipway-init"))
	if !fi.ModTime().Equal(fi2.ModTime()) {
		t.Errorf("init ran again with the same key")
	}
}

func TestTerraformErrorNamesStack(t *testing.T) { tftest.Each(t, testTerraformErrorNamesStack) }

func testTerraformErrorNamesStack(t *testing.T, bin *terraform.Binary) {
	work := t.TempDir()
	r, err := terraform.NewRunner(bin, work)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "bad")
	writeRoot(t, dir, `resource "terraform_data" "x" { input = var.missing }`)
	err = r.Init(context.Background(), terraform.Stack{ID: "prod/broken", Dir: dir})
	if err == nil {
		_, err = r.Plan(context.Background(), terraform.Stack{ID: "prod/broken", Dir: dir}, filepath.Join(work, "x.tfplan"), terraform.Normal)
	}
	if err == nil || !strings.Contains(err.Error(), "stack prod/broken: "+bin.Name) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err = %v, want the stack name and Terraform's message", err)
	}
	if _, statErr := os.Stat(filepath.Join(work, "x.tfplan")); statErr == nil {
		t.Errorf("failed plan left a plan file")
	}
}

// TestInterruptReleasesLock cancels an apply while Terraform runs a slow
// provisioner and checks that the state lock was released.
func TestInterruptReleasesLock(t *testing.T) { tftest.Each(t, testInterruptReleasesLock) }

func testInterruptReleasesLock(t *testing.T, bin *terraform.Binary) {
	work := t.TempDir()
	r, err := terraform.NewRunner(bin, work)
	if err != nil {
		t.Fatal(err)
	}
	r.LockTimeout = 0
	dir := filepath.Join(work, "slow")
	writeRoot(t, dir, `
terraform {
  backend "local" { path = "state.tfstate" }
}
resource "terraform_data" "slow" {
  input = "x"
  provisioner "local-exec" { command = "touch provisioning && sleep 30" }
}
`)
	s := terraform.Stack{ID: "test/slow", Dir: dir}
	ctx := context.Background()
	if err := r.Init(ctx, s); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(work, "slow.tfplan")
	if _, err := r.Plan(ctx, s, planFile, terraform.Normal); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Apply(cctx, s, planFile) }()
	// Wait until Terraform holds the lock and runs the provisioner (it
	// touches a file first), then interrupt it.
	deadline := time.Now().Add(60 * time.Second)
	for {
		locked, _ := filepath.Glob(filepath.Join(dir, "*.lock.info"))
		if _, err := os.Stat(filepath.Join(dir, "provisioning")); err == nil && len(locked) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("apply never reached the provisioner holding the lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("apply err = %v, want cancellation", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.lock.info")); len(m) > 0 {
		t.Errorf("lock info left behind: %v", m)
	}
	// With no lock timeout, a plan fails at once if the lock is still held.
	if _, err := r.Plan(ctx, s, filepath.Join(work, "after.tfplan"), terraform.Normal); err != nil {
		t.Fatalf("plan after interrupt: %v", err)
	}
}

// TestFindTofu falls back to tofu when there is no terraform on PATH.
func TestFindTofu(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho '{\"terraform_version\":\"1.8.2\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'\n"
	if err := os.WriteFile(filepath.Join(dir, "tofu"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	bin, err := terraform.Find(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if bin.Name != "tofu" || bin.Version != "1.8.2" {
		t.Errorf("found %v", bin)
	}
}
