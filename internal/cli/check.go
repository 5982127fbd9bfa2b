package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/check"
	"github.com/slipway-ml/slipway/internal/gh"
	"github.com/slipway-ml/slipway/internal/policy"
)

func newCheckCmd(o *options) *cobra.Command {
	var opts check.Options
	var repo, workdir, format string
	var github bool
	var githubTimeout time.Duration
	var markdownOut string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "The pull request gate: validate, evaluate, plan and judge every model under policy",
		Long: `Check validates the platform specs, reads each model's evidence summary
(<workdir>/evidence/<model>.json, written by slipway evaluate), plans the
affected Terraform stacks and judges every (model, environment) unit with the
built-in policies and the repository's own policies/ directory.

Units are the models in every environment they deploy to; with --base only
those whose stacks the git diff against that ref affects. --no-plan skips
Terraform; the infrastructure rules then do not apply.

The result goes to stdout in --format and to <workdir>/check/result.json.
Exit status: 0 when every unit passes (warnings and waived denials allowed),
1 when any unit is denied, 2 on a usage or input error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now, err := releaseNow(o)
			if err != nil {
				return err
			}
			opts.Repo, opts.Now, opts.Version, opts.Getenv, opts.Log = repo, now, Version, o.connGetenv, o.log
			if workdir != "" {
				opts.WorkDir = releaseWorkDir(repo, workdir)
			}
			var ghc *gh.Context
			if github {
				if ghc, err = githubContext(o, repo, githubTimeout); err != nil {
					return err
				}
				scope, err := ghc.Scope(cmd.Context())
				if err != nil {
					return err
				}
				opts.ChangedFiles, opts.OutsideFiles, opts.PathPrefix = scope.ChangedFiles, scope.OutsideFiles, scope.PathPrefix
				opts.Approvals, opts.CodeOwners, opts.DirOwners = scope.Approvals, scope.OwnedFiles, scope.DirOwners
				opts.Authors, opts.BaseCommit = scope.Authors, scope.BaseSHA
				opts.TeamMembers = ghc.AcceptanceTeamMembers
				opts.OwnersApproved = ghc.ApprovedOwners
			}
			res, err := check.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if err := check.Write(o.stdout, res, format, res.Rules); err != nil {
				return err
			}
			if ghc != nil {
				var buf bytes.Buffer
				if err := json.NewEncoder(&buf).Encode(res); err == nil {
					publishGitHub(cmd.Context(), o, ghc, buf.Bytes(), markdownOut)
				}
			}
			if res.Verdict == policy.OutcomeDeny {
				return fmt.Errorf("check: %w", ErrDenied)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().StringVar(&workdir, "workdir", "", "work `DIR` for evidence, plans and the result (default <repo>/.slipway)")
	cmd.Flags().StringVar(&opts.Base, "base", "", "judge only what the diff against git `REF` affects")
	cmd.Flags().StringSliceVar(&opts.Envs, "env", nil, "only these `ENV`ironments (repeatable; default all)")
	cmd.Flags().BoolVar(&opts.NoPlan, "no-plan", false, "skip Terraform; the infrastructure rules do not apply")
	cmd.Flags().BoolVar(&opts.SaveInputs, "save-inputs", false, "also write each unit's policy input to <workdir>/check/inputs/<env>/<model>.json (for slipway policy eval)")
	cmd.Flags().StringVar(&opts.Terraform, "terraform", "", "Terraform or OpenTofu binary `PATH` (default $SLIPWAY_TERRAFORM, else terraform, else tofu, on PATH)")
	cmd.Flags().IntVar(&opts.Parallel, "parallel", 2, "plan up to `N` stacks at once")
	cmd.Flags().BoolVar(&opts.ReusePlans, "reuse-plans", false, "take saved plans (e.g. from a workflow's planning matrix) whose plan file and rendered stack are unchanged, instead of planning again")
	cmd.Flags().BoolVar(&github, "github", false, "in GitHub Actions: scope by the pull request's changed files, count its approvals and post the report")
	cmd.Flags().StringVar(&markdownOut, "markdown-out", "", "with --github, also save the full Markdown report to `FILE`")
	githubTimeoutFlag(cmd, &githubTimeout)
	formatFlag(cmd, &format, check.Formats...)
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if opts.Base != "" && github {
			return usagef("--base and --github both choose what changed: give one")
		}
		if opts.Parallel < 1 {
			return usagef("--parallel %d: want at least 1", opts.Parallel)
		}
		return prev(c, args)
	}
	return cmd
}
