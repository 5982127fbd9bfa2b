// Package render writes desired stacks as Terraform root modules in JSON
// (main.tf.json) under Slipway's work dir, next to a content-addressed copy
// of the embedded modules they call. Rendering is deterministic: the same
// stacks give byte-identical files.
package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/modules"
)

// RequiredVersion is the Terraform (or OpenTofu) version every rendered
// stack pins: terraform_data needs 1.4, saved-plan JSON with
// "complete" and "-refresh-only" plans need 1.6; 2.x may break the formats
// Slipway reads.
const RequiredVersion = ">= 1.6.0, < 2.0.0"

// KubernetesProvider is the provider version the kubernetes modules need.
const KubernetesProvider = ">= 2.20.0, < 3.0.0"

// DefaultWorkDir is the work dir inside a platform repository.
const DefaultWorkDir = ".slipway"

// Layout says where things live under a work dir; see docs/contracts.md.
type Layout struct {
	// Root is the work dir's absolute path.
	Root string
}

// StackDir is the directory of a stack's root module.
func (l Layout) StackDir(env, name string) string {
	return filepath.Join(l.Root, "stacks", env, name)
}

// PlanPath is a stack's saved plan file with the given suffix, such as
// ".tfplan", ".plan.json" or ".summary.json".
func (l Layout) PlanPath(env, name, suffix string) string {
	return filepath.Join(l.Root, "plans", env, name+suffix)
}

// StatePath is the state file of a stack on the local backend.
func (l Layout) StatePath(env, name string) string {
	return filepath.Join(l.Root, "state", env, name+".tfstate")
}

// ModulesDir is where the embedded modules are extracted.
func (l Layout) ModulesDir() string { return filepath.Join(l.Root, "modules") }

