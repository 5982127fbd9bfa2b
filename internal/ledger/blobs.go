package ledger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// BlobDir holds the evidence bundles of the releases, relative to the
// repository root: one file per content, named by its sha256, so that a
// release's figures travel with the repository and two releases resting
// on the same evidence store it once.
const BlobDir = Dir + "/blobs/sha256"

// ErrBlobMissing means a blob a record pins is not in the store.
var ErrBlobMissing = errors.New("blob missing")

// ErrBlobChanged means a blob's bytes no longer have the digest it is
// named after.
var ErrBlobChanged = errors.New("blob changed")

var blobDigest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// BlobPath is the repo-relative path of the blob with digest d.
func BlobPath(d string) (string, error) {
	if !blobDigest.MatchString(d) {
		return "", fmt.Errorf("blob digest %q: want sha256:<64 hex digits>", d)
	}
	return path.Join(BlobDir, digest.Hex(d)), nil
}

// PutBlob stores b and returns its digest. An intact copy is left alone:
// the name is the content; a damaged one is replaced.
func (l *Ledger) PutBlob(b []byte) (string, error) {
	d := digest.Bytes(b)
	rel, err := BlobPath(d)
	if err != nil {
		return "", err
	}
	if _, err := l.ReadBlob(d); err == nil {
		return d, nil
	}
	full := l.abs(rel)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return "", fmt.Errorf("store blob %s: %w", rel, err)
	}
	if err := atomicfile.WriteFileIn(l.root, full, b, 0o644); err != nil {
		return "", fmt.Errorf("store blob %s: %w", rel, err)
	}
	return d, nil
}

// ReadBlob returns the blob with digest d after checking its bytes still
// have that digest; the error wraps ErrBlobMissing or ErrBlobChanged and
// names the blob's path.
func (l *Ledger) ReadBlob(d string) ([]byte, error) {
	rel, err := BlobPath(d)
	if err != nil {
		return nil, err
	}
	b, err := safefile.ReadFileIn(l.root, filepath.FromSlash(rel), safefile.Record)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", rel, ErrBlobMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if got := digest.Bytes(b); got != d {
		return nil, fmt.Errorf("%s: %w: content is %s", rel, ErrBlobChanged, got)
	}
	return b, nil
}
