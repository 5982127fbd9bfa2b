package gh

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// testToken is what the fake expects in Authorization; tests also check it
// never reaches any output.
const testToken = "ghs_fakeTOKENvalue0123456789"

// fakeGitHub plays GitHub's REST API (as GitHub Enterprise Server, under
// /api/v3) for one repository, acme/credit-risk. It checks each request's
// method, path, query, headers and JSON body against GitHub's REST
// documentation and answers with bodies shaped like the documented examples.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server
	now time.Time

	mu       sync.Mutex
	log      []string // "METHOD /path?query" of every request
	nextID   int64
	comments []map[string]any
	files    []map[string]any
	reviews  []map[string]any
	contents map[string]string // path → file text, at any ref
	runs     map[int64]map[string]any
	anns     map[int64][]map[string]any // annotations per check run, as appended
	statuses []map[string]any
	issues   []map[string]any
	teams    map[string][]string // team slug in org acme → member logins
	pulls    []map[string]any    // pull requests, for commit → pull request lookups
	// prAuthor opened the pull request ("octocat" unless set); commits
	// are its commits, modelled on "List commits on a pull request".
	prAuthor string
	commits  []map[string]any

	// failures injected per "METHOD route" (route uses {id} placeholders):
	// each call pops the first response.
	inject map[string][]injected
}

type injected struct {
	status int
	header map[string]string
	body   string
	// hang answers nothing until the client gives up.
	hang bool
	// after carries the request out first, then answers status: GitHub
	// creating the comment and its proxy answering 502.
	after bool
}

func newFake(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{
		t: t, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), nextID: 1000,
		contents: map[string]string{}, runs: map[int64]map[string]any{}, anns: map[int64][]map[string]any{},
		inject: map[string][]injected{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) failNext(route string, in injected) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject[route] = append(f.inject[route], in)
}

