package spec

import (
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// checkRefCycles reports fields whose value is a reference that leads,
// through references alone, back to the field itself, such as
// `minGroupSize: platform.policy.minGroupSize`. CUE evaluates such a cycle
// to "any value", and the schema's default then fills it in without a
// word: the author wrote something and got something else.
func (l *loader) checkRefCycles(files []*ast.File) {
	type ref struct {
		path   []string
		sels   []string // the reference: an identifier and selectors
		prefix []string // the struct the field is in
		pos    token.Pos
	}
	// One walk finds the references, on a path stack it copies only for
	// them: most fields are not references, and a repository of 1,000
	// models has 100,000 fields. A reference resolves only to a field of
	// its identifier's name, so the second walk keys only those.
	var refs []ref
	var path []string
	var heads map[string]bool
	var walk func(decls []ast.Decl, written map[string]bool)
	walk = func(decls []ast.Decl, written map[string]bool) {
		for _, d := range decls {
			f, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			name, _, err := ast.LabelName(f.Label)
			if err != nil {
				continue
			}
			path = append(path, name)
			if written != nil && heads[name] {
				written[refKey(path)] = true
			}
			switch v := f.Value.(type) {
			case *ast.StructLit:
				walk(v.Elts, written)
			case *ast.Ident, *ast.SelectorExpr:
				if written != nil {
					break
				}
				if sels, ok := refSelectors(v); ok {
					p := slices.Clone(path)
					refs = append(refs, ref{path: p, sels: sels, prefix: p[:len(p)-1], pos: f.Label.Pos()})
				}
			}
			path = path[:len(path)-1]
		}
	}
	for _, f := range files {
		walk(f.Decls, nil)
	}
	if len(refs) == 0 {
		return
	}
	heads = map[string]bool{}
	for _, r := range refs {
		heads[r.sels[0]] = true
	}
	written := map[string]bool{}
	for _, f := range files {
		walk(f.Decls, written)
	}
	// Each reference resolves like CUE's scoping: to the innermost
	// enclosing struct that has a field of the identifier's name.
	edge := map[string]string{}
	for _, r := range refs {
		for k := len(r.prefix); k >= 0; k-- {
			base := append(append([]string(nil), r.prefix[:k]...), r.sels[0])
			if written[refKey(base)] {
				edge[refKey(r.path)] = refKey(append(base, r.sels[1:]...))
				break
			}
		}
	}
	reported := map[string]bool{}
	for _, r := range refs {
		start := refKey(r.path)
		if reported[start] {
			continue
		}
		chain := []string{start}
		for cur, n := edge[start], 0; cur != "" && n <= len(edge); cur, n = edge[cur], n+1 {
			if cur != start {
				chain = append(chain, cur)
				continue
			}
			for _, c := range chain {
				reported[c] = true
			}
			msg := "refers to itself"
			if len(chain) > 1 {
				msg = "refers to itself through " + strings.Join(displayPaths(chain[1:]), ", ")
			}
			l.add(l.pos(r.pos), cuePath(r.path), "reference cycle: the field "+msg+"; CUE would silently take the schema's default")
			break
		}
	}
}

func refKey(path []string) string { return strings.Join(path, "\x00") }

func displayPaths(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = cuePath(strings.Split(k, "\x00"))
	}
	return out
}

// refSelectors returns the identifier and selectors of a reference such as
// a.b."c"; false for anything else.
func refSelectors(x ast.Expr) ([]string, bool) {
	switch x := x.(type) {
	case *ast.Ident:
		return []string{x.Name}, true
	case *ast.SelectorExpr:
		base, ok := refSelectors(x.X)
		if !ok {
			return nil, false
		}
		name, _, err := ast.LabelName(x.Sel)
		if err != nil {
			return nil, false
		}
		return append(base, name), true
	}
	return nil, false
}
