package gh

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// IssueMarker starts the body of an issue Slipway keeps up to date, with
// the issue's key, so each run finds the same issue again.
func IssueMarker(key string) string { return "<!-- slipway:issue " + key + " -->" }

// IssueBody makes the body of an issue from text: Markdown used as is, or
// anything else shown as a code block, signed with a link to the run, and
// cut to GitHub's size limit.
func (c *Context) IssueBody(text string, markdown bool) string {
	body := text
	if !markdown {
		body = "```\n" + strings.ReplaceAll(body, "```", "'''") + "\n```\n"
	}
	if c.RunURL != "" {
		body += "\n<sub>Updated by [this run](" + c.RunURL + ").</sub>\n"
	}
	return clipIssue(body)
}

// clipIssue keeps an issue body under GitHub's 65,536-character limit,
// closing a code block it cuts.
func clipIssue(body string) string {
	const limit = 65536 - 512
	if len(body) <= limit {
		return body
	}
	cut := body[:limit]
	for !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	return cut + "\n\n…cut to GitHub's size limit; the run's artifacts have the rest.\n"
}

// UpsertIssue keeps one open issue per key: it finds the open issue whose
// body carries the key's marker and replaces its body, or opens one. It
// returns the issue's web address and whether it was created.
func (c *Context) UpsertIssue(ctx context.Context, key, title, body string, labels []string) (string, bool, error) {
	if c.ReadOnly {
		return "", false, fmt.Errorf("open issue %q: the token is read-only", title)
	}
	full := IssueMarker(key) + "\n" + body
	old, err := c.findIssue(ctx, key)
	if err != nil {
		return "", false, err
	}
	if old != nil {
		req := &github.IssueRequest{Title: github.String(title), Body: github.String(full)}
		is, _, err := c.client.Issues.Edit(ctx, c.Owner, c.Repo, old.GetNumber(), req)
		if err != nil {
			return "", false, fmt.Errorf("update issue #%d: %w", old.GetNumber(), err)
		}
		return is.GetHTMLURL(), false, nil
	}
	req := &github.IssueRequest{Title: github.String(title), Body: github.String(full)}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	is, _, err := c.client.Issues.Create(ctx, c.Owner, c.Repo, req)
	if err != nil {
		return "", false, fmt.Errorf("open issue %q: %w", title, err)
	}
	return is.GetHTMLURL(), true, nil
}

// CloseIssue closes the open issue of key with a comment, if there is one.
func (c *Context) CloseIssue(ctx context.Context, key, comment string) (string, error) {
	if c.ReadOnly {
		return "", fmt.Errorf("close issue: the token is read-only")
	}
	old, err := c.findIssue(ctx, key)
	if err != nil || old == nil {
		return "", err
	}
	if comment != "" {
		if _, _, err := c.client.Issues.CreateComment(ctx, c.Owner, c.Repo, old.GetNumber(), &github.IssueComment{Body: github.String(comment)}); err != nil {
			return "", fmt.Errorf("comment on issue #%d: %w", old.GetNumber(), err)
		}
	}
	is, _, err := c.client.Issues.Edit(ctx, c.Owner, c.Repo, old.GetNumber(), &github.IssueRequest{State: github.String("closed"), StateReason: github.String("completed")})
	if err != nil {
		return "", fmt.Errorf("close issue #%d: %w", old.GetNumber(), err)
	}
	return is.GetHTMLURL(), nil
}

func (c *Context) findIssue(ctx context.Context, key string) (*github.Issue, error) {
	marker := IssueMarker(key)
	opts := &github.IssueListByRepoOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.client.Issues.ListByRepo(ctx, c.Owner, c.Repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list open issues: %w", err)
		}
		for _, is := range page {
			// The list includes pull requests; their bodies are not ours.
			if !is.IsPullRequest() && strings.HasPrefix(is.GetBody(), marker) {
				return is, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}
