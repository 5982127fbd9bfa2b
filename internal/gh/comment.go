package gh

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/slipway-ml/slipway/internal/prcomment"
)

// stickyComments finds Slipway's comments on the pull request by their
// hidden marker, by part number; later duplicates of a part (from two runs
// racing) are returned in extra.
func (c *Context) stickyComments(ctx context.Context, key string) (parts map[int]*github.IssueComment, extra []*github.IssueComment, err error) {
	parts = map[int]*github.IssueComment{}
	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.client.Issues.ListComments(ctx, c.Owner, c.Repo, c.PR, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("list comments of pull request #%d: %w", c.PR, err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].GetID() < all[j].GetID() })
	for _, cm := range all {
		n, ok := prcomment.PartOf(cm.GetBody(), key)
		if !ok || !c.ownComment(cm) {
			continue
		}
		if _, dup := parts[n]; dup {
			extra = append(extra, cm)
			continue
		}
		parts[n] = cm
	}
	return parts, extra, nil
}

// upsertComment writes the report's parts into the sticky comments:
// existing parts are edited in place (only when their text changed), new
// parts are created, and parts left over from a longer earlier report are
// deleted. It returns the first part's web address.
func (c *Context) upsertComment(ctx context.Context, key string, bodies []string) (string, error) {
	existing, extra, err := c.stickyComments(ctx, key)
	if err != nil {
		return "", err
	}
	var first string
	for i, body := range bodies {
		n := i + 1
		var cm *github.IssueComment
		if old, ok := existing[n]; ok {
			cm = old
			if old.GetBody() != body {
				err = c.retryWrite(ctx, "update comment", func() (err error) {
					cm, _, err = c.client.Issues.EditComment(ctx, c.Owner, c.Repo, old.GetID(), &github.IssueComment{Body: github.String(body)})
					return err
				}, nil)
				if err != nil {
					return first, fmt.Errorf("update comment %d (part %d): %w", old.GetID(), n, err)
				}
			}
			delete(existing, n)
		} else {
			err = c.retryWrite(ctx, "create comment", func() (err error) {
				cm, _, err = c.client.Issues.CreateComment(ctx, c.Owner, c.Repo, c.PR, &github.IssueComment{Body: github.String(body)})
				return err
			}, func() (bool, error) {
				// The part was missing before this try: one there now is
				// the try's own.
				parts, _, err := c.stickyComments(ctx, key)
				if p, ok := parts[n]; ok {
					cm = p
				}
				return parts[n] != nil, err
			})
			if err != nil {
				return first, fmt.Errorf("create comment (part %d): %w", n, err)
			}
		}
		if n == 1 {
			first = cm.GetHTMLURL()
		}
	}
	for _, cm := range existing {
		extra = append(extra, cm)
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].GetID() < extra[j].GetID() })
	for _, cm := range extra {
		if _, err := c.client.Issues.DeleteComment(ctx, c.Owner, c.Repo, cm.GetID()); err != nil {
			return first, fmt.Errorf("delete stale comment %d: %w", cm.GetID(), err)
		}
	}
	return first, nil
}

// ownComment reports whether a comment can be one Slipway wrote.
func (c *Context) ownComment(cm *github.IssueComment) bool {
	if c.CommentAuthor != "" {
		return strings.EqualFold(cm.GetUser().GetLogin(), c.CommentAuthor)
	}
	return cm.GetUser().GetType() == "Bot"
}
