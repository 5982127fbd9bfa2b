package scaffold

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/spec"
)

const source = `
dataSources: events: {
	owner: "d@example.com", kind: "table", location: "s3://b/e", format: "csv"
	schema: [{name: "id", type: "string"}]
	classification: "internal", pii: [], version: "sha256:2dbbac98523e9930516ea41f352287b9e9f2ffe92fe79f3ee1bcce84650fdd2c"
}
`

func initRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "platform")
	if _, err := Init(dir, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInitValidates(t *testing.T) {
	dir := initRepo(t)
	p, err := spec.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"staging", "production"}, p.EnvironmentNames()); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}
	if got := len(p.Templates); got != 3 {
		t.Errorf("templates = %d, want 3", got)
	}
	vendored, err := os.ReadFile(filepath.Join(dir, "cue.mod/pkg/slipway.dev/schema/platform.cue"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(vendored), "#Model:") {
		t.Error("vendored schema lacks #Model")
	}
}

func TestInitRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, "x"); !errors.Is(err, ErrExists) {
		t.Fatalf("Init into a non-empty dir: %v, want ErrExists", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("Init left %d entries, want the 1 that was there", len(entries))
	}
}

func TestNewModel(t *testing.T) {
	for _, kind := range []string{"online", "batch", "streaming"} {
		t.Run(kind, func(t *testing.T) {
			dir := initRepo(t)
			appendFile(t, filepath.Join(dir, "data/sources.cue"), source)
			files, err := NewModel(context.Background(), dir, Model{Name: "scorer", Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"models/scorer/RUNBOOK.md", "models/scorer/declared.cue", "models/scorer/evidence/README.md", "models/scorer/model.cue"}
			if diff := cmp.Diff(want, files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			p, err := spec.Load(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			m := p.Models["scorer"]
			if m.Deployment.Resolved.Kind != kind {
				t.Errorf("kind = %q, want %q", m.Deployment.Resolved.Kind, kind)
			}
			if !strings.Contains(m.Owner, Placeholder) || !strings.Contains(m.IntendedUse.Summary, Placeholder) {
				t.Error("placeholders missing from the new model")
			}
			// The declared blocks are scaffolded too, each a placeholder
			// the gate denies until its owner fills it in.
			if m.Purpose == nil || m.Oversight == nil || m.Instructions == nil || m.RiskRegister == nil {
				t.Fatalf("declared blocks missing: purpose %v, oversight %v, instructions %v, riskRegister %v", m.Purpose != nil, m.Oversight != nil, m.Instructions != nil, m.RiskRegister != nil)
			}
			if !strings.Contains(m.Purpose.Intended, Placeholder) || !strings.Contains(m.RiskRegister.Owner, Placeholder) {
				t.Error("placeholders missing from the declared blocks")
			}
		})
	}
}

func TestNewModelErrors(t *testing.T) {
	dir := initRepo(t)
	ctx := context.Background()
	if _, err := NewModel(ctx, dir, Model{Name: "scorer", Kind: "online"}); err == nil || !strings.Contains(err.Error(), "no data source") {
		t.Errorf("no data sources: %v", err)
	}
	appendFile(t, filepath.Join(dir, "data/sources.cue"), source)
	for _, tc := range []struct {
		m    Model
		want string
	}{
		{Model{Name: "Bad_Name", Kind: "online"}, `model name "Bad_Name"`},
		{Model{Name: "m", Kind: "online", Template: "nope"}, `template "nope": not declared`},
		{Model{Name: "m", Kind: "batch", Template: "online-standard"}, "is of kind online, not batch"},
		{Model{Name: "m", Kind: "online", Data: "nope"}, `data source "nope": not declared`},
	} {
		if _, err := NewModel(ctx, dir, tc.m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewModel(%+v) = %v, want %q", tc.m, err, tc.want)
		}
	}
	if _, err := NewModel(ctx, dir, Model{Name: "m", Kind: "online"}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewModel(ctx, dir, Model{Name: "m", Kind: "online"}); !errors.Is(err, ErrExists) {
		t.Errorf("second NewModel: %v, want ErrExists", err)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
