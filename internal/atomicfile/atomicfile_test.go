package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b.json")
	for _, content := range []string{"first", "second"} {
		if err := WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	assertNoTemp(t, filepath.Dir(path))
}

func TestCreateNewNeverReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "record")
	if err := CreateNew(path, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CreateNew(path, []byte("two"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second CreateNew: %v, want ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "one" {
		t.Errorf("content %q, want the first write", got)
	}
	assertNoTemp(t, filepath.Dir(path))
}

func TestWriteFileUnwritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644); err == nil {
		t.Fatal("write into a read-only directory succeeded")
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestCheckDirRefusesSymlinkedParents(t *testing.T) {
	root := t.TempDir()
	elsewhere := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "real", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(root, "releases")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "inner")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir     string
		refused bool
	}{
		{filepath.Join(root, "real", "sub"), false},
		{filepath.Join(root, "real", "new", "deeper"), false},
		{filepath.Join(root, "releases"), true},
		{filepath.Join(root, "releases", "prod", "m"), true},
		{filepath.Join(root, "inner", "sub"), true},
		{elsewhere, false},
	}
	for _, tt := range tests {
		err := CheckDir(root, tt.dir)
		if got := errors.Is(err, ErrSymlinkedDir); got != tt.refused {
			t.Errorf("CheckDir(%s) = %v, want refused %v", tt.dir, err, tt.refused)
		}
	}
	err := WriteFileIn(root, filepath.Join(root, "releases", "index.jsonl"), []byte("x"), 0o644)
	if !errors.Is(err, ErrSymlinkedDir) {
		t.Fatalf("WriteFileIn through a symlink: %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("wrote %d file(s) outside the repository", len(entries))
	}
}