// requests returns the request log, optionally only lines with a prefix.
func (f *fakeGitHub) requests(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.log {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

const repoPath = "/api/v3/repos/acme/credit-risk"

type route struct {
	method, pattern string
	query           []string // allowed query keys
	handle          func(f *fakeGitHub, w http.ResponseWriter, r *http.Request, ids []string, body map[string]any)
}

var routes = []route{
	{"GET", `/pulls/(\d+)/files`, []string{"per_page", "page"}, (*fakeGitHub).listFiles},
	{"GET", `/pulls/(\d+)/reviews`, []string{"per_page", "page"}, (*fakeGitHub).listReviews},
	{"GET", `/pulls/(\d+)`, nil, (*fakeGitHub).getPull},
	{"GET", `/pulls/(\d+)/commits`, []string{"per_page", "page"}, (*fakeGitHub).listCommits},
	{"GET", `/contents/(.+)`, []string{"ref"}, (*fakeGitHub).getContents},
	{"GET", `/issues/(\d+)/comments`, []string{"per_page", "page"}, (*fakeGitHub).listComments},
	{"POST", `/issues/(\d+)/comments`, nil, (*fakeGitHub).createComment},
	{"PATCH", `/issues/comments/(\d+)`, nil, (*fakeGitHub).editComment},
	{"DELETE", `/issues/comments/(\d+)`, nil, (*fakeGitHub).deleteComment},
	{"POST", `/check-runs`, nil, (*fakeGitHub).createCheckRun},
	{"GET", `/commits/([0-9a-f]{40})/check-runs`, []string{"check_name", "filter", "status", "app_id", "per_page", "page"}, (*fakeGitHub).listCheckRuns},
	{"PATCH", `/check-runs/(\d+)`, nil, (*fakeGitHub).updateCheckRun},
	{"POST", `/statuses/([0-9a-f]{40})`, nil, (*fakeGitHub).createStatus},
	{"GET", `/issues`, []string{"state", "per_page", "page"}, (*fakeGitHub).listIssues},
	{"GET", `/commits/([0-9a-f]{40})/pulls`, []string{"per_page", "page"}, (*fakeGitHub).commitPulls},
	{"POST", `/issues`, nil, (*fakeGitHub).createIssue},
	{"PATCH", `/issues/(\d+)`, nil, (*fakeGitHub).editIssue},
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	f.mu.Lock()
	line := r.Method + " " + strings.TrimPrefix(r.URL.Path, repoPath)
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	f.log = append(f.log, line)
	f.mu.Unlock()

	// Headers every REST request carries, per "Getting started with the REST API".
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("%s: Authorization = %q, want the job token as Bearer", line, got)
	}
	if a := r.Header.Get("Accept"); a != "application/vnd.github+json" {
		t.Errorf("%s: Accept = %q, want application/vnd.github+json", line, a)
	}
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "2022-11-28" {
		t.Errorf("%s: X-GitHub-Api-Version = %q, want 2022-11-28", line, v)
	}
	if r.Header.Get("User-Agent") == "" {
		t.Errorf("%s: no User-Agent; GitHub rejects such requests", line)
	}
	if m := regexp.MustCompile(`^/api/v3/orgs/acme/teams/([a-z-]+)/members$`).FindStringSubmatch(r.URL.Path); m != nil && r.Method == "GET" {
		f.mu.Lock()
		defer f.mu.Unlock()
		members, ok := f.teams[m[1]]
		if !ok {
			f.reply(w, 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/teams/members#list-team-members"}`)
			return
		}
		var users []map[string]any
		for i, login := range members {
			users = append(users, user(login, 100+i))
		}
		f.page(w, r, users)
		return
	}
	if !strings.HasPrefix(r.URL.Path, repoPath+"/") {
		t.Errorf("%s: not under %s", line, repoPath)
		http.NotFound(w, r)
		return
	}
	sub := strings.TrimPrefix(r.URL.Path, repoPath)
	for _, rt := range routes {
		m := regexp.MustCompile("^" + rt.pattern + "$").FindStringSubmatch(sub)
		if m == nil || rt.method != r.Method {
			continue
		}
		for k := range r.URL.Query() {
			if !slices.Contains(rt.query, k) {
				t.Errorf("%s: query parameter %q is not documented for this endpoint", line, k)
			}
		}
		var body map[string]any
		switch r.Method {
		case "POST", "PATCH", "PUT":
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s: Content-Type = %q, want application/json", line, ct)
			}
			data, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(data, &body); err != nil {
				t.Errorf("%s: body is not a JSON object: %v", line, err)
				f.reply(w, 400, `{"message":"Problems parsing JSON","documentation_url":"https://docs.github.com/rest"}`)
				return
			}
		}
		key := rt.method + " " + regexp.MustCompile(`\d+`).ReplaceAllString(sub, "{id}")
		f.mu.Lock()
		if q := f.inject[key]; len(q) > 0 {
			in := q[0]
			f.inject[key] = q[1:]
			f.mu.Unlock()
			if in.hang {
				<-r.Context().Done()
				return
			}
			if in.after {
				f.mu.Lock()
				rt.handle(f, httptest.NewRecorder(), r, m[1:], body)
				f.mu.Unlock()
			}
			for k, v := range in.header {
				w.Header().Set(k, v)
			}
			f.reply(w, in.status, in.body)
			return
		}
		f.mu.Unlock()
		f.mu.Lock()
		defer f.mu.Unlock()
		rt.handle(f, w, r, m[1:], body)
		return
	}
	t.Errorf("%s: no such endpoint in the fake", line)
	f.reply(w, 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
}

func (f *fakeGitHub) reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	if w.Header().Get("X-RateLimit-Limit") == "" {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "4987")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.now.Add(time.Hour).Unix(), 10))
		w.Header().Set("X-RateLimit-Used", "13")
		w.Header().Set("X-RateLimit-Resource", "core")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeGitHub) json(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.reply(w, status, string(b))
}

func (f *fakeGitHub) bad(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf(format, args...)
	f.reply(w, 422, fmt.Sprintf(`{"message":"Validation Failed","errors":[{"message":%q}],"documentation_url":"https://docs.github.com/rest"}`, fmt.Sprintf(format, args...)))
}

