package render_test

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/modules"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadSmall(t *testing.T) *spec.Platform {
	t.Helper()
	p, err := spec.Load(context.Background(), "../desired/testdata/small")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGolden renders the small platform as it is (local target and
// backend), with staging moved to kubernetes on the pg backend, and with a
// blue-green model.
func TestGolden(t *testing.T) {
	variants := map[string]func(p *spec.Platform){
		"local": func(*spec.Platform) {},
		"kubernetes-pg": func(p *spec.Platform) {
			e := p.Environments["staging"]
			e.Target = "kubernetes"
			e.K8s = &spec.Kubernetes{Namespace: "ml-staging", Context: "staging-cluster"}
			e.State = spec.State{Backend: "pg", ConnEnv: "SLIPWAY_PG", SchemaName: "slipway_staging"}
			p.Environments["staging"] = e
		},
		// A blue-green model reads its stack's own state back: from the
		// local state file in production, from pg in staging.
		"blue-green": func(p *spec.Platform) {
			m := p.Models["scorer"]
			m.Handover.Rollback.Strategy = desired.BlueGreen
			p.Models["scorer"] = m
			e := p.Environments["staging"]
			e.State = spec.State{Backend: "pg", ConnEnv: "SLIPWAY_PG", SchemaName: "slipway_staging"}
			p.Environments["staging"] = e
		},
	}
	for name, mutate := range variants {
		t.Run(name, func(t *testing.T) {
			p := loadSmall(t)
			mutate(p)
			for _, s := range desired.Stacks(p) {
				got, err := render.Root(s)
				if err != nil {
					t.Fatal(err)
				}
				// The modules' content digest changes with every module
				// edit; the golden files name it symbolically.
				got = []byte(strings.ReplaceAll(string(got), render.ModulesID(), "MODULES"))
				golden := filepath.Join("testdata", "golden", name, s.Environment, s.Name, "main.tf.json")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", s.ID(), diff)
				}
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	p := loadSmall(t)
	stacks := desired.Stacks(p)
	l1 := render.Layout{Root: filepath.Join(t.TempDir(), ".slipway")}
	l2 := render.Layout{Root: filepath.Join(t.TempDir(), "elsewhere", ".slipway")}
	r1, err := render.Write(l1, stacks)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := render.Write(l2, desired.Stacks(loadSmall(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r1) != len(stacks) || len(r1) != len(r2) {
		t.Fatalf("rendered %d and %d stacks, want %d", len(r1), len(r2), len(stacks))
	}
	for i := range r1 {
		a, _ := os.ReadFile(r1[i].File)
		b, _ := os.ReadFile(r2[i].File)
		if string(a) != string(b) || r1[i].SHA256 != r2[i].SHA256 {
			t.Errorf("%s: renders differ between work dirs", r1[i].ID())
		}
	}
	// A second render of unchanged specs leaves the files alone.
	fi, _ := os.Stat(r1[0].File)
	if _, err := render.Write(l1, stacks); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(r1[0].File)
	if !fi.ModTime().Equal(fi2.ModTime()) {
		t.Errorf("unchanged stack was rewritten")
	}
	got, err := render.Existing(l1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(stacks) {
		t.Errorf("Existing = %v, want %d stacks", got, len(stacks))
	}
}

func TestInitKeyIgnoresInputs(t *testing.T) {
	p := loadSmall(t)
	l := render.Layout{Root: filepath.Join(t.TempDir(), ".slipway")}
	before, err := render.Write(l, desired.EnvironmentStacks(p, "staging"))
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models["scorer"]
	m.Version = "1.1.0"
	p.Models["scorer"] = m
	after, err := render.Write(l, desired.EnvironmentStacks(p, "staging"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		changed := before[i].SHA256 != after[i].SHA256
		if changed != (before[i].Name == "scorer") {
			t.Errorf("%s: content changed = %v", before[i].ID(), changed)
		}
		if before[i].InitKey != after[i].InitKey {
			t.Errorf("%s: init key changed with an input", before[i].ID())
		}
	}
}

func TestWriteUnwritableWorkDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := render.Write(render.Layout{Root: filepath.Join(file, ".slipway")}, desired.Stacks(loadSmall(t)))
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("err = %v, want a not-a-directory error", err)
	}
}

func TestExtractModules(t *testing.T) {
	l := render.Layout{Root: t.TempDir()}
	dir, err := render.ExtractModules(l)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != render.ModulesID() {
		t.Errorf("dir = %s, want named by content digest", dir)
	}
	err = fs.WalkDir(modules.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, _ := fs.ReadFile(modules.FS, p)
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: extracted copy differs (%v)", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := render.ExtractModules(l); err != nil || again != dir {
		t.Errorf("second extract = %s, %v", again, err)
	}
}

func TestUnknownBackend(t *testing.T) {
	_, err := render.Root(desired.Stack{Environment: "e", Name: "m", Backend: spec.State{Backend: "s3"}})
	if err == nil || !strings.Contains(err.Error(), `stack e/m: unknown state backend "s3"`) {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkRoot renders every stack of the small platform (seven stacks)
// per iteration: Slipway's rendering cost without Terraform.
func BenchmarkRoot(b *testing.B) {
	p, err := spec.Load(context.Background(), "../desired/testdata/small")
	if err != nil {
		b.Fatal(err)
	}
	stacks := desired.Stacks(p)
	b.ReportAllocs()
	for range b.N {
		for _, s := range stacks {
			if _, err := render.Root(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}
