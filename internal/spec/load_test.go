package spec

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/load"
	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/invalid")

// files is a platform repository in memory: path to content.
type files map[string]string

func readBase(t *testing.T) files {
	t.Helper()
	a, err := txtar.ParseFile("testdata/base.txtar")
	if err != nil {
		t.Fatal(err)
	}
	fs := files{}
	for _, f := range a.Files {
		fs[f.Name] = string(f.Data)
	}
	return fs
}

func (fs files) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range fs {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// applySubs applies the case's "sub FILE: OLD => NEW" lines; lines that
// follow a sub line continue its NEW text. "sub * =>" removes every file.
func applySubs(t *testing.T, fs files, comment string) {
	t.Helper()
	type sub struct{ file, old, new string }
	var subs []*sub
	for _, line := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "sub * =>"):
			subs = append(subs, &sub{file: "*"})
		case strings.HasPrefix(line, "sub "):
			file, rest, ok := strings.Cut(strings.TrimPrefix(line, "sub "), ": ")
			old, new, ok2 := strings.Cut(rest, " => ")
			if !ok || !ok2 {
				t.Fatalf("bad sub line %q", line)
			}
			subs = append(subs, &sub{file: file, old: old, new: new})
		case len(subs) > 0:
			subs[len(subs)-1].new += "\n" + line
		}
	}
	for _, s := range subs {
		if s.file == "*" {
			for k := range fs {
				delete(fs, k)
			}
			continue
		}
		if !strings.Contains(fs[s.file], s.old) {
			t.Fatalf("sub: %q not found in %s", s.old, s.file)
		}
		fs[s.file] = strings.Replace(fs[s.file], s.old, s.new, 1)
	}
}

func TestLoadValidBase(t *testing.T) {
	dir := readBase(t).write(t)
	p, err := Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models["a"]
	if diff := cmp.Diff(&Replicas{Min: 1, Max: 2}, m.Deployment.Resolved.Replicas); diff != "" {
		t.Errorf("parameters not applied to the template (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"staging", "production"}, p.EnvironmentNames()); diff != "" {
		t.Errorf("promotion order (-want +got):\n%s", diff)
	}
	if got, want := p.Pos(ModelPath("a", "handover", "runbook")).String(), "models/a/model.cue:27:3"; got != want {
		t.Errorf("Pos(runbook) = %s, want %s", got, want)
	}
	// A field nobody wrote resolves to its closest written parent.
	if got, want := p.Pos(ModelPath("a", "handover", "acceptance")).String(), "models/a/model.cue:26:2"; got != want {
		t.Errorf("Pos(acceptance) = %s, want %s", got, want)
	}
	if got, want := m.Dir, "models/a"; got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
	if got, want := p.Environments["staging"].State.Backend, "local"; got != want {
		t.Errorf("default backend = %q, want %q", got, want)
	}
}

// TestLoadInvalid loads each case of testdata/invalid: the base repository
// changed by the case, and compares every problem reported with the case's
// want section.
func TestLoadInvalid(t *testing.T) {
	cases, err := filepath.Glob("testdata/invalid/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 15 {
		t.Fatalf("only %d invalid cases", len(cases))
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fs := readBase(t)
			applySubs(t, fs, string(a.Comment))
			var want string
			var kept []txtar.File
			for _, f := range a.Files {
				if f.Name == "want" {
					want = string(f.Data)
					continue
				}
				fs[f.Name] = string(f.Data)
				kept = append(kept, f)
			}
			got := loadErrors(t, fs.write(t))
			if *update {
				a.Files = append(kept, txtar.File{Name: "want", Data: []byte(got)})
				if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func loadErrors(t *testing.T, dir string) string {
	t.Helper()
	_, err := Load(context.Background(), dir)
	var probs Errors
	if !errors.As(err, &probs) {
		t.Fatalf("Load: got %v, want problems", err)
	}
	return probs.Error() + "\n"
}

func TestLoadEvidenceSymlinkOutside(t *testing.T) {
	fs := readBase(t)
	dir := fs.write(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "models", "a", "evidence")); err != nil {
		t.Fatal(err)
	}
	got := loadErrors(t, dir)
	want := `models/a/model.cue:19:3: models.a.evaluation.predictions: "models/a/evidence/predictions.csv": path leaves the repository (through a symlink to ` + mustEval(t, outside) + `)
models/a/model.cue:23:20: models.a.tests.reports[0]: "models/a/evidence/junit.xml": path leaves the repository (through a symlink to ` + mustEval(t, outside) + `)
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLoadExample(t *testing.T) {
	p, err := Load(context.Background(), "../../examples/credit-risk")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for name, m := range p.Models {
		kinds[name] = m.Deployment.Resolved.Kind
	}
	want := map[string]string{"credit-default": "online", "churn": "batch", "fraud": "streaming"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("model kinds (-want +got):\n%s", diff)
	}
	if got := p.Models["credit-default"].Deployment.Resolved.Replicas; got.Min != 3 || got.Max != 12 {
		t.Errorf("credit-default replicas = %+v, want 3..12", got)
	}
	if got := p.Models["fraud"].Deployment.Resolved.Parallelism; got != 6 {
		t.Errorf("fraud parallelism = %d, want 6", got)
	}
}

// TestPlatformFields keeps rawPlatform, from which schemaFile and
// checkTopLevel take the platform's fields, in step with #Platform: a field
// the schema gained would otherwise be neither decoded nor closed.
func TestPlatformFields(t *testing.T) {
	def := newLoader(t.TempDir(), false).schemaDefs().LookupPath(cue.ParsePath("#Platform"))
	it, err := def.Fields(cue.Optional(true))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for it.Next() {
		want = append(want, it.Selector().Unquoted())
	}
	if diff := cmp.Diff(want, platformFields); diff != "" {
		t.Errorf("#Platform's fields (-schema +rawPlatform):\n%s", diff)
	}
	// The example and `slipway init` take the same fields one by one, so
	// that plain cue vet keeps them closed (TestExampleClosedForCueVet).
	for _, file := range []string{"../../examples/credit-risk/platform.cue", "../scaffold/skeleton/platform/platform.cue.tmpl"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range want {
			if !regexp.MustCompile(`(?m)^` + f + `:\s+schema\.#Platform\.` + f + `$`).Match(b) {
				t.Errorf("%s does not take %s from schema.#Platform", file, f)
			}
		}
	}
}

