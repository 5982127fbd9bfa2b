package atomicfile

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBatch: nothing is in place before Commit, everything is after, and
// no temporary file stays behind; the writes may come from many
// goroutines.
func TestBatch(t *testing.T) {
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "a.json"), filepath.Join(dir, "sub", "b.json"), filepath.Join(dir, "c.json")}
	if err := os.WriteFile(paths[2], []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b Batch
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Go(func() {
			if err := b.WriteFile(p, []byte("new "+filepath.Base(p)), 0o640); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := os.Stat(paths[0]); !os.IsNotExist(err) {
		t.Errorf("a.json before Commit: %v, want not there", err)
	}
	if got, _ := os.ReadFile(paths[2]); string(got) != "old" {
		t.Errorf("c.json before Commit holds %q, want the old content", got)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
		want = append(want, "new "+filepath.Base(p))
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v, want 0640", p, fi.Mode().Perm())
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("after Commit (-want +got):\n%s", d)
	}
	assertNoTemp(t, dir)
	assertNoTemp(t, filepath.Join(dir, "sub"))
}

// TestBatchDiscard leaves the old content and no temporary file; so does a
// Commit whose rename fails, for the files it did not get to.
func TestBatchDiscard(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b Batch
	if err := b.WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Discard()
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("after Discard %q, want the old content", got)
	}
	assertNoTemp(t, dir)

	// A directory where the file should go makes its rename fail.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	var c Batch
	for _, p := range []string{blocked, filepath.Join(dir, "later.json")} {
		if err := c.WriteFile(p, []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Commit(); err == nil {
		t.Fatal("Commit over a directory: no error")
	}
	if _, err := os.Stat(filepath.Join(dir, "later.json")); !os.IsNotExist(err) {
		t.Errorf("later.json after a failed Commit: %v, want not there", err)
	}
	assertNoTemp(t, dir)
}

// TestFsyncEach is the flush where no syscall syncs a file system: it
// syncs what is there and reports what is not.
func TestFsyncEach(t *testing.T) {
	dir := t.TempDir()
	there := filepath.Join(dir, "there")
	if err := os.WriteFile(there, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fsyncEach([]pendingFile{{tmp: there}}); err != nil {
		t.Errorf("fsyncEach of a file: %v", err)
	}
	if err := fsyncEach([]pendingFile{{tmp: there}, {tmp: filepath.Join(dir, "gone")}}); err == nil {
		t.Error("fsyncEach of a missing file: no error")
	}
}
