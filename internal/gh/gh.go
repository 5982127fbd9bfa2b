// Package gh is Slipway's GitHub integration and the only user of
// go-github: it reads a GitHub Actions job's environment, lists a pull
// request's changed files and reviews, reads CODEOWNERS, and publishes a
// check result as a sticky comment, a check run with annotations (or a
// commit status) and, when the token cannot write, as job output.
package gh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/slipway-ml/slipway/internal/changes"
)

// ErrNotActions is returned by FromEnv outside a GitHub Actions job.
var ErrNotActions = errors.New("not running in GitHub Actions: GITHUB_REPOSITORY is not set")

const publicAPI = "https://api.github.com"

// Context is one GitHub Actions job's view of its repository and pull
// request, with a client authenticated by the job's token.
type Context struct {
	Owner, Repo string
	// EventName is GITHUB_EVENT_NAME (pull_request, push, schedule, ...).
	EventName string
	// PR is the pull request number, 0 outside pull request events.
	PR int
	// HeadSHA is the commit results are reported on: the pull request's
	// head (GITHUB_SHA is a throwaway merge commit there), else GITHUB_SHA.
	HeadSHA string
	// BaseRef and BaseSHA are the pull request's base branch and commit.
	BaseRef, BaseSHA string
	// Fork is true when the pull request comes from another repository.
	Fork bool
	// ReadOnly is true when the token cannot write: a fork's pull_request
	// event, or no token at all. Publishing then degrades to job output.
	ReadOnly bool
	// RepoURL and RunURL are web addresses of the repository and this run.
	RepoURL, RunURL string
	// CommentKey names the sticky comment (prcomment.MarkerFor); empty
	// picks the pull request check's comment on pull request events and a
	// per-environment "after merge" comment otherwise.
	CommentKey string
	// CommentAuthor is the login whose comments may be Slipway's sticky
	// comment (SLIPWAY_COMMENT_AUTHOR, for tokens of a user); when empty,
	// only comments by bots count, so a person quoting the marker in a
	// comment of their own never has it overwritten.
	CommentAuthor string
	// PathPrefix is the platform repository's directory under the git
	// repository's top level; see PlatformPrefix.
	PathPrefix changes.Prefix

	client      *github.Client
	out         io.Writer
	log         *slog.Logger
	stepSummary string
	now         func() time.Time
	retry       retryPolicy
	// budget is what is left of --github-timeout for Scope and Publish
	// together; timed is false when there is no bound.
	budget time.Duration
	timed  bool
}

// ErrDeadline is the cause of a context whose --github-timeout passed.
var ErrDeadline = errors.New("GitHub did not answer within --github-timeout")

// DefaultTimeout is --github-timeout's default: how long a check spends on
// GitHub in all, reading the pull request and posting the report.
const DefaultTimeout = 2 * time.Minute

// withDeadline bounds ctx by what is left of the time for GitHub; the
// time until cancel is called is spent. The budget counts only time spent
// talking to GitHub, not the check's planning in between.
func (c *Context) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if !c.timed {
		return context.WithCancel(ctx)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, max(c.budget, 0), ErrDeadline)
	return ctx, func() {
		cancel()
		c.budget -= time.Since(start)
	}
}

// pastDeadline reports whether err came from the overall deadline rather
// than from the caller giving up.
func pastDeadline(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), ErrDeadline)
}

// Option adjusts FromEnv, mostly for tests.
type Option func(*config)

type config struct {
	httpClient *http.Client
	out        io.Writer
	log        *slog.Logger
	retry      retryPolicy
	now        func() time.Time
	timeout    time.Duration
}

// WithTimeout bounds the time Scope and Publish spend on GitHub together
// (--github-timeout); 0 means no bound. Each request
// also has its own timeout (perRequestTimeout), so one that never answers
// is abandoned and, when safe, retried.
func WithTimeout(d time.Duration) Option { return func(cf *config) { cf.timeout = d } }

// withRequestTimeout sets the per-request timeout; tests shorten it.
func withRequestTimeout(d time.Duration) Option { return func(cf *config) { cf.retry.perTry = d } }

// WithHTTPClient sets the HTTP client whose transport requests go through
// (wrapped by the retrying transport).
func WithHTTPClient(c *http.Client) Option { return func(cf *config) { cf.httpClient = c } }

// WithOutput sets where job output (workflow commands, the degraded report)
// goes; os.Stderr by default, so stdout stays the command's result.
func WithOutput(w io.Writer) Option { return func(cf *config) { cf.out = w } }

// WithLogger sets the logger for progress and retries.
func WithLogger(l *slog.Logger) Option { return func(cf *config) { cf.log = l } }

// WithSleep replaces the wait between retries; tests record the waits.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(cf *config) { cf.retry.sleep = sleep }
}

// withPace sets the least time between writes; tests turn pacing off.
func withPace(d time.Duration) Option { return func(cf *config) { cf.retry.pace = d } }

// WithClock sets the clock used for check run timestamps and rate-limit resets.
func WithClock(now func() time.Time) Option {
	return func(cf *config) { cf.now = now; cf.retry.now = now }
}