// TestExampleClosedForCueVet loads the example as plain `cue vet` does,
// with its vendored schema and no file of Slipway's, and checks that the
// way its platform.cue (and so `slipway init`'s) takes the schema rejects
// a misspelt field in a model file, as docs/spec.md says.
func TestExampleClosedForCueVet(t *testing.T) {
	root, err := filepath.Abs("../../examples/credit-risk")
	if err != nil {
		t.Fatal(err)
	}
	files, err := platformFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(root, "models", "churn", "model.cue")
	src, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"valid", "", "", ""},
		{"misspelt", "\towner:", "\townr: \"x@example.com\"\n\towner:", "models.churn.ownr: field not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ov := map[string]load.Source{model: load.FromString(strings.Replace(string(src), tc.old, tc.new, 1))}
			inst := load.Instances(files, &load.Config{Dir: root, Overlay: ov})[0]
			if inst.Err != nil {
				t.Fatal(inst.Err)
			}
			err := cuecontext.New().BuildInstance(inst).Validate(cue.Concrete(true))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("cue vet: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("cue vet: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestVendoredSchemaMatches keeps the example's vendored schema, the one
// editors and cue vet read, identical to the embedded one.
func TestVendoredSchemaMatches(t *testing.T) {
	embedded, err := os.ReadFile("../../schemas/platform.cue")
	if err != nil {
		t.Fatal(err)
	}
	vendored, err := os.ReadFile("../../examples/credit-risk/cue.mod/pkg/slipway.dev/schema/platform.cue")
	if err != nil {
		t.Fatal(err)
	}
	if string(embedded) != string(vendored) {
		t.Error("examples/credit-risk/cue.mod/pkg/slipway.dev/schema/platform.cue differs from schemas/platform.cue; copy it again")
	}
}

func TestInsideRepo(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	for _, d := range []string{"models/a/evidence", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "key"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"models/in":       filepath.Join(root, "models", "a"),
		"models/out":      outside,
		"data/up":         "..",
		"data/dangling":   filepath.Join(root, "nowhere"),
		"models/a/secret": filepath.Join(outside, "key"),
	} {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		rel  string
		want error
	}{
		{"models/a/p.csv", nil},
		{"models/a/evidence/missing/deeper/p.csv", nil},
		{"../x", ErrOutsideRepo},
		{"a/../../x", ErrOutsideRepo},
		{"/etc/passwd", ErrOutsideRepo},
		{"a/./b", nil},
		{"models/in/evidence/p.csv", nil},
		{"models/out/p.csv", ErrOutsideRepo},
		{"models/out", ErrOutsideRepo},
		{"data/up/models/a/p.csv", nil},
		{"models/a/secret", ErrOutsideRepo},
		{"data/dangling/p.csv", fs.ErrNotExist},
	}
	// One resolver remembers what it resolved: the answers must not
	// depend on what was asked before, in either order, nor on what is
	// being asked at the same time.
	forward, backward, shared := newResolver(root), newResolver(root), newResolver(root)
	for i := range cases {
		backward.inside(cases[len(cases)-1-i].rel)
	}
	concurrent := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Go(func() { concurrent[i] = shared.inside(tc.rel) })
	}
	wg.Wait()
	for i, tc := range cases {
		t.Run(tc.rel, func(t *testing.T) {
			for name, check := range map[string]func(string) error{
				"fresh":      func(rel string) error { return insideRepo(root, rel) },
				"forward":    forward.inside,
				"backward":   backward.inside,
				"concurrent": func(string) error { return concurrent[i] },
			} {
				err := check(tc.rel)
				if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
					t.Errorf("%s: inside(%q) = %v, want %v", name, tc.rel, err, tc.want)
				}
			}
		})
	}
}

