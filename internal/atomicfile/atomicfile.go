// Package atomicfile writes files so that readers see the old content or the
// new, never a half-written file.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrSymlinkedDir is a directory inside the repository that is a symlink,
// through which a write would land wherever the symlink points.
var ErrSymlinkedDir = errors.New("is a symlink: Slipway writes only into real directories inside the repository")

// CheckDir refuses dir when any of its existing components below root is
// a symlink (or not a directory), so that a committed symlink such as
// releases/ or .slipway cannot redirect Slipway's writes out of the
// repository. A dir outside root was chosen by whoever ran Slipway and is
// not checked; components that do not exist yet will be created as real
// directories.
func CheckDir(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	cur := root
	for part := range strings.SplitSeq(rel, string(filepath.Separator)) {
		if part == "." || part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s %w", cur, ErrSymlinkedDir)
		case !fi.IsDir():
			return fmt.Errorf("%s: not a directory", cur)
		}
	}
	return nil
}

// WriteFileIn is WriteFile after CheckDir(root, the file's directory).
func WriteFileIn(root, path string, data []byte, perm os.FileMode) error {
	if err := CheckDir(root, filepath.Dir(path)); err != nil {
		return err
	}
	return WriteFile(path, data, perm)
}

// CreateNewIn is CreateNew after CheckDir(root, the file's directory).
func CreateNewIn(root, path string, data []byte, perm os.FileMode) error {
	if err := CheckDir(root, filepath.Dir(path)); err != nil {
		return err
	}
	return CreateNew(path, data, perm)
}

// WriteFile writes data to a temporary file beside path and renames it into
// place, creating the parent directories.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	return rename(tmp, path, err)
}

// WriteFunc is WriteFile for content produced by write, which writes
// through a buffer into the temporary file: a document of a hundred
// megabytes need not be held in memory whole to be written atomically.
func WriteFunc(path string, perm os.FileMode, write func(io.Writer) error) error {
	tmp, err := writeTempFunc(path, perm, true, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	return rename(tmp, path, err)
}

// rename moves the temporary file writing it left (err nil) into place.
func rename(tmp, path string, err error) error {
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// CreateNew writes data to path like WriteFile but fails with an error
// satisfying errors.Is(err, fs.ErrExist) when path already exists, so a
// record once written is never replaced.
func CreateNew(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// A hard link fails when the target exists, unlike rename.
	return os.Link(tmp, path)
}

// writeTemp writes data, synced, to a new temporary file in path's
// directory and returns its name.
func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	return writeTempData(path, data, perm, true)
}

// writeTempData is writeTemp, synced only when sync is set.
func writeTempData(path string, data []byte, perm os.FileMode, sync bool) (string, error) {
	return writeTempFunc(path, perm, sync, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// writeTempFunc is writeTemp with the content written by write, synced
// when sync is set.
func writeTempFunc(path string, perm os.FileMode, sync bool, write func(*os.File) error) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		err = write(f)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tmp, nil
}
