package gh

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// retryPolicy says how often and how long requests are retried.
type retryPolicy struct {
	attempts int           // tries per request, the first included
	maxWait  time.Duration // longest single wait; a longer rate-limit reset is not waited for
	base     time.Duration // first backoff for server errors
	// pace is the least time between two writes: GitHub asks for a second
	// between POST, PATCH, PUT and DELETE requests to stay clear of
	// secondary rate limits.
	pace time.Duration
	// perTry bounds each try: a request GitHub never answers is abandoned
	// after it (the wait for a response's body included).
	perTry time.Duration
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
	log    *slog.Logger
}

func defaultRetry() retryPolicy {
	return retryPolicy{attempts: 5, maxWait: 5 * time.Minute, base: time.Second, pace: time.Second, perTry: perRequestTimeout, sleep: sleepCtx, now: time.Now}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// perRequestTimeout is how long one request may take.
const perRequestTimeout = 30 * time.Second

// cancelBody ends a try's context once its body is read and closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// retryTransport retries requests GitHub refused for rate limits or could
// not serve, waiting as GitHub's rate-limit headers ask: Retry-After first,
// then X-RateLimit-Reset when no requests remain, else at least a minute
// (secondary limits) or exponential backoff (server errors). It sits under
// go-github so every call gets it.
type retryTransport struct {
	next   http.RoundTripper
	policy retryPolicy

	mu        sync.Mutex
	lastWrite time.Time
}

// paceWrites waits until a second has passed since the previous write.
func (t *retryTransport) paceWrites(req *http.Request) error {
	switch req.Method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return nil
	}
	if t.policy.pace <= 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.lastWrite.IsZero() {
		if wait := t.policy.pace - t.policy.now().Sub(t.lastWrite); wait > 0 {
			if err := t.policy.sleep(req.Context(), wait); err != nil {
				return err
			}
		}
	}
	t.lastWrite = t.policy.now()
	return nil
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.policy
	if a := req.Header.Get("Accept"); strings.HasSuffix(a, "-preview") || strings.HasSuffix(a, "-preview+json") || a == "application/vnd.github.v3+json" {
		// go-github v60 still sends long-graduated preview media types;
		// GitHub documents application/vnd.github+json for every endpoint
		// Slipway calls.
		req = req.Clone(req.Context())
		req.Header.Set("Accept", "application/vnd.github+json")
	}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(req.Context())
			if req.Body != nil && req.Body != http.NoBody {
				if req.GetBody == nil {
					return nil, errNoReplay
				}
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		if err := t.paceWrites(r); err != nil {
			return nil, err
		}
		cancel := context.CancelFunc(func() {})
		if p.perTry > 0 {
			var ctx context.Context
			ctx, cancel = context.WithTimeout(r.Context(), p.perTry)
			r = r.WithContext(ctx)
		}
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			cancel()
		} else {
			resp.Body = cancelBody{resp.Body, cancel}
		}
		var wait time.Duration
		var retry bool
		if err != nil {
			// The request may have reached GitHub; only repeat what is
			// safe to repeat. A POST is retried by its caller, which
			// first looks for what it may have created (retryWrite).
			retry = idempotent(req.Method) && req.Context().Err() == nil
			wait = p.backoff(attempt)
		} else {
			wait, retry = p.retryAfter(resp, attempt)
			if retry && resp.StatusCode >= 500 && !idempotent(req.Method) {
				// GitHub may have done the work before failing (a 502
				// after creating the comment): the caller decides.
				retry = false
			}
		}
		if !retry || attempt >= p.attempts || wait > p.maxWait {
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
		}
		if p.log != nil {
			status := "error"
			if resp != nil {
				status = resp.Status
			}
			// URL paths carry no secrets; the token lives in a header.
			p.log.Warn("github: retrying", "method", req.Method, "path", req.URL.Path, "status", status, "wait", wait.String(), "attempt", attempt)
		}
		if err := p.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

type replayError struct{}

func (replayError) Error() string { return "github: request body cannot be replayed for a retry" }

var errNoReplay error = replayError{}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// retryAfter decides whether a response is worth retrying and after how long.
func (p retryPolicy) retryAfter(resp *http.Response, attempt int) (time.Duration, bool) {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusForbidden:
		if resp.StatusCode == http.StatusForbidden && !rateLimited(resp) {
			return 0, false // a plain permission error: retrying will not help
		}
		if d, ok := retryAfterHeader(resp); ok {
			return d, true
		}
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
				return max(time.Unix(reset, 0).Sub(p.now())+time.Second, time.Second), true
			}
		}
		// Secondary rate limit without a hint: GitHub asks for at least a
		// minute, growing exponentially.
		return time.Minute << (attempt - 1), true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := retryAfterHeader(resp); ok {
			return d, true
		}
		return p.backoff(attempt), true
	}
	return 0, false
}

func (p retryPolicy) backoff(attempt int) time.Duration {
	d := p.base << (attempt - 1)
	return d + time.Duration(rand.Int64N(int64(d)/2+1))
}

func retryAfterHeader(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// rateLimited tells a 403 for a rate limit from a 403 for missing
// permission: the headers say so, or the body does for secondary limits.
func rateLimited(resp *http.Response) bool {
	if resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-RateLimit-Remaining") == "0" {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	return strings.Contains(strings.ToLower(string(body)), "rate limit")
}
