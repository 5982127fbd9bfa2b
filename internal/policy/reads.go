package policy

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// readsAll marks a pack whose input reads could not be narrowed down.
const readsAll = "*"

var objectGet = ast.MustParseRef("object.get")

// inputReads lists the top-level input keys (model, evidence, environment,
// ...) that the deny and warn rules of pkg read, directly or through the
// rules and functions they use. It is what lets a batch judge an
// environment-independent pack once per model instead of once per unit. A
// read it cannot pin to a key, such as input[x] or input passed whole to a
// function, makes the answer readsAll.
func inputReads(c *ast.Compiler, pkg string) []string {
	keys := map[string]bool{}
	seen := map[*ast.Rule]bool{}
	var queue []*ast.Rule
	enqueue := func(rs []*ast.Rule) {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				queue = append(queue, r)
			}
		}
	}
	for _, set := range []string{"deny", "warn", setNotApplicable} {
		enqueue(c.GetRulesExact(ast.MustParseRef("data." + pkg + "." + set)))
	}
	// The facts are memoised with the findings, so what they read counts.
	enqueue(c.GetRulesWithPrefix(ast.MustParseRef("data." + pkg + "." + factsDoc)))
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		readsOfRule(c, r, keys, enqueue)
	}
	if keys[readsAll] {
		return []string{readsAll}
	}
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// readsOfRule adds the input keys rule r reads to keys and enqueues the
// rules and functions it refers to.
func readsOfRule(c *ast.Compiler, r *ast.Rule, keys map[string]bool, enqueue func([]*ast.Rule)) {
	// The compiler binds input to a local variable before passing it to a
	// function: `__local1__ = input; object.get(__local1__, [...], d)`.
	aliases := map[ast.Var]bool{}
	ast.WalkExprs(r, func(x *ast.Expr) bool {
		if op := x.Operator(); op != nil && op.Equal(ast.Equality.Ref()) {
			a, b := x.Operand(0), x.Operand(1)
			if v, ok := a.Value.(ast.Var); ok && isInput(b) {
				aliases[v] = true
			} else if v, ok := b.Value.(ast.Var); ok && isInput(a) {
				aliases[v] = true
			}
		}
		return false
	})
	var visitor *ast.GenericVisitor
	visit := func(x any) bool {
		switch v := x.(type) {
		case *ast.Expr:
			op := v.Operator()
			if op == nil {
				return false
			}
			if op.Equal(ast.Equality.Ref()) {
				if isInput(v.Operand(0)) || isInput(v.Operand(1)) {
					return true // an alias, judged where it is used
				}
			}
			// object.get(input, ["evidence", ...], fallback) reads one key.
			if op.Equal(objectGet) {
				subject := v.Operand(0)
				av, isAlias := subject.Value.(ast.Var)
				if isInput(subject) || (isAlias && aliases[av]) {
					k, ok := firstKey(v.Operand(1))
					if !ok {
						keys[readsAll] = true
						return true
					}
					keys[k] = true
					for i := 1; v.Operand(i) != nil; i++ {
						visitor.Walk(v.Operand(i))
					}
					return true
				}
			}
		case *ast.Term:
			switch t := v.Value.(type) {
			case ast.Var:
				if aliases[t] {
					keys[readsAll] = true
				}
			case ast.Ref:
				switch {
				case t.HasPrefix(ast.InputRootRef):
					if len(t) > 1 {
						if s, ok := t[1].Value.(ast.String); ok {
							keys[string(s)] = true
							return false
						}
					}
					keys[readsAll] = true
				case t.HasPrefix(ast.DefaultRootRef):
					enqueue(c.GetRules(t))
				}
			}
		}
		return false
	}
	visitor = ast.NewGenericVisitor(visit)
	visitor.Walk(r)
}

func isInput(t *ast.Term) bool {
	if t == nil {
		return false
	}
	r, ok := t.Value.(ast.Ref)
	return ok && r.Equal(ast.InputRootRef)
}

// firstKey is the first element of a constant path or key argument.
func firstKey(t *ast.Term) (string, bool) {
	if t == nil {
		return "", false
	}
	switch v := t.Value.(type) {
	case ast.String:
		return string(v), true
	case *ast.Array:
		if v.Len() > 0 {
			if s, ok := v.Elem(0).Value.(ast.String); ok {
				return string(s), true
			}
		}
	}
	return "", false
}

// memoKey identifies what a pack reads of one input: the pack and, per key
// read, the value's identity. Parts converted by one valueCache share their
// ast.Value when their content is the same (a model's spec and evidence in
// each of its environments), so equal keys mean equal reads.
func memoKey(p pack, input ast.Object) (string, bool) {
	if len(p.reads) == 1 && p.reads[0] == readsAll {
		return "", false
	}
	var b strings.Builder
	b.WriteString(p.name)
	for _, k := range p.reads {
		b.WriteByte('|')
		t := input.Get(ast.InternedTerm(k))
		if t == nil {
			b.WriteString("-")
			continue
		}
		switch v := t.Value.(type) {
		case ast.String, ast.Boolean, ast.Number, ast.Null:
			fmt.Fprintf(&b, "%v", v)
		default:
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Pointer {
				return "", false
			}
			fmt.Fprintf(&b, "%x", rv.Pointer())
		}
	}
	return b.String(), true
}
