package changes_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/changes"
	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/spec"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newRepo makes a git repository whose "platform" directory holds the small
// test platform, committed on branch main.
func newRepo(t *testing.T) (top, root string) {
	top = t.TempDir()
	root = filepath.Join(top, "platform")
	copyDir(t, "../desired/testdata/small", root)
	for _, f := range []string{"modules/README.md", "modules/local/online/main.tf", "modules/kubernetes/online/main.tf"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(top, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(top, f), []byte("modules\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, top, "init", "-q", "-b", "main")
	git(t, top, "add", ".")
	git(t, top, "commit", "-q", "-m", "base")
	return top, root
}

func edit(t *testing.T, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// detect loads the platform at root and compares it with main.
func detect(t *testing.T, root string) (*spec.Platform, *changes.Set) {
	t.Helper()
	p, err := spec.Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	set, err := changes.Detect(context.Background(), p, "main")
	if err != nil {
		t.Fatal(err)
	}
	return p, set
}

func TestDetect(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: git repositories of the example, loaded at both commits; skipped under -short")
	}
	tests := []struct {
		name   string
		change func(t *testing.T, top, root string)
		want   map[string][]string
	}{
		{
			name:   "nothing",
			change: func(*testing.T, string, string) {},
			want:   map[string][]string{},
		},
		{
			name: "model spec",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "models/scorer/model.cue"), `version: "1.0.0"`, `version: "1.1.0"`)
			},
			want: map[string][]string{
				"staging/_shared":    {"model spec changed: models/scorer/model.cue"},
				"staging/scorer":     {"model spec changed: models/scorer/model.cue"},
				"production/_shared": {"model spec changed: models/scorer/model.cue"},
				"production/scorer":  {"model spec changed: models/scorer/model.cue"},
			},
		},
		{
			name: "one template among several in a file",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "templates.cue"), `schedule: "0 2 * * *"`, `schedule: "0 3 * * *"`)
			},
			want: map[string][]string{
				"staging/nightly": {"template nightly-batch changed: templates.cue"},
			},
		},
		{
			name: "environment",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "environments.cue"), `replicas: 10`, `replicas: 8`)
			},
			want: map[string][]string{
				"production/_shared": {"environment production changed: environments.cue"},
				"production/scorer":  {"environment production changed: environments.cue"},
				"production/stream":  {"environment production changed: environments.cue"},
			},
		},
		{
			name: "new evidence file",
			change: func(t *testing.T, _, root string) {
				if err := os.WriteFile(filepath.Join(root, "models/stream/predictions.csv"), []byte("label,score\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string][]string{
				"staging/stream":    {"evidence changed: models/stream/predictions.csv"},
				"production/stream": {"evidence changed: models/stream/predictions.csv"},
			},
		},
		{
			name: "data source read by every model",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "datasources.cue"), "68c90e635f140e4787f5af6cc191d7449637463f518c7d10a014243187825e5b", "406e6c308f2835e44ad00316ba2525a875bd5bc4fe09825021db75dd23ca054c")
			},
			want: func() map[string][]string {
				r := []string{"data source gold changed: datasources.cue"}
				return map[string][]string{
					"staging/_shared": r, "staging/nightly": r, "staging/scorer": r, "staging/stream": r,
					"production/_shared": r, "production/scorer": r, "production/stream": r,
				}
			}(),
		},
		{
			name: "data source nobody reads",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "datasources.cue"), `"kafka://broker/events"`, `"kafka://broker2/events"`)
			},
			want: map[string][]string{},
		},
		{
			name: "module documentation",
			change: func(t *testing.T, top, _ string) {
				edit(t, filepath.Join(top, "modules/README.md"), "modules", "Modules")
			},
			want: map[string][]string{},
		},
		{
			name: "module of another target",
			change: func(t *testing.T, top, _ string) {
				edit(t, filepath.Join(top, "modules/kubernetes/online/main.tf"), "modules", "Modules")
			},
			want: map[string][]string{},
		},
		{
			name: "module",
			change: func(t *testing.T, top, _ string) {
				edit(t, filepath.Join(top, "modules/local/online/main.tf"), "modules", "Modules")
			},
			want: map[string][]string{
				"staging/scorer":    {"module changed: modules/local/online/main.tf"},
				"production/scorer": {"module changed: modules/local/online/main.tf"},
			},
		},
		{
			name: "committed on a branch",
			change: func(t *testing.T, top, root string) {
				git(t, top, "checkout", "-q", "-b", "feature")
				edit(t, filepath.Join(root, "models/nightly/model.cue"), `retentionDays: 90`, `retentionDays: 30`)
				git(t, top, "commit", "-q", "-am", "shorter retention")
			},
			want: map[string][]string{
				"staging/_shared": {"model spec changed: models/nightly/model.cue"},
				"staging/nightly": {"model spec changed: models/nightly/model.cue"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, root := newRepo(t)
			tt.change(t, top, root)
			p, set := detect(t, root)
			got := map[string][]string{}
			for _, s := range desired.Stacks(p) {
				if r := set.Reasons(s); len(r) > 0 {
					got[s.ID()] = r
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("affected stacks (-want +got):\n%s\nfiles: %v", diff, set.Files)
			}
		})
	}
}

