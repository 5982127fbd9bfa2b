package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newDriftCmd(o *options) *cobra.Command {
	var f reconcileFlags
	var format string
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Report where deployed stacks no longer match the specs",
		Long: `Drift runs, for every deployed stack in scope, a refresh-only plan (what
changed in the real world since the state was recorded) and a plan against
the recorded state (what in the state no longer matches the specs, e.g.
after someone changed it outside Slipway). Nothing is saved for apply.

Exit status: 0 when nothing drifted, 1 when something did (the report is
printed first), 2 when drift could not be checked.`,
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
			res, err := reconcile.Drift(cmd.Context(), p, opts)
			if err != nil {
				return err
			}
			if format == "json" {
				if err := writeJSON(o.stdout, res); err != nil {
					return err
				}
			} else {
				for _, s := range res.Stacks {
					if !s.Drifted {
						fmt.Fprintf(o.stdout, "%s: in sync\n", s.Stack)
						continue
					}
					printStackPlan(o.stdout, s.Summary)
				}
				if len(res.NotDeployed) > 0 {
					fmt.Fprintf(o.stdout, "Not deployed: %s\n", strings.Join(res.NotDeployed, ", "))
				}
			}
			if res.Drifted > 0 {
				return fmt.Errorf("%d stack(s) drifted: %w", res.Drifted, ErrDenied)
			}
			return nil
		},
	}
	f.register(cmd)
	formatFlag(cmd, &format, "text", "json")
	return cmd
}
