// Package changes works out which stacks a change to a platform repository
// affects, from the git diff against a base ref: a changed model spec or
// evidence file affects that model's stacks; a changed data source the
// models that read it; a changed template the models that use it; a changed
// environment or module every stack in scope. Each affected stack carries
// the reasons it was affected.
package changes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/spec"
)

// KeysDir is the repository directory of public keys: any change under it
// is a change to the trust root.
const KeysDir = "keys"

// ErrBaseNotFound is returned when the base ref does not name a commit.
var ErrBaseNotFound = errors.New("base ref not found")

// Set is the outcome of change detection.
type Set struct {
	// Base is the ref compared against and Commit the commit it resolved to
	// (the merge base with HEAD when there is one).
	Base, Commit string
	// Files are the changed files, relative to the platform repository.
	Files []string
	// Trust are the changed files that hold the trust root, relative to
	// the platform repository: files under keys/, a trusted key's file,
	// and CUE files whose signing block or policy.securityOwners changed
	// (any CUE file declaring them when the changed lines are unknown).
	// Sorted, without duplicates.
	Trust []string

	all    []string
	envs   map[string][]string
	models map[string][]string
	shared map[string][]string // env -> reasons for its shared stack only
	// targets holds module changes by "<target>" and "<target>/<kind>".
	targets map[string][]string
}

// Everything returns a Set that affects every stack with one reason, for
// runs without --base.
func Everything(reason string) *Set {
	return &Set{all: []string{reason}}
}