// TestLoadHugeValueClipped: a 15 MB string in a spec (just under the spec
// file limit) is named in the error, not repeated: the whole error stays
// within a few KB.
func TestLoadHugeValueClipped(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a 15 MB spec")
	}
	fs := readBase(t)
	huge := strings.Repeat("A", 15<<20)
	fs["models/a/model.cue"] = strings.Replace(fs["models/a/model.cue"], `owner:   "ml@example.com"`, `owner:   "`+huge+`"`, 1)
	_, err := Load(context.Background(), fs.write(t))
	if err == nil {
		t.Fatal("huge invalid owner loaded")
	}
	msg := err.Error()
	if len(msg) > 4096 {
		t.Errorf("error is %d bytes", len(msg))
	}
	for _, want := range []string{"models/a/model.cue:5:11: models.a.owner: invalid value", "(15728640 bytes)", "want an email address"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%.600s", want, msg)
		}
	}
}

// TestLoadRefusesUnsafeFiles: a committed .cue file that is a FIFO, a
// symlink to a device or out of the repository, or oversized is reported
// with its name, promptly, instead of hanging or exhausting memory.
func TestLoadRefusesUnsafeFiles(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "x.cue"), []byte("package platform\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := "package platform\n// " + strings.Repeat("x", 17<<20) + "\n"
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"symlink to /dev/zero", func(t *testing.T, dir string) {
			must(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.cue")))
		}, "zero.cue: resolves outside the repository (a symlink leads to /dev/zero)"},
		{"fifo", func(t *testing.T, dir string) {
			must(t, syscall.Mkfifo(filepath.Join(dir, "models", "fifo.cue"), 0o644))
		}, "models/fifo.cue: not a regular file: it is a FIFO"},
		{"symlink out of the repository", func(t *testing.T, dir string) {
			must(t, os.Symlink(filepath.Join(outside, "x.cue"), filepath.Join(dir, "x.cue")))
		}, "x.cue: resolves outside the repository"},
		{"oversized", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "big.cue"), []byte(big), 0o644))
		}, "big.cue: larger than the spec limit of 16MiB"},
		{"module file is a FIFO", func(t *testing.T, dir string) {
			must(t, os.MkdirAll(filepath.Join(dir, "cue.mod"), 0o755))
			os.Remove(filepath.Join(dir, "cue.mod", "module.cue"))
			must(t, syscall.Mkfifo(filepath.Join(dir, "cue.mod", "module.cue"), 0o644))
		}, "cue.mod/module.cue: not a regular file: it is a FIFO"},
		{"vendored file is a symlink to /dev/zero", func(t *testing.T, dir string) {
			must(t, os.MkdirAll(filepath.Join(dir, "cue.mod", "pkg", "x.dev", "lib"), 0o755))
			must(t, os.Symlink("/dev/zero", filepath.Join(dir, "cue.mod", "pkg", "x.dev", "lib", "lib.cue")))
		}, "cue.mod/pkg/x.dev/lib/lib.cue: resolves outside the repository"},
		{"vendored directory is a symlink", func(t *testing.T, dir string) {
			must(t, os.MkdirAll(filepath.Join(dir, "cue.mod", "pkg"), 0o755))
			must(t, os.Symlink(outside, filepath.Join(dir, "cue.mod", "pkg", "x.dev")))
		}, "cue.mod/pkg/x.dev: symlinked directory under cue.mod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := readBase(t).write(t)
			must(t, os.MkdirAll(filepath.Join(dir, "models"), 0o755))
			tt.setup(t, dir)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err := Load(ctx, dir)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestLoadFollowsSymlinkInside: a .cue symlink to another file of the
// repository is loaded.
func TestLoadFollowsSymlinkInside(t *testing.T) {
	fs := readBase(t)
	fs["shared/extra.txt"] = "package platform\n\nplatform: name: _\n"
	dir := fs.write(t)
	must(t, os.Symlink("shared/extra.txt", filepath.Join(dir, "extra.cue")))
	if _, err := Load(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoadRejectsInvalidUTF8: invalid UTF-8 in a string or an identifier
// is an error at its line and column, not a silent U+FFFD or an empty
// message.
func TestLoadRejectsInvalidUTF8(t *testing.T) {
	for name, src := range map[string]string{
		"string":     "package platform\n\nwaivers: [{reason: \"ok\\u00e9 caf\xe9\"}]\n",
		"identifier": "package platform\n\n#x\xff: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			fs := readBase(t)
			fs["bad.cue"] = src
			_, err := Load(context.Background(), fs.write(t))
			want := "bad.cue:3:"
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "invalid UTF-8 (byte 0x") {
				t.Fatalf("err = %v, want %s... invalid UTF-8", err, want)
			}
		})
	}
}

