package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newApplyCmd(o *options) *cobra.Command {
	var f reconcileFlags
	var format string
	var allowUnreleased bool
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Apply the saved plans",
		Long: `Apply applies the plans slipway plan saved under <workdir>/plans, never a
fresh plan. A plan is refused as stale when its file no longer has the
sha256 its summary records, when the specs now render its stack differently,
or when Terraform finds the state changed since it was planned: run slipway
plan again. Plans without changes and plans already applied are skipped.
Every other plan needs a release that verifies with the trusted keys (see
slipway verify: --key, SLIPWAY_TRUSTED_KEYS or --base) and pins exactly it.

Exit status: 0 when every plan applied or was skipped, 1 when an apply gate
refused a plan, 2 on any other failure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options(o)
			if err != nil {
				return err
			}
			p, err := spec.Load(cmd.Context(), f.repo)
			if err != nil {
				return err
			}
			now, err := releaseNow(o)
			if err != nil {
				return err
			}
			res, err := reconcile.Apply(cmd.Context(), p, opts, releaseGate(o, p, trust.root(o, p.Root), now, allowUnreleased))
			if res != nil {
				if format == "json" {
					_ = writeJSON(o.stdout, res)
				} else {
					for _, s := range res.Stacks {
						fmt.Fprintf(o.stdout, "%-40s %s", s.Stack, s.Status)
						if s.Status == reconcile.StatusApplied {
							fmt.Fprintf(o.stdout, " (%s)", counts(s.Changes))
						}
						fmt.Fprintln(o.stdout)
						if s.Error != "" && (s.Status == reconcile.StatusRefused || s.Status == reconcile.StatusFailed) {
							// Terraform's full message follows on stderr.
							line, _, _ := strings.Cut(s.Error, "\n")
							fmt.Fprintf(o.stdout, "  %s\n", line)
						}
					}
				}
			}
			if errors.Is(err, reconcile.ErrRefused) && !anyFailed(res) {
				return fmt.Errorf("%w: %w", ErrDenied, err)
			}
			return err
		},
	}
	f.register(cmd)
	allowUnreleasedFlag(cmd, &allowUnreleased)
	trust.register(cmd)
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

// anyFailed reports whether a stack failed outright: then the exit status
// is 2 even if the gate also refused another stack.
func anyFailed(res *reconcile.ApplyResult) bool {
	if res == nil {
		return true
	}
	for _, s := range res.Stacks {
		if s.Status == reconcile.StatusFailed {
			return true
		}
	}
	return false
}
