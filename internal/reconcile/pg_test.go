package reconcile_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/internal/desired"
	"github.com/slipway-ml/slipway/internal/pgtest"
	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/terraform/tftest"
)

// TestPGBackend plans and applies an environment whose state lives in a
// real PostgreSQL: every stack gets its own workspace in the
// environment's schema, and the connection string only travels through
// the environment variable the spec names.
func TestPGBackend(t *testing.T) { tftest.Each(t, testPGBackend) }

func testPGBackend(t *testing.T, bin *terraform.Binary) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	root := newPlatform(t)
	withPG := func() *spec.Platform {
		p := load(t, root)
		e := p.Environments["staging"]
		e.State = spec.State{Backend: "pg", ConnEnv: "SLIPWAY_TEST_PG", SchemaName: "slipway_staging"}
		p.Environments["staging"] = e
		// A blue-green stack's root module reads its own state back from
		// pg, with the connection string from the environment alone.
		m := p.Models["scorer"]
		m.Handover.Rollback.Strategy = desired.BlueGreen
		p.Models["scorer"] = m
		return p
	}
	o := opts(t)
	o.Terraform = bin.Path
	o.Envs = []string{"staging"}
	o.Getenv = func(k string) string {
		if k == "SLIPWAY_TEST_PG" {
			return pg.ConnString("postgres")
		}
		return ""
	}
	res, err := reconcile.Plan(ctx, withPG(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stacks) != 4 {
		t.Fatalf("planned %d stacks, want 4", len(res.Stacks))
	}
	if _, err := reconcile.Apply(ctx, withPG(), o, nil); err != nil {
		t.Fatal(err)
	}
	got := pg.Query(t, "postgres", "select string_agg(name, ',' order by name) from slipway_staging.states")
	if want := "staging._shared,staging.nightly,staging.scorer,staging.stream"; got != want {
		t.Errorf("workspaces = %s, want %s", got, want)
	}
	// The apply wrote the blue slot and pointed at it; the state's
	// blue_green output is what the next plan reads, and finds unchanged.
	st := pg.Query(t, "postgres", "select data from slipway_staging.states where name = 'staging.scorer'")
	if !strings.Contains(strings.Join(strings.Fields(st), ""), `"live":"blue"`) {
		t.Errorf("staging.scorer state has no live blue slot:\n%s", st)
	}
	res, err = reconcile.Plan(ctx, withPG(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Stacks {
		if s.Changes.Total() != 0 {
			t.Errorf("%s: plan after apply: %+v", s.Stack, s.Changes)
		}
	}
	// The connection string is never written to the work dir.
	err = filepath.WalkDir(filepath.Join(root, ".slipway"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), pg.ConnString("postgres")) {
			t.Errorf("%s holds the connection string", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dr, err := reconcile.Drift(ctx, withPG(), o)
	if err != nil {
		t.Fatal(err)
	}
	if dr.Drifted != 0 || len(dr.Stacks) != 4 {
		t.Errorf("drift: %d drifted of %d", dr.Drifted, len(dr.Stacks))
	}

	// On a fresh checkout (no work dir) a removed model is still found,
	// from the backend's workspaces, and planned as a delete.
	if err := os.RemoveAll(filepath.Join(root, ".slipway")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "models", "nightly")); err != nil {
		t.Fatal(err)
	}
	res, err = reconcile.Plan(ctx, withPG(), o)
	if err != nil {
		t.Fatal(err)
	}
	nightly := byStack(res.Stacks)["staging/nightly"]
	if !nightly.Orphan || nightly.Changes.Delete == 0 {
		t.Fatalf("removed model on pg: %+v", nightly)
	}
	if _, err := reconcile.Apply(ctx, withPG(), o, nil); err != nil {
		t.Fatal(err)
	}
	got = pg.Query(t, "postgres", "select string_agg(name, ',' order by name) from slipway_staging.states")
	if want := "staging._shared,staging.scorer,staging.stream"; got != want {
		t.Errorf("workspaces after the delete = %s, want %s", got, want)
	}
}
