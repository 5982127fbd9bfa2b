package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestInterruptEndsCommand sends SIGINT and SIGTERM to a built binary in
// the middle of `slipway check` (planning with Terraform) and of
// `slipway evaluate` on a large predictions file, and wants it gone
// promptly: the signal context reaches every blocking step.
func TestInterruptEndsCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Terraform")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "slipway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	repo := filepath.Join(dir, "repo")
	if out, err := exec.Command("cp", "-r", "../../examples/credit-risk/.", repo).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	big := filepath.Join(dir, "big.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("label,score\n")
	row := []byte("1,0.5\n0,0.25\n")
	buf := make([]byte, 0, 1<<20)
	for len(buf)+len(row) <= cap(buf) {
		buf = append(buf, row...)
	}
	for range 400 {
		f.Write(buf)
	}
	f.Close()
	tests := []struct {
		name string
		sig  syscall.Signal
		args []string
	}{
		{"check SIGINT", syscall.SIGINT, []string{"check", "--repo", repo, "--workdir", filepath.Join(dir, "w1")}},
		{"check SIGTERM", syscall.SIGTERM, []string{"check", "--repo", repo, "--workdir", filepath.Join(dir, "w2")}},
		{"evaluate SIGINT", syscall.SIGINT, []string{"evaluate", "--predictions", big, "--label", "label", "--score", "score", "--threshold", "0.5", "--bootstrap", "100000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Fatalf("ended before the signal: %v", err)
			case <-time.After(1500 * time.Millisecond):
			}
			sent := time.Now()
			cmd.Process.Signal(tt.sig)
			select {
			case <-done:
				// The budget is a second; a loaded CI machine gets slack.
				if d := time.Since(sent); d > 3*time.Second {
					t.Errorf("ended %v after the signal", d)
				} else {
					t.Logf("ended %v after the signal", d)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatal("still running 10s after the signal")
			}
		})
	}
}
