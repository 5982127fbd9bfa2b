package spec

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/digest"
)

// Digest digests every CUE file of the platform by path and content, so a
// check result can say which specs it judged and a release can tell a
// stale one.
func (p *Platform) Digest() (string, error) {
	files := append([]string(nil), p.Files...)
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		d, err := digest.File(filepath.Join(p.Root, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s\x00%s\n", f, d)
	}
	return digest.Bytes([]byte(b.String())), nil
}