// page serves items with GitHub's pagination: per_page (max 100, default
// 30), page, and a Link header with next/last relations.
func (f *fakeGitHub) page(w http.ResponseWriter, r *http.Request, items []map[string]any) {
	per, page := 30, 1
	if v := r.URL.Query().Get("per_page"); v != "" {
		per, _ = strconv.Atoi(v)
		per = min(max(per, 1), 100)
	}
	if v := r.URL.Query().Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	last := max((len(items)+per-1)/per, 1)
	start, end := min((page-1)*per, len(items)), min(page*per, len(items))
	link := func(p int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := items[start:end]
	if out == nil {
		out = []map[string]any{}
	}
	f.json(w, 200, out)
}

func (f *fakeGitHub) id() int64 { f.nextID++; return f.nextID }

func botUser() map[string]any {
	return map[string]any{"login": "github-actions[bot]", "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=", "type": "Bot", "site_admin": false,
		"avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4", "html_url": "https://github.com/apps/github-actions"}
}

func user(login string, id int) map[string]any {
	return map[string]any{"login": login, "id": id, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false,
		"avatar_url": "https://github.com/images/error/" + login + "_happy.gif", "html_url": "https://github.com/" + login}
}

// addFiles adds n changed files to the pull request, modelled on
// "List pull requests files".
func (f *fakeGitHub) addFile(name, status, previous string) {
	file := map[string]any{
		"sha": "bbcd538c8e72b8c175046e27cc8f907076331401", "filename": name, "status": status,
		"additions": 103, "deletions": 21, "changes": 124,
		"blob_url":     "https://github.com/acme/credit-risk/blob/6dcb09b5b57875f334f61aebed695e2e4193db5e/" + name,
		"raw_url":      "https://github.com/acme/credit-risk/raw/6dcb09b5b57875f334f61aebed695e2e4193db5e/" + name,
		"contents_url": "https://api.github.com/repos/acme/credit-risk/contents/" + name + "?ref=6dcb09b5b57875f334f61aebed695e2e4193db5e",
		"patch":        "@@ -132,7 +132,7 @@ module Test @@ -1000,7 +1000,7 @@ module Test",
	}
	if previous != "" {
		file["previous_filename"] = previous
	}
	f.files = append(f.files, file)
}

func (f *fakeGitHub) listFiles(w http.ResponseWriter, r *http.Request, ids []string, _ map[string]any) {
	f.page(w, r, f.files)
}

func (f *fakeGitHub) addReview(login string, id int, state string, at time.Time) {
	rv := map[string]any{
		"id": f.id(), "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=", "user": user(login, id), "body": "Here is the body for the review.",
		"state": state, "html_url": "https://github.com/acme/credit-risk/pull/12#pullrequestreview-80",
		"pull_request_url": "https://api.github.com/repos/acme/credit-risk/pulls/12", "commit_id": "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
		"author_association": "COLLABORATOR",
	}
	if state != "PENDING" {
		rv["submitted_at"] = at.Format(time.RFC3339)
	}
	f.reviews = append(f.reviews, rv)
}

// getPull answers "Get a pull request", with the fields Slipway reads.
func (f *fakeGitHub) getPull(w http.ResponseWriter, r *http.Request, ids []string, _ map[string]any) {
	author := f.prAuthor
	if author == "" {
		author = "octocat"
	}
	f.json(w, 200, map[string]any{"id": 1, "number": 12, "state": "open", "title": "credit-default 2.3.0", "user": user(author, 1),
		"head": map[string]any{"ref": "new-model", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
		"base": map[string]any{"ref": "main", "sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b"}})
}

// addCommit adds a commit to the pull request whose GitHub author is login
// ("" for a commit whose e-mail matches no account).
func (f *fakeGitHub) addCommit(login string) {
	c := map[string]any{"sha": fmt.Sprintf("%040d", len(f.commits)+1), "commit": map[string]any{
		"author": map[string]any{"name": "Someone", "email": "someone@example.com", "date": "2026-11-20T09:00:00Z"}, "message": "change"}}
	if login != "" {
		c["author"] = user(login, 200+len(f.commits))
	}
	f.commits = append(f.commits, c)
}

func (f *fakeGitHub) listCommits(w http.ResponseWriter, r *http.Request, _ []string, _ map[string]any) {
	f.page(w, r, f.commits)
}

func (f *fakeGitHub) listReviews(w http.ResponseWriter, r *http.Request, _ []string, _ map[string]any) {
	f.page(w, r, f.reviews)
}

func (f *fakeGitHub) getContents(w http.ResponseWriter, r *http.Request, ids []string, _ map[string]any) {
	text, ok := f.contents[ids[0]]
	if !ok {
		f.reply(w, 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos/contents#get-repository-content"}`)
		return
	}
	f.json(w, 200, map[string]any{
		"type": "file", "encoding": "base64", "size": len(text), "name": ids[0][strings.LastIndex(ids[0], "/")+1:], "path": ids[0],
		"content": base64.StdEncoding.EncodeToString([]byte(text)), "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
		"url": "https://api.github.com/repos/acme/credit-risk/contents/" + ids[0],
	})
}

func (f *fakeGitHub) comment(body string) map[string]any {
	id := f.id()
	ts := f.now.Format(time.RFC3339)
	return map[string]any{
		"id": id, "node_id": "MDEyOklzc3VlQ29tbWVudDE=", "body": body, "user": botUser(),
		"url":       fmt.Sprintf("https://api.github.com/repos/acme/credit-risk/issues/comments/%d", id),
		"html_url":  fmt.Sprintf("https://github.com/acme/credit-risk/pull/12#issuecomment-%d", id),
		"issue_url": "https://api.github.com/repos/acme/credit-risk/issues/12", "created_at": ts, "updated_at": ts,
		"author_association": "NONE",
	}
}

func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request, ids []string, _ map[string]any) {
	f.page(w, r, f.comments)
}

func (f *fakeGitHub) checkCommentBody(w http.ResponseWriter, body map[string]any) (string, bool) {
	if err := onlyKeys(body, []string{"body"}, nil); err != "" {
		f.bad(w, "comment: %s", err)
		return "", false
	}
	s, _ := body["body"].(string)
	if n := utf8.RuneCountInString(s); n > 65536 {
		f.reply(w, 422, `{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"unprocessable","field":"data","message":"Body is too long (maximum is 65536 characters)"}],"documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment"}`)
		f.t.Errorf("comment body has %d characters, over GitHub's 65536", n)
		return "", false
	}
	return s, true
}

func (f *fakeGitHub) createComment(w http.ResponseWriter, r *http.Request, ids []string, body map[string]any) {
	known := ids[0] == "12"
	for _, is := range f.issues {
		known = known || fmt.Sprint(is["number"]) == ids[0]
	}
	if !known {
		f.bad(w, "comment on unknown issue %s", ids[0])
		return
	}
	s, ok := f.checkCommentBody(w, body)
	if !ok {
		return
	}
	c := f.comment(s)
	f.comments = append(f.comments, c)
	f.json(w, 201, c)
}

func (f *fakeGitHub) findComment(id string) int {
	for i, c := range f.comments {
		if strconv.FormatInt(c["id"].(int64), 10) == id {
			return i
		}
	}
	return -1
}

func (f *fakeGitHub) editComment(w http.ResponseWriter, r *http.Request, ids []string, body map[string]any) {
	i := f.findComment(ids[0])
	if i < 0 {
		f.bad(w, "edit of unknown comment %s", ids[0])
		return
	}
	s, ok := f.checkCommentBody(w, body)
	if !ok {
		return
	}
	f.comments[i]["body"] = s
	f.comments[i]["updated_at"] = f.now.Add(time.Minute).Format(time.RFC3339)
	f.json(w, 200, f.comments[i])
}

func (f *fakeGitHub) deleteComment(w http.ResponseWriter, r *http.Request, ids []string, _ map[string]any) {
	i := f.findComment(ids[0])
	if i < 0 {
		f.bad(w, "delete of unknown comment %s", ids[0])
		return
	}
	f.comments = slices.Delete(f.comments, i, i+1)
	w.WriteHeader(204)
}

var checkRunKeys = []string{"name", "head_sha", "details_url", "external_id", "status", "started_at", "conclusion", "completed_at", "output", "actions"}

func (f *fakeGitHub) checkOutput(w http.ResponseWriter, id int64, out any) bool {
	o, ok := out.(map[string]any)
	if !ok {
		f.bad(w, "output is not an object")
		return false
	}
	if err := onlyKeys(o, []string{"title", "summary"}, []string{"text", "annotations", "images"}); err != "" {
		f.bad(w, "output: %s", err)
		return false
	}
	if n := utf8.RuneCountInString(o["summary"].(string)); n > 65535 {
		f.bad(w, "output.summary has %d characters, over 65535", n)
		return false
	}
	anns, _ := o["annotations"].([]any)
	if len(anns) > 50 {
		f.bad(w, "%d annotations in one request; GitHub takes at most 50", len(anns))
		return false
	}
	for i, a := range anns {
		am, _ := a.(map[string]any)
		if err := onlyKeys(am, []string{"path", "start_line", "end_line", "annotation_level", "message"}, []string{"start_column", "end_column", "title", "raw_details"}); err != "" {
			f.bad(w, "annotations[%d]: %s", i, err)
			return false
		}
		if lvl := am["annotation_level"]; lvl != "notice" && lvl != "warning" && lvl != "failure" {
			f.bad(w, "annotations[%d].annotation_level = %v", i, lvl)
			return false
		}
		if am["start_line"].(float64) < 1 || am["end_line"].(float64) < am["start_line"].(float64) {
			f.bad(w, "annotations[%d]: bad lines %v-%v", i, am["start_line"], am["end_line"])
			return false
		}
		f.anns[id] = append(f.anns[id], am)
	}
	return true
}

func (f *fakeGitHub) checkRunBody(id int64, body map[string]any) map[string]any {
	run := map[string]any{
		"id": id, "node_id": "MDg6Q2hlY2tSdW40", "external_id": body["external_id"], "head_sha": body["head_sha"], "name": body["name"],
		"url":         fmt.Sprintf("https://api.github.com/repos/acme/credit-risk/check-runs/%d", id),
		"html_url":    fmt.Sprintf("https://github.com/acme/credit-risk/runs/%d", id),
		"details_url": body["details_url"], "status": body["status"], "conclusion": body["conclusion"],
		"started_at": f.now.Format(time.RFC3339), "completed_at": body["completed_at"],
		"check_suite": map[string]any{"id": 5}, "pull_requests": []any{},
		"app": map[string]any{"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
	}
	return run
}

func (f *fakeGitHub) createCheckRun(w http.ResponseWriter, r *http.Request, _ []string, body map[string]any) {
	if err := onlyKeys(body, []string{"name", "head_sha"}, checkRunKeys); err != "" {
		f.bad(w, "create check run: %s", err)
		return
	}
	if body["status"] == "completed" {
		switch body["conclusion"] {
		case "success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required":
		default:
			f.bad(w, "completed check run with conclusion %v", body["conclusion"])
			return
		}
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(body["completed_at"])); err != nil {
			f.bad(w, "completed_at %v is not ISO 8601", body["completed_at"])
			return
		}
	}
	id := f.id()
	if out, ok := body["output"]; ok && !f.checkOutput(w, id, out) {
		return
	}
	run := f.checkRunBody(id, body)
	f.runs[id] = run
	o := body["output"].(map[string]any)
	run["output"] = map[string]any{"title": o["title"], "summary": o["summary"], "text": nil,
		"annotations_count": len(f.anns[id]), "annotations_url": fmt.Sprintf("https://api.github.com/repos/acme/credit-risk/check-runs/%d/annotations", id)}
	f.json(w, 201, run)
}

func (f *fakeGitHub) listCheckRuns(w http.ResponseWriter, r *http.Request, ids []string, _ map[string]any) {
	var runs []map[string]any
	for _, id := range slices.Sorted(maps.Keys(f.runs)) {
		run := f.runs[id]
		if run["head_sha"] == ids[0] && (r.URL.Query().Get("check_name") == "" || run["name"] == r.URL.Query().Get("check_name")) {
			runs = append(runs, run)
		}
	}
	f.json(w, 200, map[string]any{"total_count": len(runs), "check_runs": runs})
}

func (f *fakeGitHub) updateCheckRun(w http.ResponseWriter, r *http.Request, ids []string, body map[string]any) {
	id, _ := strconv.ParseInt(ids[0], 10, 64)
	run, ok := f.runs[id]
	if !ok {
		f.reply(w, 404, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/checks/runs#update-a-check-run"}`)
		return
	}
	keys := slices.DeleteFunc(slices.Clone(checkRunKeys), func(k string) bool { return k == "head_sha" })
	if err := onlyKeys(body, nil, keys); err != "" {
		f.bad(w, "update check run: %s", err)
		return
	}
	if out, ok := body["output"]; ok && !f.checkOutput(w, id, out) {
		return
	}
	run["output"].(map[string]any)["annotations_count"] = len(f.anns[id])
	f.json(w, 200, run)
}

func (f *fakeGitHub) createStatus(w http.ResponseWriter, r *http.Request, ids []string, body map[string]any) {
	if err := onlyKeys(body, []string{"state"}, []string{"target_url", "description", "context"}); err != "" {
		f.bad(w, "create status: %s", err)
		return
	}
	if s := body["state"]; s != "error" && s != "failure" && s != "pending" && s != "success" {
		f.bad(w, "status state %v", s)
		return
	}
	if d, _ := body["description"].(string); utf8.RuneCountInString(d) > 140 {
		f.bad(w, "status description over 140 characters")
		return
	}
	st := map[string]any{"id": f.id(), "node_id": "MDY6U3RhdHVzMQ==", "sha": ids[0], "state": body["state"], "description": body["description"],
		"target_url": body["target_url"], "context": body["context"], "creator": botUser(),
		"created_at": f.now.Format(time.RFC3339), "updated_at": f.now.Format(time.RFC3339),
		"url": "https://api.github.com/repos/acme/credit-risk/statuses/" + ids[0]}
	f.statuses = append(f.statuses, st)
	f.json(w, 201, st)
}

func (f *fakeGitHub) listIssues(w http.ResponseWriter, r *http.Request, _ []string, _ map[string]any) {
	var open []map[string]any
	for _, is := range f.issues {
		if is["state"] == "open" || r.URL.Query().Get("state") == "all" {
			open = append(open, is)
		}
	}
	f.page(w, r, open)
}

func (f *fakeGitHub) createIssue(w http.ResponseWriter, r *http.Request, _ []string, body map[string]any) {
	if err := onlyKeys(body, []string{"title"}, []string{"body", "assignee", "milestone", "labels", "assignees"}); err != "" {
		f.bad(w, "create issue: %s", err)
		return
	}
	n := len(f.issues) + 100
	is := map[string]any{"id": f.id(), "number": n, "title": body["title"], "body": body["body"], "state": "open", "user": botUser(),
		"html_url": fmt.Sprintf("https://github.com/acme/credit-risk/issues/%d", n), "labels": []any{}}
	f.issues = append(f.issues, is)
	f.json(w, 201, is)
}

func (f *fakeGitHub) editIssue(w http.ResponseWriter, r *http.Request, ids []string, body map[string]any) {
	if err := onlyKeys(body, nil, []string{"title", "body", "assignee", "state", "state_reason", "milestone", "labels", "assignees"}); err != "" {
		f.bad(w, "edit issue: %s", err)
		return
	}
	for _, is := range f.issues {
		if fmt.Sprint(is["number"]) == ids[0] {
			for k, v := range body {
				is[k] = v
			}
			f.json(w, 200, is)
			return
		}
	}
	f.reply(w, 404, `{"message":"Not Found"}`)
}

// onlyKeys checks an object has the required keys and no keys the
// endpoint does not document.
func onlyKeys(m map[string]any, required, optional []string) string {
	if m == nil {
		return "missing object"
	}
	for _, k := range required {
		if v, ok := m[k]; !ok || v == nil || v == "" {
			return fmt.Sprintf("required %q missing", k)
		}
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Sprintf("undocumented keys %v", unknown)
	}
	return ""
}

// apiURL is the fake's GITHUB_API_URL, as a GitHub Enterprise Server has it.
func (f *fakeGitHub) apiURL() string {
	u, _ := url.Parse(f.srv.URL)
	return u.String() + "/api/v3"
}

// addPull adds a pull request; merged ones carry their merge commit.
func (f *fakeGitHub) addPull(number int, mergeSHA string, merged bool) {
	pr := map[string]any{
		"id": f.id(), "number": number, "state": "open", "title": "Retrain credit-default",
		"url":      fmt.Sprintf("https://api.github.com/repos/acme/credit-risk/pulls/%d", number),
		"html_url": fmt.Sprintf("https://github.com/acme/credit-risk/pull/%d", number),
		"user":     user("octocat", 1), "merge_commit_sha": mergeSHA, "merged_at": nil,
		"head": map[string]any{"ref": "retrain", "sha": headSHA},
		"base": map[string]any{"ref": "main", "sha": baseSHA},
	}
	if merged {
		pr["state"], pr["merged_at"] = "closed", f.now.Format(time.RFC3339)
	}
	f.pulls = append(f.pulls, pr)
}

func (f *fakeGitHub) commitPulls(w http.ResponseWriter, r *http.Request, ids []string, _ map[string]any) {
	var out []map[string]any
	for _, pr := range f.pulls {
		if pr["merge_commit_sha"] == ids[0] || pr["state"] == "open" {
			out = append(out, pr)
		}
	}
	f.page(w, r, out)
}