func TestBaseNotFound(t *testing.T) {
	_, root := newRepo(t)
	p, err := spec.Load(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"no-such-branch", "--output=/tmp/x"} {
		_, err = changes.Detect(context.Background(), p, base)
		if !errors.Is(err, changes.ErrBaseNotFound) {
			t.Errorf("base %q: err = %v, want ErrBaseNotFound", base, err)
		}
	}
}

func TestNotAGitRepo(t *testing.T) {
	p, err := spec.Load(context.Background(), "../desired/testdata/small")
	if err != nil {
		t.Fatal(err)
	}
	p.Root = t.TempDir()
	if _, err := changes.Detect(context.Background(), p, "main"); err == nil || !strings.Contains(err.Error(), "git repository") {
		t.Fatalf("err = %v", err)
	}
}

func TestArgv(t *testing.T) {
	got := changes.Git{Dir: "/repo"}.Argv("diff", "--name-only")
	if diff := cmp.Diff([]string{"git", "-C", "/repo", "diff", "--name-only"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestEverything(t *testing.T) {
	got := changes.Everything("no --base: every stack").Reasons(desired.Stack{Environment: "e", Name: "m", Model: "m"})
	if diff := cmp.Diff([]string{"no --base: every stack"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestPrefix(t *testing.T) {
	for _, tc := range []struct {
		dir, top string
		want     changes.Prefix
		rel      string
		ok       bool
	}{
		{".", "models/m/model.cue", "", "models/m/model.cue", true},
		{"", "models/m/model.cue", "", "models/m/model.cue", true},
		{"examples/credit-risk", "examples/credit-risk/models/m/model.cue", "examples/credit-risk", "models/m/model.cue", true},
		// The trailing slash PlatformPrefix once left off made the cut
		// leave "/models/...", which matched no model directory.
		{"examples/credit-risk/", "examples/credit-risk/models/m/model.cue", "examples/credit-risk", "models/m/model.cue", true},
		{"./examples/credit-risk", "examples/credit-risk-rejected/models/m/model.cue", "examples/credit-risk", "", false},
		{"examples/credit-risk", "modules/local/x/main.tf", "examples/credit-risk", "", false},
		{"../elsewhere", "models/m/model.cue", "", "models/m/model.cue", true},
	} {
		p := changes.NewPrefix(tc.dir)
		rel, ok := p.Rel(tc.top)
		if p != tc.want || rel != tc.rel || ok != tc.ok {
			t.Errorf("NewPrefix(%q) = %q; Rel(%q) = %q, %v; want %q; %q, %v", tc.dir, p, tc.top, rel, ok, tc.want, tc.rel, tc.ok)
		}
		if ok && p.Top(rel) != tc.top {
			t.Errorf("%q.Top(%q) = %q, want %q", p, rel, p.Top(rel), tc.top)
		}
	}
}

// TestTrust checks which changes count as changes to the trust root.
func TestTrust(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: git repositories of the example, loaded at both commits; skipped under -short")
	}
	tests := []struct {
		name   string
		change func(t *testing.T, top, root string)
		want   []string
	}{
		{
			name:   "nothing",
			change: func(*testing.T, string, string) {},
		},
		{
			name: "a model",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "models/scorer/model.cue"), `version: "1.0.0"`, `version: "1.1.0"`)
			},
		},
		{
			name: "a new key under keys/",
			change: func(t *testing.T, _, root string) {
				if err := os.MkdirAll(filepath.Join(root, "keys"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, "keys/attacker.pub"), []byte("key\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"keys/attacker.pub"},
		},
		{
			name: "signing",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "platform.cue"), `signing: trustedKeys: []`, `signing: trustedKeys: [{id: "x", path: "keys/x.pub"}]`)
			},
			want: []string{"platform.cue"},
		},
		{
			name: "another platform setting",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "platform.cue"), `minGroupSize: 30`, `minGroupSize: 40`)
			},
		},
		{
			name: "security owners",
			change: func(t *testing.T, _, root string) {
				edit(t, filepath.Join(root, "platform.cue"), `"alice"`, `"mallory"`)
			},
			want: []string{"platform.cue"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, root := newRepo(t)
			edit(t, filepath.Join(root, "platform.cue"), "policy: {}", "policy: {\n\t\tminGroupSize: 30\n\t\tsecurityOwners: [\"alice\"]\n\t}")
			git(t, top, "commit", "-q", "-am", "owners")
			tt.change(t, top, root)
			_, set := detect(t, root)
			if diff := cmp.Diff(tt.want, set.Trust); diff != "" {
				t.Errorf("trust root changes (-want +got):\n%s\nfiles: %v", diff, set.Files)
			}
		})
	}
}
