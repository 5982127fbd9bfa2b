package terraform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/slipway-ml/slipway/internal/atomicfile"
)

// Each binary's version is also kept between processes, in the user's
// cache directory (os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache), as Go
// keeps its build cache: `terraform version -json` is one more process of
// about 85 ms, half of what `slipway plan` added to Terraform's own plan
// and show on the example (docs/benchmarks.md). The key is the one the
// process cache uses, path, size and modification time, so a binary
// replaced or upgraded in place is asked again. The cache only spares a
// probe: an unreadable or damaged file is a miss, a failed write is
// ignored, and two processes writing at once lose an entry, not the file
// (atomicfile).

// versionCacheFile is the cache's path, "" when the user has no cache
// directory.
func versionCacheFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "slipway", "terraform-versions.json")
}

// cacheKey is k as the file spells it.
func (k versionKey) cacheKey() string {
	return k.path + "\x00" + strconv.FormatInt(k.size, 10) + "\x00" + strconv.FormatInt(k.mtime.UnixNano(), 10)
}

// versionFileMu keeps this process's read-modify-writes of the file in
// turn.
var versionFileMu sync.Mutex

// maxVersionCache bounds what is read: the file holds a line per binary.
const maxVersionCache = 1 << 20

func readVersionCache(file string) map[string]string {
	m := map[string]string{}
	if file == "" {
		return m
	}
	b, err := os.ReadFile(file)
	if err != nil || len(b) > maxVersionCache {
		return m
	}
	if json.Unmarshal(b, &m) != nil {
		return map[string]string{}
	}
	return m
}

// cachedVersion is k's version from the file, if it holds one.
func cachedVersion(k versionKey) (string, bool) {
	versionFileMu.Lock()
	defer versionFileMu.Unlock()
	v, ok := readVersionCache(versionCacheFile())[k.cacheKey()]
	return v, ok && v != ""
}

// storeVersion records k's version in the file.
func storeVersion(k versionKey, v string) {
	file := versionCacheFile()
	if file == "" {
		return
	}
	versionFileMu.Lock()
	defer versionFileMu.Unlock()
	m := readVersionCache(file)
	// The binary's older entries and binaries that are gone (a test's, an
	// old install) are dropped, so the file holds the binaries there are.
	for key := range m {
		path, _, _ := strings.Cut(key, "\x00")
		if path == k.path {
			delete(m, key)
		} else if _, err := os.Stat(path); err != nil {
			delete(m, key)
		}
	}
	m[k.cacheKey()] = v
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil || os.MkdirAll(filepath.Dir(file), 0o755) != nil {
		return
	}
	_ = atomicfile.WriteFile(file, append(b, '\n'), 0o644)
}