// Reasons lists why a stack is affected, sorted; empty when it is not.
func (c *Set) Reasons(s desired.Stack) []string {
	seen := map[string]bool{}
	var out []string
	add := func(rs []string) {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	add(c.all)
	target := s.Target
	if target == "" {
		target = "local"
	}
	add(c.targets[target])
	for _, m := range s.Modules {
		add(c.targets[target+"/"+m.Module])
	}
	add(c.envs[s.Environment])
	if s.Model != "" {
		add(c.models[s.Model])
	} else {
		add(c.shared[s.Environment])
	}
	sort.Strings(out)
	return out
}

// Git runs git in a directory. Argv is built apart from running it.
type Git struct {
	Dir string
}

// Argv returns the command line of a git invocation.
func (g Git) Argv(args ...string) []string {
	return append([]string{"git", "-C", g.Dir}, args...)
}

func (g Git) run(ctx context.Context, args ...string) (string, error) {
	argv := g.Argv(args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s: %s", strings.Join(argv, " "), msg)
	}
	return stdout.String(), nil
}

// ChangedFiles returns the files that differ between base and the working
// tree, untracked files included, relative to the git top level, and the
// commit compared against. Renames count as a delete and an add.
func (g Git) ChangedFiles(ctx context.Context, base string) (files []string, commit string, err error) {
	if strings.HasPrefix(base, "-") {
		return nil, "", fmt.Errorf("%w: %q", ErrBaseNotFound, base)
	}
	commit, err = g.run(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", base+"^{commit}")
	if err != nil {
		return nil, "", fmt.Errorf("%w: %q is not a commit in %s", ErrBaseNotFound, base, g.Dir)
	}
	commit = strings.TrimSpace(commit)
	// Compare with where the branch left base, as a pull request does.
	if mb, err := g.run(ctx, "merge-base", commit, "HEAD"); err == nil {
		commit = strings.TrimSpace(mb)
	}
	diff, err := g.run(ctx, "diff", "--name-only", "--no-renames", "-z", commit, "--")
	if err != nil {
		return nil, "", err
	}
	untracked, err := g.run(ctx, "ls-files", "--others", "--exclude-standard", "-z", "--full-name")
	if err != nil {
		return nil, "", err
	}
	set := map[string]bool{}
	for _, f := range strings.Split(diff+untracked, "\x00") {
		if f != "" {
			set[f] = true
		}
	}
	for f := range set {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, commit, nil
}

// lineRange is an inclusive range of lines in the working tree's file.
type lineRange struct{ from, to int }

// Hunks returns the line ranges of a file that differ from commit. A pure
// deletion is a one-line range at the line after it.
func (g Git) Hunks(ctx context.Context, commit, file string) ([]lineRange, error) {
	out, err := g.run(ctx, "diff", "-U0", "--no-renames", "--no-color", commit, "--", ":(top)"+file)
	if err != nil {
		return nil, err
	}
	return parseHunks(out), nil
}

// parseHunks reads the new-file side of "@@ -a,b +c,d @@" headers.
func parseHunks(diff string) []lineRange {
	var out []lineRange
	for _, line := range strings.Split(diff, "\n") {
		if !strings.HasPrefix(line, "@@ ") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || !strings.HasPrefix(fields[2], "+") {
			continue
		}
		startS, countS, hasCount := strings.Cut(fields[2][1:], ",")
		start, err := strconv.Atoi(startS)
		if err != nil {
			continue
		}
		count := 1
		if hasCount {
			if count, err = strconv.Atoi(countS); err != nil {
				continue
			}
		}
		if count == 0 {
			// Lines were deleted after line start.
			out = append(out, lineRange{start, start + 1})
			continue
		}
		out = append(out, lineRange{start, start + count - 1})
	}
	return out
}

// Detect compares the platform repository's working tree with base.
func Detect(ctx context.Context, p *spec.Platform, base string) (*Set, error) {
	g := Git{Dir: p.Root}
	top, err := g.run(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("change detection needs a git repository: %w", err)
	}
	files, commit, err := g.ChangedFiles(ctx, base)
	if err != nil {
		return nil, err
	}
	topDir, err := filepath.EvalSymlinks(strings.TrimSpace(top))
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(p.Root)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(topDir, root)
	if err != nil {
		return nil, err
	}
	prefix := NewPrefix(rel)
	hunks := map[string][]lineRange{}
	tracked := map[string]bool{}
	if out, err := g.run(ctx, "ls-files", "-z", "--full-name"); err == nil {
		for _, f := range strings.Split(out, "\x00") {
			tracked[f] = true
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".cue") && tracked[f] {
			h, err := g.Hunks(ctx, commit, f)
			if err != nil {
				return nil, err
			}
			hunks[f] = h
		}
	}
	c := classify(p, files, prefix, hunks)
	c.Base, c.Commit = base, commit
	return c, nil
}

// Classify maps changed files to reasons, file by file: files relative to
// the platform repository and outside, relative to the git top level, the
// changed files outside the platform (only Slipway's own modules count
// there). prefix is the platform's directory under the top level.
func Classify(p *spec.Platform, prefix Prefix, files, outside []string) *Set {
	top := make([]string, 0, len(files)+len(outside))
	for _, f := range files {
		top = append(top, prefix.Top(f))
	}
	return classify(p, append(top, outside...), prefix, nil)
}

// classify narrows a changed CUE file down to the parts whose lines
// changed when hunks (keyed by top-level path) are known for it.
func classify(p *spec.Platform, topFiles []string, prefix Prefix, hunks map[string][]lineRange) *Set {
	c := &Set{envs: map[string][]string{}, models: map[string][]string{}, shared: map[string][]string{}, targets: map[string][]string{}}
	idx := newIndex(p)
	for _, tf := range topFiles {
		// Slipway's own modules (modules/<target>/<kind>/*.tf) are part of
		// every stack calling them, wherever the platform sits in the
		// repository.
		if parts := strings.Split(tf, "/"); len(parts) >= 3 && parts[0] == "modules" && path.Ext(tf) == ".tf" {
			key := parts[1] // a file of the whole target
			if len(parts) > 3 {
				key += "/" + parts[2]
			}
			c.targets[key] = append(c.targets[key], "module changed: "+tf)
			continue
		}
		f, ok := prefix.Rel(tf)
		if !ok {
			continue
		}
		c.Files = append(c.Files, f)
		h, ok := hunks[tf]
		c.classify(p, idx, f, h, ok)
	}
	sort.Strings(c.Trust)
	c.Trust = slices.Compact(c.Trust)
	return c
}

func (c *Set) classify(p *spec.Platform, idx *index, f string, hunks []lineRange, haveHunks bool) {
	switch {
	case strings.HasPrefix(f, ".slipway/") || strings.HasPrefix(f, ".git/"):
		return
	case strings.HasPrefix(f, "cue.mod/"):
		c.all = append(c.all, "schema or CUE module changed: "+f)
		return
	}
	if strings.HasPrefix(f, KeysDir+"/") || idx.keys[f] {
		c.Trust = append(c.Trust, f)
	}
	if path.Ext(f) == ".cue" {
		found := false
		for _, e := range idx.touched(f, hunks, haveHunks) {
			found = true
			switch e.kind {
			case "platform":
				for env := range p.Environments {
					c.shared[env] = append(c.shared[env], "platform settings changed: "+f)
				}
			case "waivers":
				// Waivers feed no stack.
			case "signing":
				// Signing feeds no stack, but it is the trust root.
				c.Trust = append(c.Trust, f)
			case "securityOwners":
				// Part of the platform settings, and the trust root: its
				// owners lift release.trust_changed.
				for env := range p.Environments {
					c.shared[env] = append(c.shared[env], "platform settings changed: "+f)
				}
				c.Trust = append(c.Trust, f)
			case "environments":
				c.envs[e.name] = append(c.envs[e.name], fmt.Sprintf("environment %s changed: %s", e.name, f))
			case "dataSources":
				c.dataSource(p, e.name, fmt.Sprintf("data source %s changed: %s", e.name, f))
			case "templates":
				r := fmt.Sprintf("template %s changed: %s", e.name, f)
				for _, m := range p.ModelNames() {
					if p.Models[m].Deployment.Template == e.name {
						c.models[m] = append(c.models[m], r)
					}
				}
			case "models":
				c.model(p, e.name, "model spec changed: "+f, true)
			}
		}
		if !found && !haveHunks {
			// A file that declares none of the parts Slipway renders from
			// (or that was deleted) may still change them: plan everything.
			c.all = append(c.all, "spec file changed: "+f)
		}
		return
	}
	for _, m := range idx.evidence[f] {
		c.model(p, m, "evidence changed: "+f, false)
	}
	for _, ds := range idx.snapshots[f] {
		c.dataSource(p, ds, fmt.Sprintf("data source %s snapshot changed: %s", ds, f))
	}
	if len(idx.evidence[f]) == 0 {
		for _, m := range p.ModelNames() {
			// A model at the platform's root would claim every file.
			d := NewPrefix(p.Models[m].Dir)
			if _, ok := d.Rel(f); ok && d != "" {
				c.model(p, m, "model file changed: "+f, false)
			}
		}
	}
}

// model marks a model's stacks; a change to its spec also marks the shared
// stacks of its environments, which list the models deployed there.
func (c *Set) model(p *spec.Platform, name, reason string, spec bool) {
	c.models[name] = append(c.models[name], reason)
	if spec {
		for _, env := range p.Models[name].Environments {
			c.shared[env] = append(c.shared[env], reason)
		}
	}
}

func (c *Set) dataSource(p *spec.Platform, name, reason string) {
	for _, m := range p.ModelNames() {
		for _, r := range desired.Reads(p, p.Models[m]) {
			if r == name {
				c.model(p, m, reason, true)
			}
		}
	}
}

type entity struct {
	kind, name string
	// line is where the part starts in the file.
	line int
}

type index struct {
	files     map[string][]entity // CUE file -> parts it declares, by line
	keys      map[string]bool     // files of signing.trustedKeys
	evidence  map[string][]string // evidence file -> models
	snapshots map[string][]string // snapshot file -> data sources
}

func newIndex(p *spec.Platform) *index {
	idx := &index{files: map[string][]entity{}, keys: map[string]bool{}, evidence: map[string][]string{}, snapshots: map[string][]string{}}
	note := func(kind, name string, v any) {
		first := map[string]int{}
		base := kind
		if name != "" {
			base += "." + strconv.Quote(name)
		}
		paths := []string{base}
		for _, f := range fieldNames(v) {
			paths = append(paths, base+"."+strconv.Quote(f))
		}
		for _, cp := range paths {
			pos := p.Pos(cp)
			if pos.File == "" {
				continue
			}
			if l, ok := first[pos.File]; !ok || pos.Line < l {
				first[pos.File] = pos.Line
			}
		}
		for f, line := range first {
			idx.files[f] = append(idx.files[f], entity{kind, name, line})
		}
	}
	note("platform", "", struct {
		Name   string              `json:"name"`
		Policy spec.PolicyDefaults `json:"policy"`
	}{})
	note("waivers", "", nil)
	// The signing block may be declared in one file and set in another.
	note("signing", "", struct {
		TrustedKeys []spec.TrustedKey `json:"trustedKeys"`
	}{})
	for _, k := range p.TrustedKeys {
		if k.Path != "" {
			idx.keys[path.Clean(k.Path)] = true
		}
	}
	// securityOwners is its own part of the platform block, when the
	// specs set it (Pos falls back to the enclosing field otherwise).
	if pos := p.Pos("platform.policy.securityOwners"); pos.File != "" && pos != p.Pos("platform.policy") {
		idx.files[pos.File] = append(idx.files[pos.File], entity{"securityOwners", "", pos.Line})
	}
	for name, v := range p.Environments {
		note("environments", name, v)
	}
	for name, v := range p.DataSources {
		note("dataSources", name, v)
		if v.Snapshot != "" {
			idx.snapshots[v.Snapshot] = append(idx.snapshots[v.Snapshot], name)
		}
	}
	for name, v := range p.Templates {
		note("templates", name, v)
	}
	for _, name := range p.ModelNames() {
		m := p.Models[name]
		note("models", name, m)
		ev := []string{m.Evaluation.Predictions, m.Handover.Runbook}
		ev = append(ev, m.Tests.Reports...)
		if m.Data != nil {
			ev = append(ev, m.Data.Reference, m.Data.Current)
		}
		for _, e := range ev {
			if e != "" {
				idx.evidence[e] = append(idx.evidence[e], name)
			}
		}
	}
	for f, es := range idx.files {
		sort.Slice(es, func(i, j int) bool {
			if es[i].line != es[j].line {
				return es[i].line < es[j].line
			}
			if es[i].kind != es[j].kind {
				return es[i].kind < es[j].kind
			}
			return es[i].name < es[j].name
		})
		idx.files[f] = es
	}
	return idx
}

// touched returns the parts declared in f whose lines a hunk touches, all
// of them when the hunks are unknown. A part spans from its first line to
// the line before the next part; lines before the first part (package,
// imports) belong to none.
func (idx *index) touched(f string, hunks []lineRange, haveHunks bool) []entity {
	es := idx.files[f]
	if !haveHunks {
		return es
	}
	var out []entity
	for i, e := range es {
		end := int(^uint(0) >> 1)
		for _, next := range es[i+1:] {
			if next.line > e.line {
				end = next.line - 1
				break
			}
		}
		for _, h := range hunks {
			if h.from <= end && h.to >= e.line {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// fieldNames returns the top-level field names of a spec value as the CUE
// files spell them (the JSON names of its Go type).
func fieldNames(v any) []string {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
