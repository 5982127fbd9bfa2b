package gh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/spec"
)

// ErrNoPullRequest is returned by pull request calls outside a pull request event.
var ErrNoPullRequest = errors.New("not a pull request event")

// ErrTooManyFiles is returned by ChangedFiles when the pull request changes
// more files than GitHub lists (3000): the scope is then unknown.
var ErrTooManyFiles = errors.New("the pull request changes more files than GitHub lists (3000)")

// ChangedFiles lists the repo-relative paths the pull request changes,
// reading every page. A rename lists both the old and the new path, since
// moving a file out of a model's directory changes that model too. GitHub
// lists at most 3000 files; a larger pull request is ErrTooManyFiles rather
// than a silently partial scope.
func (c *Context) ChangedFiles(ctx context.Context) ([]string, error) {
	if c.PR == 0 {
		return nil, ErrNoPullRequest
	}
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.client.PullRequests.ListFiles(ctx, c.Owner, c.Repo, c.PR, opts)
		if err != nil {
			return nil, fmt.Errorf("list files of pull request #%d: %w", c.PR, err)
		}
		for _, f := range page {
			add(f.GetPreviousFilename())
			add(f.GetFilename())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(seen) >= 3000 {
		return nil, fmt.Errorf("pull request #%d: %w", c.PR, ErrTooManyFiles)
	}
	sort.Strings(files)
	return files, nil
}

// Approval is a reviewer's standing approval, the policy input's.
type Approval = policy.Approval

// Approvals lists the pull request's standing approvals: for each reviewer
// the latest review that decides (approved, changes requested, dismissed),
// kept only when it approves. A comment after an approval leaves it
// standing, as on GitHub; a dismissed approval does not count.
func (c *Context) Approvals(ctx context.Context) ([]Approval, error) {
	if c.PR == 0 {
		return nil, ErrNoPullRequest
	}
	type state struct {
		state  string
		at     time.Time
		id     int64
		commit string
	}
	latest := map[string]state{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.client.PullRequests.ListReviews(ctx, c.Owner, c.Repo, c.PR, opts)
		if err != nil {
			return nil, fmt.Errorf("list reviews of pull request #%d: %w", c.PR, err)
		}
		for _, r := range page {
			login := r.GetUser().GetLogin()
			switch s := r.GetState(); {
			case login == "":
			case s == "APPROVED" || s == "CHANGES_REQUESTED" || s == "DISMISSED":
				at := r.GetSubmittedAt().Time
				// Reviews come oldest first; the time guards a reordering.
				if prev, ok := latest[login]; !ok || !at.Before(prev.at) {
					latest[login] = state{s, at, r.GetID(), r.GetCommitID()}
				}
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	var out []Approval
	for user, s := range latest {
		if s.state == "APPROVED" {
			out = append(out, Approval{User: user, State: s.state, SubmittedAt: s.at.UTC().Format(time.RFC3339), ReviewID: s.id, Commit: s.commit})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SubmittedAt != out[j].SubmittedAt {
			return out[i].SubmittedAt < out[j].SubmittedAt
		}
		return out[i].User < out[j].User
	})
	return out, nil
}

// Authors lists who wrote the pull request: its author and the GitHub
// users its commits name as authors, sorted and unique. Their approvals
// do not count (policy release.approvals); a commit whose author has no
// GitHub account adds no one.
func (c *Context) Authors(ctx context.Context) ([]string, error) {
	if c.PR == 0 {
		return nil, ErrNoPullRequest
	}
	pr, _, err := c.client.PullRequests.Get(ctx, c.Owner, c.Repo, c.PR)
	if err != nil {
		return nil, fmt.Errorf("read pull request #%d: %w", c.PR, err)
	}
	seen := map[string]bool{}
	if login := pr.GetUser().GetLogin(); login != "" {
		seen[login] = true
	}
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.client.PullRequests.ListCommits(ctx, c.Owner, c.Repo, c.PR, opts)
		if err != nil {
			return nil, fmt.Errorf("list commits of pull request #%d: %w", c.PR, err)
		}
		for _, cm := range page {
			if login := cm.GetAuthor().GetLogin(); login != "" {
				seen[login] = true
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out, nil
}

// codeownersPaths are where GitHub looks for CODEOWNERS, in its order.
var codeownersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// CodeOwners reads the repository's CODEOWNERS from the pull request's base
// commit (the head could add its own author as an owner), or from the
// default branch outside pull requests. A repository without one yields an
// empty CodeOwners.
func (c *Context) CodeOwners(ctx context.Context) (*CodeOwners, error) {
	ref := c.BaseSHA
	if ref == "" {
		ref = c.BaseRef
	}
	for _, p := range codeownersPaths {
		var opts *github.RepositoryContentGetOptions
		if ref != "" {
			opts = &github.RepositoryContentGetOptions{Ref: ref}
		}
		file, _, resp, err := c.client.Repositories.GetContents(ctx, c.Owner, c.Repo, p, opts)
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		if file == nil {
			continue // a directory of that name
		}
		text, err := file.GetContent()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		return ParseCodeOwners(p, text), nil
	}
	return &CodeOwners{}, nil
}

// ResolvePullRequest finds, outside pull request events, the pull request
// that was merged as the job's commit, so a release on push to main is
// judged on the reviews the change actually got. It leaves PR at 0 when the
// commit was pushed without a pull request.
func (c *Context) ResolvePullRequest(ctx context.Context) error {
	if c.PR != 0 {
		return nil
	}
	if c.HeadSHA == "" {
		return errors.New("find the pull request of the commit: GITHUB_SHA is not set")
	}
	prs, _, err := c.client.PullRequests.ListPullRequestsWithCommit(ctx, c.Owner, c.Repo, c.HeadSHA, &github.ListOptions{PerPage: 100})
	if err != nil {
		return fmt.Errorf("find the pull request of commit %s: %w", c.HeadSHA, err)
	}
	for _, pr := range prs {
		// Only the pull request merged as this very commit: a commit can
		// also sit in other, open pull requests.
		if pr.MergedAt != nil && pr.GetMergeCommitSHA() == c.HeadSHA {
			c.PR = pr.GetNumber()
			c.BaseRef, c.BaseSHA = pr.GetBase().GetRef(), pr.GetBase().GetSHA()
			return nil
		}
	}
	return nil
}

// Reviews reads what a release judges and signs of the pull request the
// commit comes from: its standing approvals, its authors (whose approvals
// do not count) and the members of the models' acceptance teams (nil for
// a team GitHub does not list). Pushed without a pull request, there are
// none.
func (c *Context) Reviews(ctx context.Context, p *spec.Platform) (*checkresult.Reviews, error) {
	if err := c.ResolvePullRequest(ctx); err != nil {
		return nil, err
	}
	out := &checkresult.Reviews{Approvals: []checkresult.Approval{}, Authors: []string{}}
	out.Teams = policy.AcceptanceTeams(ctx, p, c.AcceptanceTeamMembers, func(team string, err error) {
		c.log.Info("github: acceptance team not listed; no review accepts for it", "team", team, "error", err)
	})
	if c.PR == 0 {
		return out, nil
	}
	got, err := c.Approvals(ctx)
	if err != nil {
		return nil, err
	}
	out.Approvals = append(out.Approvals, got...)
	if out.Authors, err = c.Authors(ctx); err != nil {
		return nil, err
	}
	return out, nil
}
