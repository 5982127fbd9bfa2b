package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/gh"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/prodlog"
	"github.com/slipway-ml/slipway/internal/quality"
)

// fakeIssues is GitHub's issues API for one repository: it checks the
// paths, methods and bodies it is sent and keeps the issues.
type fakeIssues struct {
	t      *testing.T
	mu     sync.Mutex
	issues []map[string]any
	calls  []string
}

func (f *fakeIssues) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer ghs_monitorTOKEN" {
		f.t.Errorf("%s %s: authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
	}
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			f.t.Errorf("%s %s: body %q", r.Method, r.URL.Path, b)
		}
	}
	const base = "/api/v3/repos/acme/credit-risk/issues"
	switch {
	case r.Method == "GET" && r.URL.Path == base:
		if r.URL.Query().Get("state") != "open" {
			f.t.Errorf("list issues: state %q", r.URL.Query().Get("state"))
		}
		var open []map[string]any
		for _, is := range f.issues {
			if is["state"] == "open" {
				open = append(open, is)
			}
		}
		json.NewEncoder(w).Encode(open)
	case r.Method == "POST" && r.URL.Path == base:
		n := len(f.issues) + 1
		var labels []map[string]any
		for _, l := range body["labels"].([]any) {
			labels = append(labels, map[string]any{"name": l})
		}
		is := map[string]any{"number": n, "state": "open", "title": body["title"], "body": body["body"], "labels": labels,
			"html_url": fmt.Sprintf("https://github.test/acme/credit-risk/issues/%d", n)}
		f.issues = append(f.issues, is)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(is)
	case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, base+"/"):
		var n int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, base+"/"), "%d", &n)
		is := f.issues[n-1]
		for k, v := range body {
			is[k] = v
		}
		json.NewEncoder(w).Encode(is)
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/comments"):
		var n int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, base+"/"), "%d/comments", &n)
		f.issues[n-1]["comment"] = body["body"]
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": 1})
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}
}

// githubClient is a GitHub client of acme/credit-risk at the API url.
func githubClient(t *testing.T, url string) *gh.Context {
	t.Helper()
	env := map[string]string{"GITHUB_TOKEN": "ghs_monitorTOKEN", "GITHUB_REPOSITORY": "acme/credit-risk", "GITHUB_API_URL": url}
	c, err := gh.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNotifyKeepsOneIssue(t *testing.T) {
	f := &fakeIssues{t: t}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := githubClient(t, srv.URL)
	ctx := context.Background()
	psi := 0.41
	win := prodlog.Window{From: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	breach := Run{Model: "credit-default", Environment: "production", Verdict: policy.OutcomeDeny,
		Figures: Figures{Window: win, Rows: 5000, Drift: map[string]quality.FeatureDrift{"debt_ratio": {PSI: &psi}}},
		Results: []policy.Result{{Rule: "monitoring.drift", Outcome: policy.OutcomeDeny, Message: "feature debt_ratio drifted: psi 0.41 > threshold 0.2"},
			{Rule: "monitoring.performance", Outcome: policy.OutcomeDeny, Message: "live recall is 0.5, threshold >= 0.7"}},
		Record: "releases/production/credit-default/monitoring/20261123T000000Z-9.intoto.json"}
	run := breach
	if err := notify(ctx, c, &run); err != nil {
		t.Fatal(err)
	}
	if run.Issue == nil || run.Issue.Action != "opened" || run.Issue.Number != 1 {
		t.Fatalf("first breach: issue %+v", run.Issue)
	}
	is := f.issues[0]
	body := is["body"].(string)
	for _, want := range []string{gh.IssueMarker("monitoring/production/credit-default"), "feature debt_ratio drifted: psi 0.41 &gt; threshold 0.2",
		"| debt_ratio | 0.4100 | n/a |", "slipway rollback --env production --model credit-default --sign-key KEY",
		"slipway release --env production --model credit-default", "20261123T000000Z-9.intoto.json"} {
		if !strings.Contains(body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, body)
		}
	}
	if d := cmp.Diff([]map[string]any{{"name": IssueLabel}}, is["labels"]); d != "" || is["title"] != "Slipway monitoring: credit-default in production breached" {
		t.Errorf("labels (-want +got):\n%s title %q", d, is["title"])
	}
	// A second breach updates the same issue.
	run = breach
	run.Results = run.Results[:1]
	if err := notify(ctx, c, &run); err != nil {
		t.Fatal(err)
	}
	if run.Issue.Action != "updated" || len(f.issues) != 1 || strings.Contains(f.issues[0]["body"].(string), "live recall") {
		t.Errorf("second breach: %+v, %d issues", run.Issue, len(f.issues))
	}
	// Healthy again: closed with a comment.
	run = Run{Model: "credit-default", Environment: "production", Verdict: policy.OutcomePass, Figures: Figures{Window: win}}
	if err := notify(ctx, c, &run); err != nil {
		t.Fatal(err)
	}
	if f.issues[0]["state"] != "closed" || !strings.HasPrefix(f.issues[0]["comment"].(string), "Healthy again") || run.Issue.Action != "closed" {
		t.Errorf("healthy: issue %v, run issue %+v", f.issues[0], run.Issue)
	}
	// Healthy with no issue open: nothing to do.
	run.Issue = nil
	if err := notify(ctx, c, &run); err != nil || run.Issue != nil {
		t.Errorf("healthy without an issue: %v, %+v", err, run.Issue)
	}
	want := []string{"GET /api/v3/repos/acme/credit-risk/issues", "POST /api/v3/repos/acme/credit-risk/issues",
		"GET /api/v3/repos/acme/credit-risk/issues", "PATCH /api/v3/repos/acme/credit-risk/issues/1",
		"GET /api/v3/repos/acme/credit-risk/issues", "POST /api/v3/repos/acme/credit-risk/issues/1/comments", "PATCH /api/v3/repos/acme/credit-risk/issues/1",
		"GET /api/v3/repos/acme/credit-risk/issues"}
	if d := cmp.Diff(want, f.calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}
