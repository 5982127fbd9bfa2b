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

// TestWriteFileUnwritable uses places no one can write a file to, root
// included (CI runs as root, which ignores permission bits): under a regular
// file, and over a directory, where the rename fails after the temporary
// file was written and the temporary file must not stay behind.
func TestWriteFileUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "taken", "child"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"parent is a file":    filepath.Join(file, "x"),
		"target is a dir":     filepath.Join(dir, "taken"),
		"grandparent is file": filepath.Join(file, "sub", "x"),
	} {
		t.Run(name, func(t *testing.T) {
			if err := WriteFile(path, []byte("new"), 0o644); err == nil {
				t.Fatalf("WriteFile(%s) succeeded", path)
			}
			if err := CreateNew(path, []byte("new"), 0o644); err == nil {
				t.Fatalf("CreateNew(%s) succeeded", path)
			}
			assertNoTemp(t, dir)
		})
	}
	if got, _ := os.ReadFile(file); string(got) != "x" {
		t.Errorf("file changed to %q", got)
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
