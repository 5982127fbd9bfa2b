package gh

import (
	"context"
	"errors"

	"github.com/google/go-github/v60/github"
)

// retryWrite runs a write that GitHub may have carried out although the
// answer says otherwise: a 502 after the comment was created, or no answer
// at all. Repeating such a POST blindly leaves two sticky comments or two
// check runs, so before each retry found looks for what a failed try may
// have created, and a find ends the retries. found nil means the write is
// safe to repeat (an edit, a commit status).
func (c *Context) retryWrite(ctx context.Context, what string, write func() error, found func() (bool, error)) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || !uncertain(ctx, err) || attempt >= c.retry.attempts {
			return err
		}
		if serr := c.retry.sleep(ctx, c.retry.backoff(attempt)); serr != nil {
			return err
		}
		if found != nil {
			ok, ferr := found()
			if ferr == nil && ok {
				c.log.Info("github: "+what+" went through although GitHub answered with an error", "error", err)
				return nil
			}
		}
		c.log.Warn("github: retrying", "write", what, "attempt", attempt, "error", err)
	}
}

// uncertain reports whether a failed write may have taken effect: GitHub
// answered with a server error, or did not answer. Client errors and rate
// limits are GitHub refusing the request, and the caller giving up is
// final.
func uncertain(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, errNoReplay) {
		return false
	}
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ab) {
		return false
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Response != nil && er.Response.StatusCode >= 500
	}
	return true
}
