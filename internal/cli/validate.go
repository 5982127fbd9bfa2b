package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/spec"
)

func newValidateCmd(o *options) *cobra.Command {
	var repo, format string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Validate the platform specs against Slipway's schemas",
		Long: `Validate loads every CUE file of the platform repository, checks it against
Slipway's schemas and the references between its parts, and prints a summary.
Every problem is reported with its file, line, column and field.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := spec.Load(cmd.Context(), repo)
			var probs spec.Errors
			if errors.As(err, &probs) {
				if format == "json" {
					_ = writeJSON(o.stdout, validateResult{Valid: false, Problems: probs})
				} else {
					fmt.Fprintln(o.stderr, o.secrets.String(probs.Error()))
				}
				return fmt.Errorf("%s: %d problem(s)", repo, len(probs))
			}
			if err != nil {
				return err
			}
			s := summarize(p)
			s.Warnings = p.Warnings()
			if format == "json" {
				return writeJSON(o.stdout, s)
			}
			printSummary(o.stdout, s)
			for _, w := range s.Warnings {
				fmt.Fprintf(o.stderr, "warning: %s\n", w)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

// repoFlag registers --repo, the platform repository to work on.
func repoFlag(cmd *cobra.Command, repo *string) {
	cmd.Flags().StringVar(repo, "repo", ".", "platform repository `DIR`")
}

type validateResult struct {
	Valid        bool           `json:"valid"`
	Platform     string         `json:"platform,omitempty"`
	Environments []string       `json:"environments,omitempty"`
	DataSources  int            `json:"dataSources"`
	Models       int            `json:"models"`
	ByKind       map[string]int `json:"modelsByKind,omitempty"`
	Files        int            `json:"files"`
	Problems     spec.Errors    `json:"problems,omitempty"`
	// Warnings are fields that are accepted but ignored.
	Warnings []spec.Problem `json:"warnings,omitempty"`
}

func summarize(p *spec.Platform) validateResult {
	r := validateResult{Valid: true, Platform: p.Name, Environments: p.EnvironmentNames(), DataSources: len(p.DataSources), Models: len(p.Models), ByKind: map[string]int{}, Files: len(p.Files)}
	for _, m := range p.Models {
		r.ByKind[m.Deployment.Resolved.Kind]++
	}
	return r
}

func printSummary(w io.Writer, s validateResult) {
	fmt.Fprintf(w, "platform %s is valid (%d files)\n", s.Platform, s.Files)
	fmt.Fprintf(w, "  environments  %d  %v\n", len(s.Environments), s.Environments)
	fmt.Fprintf(w, "  data sources  %d\n", s.DataSources)
	kinds := make([]string, 0, len(s.ByKind))
	for k := range s.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "  models        %d", s.Models)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %s=%d", k, s.ByKind[k])
	}
	fmt.Fprintln(w)
}
