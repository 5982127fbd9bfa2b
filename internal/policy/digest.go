package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/policies"
)

// BundleDigest is the digest of the policy bundle that judges the
// repository at repoDir: every built-in and repository module (tests
// left out), by name and content. A release signs it, so a record says
// which rules judged it and two releases show whether their rules differ.
func BundleDigest(repoDir string) (string, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isRego(path, false) {
			return err
		}
		b, err := fs.ReadFile(policies.FS, path)
		files[BuiltinPrefix+path] = b
		return err
	})
	if err != nil {
		return "", err
	}
	if repoDir != "" {
		dir := filepath.Join(repoDir, RepoPolicyDir)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !isRego(path, false) {
					return err
				}
				b, err := safefile.ReadFileIn(repoDir, path, safefile.Policy)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(repoDir, path)
				files[filepath.ToSlash(rel)] = b
				return nil
			})
			if err != nil {
				return "", fmt.Errorf("policy bundle digest: %w", err)
			}
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("policy bundle digest: %w", err)
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		// Name and length first, so no two bundles hash alike by moving
		// bytes between files.
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	return digest.Prefix + hex.EncodeToString(h.Sum(nil)), nil
}
