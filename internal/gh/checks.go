package gh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/slipway-ml/slipway/internal/prcomment"
)

// CheckName is the name of Slipway's check run and commit status context.
const CheckName = "slipway"

// annotationBatch is GitHub's limit on annotations per check run request.
const annotationBatch = 50

// createCheckRun creates a completed check run with the first 50
// annotations and appends the rest 50 at a time with updates, since GitHub
// adds each update's annotations to those already there.
func (c *Context) createCheckRun(ctx context.Context, res *prcomment.Result, summary string, anns []prcomment.Annotation) (int64, error) {
	title := prcomment.Title(res)
	batch := func(i int) []*github.CheckRunAnnotation {
		end := min(i+annotationBatch, len(anns))
		out := make([]*github.CheckRunAnnotation, 0, end-i)
		for _, a := range anns[i:end] {
			out = append(out, &github.CheckRunAnnotation{
				Path:            github.String(a.Path),
				StartLine:       github.Int(a.StartLine),
				EndLine:         github.Int(a.EndLine),
				AnnotationLevel: github.String(a.Level),
				Title:           github.String(clip(a.Title, 255)),
				Message:         github.String(clip(a.Message, 64<<10)),
			})
		}
		return out
	}
	opts := github.CreateCheckRunOptions{
		Name:        CheckName,
		HeadSHA:     c.HeadSHA,
		Status:      github.String("completed"),
		Conclusion:  github.String(prcomment.Conclusion(res.Verdict)),
		CompletedAt: &github.Timestamp{Time: c.now().UTC()},
		Output: &github.CheckRunOutput{
			Title:       github.String(title),
			Summary:     github.String(summary),
			Annotations: batch(0),
		},
	}
	if c.RunURL != "" {
		opts.DetailsURL = github.String(c.RunURL)
	}
	// external_id tells this run's check run from any other, so a retry
	// after a failed answer can find the one the failed try created.
	opts.ExternalID = github.String(externalID())
	var run *github.CheckRun
	err := c.retryWrite(ctx, "create check run", func() (err error) {
		run, _, err = c.client.Checks.CreateCheckRun(ctx, c.Owner, c.Repo, opts)
		return err
	}, func() (bool, error) {
		found, err := c.findCheckRun(ctx, opts.GetExternalID())
		if found != nil {
			run = found
		}
		return found != nil, err
	})
	if err != nil {
		return 0, fmt.Errorf("create check run: %w", err)
	}
	for i := annotationBatch; i < len(anns); i += annotationBatch {
		_, _, err := c.client.Checks.UpdateCheckRun(ctx, c.Owner, c.Repo, run.GetID(), github.UpdateCheckRunOptions{
			Name: CheckName,
			Output: &github.CheckRunOutput{
				Title:       github.String(title),
				Summary:     github.String(summary),
				Annotations: batch(i),
			},
		})
		if err != nil {
			return run.GetID(), fmt.Errorf("add annotations %d-%d to check run %d: %w", i+1, min(i+annotationBatch, len(anns)), run.GetID(), err)
		}
	}
	return run.GetID(), nil
}

// findCheckRun looks for Slipway's check run on the head commit with the
// given external_id.
func (c *Context) findCheckRun(ctx context.Context, externalID string) (*github.CheckRun, error) {
	opts := &github.ListCheckRunsOptions{CheckName: github.String(CheckName), Filter: github.String("all"), ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.client.Checks.ListCheckRunsForRef(ctx, c.Owner, c.Repo, c.HeadSHA, opts)
		if err != nil {
			return nil, fmt.Errorf("list check runs of %s: %w", c.HeadSHA, err)
		}
		for _, r := range page.CheckRuns {
			if r.GetExternalID() == externalID {
				return r, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// externalID is a fresh identifier for one check run.
func externalID() string {
	var b [12]byte
	rand.Read(b[:])
	return "slipway-" + hex.EncodeToString(b[:])
}

// createStatus sets the commit status that stands in for the check run when
// the token may not create check runs. Statuses have no neutral state, so
// warnings pass and say so.
func (c *Context) createStatus(ctx context.Context, res *prcomment.Result) error {
	state := "success"
	if res.Verdict == prcomment.Deny {
		state = "failure"
	}
	st := &github.RepoStatus{
		State:       github.String(state),
		Context:     github.String(CheckName),
		Description: github.String(clip(prcomment.Title(res), 140)),
	}
	if c.RunURL != "" {
		st.TargetURL = github.String(c.RunURL)
	}
	// A status is the latest per context: repeating one is harmless.
	if err := c.retryWrite(ctx, "create commit status", func() error {
		_, _, err := c.client.Repositories.CreateStatus(ctx, c.Owner, c.Repo, c.HeadSHA, st)
		return err
	}, nil); err != nil {
		return fmt.Errorf("create commit status: %w", err)
	}
	return nil
}

// clip cuts s to n bytes at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := 0
	for i := range s {
		if i > n-len("…") {
			break
		}
		end = i
	}
	return s[:end] + "…"
}
