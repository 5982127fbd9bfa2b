package terraform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVersionCachedBetweenProcesses: a binary's version is asked once and
// then read from the user's cache, as long as the binary is unchanged; a
// binary changed in place, or a damaged cache, is asked again. The fake
// binary counts how often it is asked.
func TestVersionCachedBetweenProcesses(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	fake := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\necho x >> '" + calls + "'\necho '{\"terraform_version\":\"1.11.0\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(versions.Clear)
	asked := func() int {
		b, _ := os.ReadFile(calls)
		return strings.Count(string(b), "x")
	}
	// run is versionOf as a new process runs it: nothing remembered in
	// memory.
	run := func(step string, wantAsked int) {
		t.Helper()
		versions.Clear()
		v, err := versionOf(context.Background(), fake)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if v != "1.11.0" {
			t.Errorf("%s: version %q, want 1.11.0", step, v)
		}
		if got := asked(); got != wantAsked {
			t.Errorf("%s: the binary was asked %d times, want %d", step, got, wantAsked)
		}
	}
	run("first run", 1)
	run("second run", 1)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(fake, later, later); err != nil {
		t.Fatal(err)
	}
	run("binary changed in place", 2)
	run("then unchanged", 2)
	if err := os.WriteFile(versionCacheFile(), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("damaged cache", 3)
	run("cache rewritten", 3)
	// A binary that is gone leaves the file at the next write.
	other := filepath.Join(dir, "other-terraform")
	if err := os.WriteFile(other, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := versionOf(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(fake); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(other, later, later); err != nil {
		t.Fatal(err)
	}
	versions.Clear()
	if _, err := versionOf(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(versionCacheFile())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), fake+`\u0000`) || strings.Count(string(b), other) != 1 {
		t.Errorf("cache after the binary %s went and %s changed:\n%s", fake, other, b)
	}
}
