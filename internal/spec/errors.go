package spec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/checkresult"
)

// Position is a place in a platform file, relative to the repository root;
// the check result document records positions in this shape.
type Position = checkresult.Position

// Problem is one thing wrong with a platform repository.
type Problem struct {
	Pos Position `json:"pos"`
	// Path is the CUE path of the field at fault, such as
	// models."credit-default".version; empty for syntax errors.
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("%s: %s", p.Pos, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", p.Pos, p.Path, p.Message)
}

// Errors lists every problem found in a platform repository. Load returns
// it, sorted by position, when the repository is invalid.
type Errors []Problem

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (e Errors) sorted() Errors {
	sort.SliceStable(e, func(i, j int) bool {
		a, b := e[i].Pos, e[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return e[i].Path < e[j].Path
	})
	// CUE reports some conflicts once per instance that contains them, and
	// a conflict at both the label and the value of one field.
	type key struct {
		file       string
		line       int
		path, text string
	}
	seen := map[key]bool{}
	out := e[:0]
	for _, p := range e {
		k := key{p.Pos.File, p.Pos.Line, p.Path, p.Message}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	return out
}
