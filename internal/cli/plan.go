package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// reconcileFlags are the flags plan, apply and drift share.
type reconcileFlags struct {
	repo, workdir, terraform string
	envs                     []string
	parallel                 int
}

func (f *reconcileFlags) register(cmd *cobra.Command) {
	repoFlag(cmd, &f.repo)
	cmd.Flags().StringVar(&f.workdir, "workdir", "", "work `DIR` for rendered stacks, plans and local state (default <repo>/.slipway)")
	cmd.Flags().StringSliceVar(&f.envs, "env", nil, "only these `ENV`ironments (repeatable; default all)")
	cmd.Flags().IntVar(&f.parallel, "parallel", 1, "run Terraform on up to `N` stacks at once")
	cmd.Flags().StringVar(&f.terraform, "terraform", "", "Terraform or OpenTofu binary `PATH` (default $SLIPWAY_TERRAFORM, else terraform, else tofu, on PATH)")
}

func (f *reconcileFlags) options(o *options) (reconcile.Options, error) {
	if f.parallel < 1 {
		return reconcile.Options{}, usagef("--parallel %d: want at least 1", f.parallel)
	}
	return reconcile.Options{WorkDir: f.workdir, Envs: f.envs, Parallel: f.parallel, Terraform: f.terraform, Getenv: o.connGetenv, Log: o.log}, nil
}

func newPlanCmd(o *options) *cobra.Command {
	var f reconcileFlags
	var format, base string
	var stacks []string
	var list bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Render and plan the Terraform stacks the specs call for",
		Long: `Plan renders every affected stack as a Terraform root module under the work
dir, runs terraform plan on it and saves the plan (binary and JSON) with a
summary and its sha256 under <workdir>/plans/<env>/<stack>.*.

Stacks are <env>/<model> (one per model and environment it is deployed to)
and <env>/_shared (one per environment). Without --base every stack in scope
is planned. With --base, only the stacks the git diff against that ref
affects: a changed model spec or evidence file affects the model's stacks, a
changed data source the models that read it, a changed template the models
that use it, a changed environment or module every stack in scope. Stacks
whose model left the specs are planned as deletes. Each stack says why it
was planned.

--list-stacks prints the affected stack ids without running Terraform.
Progress goes to stderr; Ctrl-C stops Terraform cleanly, releasing locks.
See docs/reconciler.md.

Exit status: 0 when every affected stack was planned (or none was
affected), 2 when the specs are invalid, Terraform is missing or fails, the
base ref does not exist or the work dir cannot be written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options(o)
			if err != nil {
				return err
			}
			opts.Base, opts.Stacks = base, stacks
			p, err := spec.Load(cmd.Context(), f.repo)
			if err != nil {
				return err
			}
			if list {
				aff, err := reconcile.Affected(cmd.Context(), p, opts)
				if err != nil {
					return err
				}
				if format == "json" {
					ids := make([]string, len(aff))
					for i, a := range aff {
						ids[i] = a.ID
					}
					return writeJSON(o.stdout, ids)
				}
				for _, a := range aff {
					fmt.Fprintf(o.stdout, "%s\t%s\n", a.ID, strings.Join(a.Reasons, "; "))
				}
				return nil
			}
			res, err := reconcile.Plan(cmd.Context(), p, opts)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(o.stdout, res)
			}
			printPlan(o.stdout, res)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&base, "base", "", "plan only the stacks affected by changes since git `REF`")
	cmd.Flags().StringArrayVar(&stacks, "stack", nil, "plan only this stack `ID` (<env>/<model> or <env>/_shared; repeatable)")
	cmd.Flags().BoolVar(&list, "list-stacks", false, "print the affected stack ids without planning")
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func printPlan(w io.Writer, res *reconcile.PlanResult) {
	if len(res.Stacks) == 0 {
		fmt.Fprintln(w, "No stack affected: nothing to plan.")
	} else {
		fmt.Fprintf(w, "Planned %d stack(s) with %s.\n", len(res.Stacks), res.Terraform)
	}
	if res.Base != "" {
		fmt.Fprintf(w, "Changes since %s (%.12s).\n", res.Base, res.BaseCommit)
	}
	var total terraform.Counts
	for _, s := range res.Stacks {
		fmt.Fprintln(w)
		printStackPlan(w, s)
		total.Create += s.Changes.Create
		total.Update += s.Changes.Update
		total.Delete += s.Changes.Delete
		total.Replace += s.Changes.Replace
	}
	if len(res.Stacks) > 0 {
		fmt.Fprintf(w, "\nTotal: %s.\n", counts(total))
	}
	if len(res.Unaffected) > 0 {
		fmt.Fprintf(w, "Unaffected: %s\n", strings.Join(res.Unaffected, ", "))
	}
}

// printStackPlan prints one stack's plan summary for a reviewer.
func printStackPlan(w io.Writer, s terraform.Summary) {
	fmt.Fprintf(w, "%s: %s\n", s.Stack, counts(s.Changes))
	for _, r := range s.Reasons {
		fmt.Fprintf(w, "  why: %s\n", r)
	}
	for _, r := range s.Drift {
		printResource(w, r, "drifted")
	}
	for _, r := range s.Resources {
		printResource(w, r, "")
	}
	if s.PlanFile != "" {
		fmt.Fprintf(w, "  plan: %s (%s)\n", s.PlanFile, s.PlanSHA256)
	}
}

func printResource(w io.Writer, r terraform.Resource, note string) {
	sym := map[string]string{"create": "+", "update": "~", "delete": "-"}[strings.Join(r.Actions, ",")]
	if sym == "" {
		sym = "-/+"
	}
	if note != "" {
		sym = "!"
		note = " (" + note + ")"
	}
	fmt.Fprintf(w, "  %s %s%s\n", sym, r.Address, note)
	for _, d := range r.Diff {
		fmt.Fprintf(w, "      %s: %s -> %s\n", d.Path, compact(d.Before), compact(d.After))
	}
}

func compact(v any) string {
	if s, ok := v.(string); ok && (s == terraform.Redacted || s == terraform.Unknown) {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func counts(c terraform.Counts) string {
	if c.Total() == 0 {
		return "no changes"
	}
	return fmt.Sprintf("%d to create, %d to update, %d to replace, %d to delete", c.Create, c.Update, c.Replace, c.Delete)
}
