package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/internal/digest"
)

// TestReleaseExitCodes pins the exit codes of keys, release and verify:
// 1 for a negative verdict (a deny, a failed verification), 2 for bad
// input (no or wrong password), and that no password is ever printed.
func TestReleaseExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: checks and releases the example in a git repository; skipped under -short")
	}
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := os.CopyFS(repo, os.DirFS("../../examples/credit-risk")); err != nil {
		t.Fatal(err)
	}
	// fraud as the rejected example has it: denied in production (a typed-in
	// baseline), by the real check the release runs.
	fraud, err := os.ReadFile("../../examples/credit-risk-rejected/models/fraud/model.cue")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "models/fraud/model.cue"), fraud, 0o644); err != nil {
		t.Fatal(err)
	}
	// A release signs the commit it releases: the repository needs one.
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "specs"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	const password = "Pa55-w0rd-never-printed"
	env := map[string]string{"SLIPWAY_NOW": "2026-11-23T12:00:00Z"}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
		all := out.String() + errb.String()
		if strings.Contains(all, password) {
			t.Fatalf("%v printed the password:\n%s", args, all)
		}
		return code, all
	}
	write := func(rel string, b []byte) string {
		full := filepath.Join(repo, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return digest.Bytes(b)
	}
	key := filepath.Join(dir, "release.key")

	if code, out := run("keys", "generate", "--out", dir, "--name", "release"); code != ExitError || !strings.Contains(out, "no key password") {
		t.Fatalf("keys without password: %d %s", code, out)
	}
	env["COSIGN_PASSWORD"] = password
	if code, out := run("keys", "generate", "--out", dir, "--name", "release"); code != ExitOK {
		t.Fatalf("keys generate: %d %s", code, out)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "release.pub"))
	write("keys/release.pub", pub)

	if code, out := run("release", "--repo", repo, "--env", "production", "--key", key); code != ExitDenied || !strings.Contains(out, "refused   production/fraud: evaluation.baseline_required") {
		t.Fatalf("release of a deny: %d %s", code, out)
	}
	env["COSIGN_PASSWORD"] = "wrong-" + password[:3]
	if code, out := run("release", "--repo", repo, "--env", "staging", "--key", key); code != ExitError || !strings.Contains(out, "wrong key password") {
		t.Fatalf("release with a wrong password: %d %s", code, out)
	}
	env["COSIGN_PASSWORD"] = password
	if code, out := run("release", "--repo", repo, "--env", "staging", "--model", "credit-default", "--key", key); code != ExitOK {
		t.Fatalf("release: %d %s", code, out)
	}
	if code, out := run("verify", "--repo", repo); code != ExitOK {
		t.Fatalf("verify: %d %s", code, out)
	}
	// A re-plan moves the work dir on; the signed records stay good.
	write(".slipway/plans/staging/credit-default.tfplan", []byte("another plan"))
	if code, out := run("verify", "--repo", repo); code != ExitOK {
		t.Fatalf("verify after a re-plan: %d %s", code, out)
	}
	if code, out := run("verify", "--repo", repo, "--key", filepath.Join(dir, "missing.pub")); code != ExitError {
		t.Fatalf("verify with a missing key file: %d %s", code, out)
	}
}
