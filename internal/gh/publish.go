package gh

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/prcomment"
	"github.com/slipway-ml/slipway/internal/workflowcmd"
)

// Report says where a check result was published.
type Report struct {
	// CommentURL is the first sticky comment part; Parts counts them.
	CommentURL string `json:"comment_url,omitempty"`
	Parts      int    `json:"parts"`
	// CheckRunID is the check run, 0 when a commit status stood in.
	CheckRunID  int64 `json:"check_run_id,omitempty"`
	Status      bool  `json:"status"`
	Annotations int   `json:"annotations"`
	// Degraded is true when the report went to job output instead, and
	// Reason says why.
	Degraded bool   `json:"degraded"`
	Reason   string `json:"reason,omitempty"`
}

// Markdown renders a check result as the comment's Markdown with this
// job's links, for the job's artifacts.
func (c *Context) Markdown(res *prcomment.Result) string {
	opts := c.renderOptions()
	_, opts.Title = c.commentKey(res)
	return prcomment.Markdown(res, opts)
}

func (c *Context) renderOptions() prcomment.Options {
	return prcomment.Options{RepoURL: c.RepoURL, Ref: c.HeadSHA, RunURL: c.RunURL, PathPrefix: c.PathPrefix}
}

// commentKey names the sticky comment a result goes to: after merge (a
// push), one per set of environments, so the release results of staging and
// production show beside the check's comment instead of overwriting it;
// otherwise (pull request events, a workflow_run posting a fork's report)
// the pull request check's own.
func (c *Context) commentKey(res *prcomment.Result) (key, title string) {
	if c.CommentKey != "" || c.EventName != "push" {
		return c.CommentKey, ""
	}
	envs := map[string]bool{}
	var names []string
	for _, u := range res.Units {
		if !envs[u.Environment] {
			envs[u.Environment] = true
			names = append(names, u.Environment)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "merged", "Slipway after merge"
	}
	return "merged-" + strings.Join(names, "-"), "Slipway after merge (" + strings.Join(names, ", ") + ")"
}

// Publish reports a check result document on the pull request: the sticky
// comment (split when too long), a check run named slipway with
// annotations, or a commit status when the token may not create check
// runs. The job summary always gets the report. When the token cannot
// write (a fork's pull request), the report goes to job output and
// annotations instead, with a message saying so, and Publish succeeds.
//
// Errors are about publishing only; callers keep their exit code the
// policy verdict.
func (c *Context) Publish(ctx context.Context, resultJSON []byte) (*Report, error) {
	res, err := checkresult.Decode(resultJSON)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	opts := c.renderOptions()
	key, title := c.commentKey(res)
	opts.Title = title
	md := prcomment.Markdown(res, opts)
	rep := &Report{}
	var errs []error
	if err := c.appendStepSummary(md); err != nil {
		errs = append(errs, err)
	}
	anns := prcomment.Annotations(res, opts)

	if c.ReadOnly {
		c.degrade(rep, anns, c.readOnlyReason())
		return rep, errors.Join(errs...)
	}

	if c.PR != 0 {
		bodies := prcomment.Split(md, prcomment.MaxCommentSize, key)
		url, err := c.upsertComment(ctx, key, bodies)
		switch {
		case isForbidden(err):
			c.degrade(rep, anns, "the token may not comment on pull requests (grant `pull-requests: write`)")
			return rep, errors.Join(errs...)
		case err != nil:
			errs = append(errs, err)
		default:
			rep.CommentURL, rep.Parts = url, len(bodies)
		}
	}

	if c.HeadSHA == "" {
		return rep, errors.Join(append(errs, errors.New("no commit to report on: GITHUB_SHA is not set"))...)
	}
	id, err := c.createCheckRun(ctx, res, prcomment.Summary(res, opts), anns)
	switch {
	case err == nil:
		rep.CheckRunID, rep.Annotations = id, len(anns)
	case id == 0 && isForbidden(err):
		// GITHUB_TOKEN without `checks: write`, or a token that is not a
		// GitHub App's: fall back to a commit status and workflow-command
		// annotations, which need no permission.
		c.log.Warn("github: cannot create check runs, setting a commit status instead", "error", err)
		if err := c.createStatus(ctx, res); err != nil {
			if isForbidden(err) {
				c.degrade(rep, anns, "the token may not create check runs or commit statuses (grant `checks: write` or `statuses: write`)")
				return rep, errors.Join(errs...)
			}
			errs = append(errs, err)
		} else {
			rep.Status = true
		}
		rep.Annotations = c.workflowAnnotations(anns)
	default:
		errs = append(errs, err)
	}
	if pastDeadline(ctx) && !rep.Degraded {
		// The job summary has the report already; say where it is.
		c.degrade(rep, anns, ErrDeadline.Error())
	}
	return rep, errors.Join(errs...)
}

func (c *Context) readOnlyReason() string {
	if c.Fork {
		return "this pull request comes from a fork, so the job's token is read-only"
	}
	return "no GITHUB_TOKEN is set"
}

// degrade tells the job log why the report is not on the pull request and
// puts the denials and warnings there as workflow-command annotations.
func (c *Context) degrade(rep *Report, anns []prcomment.Annotation, reason string) {
	rep.Degraded, rep.Reason = true, reason
	workflowcmd.Write(c.out, "warning", []workflowcmd.Prop{{Key: "title", Value: "Slipway report not posted"}},
		"Slipway could not post its comment or check run: "+reason+". The full report is in the job summary and the job's artifacts; denials and warnings are annotated below.")
	rep.Annotations = c.workflowAnnotations(anns)
}

// workflowAnnotations prints annotations as workflow commands. GitHub shows
// at most 10 of each level per step; the job summary has the rest.
func (c *Context) workflowAnnotations(anns []prcomment.Annotation) int {
	for _, a := range anns {
		cmd := map[string]string{prcomment.LevelFailure: "error", prcomment.LevelWarning: "warning"}[a.Level]
		if cmd == "" {
			cmd = "notice"
		}
		workflowcmd.Annotation(c.out, cmd, a.Path, a.StartLine, a.EndLine, a.Title, a.Message)
	}
	return len(anns)
}

// appendStepSummary adds the report to the job summary page. The runner
// owns GITHUB_STEP_SUMMARY and documents appending as the way to write it.
func (c *Context) appendStepSummary(md string) error {
	if c.stepSummary == "" {
		return nil
	}
	f, err := os.OpenFile(c.stepSummary, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("job summary: %w", err)
	}
	_, err = f.WriteString(md + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("job summary: %w", err)
	}
	return nil
}

// String describes where the report went, for the job log.
func (r *Report) String() string {
	if r.Degraded {
		return "report not posted (" + r.Reason + "): see the job summary and annotations"
	}
	var parts []string
	if r.CommentURL != "" {
		parts = append(parts, "comment "+r.CommentURL+" ("+strconv.Itoa(r.Parts)+" part(s))")
	}
	if r.CheckRunID != 0 {
		parts = append(parts, fmt.Sprintf("check run %d with %d annotation(s)", r.CheckRunID, r.Annotations))
	}
	if r.Status {
		parts = append(parts, "commit status "+CheckName)
	}
	if len(parts) == 0 {
		return "nothing posted"
	}
	return strings.Join(parts, ", ")
}