// Rel makes an absolute path under the work dir's parent relative to it,
// for messages and summaries that must not depend on where the repository
// is checked out.
func (l Layout) Rel(p string) string {
	base := filepath.Dir(l.Root)
	if r, err := filepath.Rel(base, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// Stack is a rendered stack.
type Stack struct {
	desired.Stack
	// Dir is the stack's directory; File its main.tf.json.
	Dir, File string
	// SHA256 is the digest of main.tf.json.
	SHA256 string
	// InitKey changes whenever `terraform init` must run again: when the
	// backend, providers or module sources change, not the inputs.
	InitKey string
}

// Workspace is the Terraform workspace of a stack. Backends that keep many
// states side by side (pg) tell stacks apart by workspace; the local
// backend has a file per stack and uses the default workspace.
func Workspace(s desired.Stack) string {
	if s.Backend.Backend == "pg" {
		return s.Environment + "." + s.Name
	}
	return "default"
}

var modulesDigest = sync.OnceValue(func() string {
	h := sha256.New()
	var files []string
	_ = fs.WalkDir(modules.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	sort.Strings(files)
	for _, f := range files {
		b, _ := fs.ReadFile(modules.FS, f)
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
})

// ModulesID is a short content digest of the embedded modules; it names
// their extracted copy, so a new Slipway never reuses old module code.
func ModulesID() string { return modulesDigest() }

// ExtractModules copies the embedded modules to <work dir>/modules/<id>
// unless they are already there, and returns that directory. The copy is
// written beside the target and renamed into place, so a concurrent or
// interrupted run never leaves a partial module tree.
func ExtractModules(l Layout) (string, error) {
	dst := filepath.Join(l.ModulesDir(), ModulesID())
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(l.ModulesDir(), 0o755); err != nil {
		return "", fmt.Errorf("extract modules: %w", err)
	}
	tmp, err := os.MkdirTemp(l.ModulesDir(), ".tmp-")
	if err != nil {
		return "", fmt.Errorf("extract modules: %w", err)
	}
	defer os.RemoveAll(tmp)
	err = fs.WalkDir(modules.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(modules.FS, p)
		if err != nil {
			return err
		}
		out := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("extract modules: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		if _, statErr := os.Stat(dst); statErr == nil {
			return dst, nil // another run extracted the same content first
		}
		return "", fmt.Errorf("extract modules: %w", err)
	}
	return dst, nil
}

// Root renders a stack's root module. Paths in it are relative to the
// stack's directory, so the file does not depend on where the work dir is.
func Root(s desired.Stack) ([]byte, error) {
	doc, _, err := root(s)
	return doc, err
}

func root(s desired.Stack) (doc []byte, initKey string, err error) {
	up := "../../.."
	tf := map[string]any{"required_version": RequiredVersion}
	switch s.Backend.Backend {
	case "", "local":
		tf["backend"] = map[string]any{"local": map[string]any{
			"path": path.Join(up, "state", s.Environment, s.Name+".tfstate"),
		}}
	case "pg":
		// The connection string comes from PG_CONN_STR at run time, never
		// from this file.
		schema := s.Backend.SchemaName
		if schema == "" {
			schema = "slipway"
		}
		tf["backend"] = map[string]any{"pg": map[string]any{"schema_name": schema}}
	default:
		return nil, "", fmt.Errorf("stack %s: unknown state backend %q", s.ID(), s.Backend.Backend)
	}
	out := map[string]any{
		"//":        "Rendered by Slipway from the platform specs; do not edit. Stack " + s.ID() + ".",
		"terraform": tf,
	}
	switch s.Target {
	case "", "local":
	case "kubernetes":
		tf["required_providers"] = map[string]any{"kubernetes": map[string]any{
			"source": "hashicorp/kubernetes", "version": KubernetesProvider,
		}}
		prov := map[string]any{}
		if s.Kubernetes != nil && s.Kubernetes.Context != "" {
			prov["config_context"] = literal(s.Kubernetes.Context)
		}
		out["provider"] = map[string]any{"kubernetes": prov}
	default:
		return nil, "", fmt.Errorf("stack %s: unknown target %q", s.ID(), s.Target)
	}
	target := s.Target
	if target == "" {
		target = "local"
	}
	mods := map[string]any{}
	sources := map[string]string{}
	for _, m := range s.Modules {
		call, err := inputs(m.Inputs)
		if err != nil {
			return nil, "", fmt.Errorf("stack %s: module %s: %w", s.ID(), m.Name, err)
		}
		src := path.Join(up, "modules", ModulesID(), target, m.Module)
		// Terraform only treats a source as a local path when it starts
		// with ./ or ../, which path.Join keeps here.
		call["source"] = src
		mods[m.Name] = call
		sources[m.Name] = src
	}
	if len(mods) > 0 {
		out["module"] = mods
	}
	if name, ok := readsOwnState(s); ok {
		readOwnState(out, tf["backend"].(map[string]any), Workspace(s), name, mods[name].(map[string]any))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, "", fmt.Errorf("stack %s: %w", s.ID(), err)
	}
	key, _ := json.Marshal(map[string]any{"terraform": tf, "provider": out["provider"], "sources": sources})
	return buf.Bytes(), digest.Bytes(key), nil
}

// BlueGreenInput is the deployment modules' variable through which a
// blue-green stack's root module hands them the slots its state holds; the
// renderer sets it, not the specs.
const BlueGreenInput = "blue_green_state"

// blueGreenOutput is the deployment modules' output, and the root module's,
// that holds the slots after an apply.
const blueGreenOutput = "blue_green"

// ReadsOwnState reports whether the stack's root module reads the stack's
// own state back, which it then needs to exist before its first plan: a
// data source cannot read a state the backend has never stored.
func ReadsOwnState(s desired.Stack) bool {
	_, ok := readsOwnState(s)
	return ok
}

// readsOwnState returns the module call of a blue-green deployment: the
// one stack whose next state depends on its current one.
func readsOwnState(s desired.Stack) (string, bool) {
	for _, m := range s.Modules {
		if d, ok := m.Inputs.(*desired.Deployment); ok && d.RollbackStrategy == desired.BlueGreen {
			return m.Name, true
		}
	}
	return "", false
}

// readOwnState adds to a root module the built-in terraform_remote_state
// data source reading the stack's own state, from the backend the stack
// writes (so pg's connection string still comes from PG_CONN_STR alone),
// hands its blue_green output to the deployment module and exports the
// module's as the root's. Terraform reads the data source while planning
// and keeps its result in the saved plan, so an apply writes what was
// reviewed. Before the first apply the state has no such output: the
// default, null, means two empty slots.
func readOwnState(out, backend map[string]any, workspace, call string, inputs map[string]any) {
	for typ, config := range backend {
		out["data"] = map[string]any{"terraform_remote_state": map[string]any{"self": map[string]any{
			"backend":   typ,
			"config":    config,
			"workspace": workspace,
			"defaults":  map[string]any{blueGreenOutput: nil},
		}}}
	}
	inputs[BlueGreenInput] = "${data.terraform_remote_state.self.outputs." + blueGreenOutput + "}"
	out["output"] = map[string]any{blueGreenOutput: map[string]any{
		"description": "The blue-green slots and the live one, which the next plan of this stack reads back.",
		"value":       "${module." + call + "." + blueGreenOutput + "}",
	}}
}

func inputs(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if _, ok := m["source"]; ok {
		return nil, errors.New(`input "source" clashes with the module source`)
	}
	// The top-level names are the module's variable names, which Terraform
	// reads as names, not templates; everything below them is a value.
	for k, x := range m {
		m[k] = literal(x)
	}
	return m, nil
}

// literal escapes every string of a value that comes from a spec, and every
// object key inside it, so that Terraform takes the spec's bytes as they
// are. Terraform's JSON syntax reads each string value (and each key of an
// object value) as a template: unescaped, a spec string such as
// ${file("/proc/self/environ")} would be evaluated, putting CI secrets into
// the saved plan while policies judge the literal text. Escaping "${" as
// "$${" and "%{" as "%%{" is the inverse of the template parser's only two
// escapes, so the planned value equals the spec's string byte for byte.
//
// It is the one place spec strings enter a rendered file; everything else
// the renderer writes (module sources, backend settings, comments) is
// Slipway's own text or a #Name the schema restricts to [a-z0-9-].
func literal(v any) any {
	switch v := v.(type) {
	case string:
		return escapeTemplate(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = literal(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[escapeTemplate(k)] = literal(x)
		}
		return out
	default:
		return v
	}
}

var templateEscaper = strings.NewReplacer("${", "$${", "%{", "%%{")

func escapeTemplate(s string) string { return templateEscaper.Replace(s) }

// Write extracts the modules and writes each stack's main.tf.json, leaving
// files whose content is unchanged untouched.
func Write(l Layout, stacks []desired.Stack) ([]Stack, error) {
	if _, err := ExtractModules(l); err != nil {
		return nil, err
	}
	if err := ignoreWorkDir(l); err != nil {
		return nil, err
	}
	out := make([]Stack, 0, len(stacks))
	for _, s := range stacks {
		doc, key, err := root(s)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		dir := l.StackDir(s.Environment, s.Name)
		file := filepath.Join(dir, "main.tf.json")
		if old, err := os.ReadFile(file); err != nil || !bytes.Equal(old, doc) {
			if err := atomicfile.WriteFile(file, doc, 0o644); err != nil {
				return nil, fmt.Errorf("render stack %s: %w", s.ID(), err)
			}
		}
		out = append(out, Stack{Stack: s, Dir: dir, File: file, SHA256: digest.Bytes(doc), InitKey: key})
	}
	return out, nil
}

// ignoreWorkDir keeps the work dir out of git even in a repository whose
// .gitignore lacks it: it holds state and plans, never sources.
func ignoreWorkDir(l Layout) error {
	p := filepath.Join(l.Root, ".gitignore")
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := atomicfile.WriteFile(p, []byte("# Slipway's work dir: rendered stacks, plans and local state.\n*\n"), 0o644); err != nil {
		return fmt.Errorf("work dir %s: %w", l.Root, err)
	}
	return nil
}

// Existing lists the stacks rendered earlier under the work dir, as
// (environment, name) pairs sorted by environment then name. Slipway plans
// those no longer desired as empty stacks, so their resources are deleted.
func Existing(l Layout) ([][2]string, error) {
	var out [][2]string
	envs, err := os.ReadDir(filepath.Join(l.Root, "stacks"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range envs {
		if !e.IsDir() {
			continue
		}
		stacks, err := os.ReadDir(filepath.Join(l.Root, "stacks", e.Name()))
		if err != nil {
			return nil, err
		}
		for _, s := range stacks {
			if _, err := os.Stat(filepath.Join(l.Root, "stacks", e.Name(), s.Name(), "main.tf.json")); err == nil {
				out = append(out, [2]string{e.Name(), s.Name()})
			}
		}
	}
	return out, nil
}

// RootDigest is the digest Root's output would have, for checking that a
// saved plan was made from the current specs.
func RootDigest(s desired.Stack) (string, error) {
	doc, err := Root(s)
	if err != nil {
		return "", err
	}
	return digest.Bytes(doc), nil
}
