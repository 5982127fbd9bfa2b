package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestReleaseConfirmsApprovalsOnGitHub: the approvals a release signs
// come from GitHub, which the pull request cannot write, never from the
// check result, which it can. Production needs two approvals.
func TestReleaseConfirmsApprovalsOnGitHub(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: checks and releases the example in a git repository; skipped under -short")
	}
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := os.CopyFS(repo, os.DirFS("../../examples/credit-risk")); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "specs")

	// GitHub: the pull request, opened by dave, has approvals from alice
	// and carol; carol is in every model's acceptance team (a bare team
	// name is a team of the repository's owner, acme).
	var mu sync.Mutex
	var requests []string
	author := "dave"
	teams := map[string]string{"lending-platform-ops": `[{"login": "carol"}]`, "payments-ops": `[{"login": "carol"}]`, "data-platform-ops": `[{"login": "carol"}]`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		a := author
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer ghs_test" {
			t.Errorf("github read without the token: %q", r.Header.Get("Authorization"))
		}
		if r.Method != http.MethodGet {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case p == "/api/v3/repos/acme/credit-risk/pulls/12/reviews":
			_, _ = w.Write([]byte(`[
			{"id": 1, "user": {"login": "alice"}, "state": "APPROVED", "submitted_at": "2026-11-23T10:00:00Z", "commit_id": "abc"},
			{"id": 2, "user": {"login": "bob"}, "state": "COMMENTED", "submitted_at": "2026-11-23T10:30:00Z", "commit_id": "abc"},
			{"id": 3, "user": {"login": "carol"}, "state": "APPROVED", "submitted_at": "2026-11-23T11:00:00Z", "commit_id": "abc"}]`))
		case p == "/api/v3/repos/acme/credit-risk/pulls/12":
			_, _ = w.Write([]byte(`{"number": 12, "user": {"login": "` + a + `"}}`))
		case p == "/api/v3/repos/acme/credit-risk/pulls/12/commits":
			_, _ = w.Write([]byte(`[{"sha": "abc", "author": {"login": "` + a + `"}}]`))
		case strings.HasPrefix(p, "/api/v3/orgs/acme/teams/") && strings.HasSuffix(p, "/members"):
			body, ok := teams[strings.TrimSuffix(strings.TrimPrefix(p, "/api/v3/orgs/acme/teams/"), "/members")]
			if !ok {
				http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
				return
			}
			_, _ = w.Write([]byte(body))
		default:
			t.Errorf("unexpected request %s %s", r.Method, p)
			http.Error(w, "unexpected", http.StatusTeapot)
		}
	}))
	defer srv.Close()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"number": 12, "pull_request": {"number": 12, "head": {"sha": "abc", "repo": {"full_name": "acme/credit-risk"}}, "base": {"ref": "main", "sha": "def", "repo": {"full_name": "acme/credit-risk"}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLIPWAY_NOW": "2026-11-23T12:00:00Z", "COSIGN_PASSWORD": "pw"}
	github := map[string]string{"GITHUB_REPOSITORY": "acme/credit-risk", "GITHUB_TOKEN": "ghs_test", "GITHUB_EVENT_NAME": "pull_request",
		"GITHUB_EVENT_PATH": event, "GITHUB_API_URL": srv.URL + "/api/v3"}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, &out, &errb, func(k string) string {
			if v, ok := github[k]; ok && strings.Contains(strings.Join(args, " "), "--github") {
				return v
			}
			return env[k]
		})
		return code, out.String() + errb.String()
	}
	key := filepath.Join(dir, "release.key")
	if code, out := run("keys", "generate", "--out", dir, "--name", "release"); code != ExitOK {
		t.Fatalf("keys generate: %d %s", code, out)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "release.pub"))
	if err := os.WriteFile(filepath.Join(repo, "keys/release.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "key")
	if code, out := run("check", "--repo", repo, "--env", "production"); code == ExitError {
		t.Fatalf("check: %d %s", code, out)
	}
	resultPath := filepath.Join(repo, ".slipway/check/result.json")
	saved, err := os.ReadFile(resultPath)
	if err != nil {
		t.Fatal(err)
	}
	// record rewrites the saved result with these approvals, as anyone who
	// can write the work dir can.
	record := func(users ...string) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(saved, &m); err != nil {
			t.Fatal(err)
		}
		var as []map[string]string
		for _, u := range users {
			as = append(as, map[string]string{"user": u, "state": "APPROVED", "submitted_at": "2026-11-23T10:00:00Z"})
		}
		m["approvals"] = as
		b, _ := json.Marshal(m)
		if err := os.WriteFile(resultPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	release := []string{"release", "--repo", repo, "--env", "production", "--key", key, "--check", "reuse"}

	// Without GitHub, two forged approvals count for nothing.
	record("alice", "mallory")
	if code, out := run(release...); code != ExitDenied || !strings.Contains(out, "the reviews are not known here") || !strings.Contains(out, "none was counted or signed") {
		t.Fatalf("release of recorded approvals without github: %d %s", code, out)
	}
	// With GitHub, an approval it does not list refuses the release.
	if code, out := run(append(release, "--github")...); code != ExitError || !strings.Contains(out, `records an approval by "mallory" that the pull request does not have on GitHub`) {
		t.Fatalf("release of a forged approval: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(repo, "releases/production")); err == nil {
		t.Fatal("a production record was signed")
	}
	// carol wrote the change: her approval neither counts nor accepts.
	record("alice")
	mu.Lock()
	author = "carol"
	mu.Unlock()
	if code, out := run(append(release, "--github")...); code != ExitDenied ||
		!strings.Contains(out, "handover.acceptance: no member of team lending-platform-ops who wrote none of the change approved the pull request") ||
		!strings.Contains(out, "release.approvals: environment production needs 2 approval(s), 1 recorded; not counted: carol (authors of the change)") {
		t.Fatalf("release approved by the change's author: %d %s", code, out)
	}
	// A team GitHub does not list accepts nothing.
	mu.Lock()
	author = "dave"
	lending := teams["lending-platform-ops"]
	delete(teams, "lending-platform-ops")
	mu.Unlock()
	if code, out := run(append(release, "--github")...); code != ExitDenied || !strings.Contains(out, "the members of team lending-platform-ops are not known") {
		t.Fatalf("release with an unlisted acceptance team: %d %s", code, out)
	}
	mu.Lock()
	teams["lending-platform-ops"] = lending
	mu.Unlock()
	if _, err := os.Stat(filepath.Join(repo, "releases/production")); err == nil {
		t.Fatal("a production record was signed")
	}
	// With GitHub, its approvals (alice and carol) are judged and signed.
	record("alice")
	code, out := run(append(release, "--github")...)
	if code != ExitOK {
		t.Fatalf("release with github's approvals: %d %s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(repo, "releases/production/credit-default/2.3.0.intoto.json"))
	if err != nil {
		t.Fatal(err)
	}
	var envl struct{ Payload []byte }
	if err := json.Unmarshal(b, &envl); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"user":"alice"`, `"user":"carol"`,
		// operations' acceptance, on the record: carol's review 3 of commit abc
		`"acceptance":{"team":"lending-platform-ops","user":"carol","reviewId":3,"submittedAt":"2026-11-23T11:00:00Z","commit":"abc"}`,
		// separation of duties: GitHub's authors (dave), not the result's
		`"user":"alice","state":"APPROVED","submittedAt":"2026-11-23T10:00:00Z","distinctFromAuthors":true,"reviewId":1,"commit":"abc"`} {
		if !bytes.Contains(envl.Payload, []byte(want)) {
			t.Errorf("record lacks %s: %s", want, envl.Payload)
		}
	}
	if bytes.Contains(envl.Payload, []byte(`"user":"bob"`)) {
		t.Errorf("a comment was signed as an approval: %s", envl.Payload)
	}
	// The acceptance on the record stands for the same version: a later
	// local check, which sees no reviews, finds operations' acceptance in
	// the verified ledger instead of reporting it pending.
	code, out = run("check", "--repo", repo, "--env", "production", "--no-plan", "--format", "json")
	if code == ExitError {
		t.Fatalf("check after the release: %d %s", code, out)
	}
	var res struct {
		Units []struct {
			Model   string
			Results []struct{ Rule, Outcome, Message string }
		}
	}
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &res); err != nil {
		t.Fatalf("check result: %v\n%s", err, out)
	}
	judged := false
	for _, u := range res.Units {
		for _, r := range u.Results {
			if u.Model != "credit-default" || !strings.HasPrefix(r.Rule, "handover.acceptance") {
				continue
			}
			if r.Outcome != "pass" {
				t.Errorf("after an accepted release of the same version: %s %s %q, want a pass", r.Rule, r.Outcome, r.Message)
			}
			judged = judged || r.Rule == "handover.acceptance"
		}
	}
	if !judged {
		t.Error("handover.acceptance was not judged for credit-default after its accepted release")
	}
	mu.Lock()
	for _, want := range []string{"GET /api/v3/repos/acme/credit-risk/pulls/12/reviews", "GET /api/v3/repos/acme/credit-risk/pulls/12",
		"GET /api/v3/repos/acme/credit-risk/pulls/12/commits", "GET /api/v3/orgs/acme/teams/lending-platform-ops/members"} {
		if !slices.Contains(requests, want) {
			t.Errorf("github was not asked %s: %q", want, requests)
		}
	}
	mu.Unlock()
}
