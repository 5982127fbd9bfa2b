package changes

import (
	"path"
	"path/filepath"
	"strings"
)

// Prefix is where the platform repository sits under the git repository's
// top level, slash-separated, without leading or trailing slash: "" when
// the platform is the top level. Git and GitHub name files by top-level
// paths; specs, results and model directories are platform-relative.
// Every conversion between the two goes through Prefix, so a platform in
// a subdirectory (the composite action's `repo` input) is handled the same
// way by change detection, the check, CODEOWNERS and the PR comment. A
// model's directory inside the platform is a Prefix too: every "is this
// path under that directory" goes through Rel.
type Prefix string

// NewPrefix cleans a directory ("examples/credit-risk/", "./x", ".") into
// a Prefix. A directory outside the top level ("../x") is not a prefix: it
// yields "", and no top-level path is then inside the platform but those
// at the top.
func NewPrefix(dir string) Prefix {
	d := strings.Trim(path.Clean(filepath.ToSlash(dir)), "/")
	if d == "." || d == ".." || strings.HasPrefix(d, "../") {
		return ""
	}
	return Prefix(d)
}

// Rel turns a top-level path into a platform-relative one; ok is false for
// a path outside the platform. "examples/credit-risk" never matches
// "examples/credit-risk-rejected/...".
func (p Prefix) Rel(top string) (rel string, ok bool) {
	if p == "" {
		return top, true
	}
	if rel, ok := strings.CutPrefix(top, string(p)+"/"); ok {
		return rel, true
	}
	return "", false
}

// Top turns a platform-relative path into a top-level one.
func (p Prefix) Top(rel string) string {
	if p == "" {
		return rel
	}
	return string(p) + "/" + rel
}
