package prcomment

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/markdown"
)

// MaxSummarySize is GitHub's limit on a check run's output.summary.
const MaxSummarySize = 65535

// Annotation levels GitHub's check runs accept.
const (
	LevelFailure = "failure"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

// Annotation marks a spec line with a rule's outcome.
type Annotation struct {
	Path      string
	StartLine int
	EndLine   int
	Level     string
	Title     string
	Message   string
}

// Conclusion maps a verdict to a check run conclusion: warnings alone are
// neutral so they show without blocking a required check.
func Conclusion(verdict Outcome) string {
	switch verdict {
	case Pass:
		return "success"
	case Warn:
		return "neutral"
	}
	return "failure"
}

// Title is the check run's one-line title.
func Title(r *Result) string {
	d, w, wv := tally(r)
	return fmt.Sprintf("%s: %s, %s, %s", r.Verdict, plural(d, "denial"), plural(w, "warning"), plural(wv, "waiver"))
}

// Summary is the check run's output.summary: the verdict, the units and the
// denials and warnings, cut to GitHub's limit with a pointer to the comment.
func Summary(r *Result, o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s %s\n\n", icon(r.Verdict), headline(r))
	writeContext(&b, r)
	writeOverview(&b, r)
	var lines []string
	for _, u := range r.Units {
		for _, p := range sortedResults(u.Results) {
			if p.Outcome != Deny && p.Outcome != Warn && p.Outcome != Insufficient {
				continue
			}
			where := ""
			if l := posLink(r, p.Pos, p.Field, o); l != "—" {
				where = " — " + l
			}
			lines = append(lines, fmt.Sprintf("- %s %s (%s → %s): %s%s\n",
				icon(p.Outcome), markdown.Code(p.Rule), inline(u.Model), inline(u.Environment), inline(p.Message), where))
		}
	}
	if len(lines) > 0 {
		b.WriteString("### Denials and warnings\n\n")
	}
	const more = "\n…cut to GitHub's size limit; the pull request comment and the run's artifacts have the full report.\n"
	for _, l := range lines {
		if b.Len()+len(l)+len(more) > MaxSummarySize {
			b.WriteString(more)
			return b.String()
		}
		b.WriteString(l)
	}
	if len(r.Errors) > 0 {
		b.WriteString("\n")
		writeErrors(&b, r)
	}
	if b.Len() > MaxSummarySize {
		return truncate(b.String(), MaxSummarySize-len(more)) + more
	}
	return b.String()
}

// Annotations lists one annotation per rule outcome and spec line, with the
// environments it applies to named in the message; denials first. Results
// without a spec position are left to the summary. Paths are top-level
// paths (o.PathPrefix applied), as GitHub requires.
func Annotations(r *Result, o Options) []Annotation {
	type key struct {
		rule      string
		outcome   Outcome
		severity  Severity
		file, msg string
		line      int
	}
	var order []key
	envs := map[key][]string{}
	for _, u := range r.Units {
		for _, p := range u.Results {
			if p.Outcome == Pass || p.Pos.File == "" {
				continue
			}
			k := key{p.Rule, p.Outcome, p.Severity, p.Pos.File, p.Message, p.Pos.Line}
			if _, seen := envs[k]; !seen {
				order = append(order, k)
			}
			envs[k] = append(envs[k], u.Model+" → "+u.Environment)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].outcome.Rank() < order[j].outcome.Rank() })
	out := make([]Annotation, 0, len(order))
	for _, k := range order {
		line := max(k.line, 1)
		level := LevelNotice
		switch k.outcome.Verdict(k.severity) {
		case Deny:
			level = LevelFailure
		case Warn:
			level = LevelWarning
		}
		out = append(out, Annotation{
			Path: o.PathPrefix.Top(k.file), StartLine: line, EndLine: line, Level: level,
			Title:   string(k.outcome) + ": " + k.rule,
			Message: k.msg + "\n\nApplies to: " + strings.Join(envs[k], ", "),
		})
	}
	return out
}
