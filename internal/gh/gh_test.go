package gh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/changes"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/prcomment"
	"github.com/slipway-ml/slipway/internal/spec"
)

const (
	headSHA  = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	mergeSHA = "0123456789abcdef0123456789abcdef01234567"
	baseSHA  = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
)

// env is one job's environment; out collects job output and logs.
type env struct {
	vars   map[string]string
	out    bytes.Buffer
	logs   bytes.Buffer
	sleeps []time.Duration
	pace   time.Duration
}

// writeEvent writes a pull_request event payload, as GitHub sends it.
func writeEvent(t *testing.T, headRepo string) string {
	t.Helper()
	ev := map[string]any{
		"action": "synchronize", "number": 12,
		"pull_request": map[string]any{
			"number": 12, "state": "open", "title": "credit-default 1.5.0",
			"head": map[string]any{"ref": "retrain", "sha": headSHA, "repo": map[string]any{"full_name": headRepo, "fork": headRepo != "acme/credit-risk"}},
			"base": map[string]any{"ref": "main", "sha": baseSHA, "repo": map[string]any{"full_name": "acme/credit-risk", "fork": false}},
		},
		"repository": map[string]any{"full_name": "acme/credit-risk", "default_branch": "main"},
	}
	data, _ := json.Marshal(ev)
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func newEnv(t *testing.T, f *fakeGitHub, headRepo string) *env {
	return &env{vars: map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": testToken, "GITHUB_REPOSITORY": "acme/credit-risk",
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": writeEvent(t, headRepo),
		"GITHUB_SHA": mergeSHA, "GITHUB_API_URL": f.apiURL(), "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_RUN_ID": "42", "GITHUB_STEP_SUMMARY": filepath.Join(t.TempDir(), "summary.md"),
	}}
}

