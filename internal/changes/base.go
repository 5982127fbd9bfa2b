package changes

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/internal/spec"
)

// AtBase loads the platform at root as it is at the git ref base, from a
// temporary copy of that commit's tree, and calls use with it while the
// copy (whose files the platform may name) still exists: the specs, owners
// and trusted keys a pull request is judged by are those it cannot edit.
func AtBase(ctx context.Context, root, base string, use func(*spec.Platform) error) error {
	if strings.HasPrefix(base, "-") {
		return fmt.Errorf("ref %q: a ref does not start with '-'", base)
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	dir, err := os.MkdirTemp("", "slipway-base-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The platform may live in a subdirectory of the git repository. Run
	// from there, git archive would hold only that subdirectory, at the
	// archive's top; run from the top level with the subdirectory as the
	// pathspec, the tree keeps its layout and only the platform is read.
	top, err := gitTop(ctx, root)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(top, root)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("platform %s is outside its git work tree %s", root, top)
	}
	args := []string{"-C", top, "archive", "--format=tar", base + "^{commit}"}
	if rel != "." {
		args = append(args, "--", filepath.ToSlash(rel))
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git archive: %w", err)
	}
	xerr := untar(out, dir)
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive: %s: %w", strings.TrimSpace(stderr.String()), err)
	}
	if xerr != nil {
		return xerr
	}
	p, err := spec.Load(ctx, filepath.Join(dir, rel))
	if err != nil {
		return fmt.Errorf("platform at the base: %w", err)
	}
	return use(p)
}

func gitTop(ctx context.Context, root string) (string, error) {
	top, err := Git{Dir: root}.run(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("%s is not in a git work tree: %w", root, err)
	}
	top = strings.TrimSpace(top)
	// Compare like with like: the root may be reached through a symlink.
	if r, err := filepath.EvalSymlinks(top); err == nil {
		top = r
	}
	return top, nil
}

// untar extracts regular files and directories of a git archive into dir;
// symlinks and names that leave dir are skipped, so the base ref's tree
// cannot write elsewhere.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("git archive: %w", err)
		}
		name := path.Clean(h.Name)
		if name == "." || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(full, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(full, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
