package policy

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/slipway-ml/slipway/internal/spec"
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

// clockReaders are builtins OPA does not mark non-deterministic that read
// the clock all the same: they check expiry against the current time.
var clockReaders = map[string]bool{
	"io.jwt.decode_verify":                                   true,
	"crypto.x509.parse_and_verify_certificates":              true,
	"crypto.x509.parse_and_verify_certificates_with_options": true,
}

// refused says whether a builtin is withheld from policies: every builtin
// OPA marks non-deterministic (http.send, net.lookup_ip_addr, opa.runtime,
// time.now_ns, rand.intn, uuid.rfc4122, io.jwt.encode_sign), the rest of
// net.*, and the clock readers. A verdict must follow from the input alone.
func refused(b *ast.Builtin) bool {
	return b.Nondeterministic || strings.HasPrefix(b.Name, "net.") || clockReaders[b.Name]
}

// capabilities are OPA's builtins less the refused ones; the compiler then
// rejects a call to a refused builtin as an undefined function.
var capabilities = sync.OnceValue(func() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0:0]
	for _, b := range caps.Builtins {
		if !refused(b) {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	return caps
})

// refusedNames are the names of the refused builtins.
var refusedNames = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		if refused(b) {
			out[b.Name] = true
		}
	}
	return out
})

// checkBuiltins names each use of a refused builtin in a module, with a
// clearer message than the compiler's "undefined function".
func checkBuiltins(name string, m *ast.Module) []string {
	var problems []string
	ast.WalkRefs(m, func(r ast.Ref) bool {
		if _, ok := r[0].Value.(ast.Var); !ok {
			return false
		}
		if s := r.String(); refusedNames()[s] {
			row := 0
			if r[0].Location != nil {
				row = r[0].Location.Row
			}
			problems = append(problems, fmt.Sprintf("%s:%d: %s is not allowed: policies run without network, clock or randomness, so that a verdict follows from the input alone (use input.now for the time)", name, row, s))
		}
		return false
	})
	return problems
}

// timeout is the unit's evaluation deadline, platform.policy.timeout, else
// the schema's default (an input written by hand may leave it out).
func (in Input) timeout() time.Duration {
	if d, err := time.ParseDuration(in.Platform.Policy.Timeout); err == nil && d > 0 {
		return d
	}
	return defaultTimeout()
}

var defaultTimeout = sync.OnceValue(func() time.Duration {
	d, err := time.ParseDuration(spec.DefaultPolicy().Timeout)
	if err != nil || d <= 0 {
		// The schema's pattern admits only positive durations.
		panic(fmt.Sprintf("schema default policy.timeout %q: %v", spec.DefaultPolicy().Timeout, err))
	}
	return d
})
