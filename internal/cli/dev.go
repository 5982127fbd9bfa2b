package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/synth"
)

// newDevCmd holds commands for Slipway's own development: hidden from help.
func newDevCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "dev", Short: "Commands for developing Slipway itself", Hidden: true, Args: cobra.NoArgs}
	var models int
	synthCmd := &cobra.Command{
		Use:   "synth DIR",
		Short: "Write a synthetic platform repository of N models, for benchmarks",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if models < 1 {
				return usagef("--models %d: want at least 1", models)
			}
			if err := synth.Repo(args[0], models); err != nil {
				return err
			}
			fmt.Fprintf(o.stdout, "%s: %d models\n", args[0], models)
			return nil
		},
	}
	synthCmd.Flags().IntVar(&models, "models", 1000, "number of models")
	cmd.AddCommand(synthCmd)
	return cmd
}
