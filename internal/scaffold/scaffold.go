// Package scaffold writes the standard structure of a new platform
// repository and of a new model inside one. What it writes validates at
// once; placeholders are marked so the policy gate rejects them until a
// person fills them in.
package scaffold

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/schemas"
)

// Placeholder marks every value a person must replace; the handover policy
// denies any model spec that still contains it.
const Placeholder = "TODO(slipway)"

//go:embed skeleton
var skeleton embed.FS

// ErrExists is returned when the target of init or new already exists.
var ErrExists = errors.New("already exists")

var nameRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Init writes a new platform repository at dir, which must not exist or be
// empty. The files are written to a temporary directory first and renamed
// into place, so a failure leaves nothing behind.
func Init(dir, name string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = strings.ToLower(filepath.Base(abs))
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("platform name %q: want a lowercase name of letters, digits and dashes", name)
	}
	if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: %w and is not empty", dir, ErrExists)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	files := map[string][]byte{
		"cue.mod/module.cue": []byte(fmt.Sprintf("module: \"example.com/%s@v0\"\nlanguage: version: \"v0.17.0\"\n", name)),
	}
	entries, err := fs.ReadDir(schemas.FS, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(schemas.FS, e.Name())
		if err != nil {
			return nil, err
		}
		files[path.Join("cue.mod/pkg", schemas.ImportPath, e.Name())] = b
	}
	data := map[string]string{"Name": name}
	for src, dst := range map[string]string{
		"platform.cue.tmpl":     "platform.cue",
		"environments.cue.tmpl": "environments.cue",
		"templates.cue.tmpl":    "templates.cue",
		"sources.cue.tmpl":      "data/sources.cue",
		"gitignore.tmpl":        ".gitignore",
		"README.md.tmpl":        "README.md",
	} {
		b, err := render("skeleton/platform/"+src, data)
		if err != nil {
			return nil, err
		}
		files[dst] = b
	}
	files["policies/.keep"] = nil
	files["data/snapshots/.keep"] = nil
	written, err := writeDir(abs, files)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return written, nil
}

// Model says what `slipway new model` should write.
type Model struct {
	Name string
	// Kind is the template kind: batch, online or streaming.
	Kind string
	// Template names the template to use; empty picks the repository's
	// first template of Kind.
	Template string
	// Data names the data source the model trains on and is evaluated on;
	// empty picks the first one.
	Data string
}

// NewModel adds a model directory to the platform repository at repo:
// models/NAME/model.cue, declared.cue, RUNBOOK.md and evidence/. It returns the files
// written, relative to repo.
func NewModel(ctx context.Context, repo string, m Model) ([]string, error) {
	if !nameRE.MatchString(m.Name) {
		return nil, fmt.Errorf("model name %q: want a lowercase name of letters, digits and dashes", m.Name)
	}
	p, err := spec.Load(ctx, repo)
	if err != nil {
		return nil, err
	}
	if _, ok := p.Models[m.Name]; ok {
		return nil, fmt.Errorf("model %q: %w", m.Name, ErrExists)
	}
	tmpl, err := pickTemplate(p, m)
	if err != nil {
		return nil, err
	}
	data, err := pickData(p, m.Data)
	if err != nil {
		return nil, err
	}
	dir := "models/" + m.Name
	target := filepath.Join(p.Root, filepath.FromSlash(dir))
	if _, err := os.Stat(target); err == nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	}
	var envs []string
	for _, e := range p.EnvironmentNames() {
		envs = append(envs, fmt.Sprintf("%q", e))
	}
	vars := map[string]string{"Name": m.Name, "Dir": dir, "Template": tmpl, "Data": data, "Environments": strings.Join(envs, ", ")}
	files := map[string][]byte{}
	for src, dst := range map[string]string{
		"model.cue.tmpl":          "model.cue",
		"declared.cue.tmpl":       "declared.cue",
		"RUNBOOK.md.tmpl":         "RUNBOOK.md",
		"evidence-README.md.tmpl": "evidence/README.md",
	} {
		b, err := render("skeleton/model/"+src, vars)
		if err != nil {
			return nil, err
		}
		files[dst] = b
	}
	written, err := writeDir(target, files)
	if err != nil {
		return nil, fmt.Errorf("new model %s: %w", m.Name, err)
	}
	// The new files must validate with the rest; if they do not, take
	// them back out rather than leave a broken repository.
	if _, err := spec.Load(ctx, repo); err != nil {
		os.RemoveAll(target)
		return nil, fmt.Errorf("new model %s does not validate: %w", m.Name, err)
	}
	for i, w := range written {
		written[i] = path.Join(dir, w)
	}
	return written, nil
}

func pickTemplate(p *spec.Platform, m Model) (string, error) {
	if m.Template != "" {
		t, ok := p.Templates[m.Template]
		if !ok {
			return "", fmt.Errorf("template %q: not declared in the repository", m.Template)
		}
		if m.Kind != "" && t.Kind != m.Kind {
			return "", fmt.Errorf("template %q is of kind %s, not %s", m.Template, t.Kind, m.Kind)
		}
		return m.Template, nil
	}
	var names []string
	for name, t := range p.Templates {
		if t.Kind == m.Kind {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no %s template in the repository: declare one under templates", m.Kind)
	}
	sort.Strings(names)
	return names[0], nil
}

func pickData(p *spec.Platform, name string) (string, error) {
	if name != "" {
		if _, ok := p.DataSources[name]; !ok {
			return "", fmt.Errorf("data source %q: not declared in the repository", name)
		}
		return name, nil
	}
	var names []string
	for n := range p.DataSources {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "", errors.New("no data source in the repository: declare the model's training data under dataSources first (see data/sources.cue)")
	}
	sort.Strings(names)
	return names[0], nil
}

func render(name string, data any) ([]byte, error) {
	src, err := skeleton.ReadFile(name)
	if err != nil {
		return nil, err
	}
	t, err := template.New(path.Base(name)).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeDir writes files into a temporary directory beside target and
// renames it to target, so that target appears whole or not at all.
func writeDir(target string, files map[string][]byte) ([]string, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(tmp, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, target); err != nil {
		return nil, err
	}
	return names, nil
}