// event is the part of GITHUB_EVENT_PATH's payload Slipway reads.
type event struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			Ref  string `json:"ref"`
			SHA  string `json:"sha"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

// FromEnv builds a Context from the standard GitHub Actions variables:
// GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
// GITHUB_SHA, GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_RUN_ID and
// GITHUB_STEP_SUMMARY, and SLIPWAY_COMMENT_AUTHOR (see
// Context.CommentAuthor). The token is kept inside the client and never
// appears in errors or logs.
func FromEnv(getenv func(string) string, opts ...Option) (*Context, error) {
	cf := config{out: os.Stderr, now: time.Now, retry: defaultRetry()}
	for _, o := range opts {
		o(&cf)
	}
	if cf.log == nil {
		cf.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cf.retry.log = cf.log
	repo := getenv("GITHUB_REPOSITORY")
	if repo == "" {
		return nil, ErrNotActions
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("GITHUB_REPOSITORY %q: want OWNER/REPO", repo)
	}
	c := &Context{
		Owner: owner, Repo: name,
		EventName:     getenv("GITHUB_EVENT_NAME"),
		HeadSHA:       getenv("GITHUB_SHA"),
		out:           cf.out,
		log:           cf.log,
		stepSummary:   getenv("GITHUB_STEP_SUMMARY"),
		CommentAuthor: getenv("SLIPWAY_COMMENT_AUTHOR"),
		now:           cf.now,
		retry:         cf.retry,
	}
	if cf.timeout > 0 {
		c.budget, c.timed = cf.timeout, true
	}
	server := strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
	}
	c.RepoURL = server + "/" + owner + "/" + name
	if id := getenv("GITHUB_RUN_ID"); id != "" {
		c.RunURL = c.RepoURL + "/actions/runs/" + id
	}
	if p := getenv("GITHUB_EVENT_PATH"); p != "" {
		if err := c.readEvent(p); err != nil {
			return nil, err
		}
	}

	hc := &http.Client{}
	if cf.httpClient != nil {
		*hc = *cf.httpClient
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	auth := &authTransport{next: &retryTransport{next: next, policy: cf.retry}, token: getenv("GITHUB_TOKEN")}
	hc.Transport = auth
	client := github.NewClient(hc)
	if auth.token == "" {
		c.ReadOnly = true
	}
	api := strings.TrimRight(getenv("GITHUB_API_URL"), "/")
	if api != "" && api != publicAPI {
		// GitHub Enterprise Server: the API lives at https://HOST/api/v3 and
		// uploads at https://HOST/api/uploads.
		if _, err := url.Parse(api); err != nil {
			return nil, fmt.Errorf("GITHUB_API_URL %q: %w", api, err)
		}
		upload := strings.TrimSuffix(api, "/api/v3") + "/api/uploads/"
		var err error
		if client, err = client.WithEnterpriseURLs(api+"/", upload); err != nil {
			return nil, fmt.Errorf("GITHUB_API_URL %q: %w", api, err)
		}
	}
	auth.allowed = map[string]bool{}
	for _, u := range []*url.URL{client.BaseURL, client.UploadURL} {
		auth.allowed[u.Scheme+"://"+strings.ToLower(u.Host)] = true
	}
	c.client = client
	return c, nil
}

// authTransport adds the token to requests for GitHub's API and upload
// hosts only. go-github's WithAuthToken sets it on every request its
// client sends, redirects to other hosts included (Go's client drops the
// headers of the first request on a cross-host redirect, not those a
// transport adds), so a redirect elsewhere would carry the token there.
type authTransport struct {
	next  http.RoundTripper
	token string
	// allowed are the scheme://host origins of the API and uploads.
	allowed map[string]bool
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token != "" && t.allowed[req.URL.Scheme+"://"+strings.ToLower(req.URL.Host)] {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.next.RoundTrip(req)
}

// PlatformPrefix is the platform directory dir relative to the job's
// checkout (GITHUB_WORKSPACE), or "" when it is the checkout itself or
// outside it.
func PlatformPrefix(getenv func(string) string, dir string) changes.Prefix {
	ws := getenv("GITHUB_WORKSPACE")
	if ws == "" {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	if r, err := filepath.EvalSymlinks(ws); err == nil {
		ws = r
	}
	rel, err := filepath.Rel(ws, abs)
	if err != nil {
		return ""
	}
	return changes.NewPrefix(rel)
}

func (c *Context) readEvent(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read GITHUB_EVENT_PATH: %w", err)
	}
	var ev event
	if err := json.Unmarshal(data, &ev); err != nil {
		return fmt.Errorf("decode event %s: %w", path, err)
	}
	if pr := ev.PullRequest; pr != nil {
		c.PR = pr.Number
		if c.PR == 0 {
			c.PR = ev.Number
		}
		if pr.Head.SHA != "" {
			c.HeadSHA = pr.Head.SHA
		}
		c.BaseRef, c.BaseSHA = pr.Base.Ref, pr.Base.SHA
		base := pr.Base.Repo.FullName
		if base == "" {
			base = ev.Repository.FullName
		}
		// A deleted fork has no head repo; treat it as a fork too.
		c.Fork = pr.Head.Repo == nil || !strings.EqualFold(pr.Head.Repo.FullName, base)
		// pull_request_target runs with the base repository's token even
		// for forks; pull_request from a fork gets a read-only token.
		if c.Fork && c.EventName != "pull_request_target" {
			c.ReadOnly = true
		}
	}
	return nil
}

// isForbidden reports whether err is GitHub refusing the token (403 or a
// 404 GitHub uses to hide private resources), not a rate limit.
func isForbidden(err error) bool {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ab) {
		return false
	}
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden
}
