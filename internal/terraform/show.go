package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Slipway runs `terraform init` and `terraform show -json` itself rather
// than through terraform-exec: each terraform-exec instance asks Terraform
// its version (`terraform version -json`, one more process) before its
// first init or show, so planning eight stacks started eight to sixteen
// extra processes. Find has asked the version once for the whole process,
// and every binary it accepts has these commands and flags.

// init runs `init -reconfigure` on the stack, as terraform-exec's Init with
// Upgrade(false) and Reconfigure(true) does.
func (r *Runner) init(ctx context.Context, s Stack) error {
	return r.run(ctx, s, io.Discard, "init", "-no-color", "-input=false", "-backend=true", "-get=true", "-upgrade=false", "-reconfigure")
}

// showPlan reads a saved plan file as JSON, decoded as terraform-exec's
// ShowPlanFile decodes it (numbers as float64).
func (r *Runner) showPlan(ctx context.Context, s Stack, planFile string) (*tfjson.Plan, error) {
	var p tfjson.Plan
	if err := r.showJSON(ctx, s, &p, planFile); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// showState reads the stack's current state as JSON, decoded as
// terraform-exec's Show decodes it (numbers as json.Number).
func (r *Runner) showState(ctx context.Context, s Stack) (*tfjson.State, error) {
	var st tfjson.State
	st.UseJSONNumber(true)
	if err := r.showJSON(ctx, s, &st); err != nil {
		return nil, err
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return &st, nil
}

// showJSON runs `show -json [file]` and decodes its output into v.
func (r *Runner) showJSON(ctx context.Context, s Stack, v json.Unmarshaler, args ...string) error {
	var stdout bytes.Buffer
	if err := r.run(ctx, s, &stdout, append([]string{"show", "-json", "-no-color"}, args...)...); err != nil {
		return err
	}
	return v.UnmarshalJSON(stdout.Bytes())
}

// run runs the binary with args in the stack's directory and environment,
// stdout to w. On failure the error carries Terraform's stderr, as
// terraform-exec's errors do, so wrap can read it; on cancellation it
// wraps the context's error.
func (r *Runner) run(ctx context.Context, s Stack, w io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, r.bin.Path, args...)
	cmd.Dir = s.Dir
	cmd.Env = runEnv(r.env(s))
	// As terraform-exec does: an interrupt lets Terraform stop cleanly, and
	// its own process group keeps a terminal's Ctrl-C from reaching it twice.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	// Only init and show run here: neither writes state, so an interrupt
	// ends them soon even when a backend never answers.
	cmd.WaitDelay = r.ReadWaitDelay
	ownProcessGroup(cmd)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w: %w", err, ctxErr)
		}
		return fmt.Errorf("%w\n\n%s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// runEnv is the process environment for env, with what terraform-exec sets
// on every run: automation mode, no input, no logging on stderr.
func runEnv(env map[string]string) []string {
	out := make([]string, 0, len(env)+3)
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	out = append(out, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "TF_LOG=")
	sort.Strings(out)
	return out
}
