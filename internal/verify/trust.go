package verify

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/internal/changes"
	"github.com/slipway-ml/slipway/internal/safefile"
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

// TrustedKeys loads the platform's signing.trustedKeys.
func TrustedKeys(p *spec.Platform) ([]*sign.PublicKey, error) {
	var keys []*sign.PublicKey
	for i, k := range p.TrustedKeys {
		pemBytes := []byte(k.PublicKey)
		where := fmt.Sprintf("signing.trustedKeys[%d] (%s)", i, k.ID)
		if k.Path != "" {
			full, err := p.ResolvePath(k.Path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if pemBytes, err = safefile.ReadFileIn(p.Root, full, safefile.Key); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		pk, err := sign.ParsePublicKey(k.ID, pemBytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		keys = append(keys, pk)
	}
	return Dedupe(keys), nil
}

// LoadKeyFiles reads PEM public keys; each key's id is its file name.
func LoadKeyFiles(paths []string) ([]*sign.PublicKey, error) {
	var keys []*sign.PublicKey
	for _, p := range paths {
		b, err := safefile.ReadFile(p, safefile.Key)
		if err != nil {
			return nil, err
		}
		k, err := sign.ParsePublicKey(filepath.Base(p), b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		keys = append(keys, k)
	}
	return Dedupe(keys), nil
}

// Dedupe drops keys already listed by fingerprint, keeping the first.
func Dedupe(keys []*sign.PublicKey) []*sign.PublicKey {
	seen := map[string]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[k.Fingerprint] {
			seen[k.Fingerprint] = true
			out = append(out, k)
		}
	}
	return out
}

// ResolveToAct is Resolve for a command whose action the keys decide (the
// apply gate, a rollback): keys from the work tree are warned about on log,
// since a pull request can change them and so open the gate it is judged
// by. Verifying or reporting only shows where the keys came from.
func (t TrustRoot) ResolveToAct(ctx context.Context, log *slog.Logger) (*Keys, error) {
	k, err := t.Resolve(ctx)
	if err == nil && k.WorkTree && log != nil {
		log.Warn("trusting the work tree's signing.trustedKeys: in CI pass --key, " + TrustedKeysEnv + " or --base, which a pull request cannot change")
	}
	return k, err
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
	return Dedupe(keys), nil
}

// BaseKeys loads the platform as it is at the git ref base (the branch a
// pull request targets) and returns its signing.trustedKeys, with the key
// files read from that ref too.
func BaseKeys(ctx context.Context, root, base string) ([]*sign.PublicKey, error) {
	var keys []*sign.PublicKey
	err := changes.AtBase(ctx, root, base, func(p *spec.Platform) error {
		var err error
		keys, err = TrustedKeys(p)
		return err
	})
	return keys, err
}
