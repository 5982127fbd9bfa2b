package policy

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/slipway-ml/slipway/policies"
)

// A repository's policies come with the pull request they judge, so they
// run sandboxed: they may add packs but not change a built-in one, they may
// not reach the network or the clock, and each evaluation has a deadline.

// builtinPackages are the packages of the built-in modules, tests included,
// as refs such as data.slipway.evaluation.
var builtinPackages = sync.OnceValue(func() []ast.Ref {
	pkgRE := regexp.MustCompile(`(?m)^package\s+([A-Za-z0-9_.]+)`)
	seen := map[string]bool{}
	var out []ast.Ref
	_ = fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		if m := pkgRE.FindSubmatch(src); m != nil && !seen[string(m[1])] {
			seen[string(m[1])] = true
			out = append(out, ast.MustParseRef("data."+string(m[1])))
		}
		return nil
	})
	return out
})

// checkRepoModule refuses a repository module that would define anything in
// a built-in package: its package is one (or under one), or one of its rules
// lands in one through a ref head (package slipway; evaluation.x := 1). Rego
// merges every definition of a document, so a function, a rule, a default
// or an else there would change what a built-in rule decides.
func checkRepoModule(name string, m *ast.Module) []string {
	var problems []string
	pkg := m.Package.Path
	for _, b := range builtinPackages() {
		if pkg.HasPrefix(b) {
			problems = append(problems, fmt.Sprintf("%s:%d: package %s is built-in: a repository's policies may add packages (such as slipway.repo.team) but not define rules in Slipway's own",
				name, m.Package.Location.Row, strings.TrimPrefix(pkg.String(), "data.")))
			return problems
		}
	}
	for _, r := range m.Rules {
		ref := pkg.Extend(r.Head.Ref()).StringPrefix()
		for _, b := range builtinPackages() {
			if ref.HasPrefix(b) || b.HasPrefix(ref) {
				problems = append(problems, fmt.Sprintf("%s:%d: rule %s defines %s inside built-in package %s: a repository's policies may not change Slipway's own",
					name, r.Location.Row, r.Head.Ref(), strings.TrimPrefix(ref.String(), "data."), strings.TrimPrefix(b.String(), "data.")))
				break
			}
		}
	}
	return problems
}