// TestLoadRejectsReferenceCycles: a field whose reference leads back to
// itself would silently take the schema's default.
func TestLoadRejectsReferenceCycles(t *testing.T) {
	fs := readBase(t)
	fs["cycle.cue"] = "package platform\n\nplatform: policy: minGroupSize: platform.policy.minGroupSize\nplatform: policy: driftThreshold: _x\n_x: platform.policy.driftThreshold\n"
	_, err := Load(context.Background(), fs.write(t))
	for _, want := range []string{
		"cycle.cue:3:19: platform.policy.minGroupSize: reference cycle: the field refers to itself;",
		"cycle.cue:4:19: platform.policy.driftThreshold: reference cycle: the field refers to itself through _x;",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

// TestPlatformReleasesCUE keeps the loaded platform from holding the
// loader's CUE context, through which the whole evaluated value stays
// reachable: on a large repository that is most of the heap, and every
// command keeps its platform to the end.
func TestPlatformReleasesCUE(t *testing.T) {
	root, err := filepath.Abs("../../examples/credit-risk")
	if err != nil {
		t.Fatal(err)
	}
	l := newLoader(root, false)
	p, err := l.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Pos("models") // builds the position index
	released := make(chan struct{})
	runtime.AddCleanup(l.cctx, func(ch chan struct{}) { close(ch) }, released)
	l = nil
	for range 100 {
		runtime.GC()
		select {
		case <-released:
			runtime.KeepAlive(p)
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	runtime.KeepAlive(p)
	t.Fatal("the loaded platform keeps the loader's CUE context alive")
}

func TestPlaceholderDigest(t *testing.T) {
	for d, want := range map[string]bool{
		"sha256:" + strings.Repeat("0", 64):                                       true,
		"sha256:" + strings.Repeat("0123456789abcdef", 4):                         true,
		"md5:" + strings.Repeat("ab", 16) + ".dir":                                true,
		"sha256:2dbbac98523e9930516ea41f352287b9e9f2ffe92fe79f3ee1bcce84650fdd2c": false,
		"md5:9e107d9d372bb6826bd81d3542a419d6":                                    false,
		"sha256:abc":                                                              false,
		"":                                                                        false,
	} {
		if got := PlaceholderDigest(d); got != want {
			t.Errorf("PlaceholderDigest(%q) = %v, want %v", d, got, want)
		}
	}
}

// TestMinGoldCoverageZeroKept: a platform that requires no gold coverage
// must reach the policy input as 0, not vanish and read as the default 1.
func TestMinGoldCoverageZeroKept(t *testing.T) {
	for _, tc := range []struct {
		set  string
		want string
	}{
		{"", `"minGoldCoverage":1`},
		{"platform: policy: minGoldCoverage: 0\n", `"minGoldCoverage":0`},
		{"platform: policy: minGoldCoverage: 0.9\n", `"minGoldCoverage":0.9`},
	} {
		fs := readBase(t)
		fs["platform.cue"] += tc.set
		p, err := Load(context.Background(), fs.write(t))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(p.Policy)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("%q: policy = %s, want it to hold %s", tc.set, b, tc.want)
		}
	}
}
