package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newPolicyCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test, debug and list the Rego policies",
		Long: `Policy works on the policies slipway check applies: the built-in packs and the
platform repository's own policies/ directory (Rego v1, packages slipway.*,
deny and warn rules with METADATA; see docs/policy-input.md).`,
	}
	cmd.AddCommand(newPolicyTestCmd(o), newPolicyEvalCmd(o), newPolicyRulesCmd(o))
	return cmd
}

func newPolicyTestCmd(o *options) *cobra.Command {
	var repo, format string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the built-in and the repository's Rego tests, with coverage",
		Long: `Test runs every test_ rule of the *_test.rego files of the built-in packs and
of <repo>/policies through OPA's test runner, and reports the coverage of
the policy files. Exit status 1 when a test fails or errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := policy.RunTests(cmd.Context(), repo)
			if err != nil {
				return err
			}
			if format == "json" {
				if err := writeJSON(o.stdout, rep); err != nil {
					return err
				}
			} else {
				printTestReport(o.stdout, rep, verbose)
			}
			if !rep.OK() {
				return fmt.Errorf("%d policy test(s) failed: %w", rep.Failed, ErrDenied)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every test, not only failures")
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func printTestReport(w io.Writer, rep policy.TestReport, verbose bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rep.Results {
		if !verbose && (r.Outcome == "pass" || r.Outcome == "skip") {
			continue
		}
		line := fmt.Sprintf("%s\t%s\t%s.%s", strings.ToUpper(r.Outcome), r.Location, r.Package, r.Name)
		if r.Error != "" {
			line += "\t" + r.Error
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped; coverage %.1f%%\n", rep.Passed, rep.Failed, rep.Skipped, rep.Coverage)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range rep.Files {
		line := fmt.Sprintf("  %s\t%.1f%%", f.File, f.Coverage)
		if len(f.NotCovered) > 0 {
			line += "\tnot covered: " + strings.Join(f.NotCovered, ", ")
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

func newPolicyEvalCmd(o *options) *cobra.Command {
	var repo, input, format string
	var all bool
	cmd := &cobra.Command{
		Use:   "eval --input FILE",
		Short: "Evaluate one policy input document, to debug a rule",
		Long: `Eval judges one input document (the JSON of docs/policy-input.md, for example
one written with slipway check's unit) with the built-in policies and those
of --repo, and prints every result. With --repo the results also carry the
spec file and line. Exit status 1 when a rule denies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if input == "" {
				return usagef("--input FILE is required")
			}
			b, err := readInputFile(o, input)
			if err != nil {
				return err
			}
			in, err := policy.ReadInput(b)
			if err != nil {
				return fmt.Errorf("%s: %w", input, err)
			}
			if in.Now == "" {
				now, err := releaseNow(o)
				if err != nil {
					return err
				}
				in.Now = now.Format(time.RFC3339)
			}
			engine, err := policy.New(cmd.Context(), repo)
			if err != nil {
				return err
			}
			var loc policy.Locator
			if repo != "" {
				// Positions are a help here, not a requirement: a policy
				// directory without specs still evaluates.
				if p, err := spec.Load(cmd.Context(), repo); err != nil {
					o.log.Warn("specs not loaded; results carry no file and line", "repo", repo, "error", firstLine(err))
				} else {
					loc = p
				}
			}
			results := engine.Evaluate(cmd.Context(), loc, in)
			if format == "json" {
				if err := writeJSON(o.stdout, results); err != nil {
					return err
				}
			} else {
				printResults(o.stdout, results, all)
			}
			if policy.Verdict(results) == policy.OutcomeDeny {
				return fmt.Errorf("policy eval: %w", ErrDenied)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "platform repository `DIR` whose policies/ to add and whose specs give positions")
	cmd.Flags().StringVar(&input, "input", "", "input document `FILE` (JSON; - for stdin)")
	cmd.Flags().BoolVar(&all, "all", false, "list passing rules too")
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func readInputFile(o *options, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef("--input: %v", err)
	}
	return b, nil
}

func printResults(w io.Writer, results []policy.Result, all bool) {
	fmt.Fprintf(w, "verdict: %s\n", policy.Verdict(results))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range results {
		if r.Outcome.Quiet() && !all {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", strings.ToUpper(string(r.Outcome)), r.Rule, r.Pos, r.Message)
	}
	tw.Flush()
}

func newPolicyRulesCmd(o *options) *cobra.Command {
	var repo, format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rule catalogue: ids, severities and the controls each rule serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			engine, err := policy.New(cmd.Context(), repo)
			if err != nil {
				return err
			}
			rules := engine.Rules()
			switch format {
			case "json":
				return writeJSON(o.stdout, rules)
			case "markdown":
				_, err := io.WriteString(o.stdout, policy.CatalogueMarkdown(rules))
				return err
			}
			tw := tabwriter.NewWriter(o.stdout, 0, 0, 2, ' ', 0)
			for _, r := range rules {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "platform repository `DIR` whose policies/ to include")
	formatFlag(cmd, &format, "text", "json", "markdown")
	return cmd
}
