package terraform_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/terraform/tftest"
)

// TestInterruptedApplyReportsState interrupts an apply after Terraform
// created part of the plan: the error says the state moved (serial
// before and after), so the saved plan is known stale, instead of a bare
// "interrupted".
func TestInterruptedApplyReportsState(t *testing.T) {
	tftest.Each(t, testInterruptedApplyReportsState)
}

func testInterruptedApplyReportsState(t *testing.T, bin *terraform.Binary) {
	ctx := context.Background()
	work := t.TempDir()
	r, err := terraform.NewRunner(bin, work)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "stack")
	marker := filepath.Join(work, "slow-started")
	s := terraform.Stack{ID: "test/stack", Dir: dir, StateFile: filepath.Join(dir, "state.tfstate")}
	const first = `
terraform {
  backend "local" { path = "state.tfstate" }
}
resource "terraform_data" "a" { input = 1 }
`
	writeRoot(t, dir, first)
	if err := r.Init(ctx, s); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(work, "p.tfplan")
	if _, err := r.Plan(ctx, s, planFile, terraform.Normal); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(ctx, s, planFile); err != nil {
		t.Fatal(err)
	}
	before, err := terraform.ReadStateFile(s.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	writeRoot(t, dir, first+`
resource "terraform_data" "b" { input = 2 }
resource "terraform_data" "slow" {
  depends_on = [terraform_data.b]
  provisioner "local-exec" { command = "touch `+marker+` && sleep 60" }
}
`)
	if _, err := r.Plan(ctx, s, planFile, terraform.Normal); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Apply(cctx, s, planFile) }()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("apply never reached the slow resource")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	err = <-done
	if !errors.Is(err, terraform.ErrPartlyApplied) || !errors.Is(err, context.Canceled) {
		t.Fatalf("apply: %v, want ErrPartlyApplied after an interrupt", err)
	}
	after, rerr := terraform.ReadStateFile(s.StateFile)
	if rerr != nil || after.Serial <= before.Serial {
		t.Fatalf("state after the interrupt: %+v %v (before %+v)", after, rerr, before)
	}
	want := regexp.MustCompile(`serial \d+ -> \d+, \d+ resources\): part of the plan, or all of it, was applied, so the saved plan is stale`)
	if !want.MatchString(err.Error()) {
		t.Errorf("error does not say what Terraform did:\n%v", err)
	}
	// A stack left alone by an interrupt says so.
	if _, err := r.Plan(ctx, s, planFile, terraform.Normal); err != nil {
		t.Fatal(err)
	}
	cctx, cancel = context.WithCancel(ctx)
	cancel()
	err = r.Apply(cctx, s, planFile)
	if !errors.Is(err, context.Canceled) || errors.Is(err, terraform.ErrPartlyApplied) {
		t.Errorf("apply cancelled before it started: %v", err)
	}
}
