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
	"strings"
	"sync"
	"testing"
)

// TestReleaseConfirmsApprovalsOnGitHub: the approvals a release signs
// come from GitHub, which the pull request cannot write, never from the
// check result, which it can. Production needs two approvals.
func TestReleaseConfirmsApprovalsOnGitHub(t *testing.T) {
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

	// GitHub: the pull request has approvals from alice and carol.
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/api/v3/repos/acme/credit-risk/pulls/12/reviews" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		if r.Header.Get("Authorization") != "Bearer ghs_test" {
			t.Errorf("reviews read without the token: %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[
			{"id": 1, "user": {"login": "alice"}, "state": "APPROVED", "submitted_at": "2026-11-23T10:00:00Z"},
			{"id": 2, "user": {"login": "bob"}, "state": "COMMENTED", "submitted_at": "2026-11-23T10:30:00Z"},
			{"id": 3, "user": {"login": "carol"}, "state": "APPROVED", "submitted_at": "2026-11-23T11:00:00Z"}]`))
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
	for _, want := range []string{`"user":"alice"`, `"user":"carol"`} {
		if !bytes.Contains(envl.Payload, []byte(want)) {
			t.Errorf("record lacks %s: %s", want, envl.Payload)
		}
	}
	if bytes.Contains(envl.Payload, []byte(`"user":"bob"`)) {
		t.Errorf("a comment was signed as an approval: %s", envl.Payload)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requests) == 0 {
		t.Error("github was not asked")
	}
}
