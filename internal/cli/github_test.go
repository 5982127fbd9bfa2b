package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCheckGitHub runs `slipway check --github` on a copy of the credit-risk
// example against a small stand-in for GitHub (internal/gh's tests check the
// API calls in depth): the pull request's files scope the check, its
// approvals reach the policies, and the report is posted. The platform sits
// at the checkout's root or, as the composite action's `repo` input allows,
// in a subdirectory, where GitHub's paths carry the directory in front.
func TestCheckGitHub(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates the example's evidence")
	}
	for _, tc := range []struct {
		name, sub, owner string
		// ownersPass is whether release.code_owners passes: alice
		// approved, dave did not.
		ownersPass bool
		// rateLimited makes GitHub refuse the list of changed files: the
		// check judges every model instead, CODEOWNERS still enforced.
		rateLimited bool
		// committer wrote a commit of the pull request: bob's approval
		// then does not count, and production lacks one.
		committer string
		// loosen makes the checkout a git repository whose commit is the
		// pull request's base, and loosens a threshold on top of it: the
		// base is read, and no risk owner approved. Otherwise the base
		// commit is not in the checkout (a shallow clone), and loosening
		// cannot be ruled out.
		loosen bool
	}{
		{"root", "", "alice", true, false, "erin", false},
		{"subdirectory", "examples/credit-risk", "alice", true, false, "erin", false},
		{"subdirectory, owner did not approve", "examples/credit-risk", "dave", false, false, "erin", false},
		{"files rate limited", "", "dave", false, true, "erin", false},
		{"approver wrote a commit", "", "alice", true, false, "bob", false},
		{"base commit read, threshold loosened", "examples/credit-risk", "alice", true, false, "erin", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testCheckGitHub(t, tc.sub, tc.owner, tc.ownersPass, tc.rateLimited, tc.committer, tc.loosen)
		})
	}
}

