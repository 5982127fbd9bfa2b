package cli

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// formatFlag registers --format with the formats a command can print and
// checks the choice before the command runs.
func formatFlag(cmd *cobra.Command, format *string, allowed ...string) {
	cmd.Flags().StringVar(format, "format", allowed[0], "output format: "+strings.Join(allowed, "|"))
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if !slices.Contains(allowed, *format) {
			return usagef("--format %q: want one of %s", *format, strings.Join(allowed, ", "))
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
