package gh

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTokenStaysOnGitHubsHost follows redirects from the API to another
// host, which must not see the token, and within the API's host, which
// must.
func TestTokenStaysOnGitHubsHost(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{} // server → Authorization it saw
	record := func(name string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen[name] = r.Header.Get("Authorization")
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("other", r)
		io.WriteString(w, `[]`)
	}))
	defer other.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case repoPath + "/pulls/12/files":
			http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
		case repoPath + "/pulls/12/reviews":
			http.Redirect(w, r, api.URL+"/moved/reviews", http.StatusMovedPermanently)
		case "/moved/reviews":
			record("api", r)
			io.WriteString(w, `[]`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	f := newFake(t)
	e := newEnv(t, f, "acme/credit-risk")
	e.vars["GITHUB_API_URL"] = api.URL + "/api/v3"
	c := e.context(t, f)
	if _, err := c.ChangedFiles(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Approvals(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(seen["other"], testToken) {
		t.Errorf("another host got the token: %q", seen["other"])
	}
	if seen["api"] != "Bearer "+testToken {
		t.Errorf("a redirect on GitHub's own host lost the token: %q", seen["api"])
	}
}

// TestHungPostEndsWithinTheTimeout: a comment POST that never answers is
// abandoned after the per-request timeout, the overall deadline ends the
// publishing, and the report is in the job summary with a warning saying
// why it is not on the pull request.
func TestHungPostEndsWithinTheTimeout(t *testing.T) {
	f := newFake(t)
	for range 10 {
		f.failNext("POST /issues/{id}/comments", injected{hang: true})
		f.failNext("POST /check-runs", injected{hang: true})
	}
	e := newEnv(t, f, "acme/credit-risk")
	c, err := FromEnv(func(k string) string { return e.vars[k] }, WithOutput(&e.out), withPace(0),
		withRequestTimeout(300*time.Millisecond), WithTimeout(time.Second),
		WithSleep(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan struct{})
	var rep *Report
	go func() {
		defer close(done)
		rep, _ = c.Publish(context.Background(), readResult(t, "deny.json"))
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Publish still waits for GitHub after 20s; --github-timeout is 1s")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Publish took %v with a 1s timeout", d)
	}
	if rep == nil || !rep.Degraded || !strings.Contains(rep.Reason, "--github-timeout") {
		t.Errorf("report = %+v, want degraded past the deadline", rep)
	}
	if !strings.Contains(e.out.String(), "::warning title=Slipway report not posted::") || !strings.Contains(e.out.String(), "::error file=") {
		t.Errorf("job output lacks the warning and the annotations:\n%s", e.out.String())
	}
	summary, err := os.ReadFile(e.vars["GITHUB_STEP_SUMMARY"])
	if err != nil || !strings.Contains(string(summary), "Slipway") {
		t.Errorf("job summary: %v\n%s", err, summary)
	}
}

// TestPostDoneThen502: GitHub creates the comment and the check run but
// answers 502; the retry finds them instead of creating seconds.
func TestPostDoneThen502(t *testing.T) {
	f := newFake(t)
	f.failNext("POST /issues/{id}/comments", injected{status: 502, after: true, body: `{"message":"Server Error"}`})
	f.failNext("POST /check-runs", injected{status: 502, after: true, body: `{"message":"Server Error"}`})
	e := newEnv(t, f, "acme/credit-risk")
	rep, err := e.context(t, f).Publish(context.Background(), readResult(t, "deny.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 1 || len(f.runs) != 1 {
		t.Fatalf("%d comments and %d check runs, want one of each (requests %v)", len(f.comments), len(f.runs), f.requests(""))
	}
	if rep.CommentURL == "" || rep.CheckRunID == 0 {
		t.Errorf("report = %+v, want the comment and check run the first tries created", rep)
	}
	for _, r := range f.runs {
		if id, _ := r["external_id"].(string); !strings.HasPrefix(id, "slipway-") {
			t.Errorf("check run external_id = %q", id)
		}
	}
}

// TestPostFailsThen502Retries: a 502 where GitHub did nothing is retried.
func TestPostFailsThen502Retries(t *testing.T) {
	f := newFake(t)
	f.failNext("POST /issues/{id}/comments", injected{status: 502, body: `{"message":"Server Error"}`})
	f.failNext("POST /check-runs", injected{status: 502, body: `{"message":"Server Error"}`})
	e := newEnv(t, f, "acme/credit-risk")
	rep, err := e.context(t, f).Publish(context.Background(), readResult(t, "deny.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 1 || len(f.runs) != 1 || rep.CommentURL == "" || rep.CheckRunID == 0 {
		t.Fatalf("%d comments, %d check runs, report %+v: want one of each after the retry", len(f.comments), len(f.runs), rep)
	}
}

// TestScopeWithoutGitHubsAnswers: rate limits past the longest wait and
// malformed answers leave a scope that judges everything and counts no
// approval, and say so, instead of an error.
func TestScopeWithoutGitHubsAnswers(t *testing.T) {
	rateLimited := injected{status: 403, header: map[string]string{
		"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000", "X-RateLimit-Resource": "core",
	}, body: `{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`}
	for name, tc := range map[string]struct {
		route string
		in    injected
		files bool // whether the changed files are still known
	}{
		"files rate limited":   {"GET /pulls/{id}/files", rateLimited, false},
		"files malformed":      {"GET /pulls/{id}/files", injected{status: 200, body: `{"oops":`}, false},
		"reviews rate limited": {"GET /pulls/{id}/reviews", rateLimited, true},
		"reviews malformed":    {"GET /pulls/{id}/reviews", injected{status: 200, body: `[{"user":"not an object"}]`}, true},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.addFile("models/credit-default/model.cue", "modified", "")
			f.addReview("alice", 1, "APPROVED", f.now.Add(-time.Hour))
			f.contents["CODEOWNERS"] = "models/ @alice\n"
			in := tc.in
			if in.header != nil {
				// The reset is an hour away, past the longest wait.
				in.header["X-RateLimit-Reset"] = strconv.FormatInt(f.now.Add(time.Hour).Unix(), 10)
			}
			f.failNext(tc.route, in)
			e := newEnv(t, f, "acme/credit-risk")
			s, err := e.context(t, f).Scope(context.Background())
			if err != nil {
				t.Fatalf("Scope: %v; the check must go on without GitHub's answer", err)
			}
			if (s.ChangedFiles != nil) != tc.files {
				t.Errorf("changed files = %v, known: want %v", s.ChangedFiles, tc.files)
			}
			if !tc.files {
				if len(s.Approvals) != 1 {
					t.Errorf("approvals = %v, want alice's", s.Approvals)
				}
				// CODEOWNERS still holds, on each model's directory.
				if s.DirOwners == nil {
					t.Fatal("no owners for models' directories: CODEOWNERS would not be enforced")
				}
				if o := s.DirOwners("models/credit-default"); o == nil || len(o.ApprovedBy) != 1 || o.Owners[0] != "@alice" {
					t.Errorf("DirOwners = %+v, want @alice, approved", o)
				}
			}
			if tc.files && (len(s.Approvals) != 0 || len(s.OwnedFiles) != 1 || len(s.OwnedFiles[0].ApprovedBy) != 0) {
				t.Errorf("approvals %v, owned files %v: with the reviews unknown no approval counts", s.Approvals, s.OwnedFiles)
			}
			if len(s.Problems) == 0 || !strings.Contains(e.logs.String(), "github:") {
				t.Errorf("the fallback is not said: problems %v, log %s", s.Problems, e.logs.String())
			}
		})
	}
	t.Run("CODEOWNERS unreadable", func(t *testing.T) {
		f := newFake(t)
		f.addFile("models/credit-default/model.cue", "modified", "")
		for range 5 {
			f.failNext("GET /contents/.github/CODEOWNERS", injected{status: 500, body: `{"message":"Server Error"}`})
		}
		e := newEnv(t, f, "acme/credit-risk")
		s, err := e.context(t, f).Scope(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// Unknown owners have not approved: the rule denies, not passes.
		if s.OwnedFiles != nil || s.DirOwners == nil {
			t.Fatalf("owned files %v, dir owners set %v", s.OwnedFiles, s.DirOwners != nil)
		}
		if o := s.DirOwners("models/credit-default"); o == nil || len(o.Owners) == 0 || len(o.ApprovedBy) != 0 {
			t.Errorf("DirOwners = %+v, want unknown owners without approval", o)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		f := newFake(t)
		e := newEnv(t, f, "acme/credit-risk")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.context(t, f).Scope(ctx); err == nil {
			t.Error("a cancelled check must stop, not judge everything")
		}
	})
}

// TestScopeAuthors checks that the scope names who wrote the change (the
// pull request's author and its commits' GitHub authors), and that when
// GitHub does not say, no approval counts.
func TestScopeAuthors(t *testing.T) {
	for name, tc := range map[string]struct {
		fail          string
		wantAuthors   []string
		wantApprovals int
	}{
		"known":          {"", []string{"alice", "bob"}, 3},
		"pull failed":    {"GET /pulls/{id}", nil, 0},
		"commits failed": {"GET /pulls/{id}/commits", nil, 0},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.prAuthor = "alice"
			f.addCommit("bob")
			f.addCommit("")
			f.addFile("models/credit-default/model.cue", "modified", "")
			for i, u := range []string{"alice", "bob", "carol"} {
				f.addReview(u, i+1, "APPROVED", f.now.Add(-time.Hour))
			}
			if tc.fail != "" {
				// A malformed answer: GitHub does not say who wrote it.
				f.failNext(tc.fail, injected{status: 200, body: `{"oops":`})
			}
			e := newEnv(t, f, "acme/credit-risk")
			s, err := e.context(t, f).Scope(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantAuthors, s.Authors); d != "" {
				t.Errorf("authors (-want +got):\n%s", d)
			}
			if len(s.Approvals) != tc.wantApprovals {
				t.Errorf("approvals = %v, want %d", s.Approvals, tc.wantApprovals)
			}
			if tc.fail != "" && !slices.ContainsFunc(s.Problems, func(p string) bool { return strings.Contains(p, "no approval counts") }) {
				t.Errorf("problems %v do not say that no approval counts", s.Problems)
			}
		})
	}
}