func testCheckGitHub(t *testing.T, sub, owner string, ownersPass, rateLimited bool, committer string, loosen bool) {
	selfApproved := committer == "bob"
	ws := t.TempDir()
	repo := filepath.Join(ws, filepath.FromSlash(sub))
	if err := os.CopyFS(repo, os.DirFS(filepath.Join("..", "..", "examples", "credit-risk"))); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(repo, ".slipway"))
	baseSHA := "9049f1265b7d61be4a8904a9a27120d2064dab3b"
	if loosen {
		baseSHA = gitBaseCommit(t, ws)
		model := filepath.Join(repo, "models", "credit-default", "model.cue")
		b, err := os.ReadFile(model)
		if err != nil {
			t.Fatal(err)
		}
		loosened := strings.Replace(string(b), "recall: min:    0.70", "recall: min:    0.60", 1)
		if loosened == string(b) {
			t.Fatal("the example's recall bound moved: update the test")
		}
		if err := os.WriteFile(model, []byte(loosened), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	top := func(f string) string { return strings.TrimPrefix(sub+"/"+f, "/") }
	codeowners := base64.StdEncoding.EncodeToString([]byte("/" + top("models/") + " @" + owner + "\n"))

	const token = "ghs_cliTestTOKEN42"
	var mu sync.Mutex
	var posted []string
	var comment, checkRun map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+token {
			t.Errorf("%s %s: wrong Authorization", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		body, _ := io.ReadAll(r.Body)
		p := strings.TrimPrefix(r.URL.Path, "/api/v3/repos/acme/credit-risk")
		if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/v3/orgs/acme/teams/") && strings.HasSuffix(r.URL.Path, "/members") {
			// bob is in every acceptance team (a bare name is acme's team).
			io.WriteString(w, `[{"login":"bob","type":"User"}]`)
			posted = append(posted, r.Method+" "+r.URL.Path)
			return
		}
		switch r.Method + " " + p {
		case "GET /pulls/12/files":
			if rateLimited {
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Hour).Unix()))
				w.WriteHeader(403)
				io.WriteString(w, `{"message":"API rate limit exceeded for installation ID 1."}`)
				break
			}
			fmt.Fprintf(w, `[{"filename":%q,"status":"modified","additions":1,"deletions":1,"changes":2}]`, top("models/credit-default/model.cue"))
		case "GET /pulls/12/reviews":
			io.WriteString(w, `[
			 {"id":1,"user":{"login":"alice","type":"User"},"state":"APPROVED","submitted_at":"2026-11-20T10:00:00Z"},
			 {"id":2,"user":{"login":"bob","type":"User"},"state":"APPROVED","submitted_at":"2026-11-20T11:00:00Z"},
			 {"id":3,"user":{"login":"carol","type":"User"},"state":"DISMISSED","submitted_at":"2026-11-20T09:00:00Z"}]`)
		case "GET /pulls/12":
			io.WriteString(w, `{"number":12,"state":"open","user":{"login":"erin","type":"User"}}`)
		case "GET /pulls/12/commits":
			fmt.Fprintf(w, `[{"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e","author":{"login":%q,"type":"User"},"commit":{"message":"new version"}}]`, committer)
		case "GET /contents/.github/CODEOWNERS", "GET /contents/docs/CODEOWNERS":
			w.WriteHeader(404)
			io.WriteString(w, `{"message":"Not Found"}`)
		case "GET /contents/CODEOWNERS":
			fmt.Fprintf(w, `{"type":"file","encoding":"base64","path":"CODEOWNERS","content":%q}`, codeowners)
		case "GET /issues/12/comments":
			io.WriteString(w, `[]`)
		case "POST /issues/12/comments":
			json.Unmarshal(body, &comment)
			w.WriteHeader(201)
			io.WriteString(w, `{"id":7,"html_url":"https://github.com/acme/credit-risk/pull/12#issuecomment-7"}`)
		case "POST /check-runs":
			json.Unmarshal(body, &checkRun)
			w.WriteHeader(201)
			io.WriteString(w, `{"id":99,"name":"slipway"}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(404)
			io.WriteString(w, `{"message":"Not Found"}`)
			return
		}
		posted = append(posted, r.Method+" "+p)
	}))
	defer srv.Close()

	event := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(event, []byte(`{"number":12,"pull_request":{"number":12,
	  "head":{"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e","repo":{"full_name":"acme/credit-risk"}},
	  "base":{"ref":"main","sha":"`+baseSHA+`","repo":{"full_name":"acme/credit-risk"}}},
	  "repository":{"full_name":"acme/credit-risk"}}`), 0o644)
	env := map[string]string{
		"GITHUB_TOKEN": token, "GITHUB_REPOSITORY": "acme/credit-risk", "GITHUB_EVENT_NAME": "pull_request",
		"GITHUB_EVENT_PATH": event, "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
		"GITHUB_API_URL": srv.URL + "/api/v3", "GITHUB_WORKSPACE": ws, "GITHUB_RUN_ID": "42",
	}
	var stdout, stderr bytes.Buffer
	md := filepath.Join(t.TempDir(), "comment.md")
	code := Run(context.Background(), []string{"check", "--repo", repo, "--github", "--no-plan", "--markdown-out", md, "--format", "json"},
		&stdout, &stderr, func(k string) string { return env[k] })
	if code == ExitError {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), token) {
		t.Fatal("the token was printed")
	}
	var res struct {
		Units []struct {
			Model, Environment string
			Results            []struct{ Rule, Outcome, Message string }
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not the result: %v\n%s", err, stdout.String())
	}
	models := map[string]bool{}
	for _, u := range res.Units {
		models[u.Model] = true
		if u.Model != "credit-default" && !rateLimited {
			t.Errorf("unit %s/%s is outside the pull request's changes", u.Environment, u.Model)
		}
		// release.code_owners applies only when CODEOWNERS reached the
		// policy input: its pass shows that alice, owner of models/,
		// was counted; its denial that dave's approval is missing.
		owners, acceptance, loosened := false, false, false
		for _, r := range u.Results {
			switch {
			case selfApproved && r.Rule == "release.approvals" && u.Environment == "production":
				if r.Outcome != "deny" {
					t.Errorf("release.approvals in production: %s, but bob wrote a commit: only alice's approval counts", r.Outcome)
				}
			case selfApproved && r.Rule == "release.self_approval":
				if r.Outcome != "warn" {
					t.Errorf("release.self_approval in %s: %s, want warn: bob approved his own commit", u.Environment, r.Outcome)
				}
			case r.Rule == "handover.acceptance" && u.Environment == "production":
				// bob, of the acceptance team, approved: operations
				// accepted, unless bob wrote a commit, or GitHub refused
				// to list the team (rate limited): then nobody accepted.
				if want := map[bool]string{false: "pass", true: "deny"}[selfApproved || rateLimited]; r.Outcome != want {
					t.Errorf("handover.acceptance in production: %s, want %s", r.Outcome, want)
				}
				acceptance = true
			case strings.HasPrefix(r.Rule, "release.approvals") && r.Outcome != "pass" && !rateLimited:
				t.Errorf("%s in %s: %s, but alice and bob approved", r.Rule, u.Environment, r.Outcome)
			}
			// policy.threshold_loosened compares with the specs at the
			// pull request's base commit, never with nothing.
			if r.Rule == "policy.threshold_loosened" && u.Environment == "production" {
				loosened = true
				want := "cannot be ruled out: insufficient evidence"
				if loosen {
					want = "evaluation.metrics.recall loosened from >= 0.7 to >= 0.6: no approval by a risk owner"
				}
				if r.Outcome != "deny" || !strings.Contains(r.Message, want) {
					t.Errorf("policy.threshold_loosened in production: %s %q, want deny %q", r.Outcome, r.Message, want)
				}
			}
			if r.Rule == "release.code_owners" {
				owners = true
				if (r.Outcome == "pass") != ownersPass {
					t.Errorf("release.code_owners in %s: %s, but %s owns models/ (approved: alice, bob)", u.Environment, r.Outcome, owner)
				}
			}
		}
		if !owners {
			t.Errorf("%s: release.code_owners was not judged: CODEOWNERS did not reach the policy input", u.Environment)
		}
		if u.Environment == "production" && !loosened && !rateLimited {
			t.Errorf("%s/%s: policy.threshold_loosened was not judged: the base did not reach the policy input", u.Environment, u.Model)
		}
		if u.Environment == "production" && !acceptance {
			t.Errorf("%s/%s: handover.acceptance was not judged", u.Environment, u.Model)
		}
	}
	if len(res.Units) == 0 {
		t.Fatal("no unit judged")
	}
	if rateLimited && (len(models) < 2 || !strings.Contains(stderr.String(), "judging every model")) {
		t.Errorf("without the pull request's files every model is judged, and the log says so: models %v\n%s", models, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if rateLimited {
		// GitHub refuses everything until the reset: the report is not
		// posted, and the verdict stands.
		return
	}
	if body, _ := comment["body"].(string); !strings.Contains(body, "<!-- slipway:sticky -->") || !strings.Contains(body, "`credit-default`") {
		t.Errorf("comment not posted: %v (requests %v)", comment, posted)
	}
	if checkRun["head_sha"] != "6dcb09b5b57875f334f61aebed695e2e4193db5e" || checkRun["name"] != "slipway" {
		t.Errorf("check run = %v", checkRun)
	}
	// Annotations point at the file in the git repository.
	if out, _ := checkRun["output"].(map[string]any); out != nil {
		if anns, _ := out["annotations"].([]any); len(anns) > 0 {
			if a, _ := anns[0].(map[string]any); !strings.HasPrefix(fmt.Sprint(a["path"]), top("models/")) {
				t.Errorf("annotation path %v, want it under %s", a["path"], top("models/"))
			}
		}
	}
	data, err := os.ReadFile(md)
	if err != nil || !bytes.Contains(data, []byte("credit-default")) {
		t.Errorf("--markdown-out: %v", err)
	}
	// The pull request comment says which approval was not counted, and why.
	if body, _ := comment["body"].(string); selfApproved && !strings.Contains(body, "the approval by bob is not counted: bob wrote the change") {
		t.Errorf("the comment does not say bob's approval was not counted:\n%s", body)
	}
}

// gitBaseCommit makes dir a git repository with its files committed, and
// returns the commit.
func gitBaseCommit(t *testing.T, dir string) string {
	t.Helper()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base"},
	} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
