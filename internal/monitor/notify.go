package monitor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/internal/markdown"
	"github.com/slipway-ml/slipway/internal/policy"
)

// Issues keeps one issue per key open while there is something to say;
// internal/gh's Context is one.
type Issues interface {
	UpsertIssue(ctx context.Context, key, title, body string, labels []string) (url string, created bool, err error)
	CloseIssue(ctx context.Context, key, comment string) (url string, err error)
}

// IssueLabel labels the issues monitoring opens.
const IssueLabel = "slipway-monitoring"

// IssueKey is the issue of one model in one environment.
func IssueKey(env, model string) string { return "monitoring/" + env + "/" + model }

// Issue is what a run did with its model's issue.
type Issue struct {
	// Action is "opened", "updated" or "closed".
	Action string `json:"action"`
	// Number is the issue's number, read from its URL; 0 when the URL
	// does not end in one.
	Number int    `json:"number,omitempty"`
	URL    string `json:"url"`
}

// newIssue is the Issue at url.
func newIssue(action, url string) *Issue {
	is := &Issue{Action: action, URL: url}
	if i := strings.LastIndex(url, "/issues/"); i >= 0 {
		if n, err := strconv.Atoi(url[i+len("/issues/"):]); err == nil && n > 0 {
			is.Number = n
		}
	}
	return is
}

// notify opens or updates the run's issue while it breaches, and closes
// it with a comment once healthy.
func notify(ctx context.Context, issues Issues, run *Run) error {
	key := IssueKey(run.Environment, run.Model)
	if run.Verdict != policy.OutcomeDeny {
		url, err := issues.CloseIssue(ctx, key, fmt.Sprintf("Healthy again: the monitoring run of %s to %s found no breach.",
			run.Figures.Window.From.Format("2006-01-02 15:04"), run.Figures.Window.To.Format("2006-01-02 15:04 MST")))
		if err != nil {
			return err
		}
		if url != "" {
			run.Issue = newIssue("closed", url)
		}
		return nil
	}
	title := fmt.Sprintf("Slipway monitoring: %s in %s breached", run.Model, run.Environment)
	url, created, err := issues.UpsertIssue(ctx, key, title, IssueBody(*run), []string{IssueLabel})
	if err != nil {
		return err
	}
	run.Issue = newIssue(map[bool]string{true: "opened", false: "updated"}[created], url)
	return nil
}

// IssueBody is the issue text of a breaching run: the breaches, the
// figures against their thresholds and the step that fixes it.
func IssueBody(r Run) string {
	e := markdown.Text
	var b strings.Builder
	f := r.Figures
	fmt.Fprintf(&b, "**%s** in **%s** breached its monitoring policy over %d request(s) from %s to %s.\n\n",
		e(r.Model), e(r.Environment), f.Rows, windowStart(f), f.Window.To.Format("2006-01-02 15:04 MST"))
	b.WriteString("### Breaches\n\n")
	retrain, rollback := false, false
	for _, x := range r.Breaches() {
		fmt.Fprintf(&b, "- %s: %s\n", markdown.Code(x.Rule), e(x.Message))
		switch x.Rule {
		case "monitoring.drift", "monitoring.model_age":
			retrain = true
		case "monitoring.performance", "monitoring.fairness", "monitoring.unreleased_version":
			rollback = true
		}
	}
	if len(f.Drift) > 0 {
		b.WriteString("\n### Input drift\n\n| Feature | PSI | KS |\n|---|---:|---:|\n")
		for _, name := range slices.Sorted(maps.Keys(f.Drift)) {
			d := f.Drift[name]
			fmt.Fprintf(&b, "| %s | %s | %s |\n", markdown.Cell(name), fmtNum(d.PSI), fmtNum(d.KS))
		}
	}
	if l := f.Outcomes; l != nil {
		fmt.Fprintf(&b, "\n### Live performance (%d labelled)\n\n| Metric | Live |\n|---|---:|\n", l.Labelled)
		for _, name := range []string{"accuracy", "precision", "recall", "f1"} {
			fmt.Fprintf(&b, "| %s | %s |\n", name, fmtNum(l.Overall.Values[name]))
		}
	}
	b.WriteString("\n### Next step\n\n")
	if rollback {
		fmt.Fprintf(&b, "Roll back to the previous verified release:\n\n```\nslipway rollback --env %s --model %s --sign-key KEY\n```\n\n", r.Environment, r.Model)
	}
	if retrain || !rollback {
		fmt.Fprintf(&b, "Retrain %s on recent data, evaluate it and release the new version:\n\n```\nslipway evaluate --model %s\nslipway release --env %s --model %s --key KEY\n```\n\n", e(r.Model), r.Model, r.Environment, r.Model)
	}
	if r.Record != "" {
		fmt.Fprintf(&b, "Signed monitoring record: `%s`\n", r.Record)
	}
	return b.String()
}

func windowStart(f Figures) string {
	if f.Window.From.IsZero() {
		return "the first request"
	}
	return f.Window.From.Format("2006-01-02 15:04 MST")
}

func fmtNum(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", *v)
}
