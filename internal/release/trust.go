package release

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
)

// TrustedKeysEnv names the environment variable a workflow sets to the
// keys that verify releases: PEM public keys, or key files separated by
// the path list separator.
const TrustedKeysEnv = "SLIPWAY_TRUSTED_KEYS"

// LedgerHeadEnv names the environment variable that holds the ledger head
// a workflow pinned outside the repository, for slipway verify --head.
const LedgerHeadEnv = "SLIPWAY_LEDGER_HEAD"

// TrustRoot says where the keys that verify releases come from. A pull
// request can edit the work tree's signing.trustedKeys and keys/, so the
// keys come, in this order, from Files (--key), Env (SLIPWAY_TRUSTED_KEYS)
// or the spec at Base (--base REF, the same rule as CODEOWNERS), all out of
// the pull request's reach. Only when none is given does the work tree's
// own spec name them, which is good for a local run and nothing else.
type TrustRoot struct {
	// Root is the platform repository.
	Root  string
	Files []string
	Env   string
	Base  string
	// Load loads the work tree's platform when the keys come from it.
	Load func(ctx context.Context) (*spec.Platform, error)
}

// Keys are the trusted keys and where they came from.
type Keys struct {
	Keys []*sign.PublicKey
	// From names the source: "--key", TrustedKeysEnv, "the spec at REF"
	// or "the work tree's signing.trustedKeys".
	From string
	// WorkTree is true when the keys came from the repository being
	// judged, which a pull request can change.
	WorkTree bool
}

// ErrNoKeys means no key is trusted, so nothing can verify.
var ErrNoKeys = errors.New("no trusted keys")

// Resolve returns the trusted keys.
func (t TrustRoot) Resolve(ctx context.Context) (*Keys, error) {
	switch {
	case len(t.Files) > 0:
		keys, err := LoadKeyFiles(t.Files)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		return &Keys{Keys: keys, From: "--key"}, nil
	case strings.TrimSpace(t.Env) != "":
		keys, err := envKeys(t.Env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", TrustedKeysEnv, err)
		}
		return &Keys{Keys: keys, From: TrustedKeysEnv}, nil
	case t.Base != "":
		keys, err := BaseKeys(ctx, t.Root, t.Base)
		if err != nil {
			return nil, fmt.Errorf("--base %s: %w", t.Base, err)
		}
		return &Keys{Keys: keys, From: "the spec at " + t.Base}, nil
	}
	if t.Load == nil {
		return nil, fmt.Errorf("%w: pass --key, %s or --base", ErrNoKeys, TrustedKeysEnv)
	}
	p, err := t.Load(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := TrustedKeys(p)
	if err != nil {
		return nil, err
	}
	return &Keys{Keys: keys, From: "the work tree's signing.trustedKeys", WorkTree: true}, nil
}

// envKeys reads SLIPWAY_TRUSTED_KEYS: PEM blocks, or key files.
func envKeys(v string) ([]*sign.PublicKey, error) {
	if !strings.Contains(v, "-----BEGIN") {
		return LoadKeyFiles(filepath.SplitList(strings.TrimSpace(v)))
	}
	var keys []*sign.PublicKey
	rest := []byte(v)
	for i := 1; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		k, err := sign.ParsePublicKey(fmt.Sprintf("%s#%d", TrustedKeysEnv, i), pem.EncodeToMemory(b))
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		keys = append(keys, k)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("text after the last PEM block is not a key")
	}
	return dedupe(keys), nil
}

// BaseKeys loads the platform as it is at the git ref base (the branch a
// pull request targets) and returns its signing.trustedKeys, with the key
// files read from that ref too.
func BaseKeys(ctx context.Context, root, base string) ([]*sign.PublicKey, error) {
	var keys []*sign.PublicKey
	err := atBase(ctx, root, base, func(p *spec.Platform) error {
		var err error
		keys, err = TrustedKeys(p)
		return err
	})
	return keys, err
}

// BasePlatform calls use with the platform as it is at the git ref base.
func BasePlatform(ctx context.Context, root, base string, use func(*spec.Platform) error) error {
	return atBase(ctx, root, base, use)
}

// atBase loads the platform at root as it is at the git ref base, from a
// temporary copy of that commit's tree, and calls use with it while the
// copy (whose files the platform may name) still exists.
func atBase(ctx context.Context, root, base string, use func(*spec.Platform) error) error {
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
	top := gitOutput(ctx, root, []string{"rev-parse", "--show-toplevel"})
	if top == "" {
		return "", fmt.Errorf("%s is not in a git work tree", root)
	}
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
