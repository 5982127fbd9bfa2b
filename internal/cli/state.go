package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newStateCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Repair a stack's Terraform state after a failed apply",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newStateRecoverCmd(o))
	return cmd
}

func newStateRecoverCmd(o *options) *cobra.Command {
	var f reconcileFlags
	var format, stack string
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Recover a stack's state that an interrupted apply left unsaved or broken, then plan it again",
		Long: `Recover repairs one stack's state after an apply that went wrong, then
plans the stack again:

  - when Terraform could not save the state (the backend went away during
    the apply), it left errored.tfstate in the stack's directory; recover
    pushes it to the backend with terraform state push, which refuses a
    state of another lineage or an older serial, and keeps the file as
    errored.tfstate.pushed-<time>;
  - when the local state file is empty or unreadable (Terraform was killed
    while writing it), recover restores its .backup, if the backup is the
    state the last apply recorded (same lineage, same or later serial).

Plan, apply and drift refuse a stack in either condition until it is
recovered. See docs/reconciler.md, "Recovering from failures".

Exit status: 0 when the state was recovered and planned, or was sound; 2
when it could not be recovered.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stack == "" {
				return usagef("--stack is required")
			}
			opts, err := f.options(o)
			if err != nil {
				return err
			}
			p, err := spec.Load(cmd.Context(), f.repo)
			if err != nil {
				return err
			}
			res, err := reconcile.Recover(cmd.Context(), p, opts, stack)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(o.stdout, res)
			}
			fmt.Fprintf(o.stdout, "%s: %s\n", res.Stack, res.Detail)
			if res.Plan != nil {
				printPlan(o.stdout, res.Plan)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&stack, "stack", "", "the stack `NAME` (<model> or _shared, or <env>/<name>)")
	formatFlag(cmd, &format, "text", "json")
	return cmd
}
