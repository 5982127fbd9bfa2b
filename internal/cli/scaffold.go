package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/scaffold"
)

func newInitCmd(o *options) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Create a new platform repository",
		Long: `Init writes a platform repository that validates: the platform, staging and
production environments, the standard deployment templates, and a copy of
Slipway's schemas in cue.mod so editors and cue vet understand them.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := scaffold.Init(args[0], name)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(o.stdout, "%s/%s\n", args[0], f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "platform name (default: the directory's name)")
	return cmd
}

func newNewCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Add a component from a standard template",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newNewModelCmd(o))
	return cmd
}

func newNewModelCmd(o *options) *cobra.Command {
	var repo string
	var m scaffold.Model
	cmd := &cobra.Command{
		Use:   "model NAME --template batch|online|streaming",
		Short: "Add a model directory with a spec, runbook and evidence folder",
		Long: `New model writes models/NAME/model.cue, RUNBOOK.md and evidence/ from the
repository's template of the given kind. Values marked TODO(slipway) are
placeholders: the spec validates, but the policy gate denies the model until
each one is filled in.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m.Name = args[0]
			switch m.Kind {
			case "batch", "online", "streaming":
			default:
				return usagef("--template %q: want batch, online or streaming", m.Kind)
			}
			files, err := scaffold.NewModel(cmd.Context(), repo, m)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(o.stdout, f)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().StringVar(&m.Kind, "template", "", "template kind: batch, online or streaming (required)")
	cmd.Flags().StringVar(&m.Template, "from", "", "template `NAME` to start from (default: the first of the kind)")
	cmd.Flags().StringVar(&m.Data, "data", "", "data `SOURCE` the model trains and is evaluated on (default: the first declared)")
	_ = cmd.MarkFlagRequired("template")
	return cmd
}

// exactArgs is cobra.ExactArgs as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: want %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