func (e *env) context(t *testing.T, f *fakeGitHub) *Context {
	t.Helper()
	c, err := FromEnv(func(k string) string { return e.vars[k] },
		WithOutput(&e.out),
		WithLogger(slog.New(slog.NewTextHandler(&e.logs, nil))),
		WithClock(func() time.Time { return f.now }),
		withPace(e.pace),
		WithSleep(func(_ context.Context, d time.Duration) error { e.sleeps = append(e.sleeps, d); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for name, s := range map[string]string{"output": e.out.String(), "log": e.logs.String()} {
			if strings.Contains(s, testToken) {
				t.Errorf("the token appears in the job %s", name)
			}
		}
	})
	return c
}

func readResult(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "prcomment", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFromEnv(t *testing.T) {
	f := newFake(t)
	e := newEnv(t, f, "acme/credit-risk")
	c := e.context(t, f)
	got := map[string]any{"owner": c.Owner, "repo": c.Repo, "pr": c.PR, "head": c.HeadSHA, "base": c.BaseRef, "baseSHA": c.BaseSHA,
		"fork": c.Fork, "readOnly": c.ReadOnly, "run": c.RunURL, "api": c.client.BaseURL.String()}
	want := map[string]any{"owner": "acme", "repo": "credit-risk", "pr": 12, "head": headSHA, "base": "main", "baseSHA": baseSHA,
		"fork": false, "readOnly": false, "run": "https://github.com/acme/credit-risk/actions/runs/42", "api": f.apiURL() + "/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("context (-want +got):\n%s", diff)
	}

	t.Run("public GitHub keeps the default API", func(t *testing.T) {
		e.vars["GITHUB_API_URL"] = "https://api.github.com"
		c := e.context(t, f)
		if got := c.client.BaseURL.String(); got != "https://api.github.com/" {
			t.Errorf("BaseURL = %s", got)
		}
	})
	t.Run("push event reports on GITHUB_SHA", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "push.json")
		os.WriteFile(p, []byte(`{"ref":"refs/heads/main","after":"`+mergeSHA+`","repository":{"full_name":"acme/credit-risk"}}`), 0o644)
		e.vars["GITHUB_EVENT_PATH"], e.vars["GITHUB_EVENT_NAME"] = p, "push"
		c := e.context(t, f)
		if c.PR != 0 || c.HeadSHA != mergeSHA {
			t.Errorf("PR = %d, HeadSHA = %s", c.PR, c.HeadSHA)
		}
		if _, err := c.ChangedFiles(context.Background()); err != ErrNoPullRequest {
			t.Errorf("ChangedFiles outside a PR: %v", err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for name, vars := range map[string]map[string]string{
			"outside actions": {},
			"bad repository":  {"GITHUB_REPOSITORY": "acme"},
			"bad event":       {"GITHUB_REPOSITORY": "acme/x", "GITHUB_EVENT_PATH": "/does/not/exist", "GITHUB_TOKEN": testToken},
		} {
			_, err := FromEnv(func(k string) string { return vars[k] })
			if err == nil {
				t.Errorf("%s: FromEnv succeeded", name)
			} else if strings.Contains(err.Error(), testToken) {
				t.Errorf("%s: error shows the token", name)
			}
		}
	})
}

func TestChangedFilesAllPages(t *testing.T) {
	f := newFake(t)
	for i := 0; i < 230; i++ {
		f.addFile(fmt.Sprintf("models/m%03d/model.cue", i), "modified", "")
	}
	f.addFile("models/credit-default/runbook.md", "renamed", "docs/runbook.md")
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	files, err := c.ChangedFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 232 {
		t.Errorf("got %d files, want 232 (230 + both sides of a rename)", len(files))
	}
	for _, want := range []string{"docs/runbook.md", "models/credit-default/runbook.md", "models/m229/model.cue"} {
		if !contains(files, want) {
			t.Errorf("missing %s", want)
		}
	}
	wantReqs := []string{
		"GET /pulls/12/files?per_page=100",
		"GET /pulls/12/files?page=2&per_page=100",
		"GET /pulls/12/files?page=3&per_page=100",
	}
	if diff := cmp.Diff(wantReqs, f.requests("GET /pulls")); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestApprovals(t *testing.T) {
	f := newFake(t)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	f.addReview("alice", 1, "APPROVED", at(1))
	f.addReview("alice", 1, "COMMENTED", at(2)) // a comment leaves the approval standing
	f.addReview("bob", 2, "APPROVED", at(1))
	f.addReview("bob", 2, "CHANGES_REQUESTED", at(3))
	f.addReview("carol", 3, "DISMISSED", at(1)) // GitHub rewrites a dismissed approval's state
	f.addReview("dave", 4, "CHANGES_REQUESTED", at(1))
	for i := 0; i < 120; i++ { // push dave's approval onto the second page
		f.addReview("erin", 5, "COMMENTED", at(2))
	}
	f.addReview("dave", 4, "APPROVED", at(4))
	f.addReview("frank", 6, "PENDING", time.Time{})
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	got, err := c.Approvals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Each approval carries the id of the review that approved and its
	// commit: an acceptance by operations is signed with both.
	idOf := func(i int) int64 { return f.reviews[i]["id"].(int64) }
	const commit = "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091"
	want := []Approval{
		{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-20T10:00:00Z", ReviewID: idOf(0), Commit: commit},
		{User: "dave", State: "APPROVED", SubmittedAt: "2026-11-20T13:00:00Z", ReviewID: idOf(len(f.reviews) - 2), Commit: commit},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("approvals (-want +got):\n%s", diff)
	}
	if n := len(f.requests("GET /pulls/12/reviews")); n != 2 {
		t.Errorf("%d review pages read, want 2", n)
	}
}

func TestCodeOwners(t *testing.T) {
	f := newFake(t)
	f.contents["CODEOWNERS"] = `# Owners
*                       @acme/platform
/models/                @acme/ml-reviewers
models/credit-default/  @alice @acme/risk   # credit risk
*.rego                  @acme/policy
docs/*                  docs@acme.example
/environments.cue       @bob
/models/fraud-score/    
!negated                @nobody
`
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	co, err := c.CodeOwners(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{
		"GET /contents/.github/CODEOWNERS?ref=" + baseSHA,
		"GET /contents/CODEOWNERS?ref=" + baseSHA,
	}, f.requests("GET /contents")); diff != "" {
		t.Errorf("CODEOWNERS must be read from the base commit (-want +got):\n%s", diff)
	}
	if len(co.Problems) != 1 || !strings.HasPrefix(co.Problems[0], "CODEOWNERS:9:") {
		t.Errorf("problems = %q, want the negation on line 9", co.Problems)
	}
	for path, want := range map[string][]string{
		"README.md":                          {"@acme/platform"},
		"models/credit-default/model.cue":    {"@alice", "@acme/risk"},
		"models/churn/model.cue":             {"@acme/ml-reviewers"},
		"policies/fairness.rego":             {"@acme/policy"},
		"policies/sub/x.rego":                {"@acme/policy"},
		"docs/github.md":                     {"docs@acme.example"},
		"docs/deep/page.md":                  {"@acme/platform"},
		"environments.cue":                   {"@bob"},
		"x/environments.cue":                 {"@acme/platform"},
		"models/fraud-score/model.cue":       nil,
		"nested/models/credit-default/a.cue": {"@acme/platform"}, // a middle slash anchors at the root
	} {
		if diff := cmp.Diff(want, co.Owners(path)); diff != "" {
			t.Errorf("Owners(%s) (-want +got):\n%s", path, diff)
		}
	}
	approved, pending := ApprovedBy(co.Owners("models/credit-default/model.cue"),
		[]Approval{{User: "Alice", State: "APPROVED"}}, map[string][]string{"@acme/risk": {"carol"}})
	if diff := cmp.Diff([]string{"@alice"}, approved); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"@acme/risk"}, pending); diff != "" {
		t.Error(diff)
	}
}

func TestPublishFirstCommentThenUpdate(t *testing.T) {
	f := newFake(t)
	f.comments = append(f.comments, f.comment("LGTM, but please check the fairness numbers"))
	e := newEnv(t, f, "acme/credit-risk")
	c := e.context(t, f)

	rep, err := c.Publish(context.Background(), readResult(t, "pass.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Degraded || rep.Parts != 1 || rep.CheckRunID == 0 {
		t.Fatalf("report = %+v", rep)
	}
	if len(f.comments) != 2 {
		t.Fatalf("%d comments, want the reviewer's and Slipway's", len(f.comments))
	}
	first := f.comments[1]["id"].(int64)
	body := f.comments[1]["body"].(string)
	if !strings.HasPrefix(body, prcomment.Marker) || !strings.Contains(body, "✅ Slipway: pass") {
		t.Errorf("comment body starts %q", body[:80])
	}
	run := f.runs[rep.CheckRunID]
	if run["head_sha"] != headSHA || run["conclusion"] != "success" || run["name"] != "slipway" {
		t.Errorf("check run = head %v conclusion %v name %v", run["head_sha"], run["conclusion"], run["name"])
	}
	if sum, _ := os.ReadFile(e.vars["GITHUB_STEP_SUMMARY"]); !strings.Contains(string(sum), "Slipway: pass") {
		t.Error("job summary lacks the report")
	}

	// Second push: the same comment is edited, no new one appears.
	rep, err = c.Publish(context.Background(), readResult(t, "deny.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 2 || f.comments[1]["id"].(int64) != first {
		t.Fatalf("comments after the second run: %d, Slipway's id %v, want %d", len(f.comments), f.comments[1]["id"], first)
	}
	if !strings.Contains(f.comments[1]["body"].(string), "❌ Slipway: deny") {
		t.Error("comment not updated to the new verdict")
	}
	if !strings.Contains(f.comments[1]["body"].(string), "blob/"+headSHA+"/environments.cue#L17") {
		t.Error("spec links must point at the PR head, not the merge commit")
	}
	if got := f.runs[rep.CheckRunID]["conclusion"]; got != "failure" {
		t.Errorf("conclusion = %v, want failure", got)
	}

	// Third run with the same result: nothing to edit.
	before := len(f.requests("PATCH /issues/comments"))
	if _, err := c.Publish(context.Background(), readResult(t, "deny.json")); err != nil {
		t.Fatal(err)
	}
	if after := len(f.requests("PATCH /issues/comments")); after != before {
		t.Errorf("an unchanged comment was edited again")
	}
	wantSeq := []string{
		"GET /issues/12/comments?per_page=100",
		"POST /issues/12/comments",
		"POST /check-runs",
		"GET /issues/12/comments?per_page=100",
		fmt.Sprintf("PATCH /issues/comments/%d", first),
		"POST /check-runs",
		"GET /issues/12/comments?per_page=100",
		"POST /check-runs",
	}
	if diff := cmp.Diff(wantSeq, f.requests("")); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// bigResult builds a failing result with n denials on distinct spec lines
// and resource tables long enough for the comment to reach size bytes.
func bigResult(t *testing.T, denials, size int) []byte {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(readResult(t, "deny.json"), &r); err != nil {
		t.Fatal(err)
	}
	units := r["units"].([]any)
	u0 := units[0].(map[string]any)
	var results []any
	for i := 0; i < denials; i++ {
		results = append(results, map[string]any{"rule": fmt.Sprintf("custom.rule_%03d", i), "severity": "deny", "outcome": "deny",
			"message": "denied for a reason", "model": "credit-default", "environment": "production",
			"pos": map[string]any{"file": "models/credit-default/model.cue", "line": i + 1, "column": 1}})
	}
	u0["results"] = results
	var res []any
	for i := 0; i < size/100; i++ {
		res = append(res, map[string]any{"address": fmt.Sprintf("module.deployment.terraform_data.shard[%d]", i), "type": "terraform_data",
			"actions": []string{"update"}, "changed": []string{"input.artifact_digest", "input.labels"}})
	}
	u0["plan"].(map[string]any)["resources"] = res
	r["units"] = []any{u0}
	data, _ := json.Marshal(r)
	return data
}

func TestPublishSplitsLongReport(t *testing.T) {
	f := newFake(t)
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	data := bigResult(t, 3, 70000)
	res, _ := checkresult.Decode(data)
	if n := len(c.Markdown(res)); n < 70000 {
		t.Fatalf("report is %d characters, want over 70000", n)
	}
	rep, err := c.Publish(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Parts < 2 || len(f.comments) != rep.Parts {
		t.Fatalf("parts = %d, comments = %d", rep.Parts, len(f.comments))
	}
	for i, cm := range f.comments {
		body := cm["body"].(string)
		if !strings.Contains(body, fmt.Sprintf("<!-- slipway:part %d/%d -->", i+1, rep.Parts)) {
			t.Errorf("comment %d lacks its part marker", i+1)
		}
		if strings.Count(body, "<details") != strings.Count(body, "</details>") || strings.Count(body, "```")%2 != 0 {
			t.Errorf("comment %d breaks a <details> or code block", i+1)
		}
	}

	// A shorter report later: part 1 is edited, the other parts go.
	if _, err := c.Publish(context.Background(), readResult(t, "pass.json")); err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 1 || !strings.Contains(f.comments[0]["body"].(string), "part 1/1") {
		t.Errorf("after a short report: %d comments", len(f.comments))
	}
	if n := len(f.requests("DELETE /issues/comments/")); n != rep.Parts-1 {
		t.Errorf("%d stale parts deleted, want %d", n, rep.Parts-1)
	}
}

func TestPublishBatchesAnnotations(t *testing.T) {
	f := newFake(t)
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	rep, err := c.Publish(context.Background(), bigResult(t, 120, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.anns[rep.CheckRunID]); got != 120 {
		t.Errorf("%d annotations reached the check run, want 120", got)
	}
	want := []string{"POST /check-runs", fmt.Sprintf("PATCH /check-runs/%d", rep.CheckRunID), fmt.Sprintf("PATCH /check-runs/%d", rep.CheckRunID)}
	if diff := cmp.Diff(want, f.requests("")[2:]); diff != "" {
		t.Errorf("check run requests (-want +got):\n%s", diff)
	}
	if rep.Annotations != 120 {
		t.Errorf("report says %d annotations", rep.Annotations)
	}
}

func TestPublishFallsBackToStatus(t *testing.T) {
	f := newFake(t)
	f.failNext("POST /check-runs", injected{status: 403, body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/checks/runs#create-a-check-run"}`})
	e := newEnv(t, f, "acme/credit-risk")
	c := e.context(t, f)
	rep, err := c.Publish(context.Background(), readResult(t, "deny.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Status || rep.CheckRunID != 0 || rep.Degraded {
		t.Fatalf("report = %+v", rep)
	}
	if len(f.statuses) != 1 {
		t.Fatalf("%d statuses", len(f.statuses))
	}
	st := f.statuses[0]
	if st["sha"] != headSHA || st["state"] != "failure" || st["context"] != "slipway" || st["target_url"] != "https://github.com/acme/credit-risk/actions/runs/42" {
		t.Errorf("status = %v", st)
	}
	if n := len(e.sleeps); n != 0 {
		t.Errorf("a permission 403 was retried %d times", n)
	}
	if !strings.Contains(e.out.String(), "::error file=environments.cue,line=17,endLine=17,title=deny%3A release.approvals::") {
		t.Errorf("annotations missing from job output:\n%s", e.out.String())
	}
}

func TestRateLimitRetries(t *testing.T) {
	t.Run("429 waits for X-RateLimit-Reset", func(t *testing.T) {
		f := newFake(t)
		f.failNext("POST /issues/{id}/comments", injected{status: 429, header: map[string]string{
			"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000", "X-RateLimit-Resource": "core",
			"X-RateLimit-Reset": strconv.FormatInt(f.now.Add(30*time.Second).Unix(), 10),
		}, body: `{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`})
		e := newEnv(t, f, "acme/credit-risk")
		rep, err := e.context(t, f).Publish(context.Background(), readResult(t, "pass.json"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.CommentURL == "" || len(f.comments) != 1 {
			t.Fatalf("comment not posted after the retry: %+v", rep)
		}
		if diff := cmp.Diff([]time.Duration{31 * time.Second}, e.sleeps); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
		if n := len(f.requests("POST /issues/12/comments")); n != 2 {
			t.Errorf("%d comment posts, want 2", n)
		}
	})
	t.Run("secondary limit honours Retry-After", func(t *testing.T) {
		f := newFake(t)
		f.failNext("POST /check-runs", injected{status: 403, header: map[string]string{"Retry-After": "7"},
			body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
		e := newEnv(t, f, "acme/credit-risk")
		rep, err := e.context(t, f).Publish(context.Background(), readResult(t, "pass.json"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.CheckRunID == 0 || len(f.statuses) != 0 {
			t.Errorf("a rate limit must be retried, not taken for a permission error: %+v", rep)
		}
		if diff := cmp.Diff([]time.Duration{7 * time.Second}, e.sleeps); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
	})
	t.Run("server errors back off, then give up", func(t *testing.T) {
		f := newFake(t)
		for i := 0; i < 5; i++ {
			f.failNext("GET /pulls/{id}/files", injected{status: 502, body: `{"message":"Server Error"}`})
		}
		e := newEnv(t, f, "acme/credit-risk")
		_, err := e.context(t, f).ChangedFiles(context.Background())
		if err == nil || !strings.Contains(err.Error(), "502") {
			t.Fatalf("err = %v, want the 502 after the last try", err)
		}
		if len(e.sleeps) != 4 {
			t.Fatalf("%d waits, want 4", len(e.sleeps))
		}
		for i, d := range e.sleeps {
			if lo := time.Second << i; d < lo || d > lo*3/2 {
				t.Errorf("wait %d = %v, want in [%v, %v]", i, d, lo, lo*3/2)
			}
		}
	})
}

func TestForkDegrades(t *testing.T) {
	f := newFake(t)
	e := newEnv(t, f, "contributor/credit-risk")
	c := e.context(t, f)
	if !c.Fork || !c.ReadOnly {
		t.Fatalf("fork = %v, read-only = %v", c.Fork, c.ReadOnly)
	}
	rep, err := c.Publish(context.Background(), readResult(t, "deny.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Degraded || !strings.Contains(rep.Reason, "fork") {
		t.Errorf("report = %+v", rep)
	}
	if reqs := f.requests(""); len(reqs) != 0 {
		t.Errorf("a read-only token made requests: %v", reqs)
	}
	out := e.out.String()
	for _, want := range []string{
		"::warning title=Slipway report not posted::Slipway could not post its comment or check run: this pull request comes from a fork",
		"::error file=models/credit-default/model.cue,line=44,endLine=44,title=deny%3A fairness.demographic_parity::",
		"::warning file=models/credit-default/model.cue,line=38",
		"::notice file=models/credit-default/model.cue,line=70",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("job output lacks %q:\n%s", want, out)
		}
	}
	if sum, _ := os.ReadFile(e.vars["GITHUB_STEP_SUMMARY"]); !strings.Contains(string(sum), "❌ Slipway: deny") {
		t.Error("the job summary must carry the full report")
	}

	t.Run("comment refused at run time", func(t *testing.T) {
		f := newFake(t)
		f.failNext("POST /issues/{id}/comments", injected{status: 403, body: `{"message":"Resource not accessible by integration"}`})
		e := newEnv(t, f, "acme/credit-risk")
		rep, err := e.context(t, f).Publish(context.Background(), readResult(t, "deny.json"))
		if err != nil || !rep.Degraded {
			t.Fatalf("rep = %+v, err = %v", rep, err)
		}
		if !strings.Contains(e.out.String(), "pull-requests: write") {
			t.Errorf("the message must say which permission is missing:\n%s", e.out.String())
		}
	})
}

func TestUpsertIssue(t *testing.T) {
	f := newFake(t)
	f.issues = append(f.issues, map[string]any{"number": 7, "title": "unrelated", "body": "hello", "state": "open"})
	e := newEnv(t, f, "acme/credit-risk")
	c := e.context(t, f)
	ctx := context.Background()
	url, created, err := c.UpsertIssue(ctx, "drift", "Slipway: drift detected", "production/credit-default drifted", []string{"slipway-drift"})
	if err != nil || !created {
		t.Fatalf("created = %v, err = %v", created, err)
	}
	url2, created, err := c.UpsertIssue(ctx, "drift", "Slipway: drift detected", "production/_shared drifted", nil)
	if err != nil || created || url2 != url {
		t.Fatalf("second run: url %s vs %s, created %v, err %v", url2, url, created, err)
	}
	if body := f.issues[1]["body"].(string); !strings.Contains(body, "_shared drifted") || !strings.HasPrefix(body, IssueMarker("drift")) {
		t.Errorf("issue body = %q", body)
	}
	if _, err := c.CloseIssue(ctx, "drift", "No drift any more."); err != nil {
		t.Fatal(err)
	}
	if f.issues[1]["state"] != "closed" {
		t.Error("issue not closed")
	}
}

func TestPlatformPrefix(t *testing.T) {
	ws := t.TempDir()
	sub := filepath.Join(ws, "examples", "credit-risk")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return map[string]string{"GITHUB_WORKSPACE": ws}[k] }
	for dir, want := range map[string]changes.Prefix{sub: "examples/credit-risk", ws: "", t.TempDir(): ""} {
		if got := PlatformPrefix(getenv, dir); got != want {
			t.Errorf("PlatformPrefix(%s) = %q, want %q", dir, got, want)
		}
	}
	if got := PlatformPrefix(func(string) string { return "" }, sub); got != "" {
		t.Errorf("outside Actions: %q", got)
	}
}

func TestWritesArePaced(t *testing.T) {
	f := newFake(t)
	e := newEnv(t, f, "acme/credit-risk")
	e.pace = time.Second
	rep, err := e.context(t, f).Publish(context.Background(), bigResult(t, 120, 0))
	if err != nil {
		t.Fatal(err)
	}
	// comment POST, check run POST, two PATCHes: a second before each write
	// after the first (the fake's clock stands still).
	want := []time.Duration{time.Second, time.Second, time.Second}
	if diff := cmp.Diff(want, e.sleeps); diff != "" || rep.CheckRunID == 0 {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestMarkerInSomeoneElsesComment(t *testing.T) {
	f := newFake(t)
	quoted := f.comment(prcomment.Marker + "\nI pasted the old report here")
	quoted["user"] = user("mallory", 9)
	f.comments = append(f.comments, quoted)
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	if _, err := c.Publish(context.Background(), readResult(t, "pass.json")); err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 2 || f.comments[0]["body"] != quoted["body"] {
		t.Errorf("a person's comment carrying the marker was taken for Slipway's")
	}
	if n := len(f.requests("PATCH /issues/comments")); n != 0 {
		t.Errorf("%d comment edits", n)
	}
}

func TestTeamMembers(t *testing.T) {
	f := newFake(t)
	f.teams = map[string][]string{"risk": {"carol", "alice"}}
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	got, err := c.TeamMembers(context.Background(), "@acme/risk")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alice", "carol"}, got); diff != "" {
		t.Error(diff)
	}
	if _, err := c.TeamMembers(context.Background(), "@acme/secret"); err == nil {
		t.Error("a team the token cannot see must be an error")
	}
	if diff := cmp.Diff([]string{"GET /api/v3/orgs/acme/teams/risk/members?per_page=100", "GET /api/v3/orgs/acme/teams/secret/members?per_page=100"}, f.requests("")); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestAcceptanceTeamMembers: a bare acceptance team is a team of the
// repository's owner; @org/team is taken as CODEOWNERS writes it.
func TestAcceptanceTeamMembers(t *testing.T) {
	f := newFake(t)
	f.teams = map[string][]string{"risk-ops": {"olga"}}
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	for _, team := range []string{"risk-ops", "@acme/risk-ops"} {
		got, err := c.AcceptanceTeamMembers(context.Background(), team)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"olga"}, got); diff != "" {
			t.Errorf("%s: %s", team, diff)
		}
	}
	if diff := cmp.Diff([]string{"GET /api/v3/orgs/acme/teams/risk-ops/members?per_page=100", "GET /api/v3/orgs/acme/teams/risk-ops/members?per_page=100"}, f.requests("")); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestApprovedOwners(t *testing.T) {
	f := newFake(t)
	f.teams = map[string][]string{"security": {"carol"}}
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	owners := []string{"@acme/security", "@acme/secret", "dave", "erin"}
	tests := []struct {
		name      string
		approvals []Approval
		want      []string
	}{
		{"none", []Approval{}, []string{}},
		{"someone else", []Approval{{User: "alice", State: "APPROVED"}}, []string{}},
		{"a team member", []Approval{{User: "Carol", State: "APPROVED"}}, []string{"@acme/security"}},
		{"a login", []Approval{{User: "dave", State: "APPROVED"}}, []string{"dave"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.ApprovedOwners(context.Background(), owners, tt.approvals)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("approved owners (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolvePullRequestOnPush(t *testing.T) {
	f := newFake(t)
	f.addPull(11, "", false) // an open pull request that also contains the commit
	f.addPull(12, mergeSHA, true)
	e := newEnv(t, f, "acme/credit-risk")
	p := filepath.Join(t.TempDir(), "push.json")
	os.WriteFile(p, []byte(`{"ref":"refs/heads/main","after":"`+mergeSHA+`","repository":{"full_name":"acme/credit-risk"}}`), 0o644)
	e.vars["GITHUB_EVENT_PATH"], e.vars["GITHUB_EVENT_NAME"] = p, "push"
	c := e.context(t, f)
	if err := c.ResolvePullRequest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.PR != 12 || c.BaseRef != "main" || c.HeadSHA != mergeSHA {
		t.Errorf("PR = %d, base = %s, head = %s", c.PR, c.BaseRef, c.HeadSHA)
	}
	if diff := cmp.Diff([]string{"GET /commits/" + mergeSHA + "/pulls?per_page=100"}, f.requests("")); diff != "" {
		t.Error(diff)
	}

	f2 := newFake(t)
	e2 := newEnv(t, f2, "acme/credit-risk")
	e2.vars["GITHUB_EVENT_PATH"], e2.vars["GITHUB_EVENT_NAME"] = p, "push"
	c2 := e2.context(t, f2)
	if err := c2.ResolvePullRequest(context.Background()); err != nil || c2.PR != 0 {
		t.Errorf("a direct push: PR = %d, err = %v", c2.PR, err)
	}
}

func TestAfterMergeCommentIsSeparate(t *testing.T) {
	f := newFake(t)
	f.addPull(12, mergeSHA, true)
	e := newEnv(t, f, "acme/credit-risk")
	c := e.context(t, f)
	if _, err := c.Publish(context.Background(), readResult(t, "deny.json")); err != nil { // the pull request's check
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "push.json")
	os.WriteFile(p, []byte(`{"ref":"refs/heads/main","after":"`+mergeSHA+`","repository":{"full_name":"acme/credit-risk"}}`), 0o644)
	e.vars["GITHUB_EVENT_PATH"], e.vars["GITHUB_EVENT_NAME"] = p, "push"
	c = e.context(t, f)
	if err := c.ResolvePullRequest(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Publish(context.Background(), readResult(t, "pass.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 2 {
		t.Fatalf("%d comments, want the check's and the release's", len(f.comments))
	}
	if b := f.comments[0]["body"].(string); !strings.Contains(b, "Slipway: deny") {
		t.Error("the pull request check's comment was overwritten")
	}
	if b := f.comments[1]["body"].(string); !strings.Contains(b, prcomment.MarkerFor("merged-staging")) || !strings.Contains(b, "Slipway after merge (staging): pass") {
		t.Errorf("release comment starts %q", b[:120])
	}
	if run := f.runs[rep.CheckRunID]; run["head_sha"] != mergeSHA {
		t.Errorf("check run on %v, want the merge commit", run["head_sha"])
	}
}

func TestChangedFilesOverGitHubsLimit(t *testing.T) {
	f := newFake(t)
	for i := 0; i < 3000; i++ {
		f.addFile(fmt.Sprintf("models/m%04d/model.cue", i), "modified", "")
	}
	c := newEnv(t, f, "acme/credit-risk").context(t, f)
	if _, err := c.ChangedFiles(context.Background()); !errors.Is(err, ErrTooManyFiles) {
		t.Fatalf("err = %v, want ErrTooManyFiles", err)
	}
}

func TestWorkflowRunPostsToTheChecksComment(t *testing.T) {
	f := newFake(t)
	e := newEnv(t, f, "acme/credit-risk")
	p := filepath.Join(t.TempDir(), "run.json")
	os.WriteFile(p, []byte(`{"action":"completed","workflow_run":{"id":1,"event":"pull_request","head_sha":"`+headSHA+`"},"repository":{"full_name":"acme/credit-risk"}}`), 0o644)
	e.vars["GITHUB_EVENT_PATH"], e.vars["GITHUB_EVENT_NAME"] = p, "workflow_run"
	c := e.context(t, f)
	c.PR, c.HeadSHA = 12, headSHA // slipway github report --pr 12 --sha HEAD
	if _, err := c.Publish(context.Background(), readResult(t, "deny.json")); err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 1 || !strings.Contains(f.comments[0]["body"].(string), prcomment.Marker) {
		t.Error("a fork's report must go to the pull request check's comment")
	}
}

func TestStickyCommentOnALaterPage(t *testing.T) {
	f := newFake(t)
	for i := 0; i < 130; i++ {
		human := f.comment(fmt.Sprintf("review remark %d", i))
		human["user"] = user("reviewer", 7)
		f.comments = append(f.comments, human)
	}
	e := newEnv(t, f, "acme/credit-risk")
	c := e.context(t, f)
	ctx := context.Background()
	if _, err := c.Publish(ctx, readResult(t, "pass.json")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		f.comments = append(f.comments, f.comment(fmt.Sprintf("another bot's comment %d", i)))
	}
	if _, err := c.Publish(ctx, readResult(t, "deny.json")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests("POST /issues/12/comments")); n != 1 {
		t.Errorf("%d comments created, want 1: the second run must find it on page 2", n)
	}
	if n := len(f.requests("GET /issues/12/comments?page=2&per_page=100")); n != 2 {
		t.Errorf("page 2 read %d times, want once per run", n)
	}
}

// TestReviews: what a release signs of the pull request. Each model's
// acceptance team is listed once; one GitHub will not list maps to nil,
// which accepts nothing, and the log says so.
func TestReviews(t *testing.T) {
	f := newFake(t)
	f.teams = map[string][]string{"risk-ops": {"olga"}}
	f.prAuthor = "alice"
	f.addCommit("bob")
	f.addReview("carol", 1, "APPROVED", f.now.Add(-time.Hour))
	accept := func(team string) spec.Model {
		var m spec.Model
		if team != "" {
			m.Handover.Acceptance = &spec.Acceptance{Team: team}
		}
		return m
	}
	p := &spec.Platform{Models: map[string]spec.Model{
		"a": accept("risk-ops"), "b": accept("@acme/risk-ops"), "c": accept("risk-ops"), "d": accept("secret"), "e": accept(""),
	}}
	for name, m := range p.Models {
		m.Name = name
		p.Models[name] = m
	}
	e := newEnv(t, f, "acme/credit-risk")
	got, err := e.context(t, f).Reviews(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	want := &checkresult.Reviews{
		Approvals: []checkresult.Approval{{User: "carol", State: "APPROVED", SubmittedAt: f.now.Add(-time.Hour).UTC().Format(time.RFC3339), ReviewID: got.Approvals[0].ReviewID, Commit: got.Approvals[0].Commit}},
		Authors:   []string{"alice", "bob"},
		Teams:     map[string][]string{"risk-ops": {"olga"}, "@acme/risk-ops": {"olga"}, "secret": nil},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reviews (-want +got):\n%s", d)
	}
	if n := len(f.requests("GET /api/v3/orgs/acme/teams/risk-ops/members?per_page=100")); n != 2 {
		t.Errorf("risk-ops listed %d times, want once per spelling (2)", n)
	}
	if !strings.Contains(e.logs.String(), "acceptance team not listed") || !strings.Contains(e.logs.String(), "team=secret") {
		t.Errorf("log does not name the unlisted team:\n%s", e.logs.String())
	}
}
