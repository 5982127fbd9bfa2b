package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/pgtest"
	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
)

// withPGState loads the platform with staging's state in PostgreSQL,
// reached through $SLIPWAY_TEST_PG.
func withPGState(t *testing.T, root string, st spec.State) *spec.Platform {
	t.Helper()
	p := load(t, root)
	e := p.Environments["staging"]
	st.Backend, st.ConnEnv = "pg", "SLIPWAY_TEST_PG"
	if st.SchemaName == "" {
		st.SchemaName = "slipway_staging"
	}
	e.State = st
	p.Environments["staging"] = e
	return p
}

func pgOpts(t *testing.T, conn string) reconcile.Options {
	o := opts(t)
	o.Envs = []string{"staging"}
	o.Getenv = func(k string) string {
		if k == "SLIPWAY_TEST_PG" {
			return conn
		}
		return ""
	}
	return o
}

// TestErroredStateRecover stops a real PostgreSQL while Terraform writes
// the state after an apply: Terraform saves errored.tfstate, Slipway says
// so and refuses to plan or apply the stack again (which would create
// everything a second time), and `state recover` pushes the saved state
// once the server is back, after which nothing is left to create.
func TestErroredStateRecover(t *testing.T) {
	needTerraform(t)
	pg := pgtest.Start(t)
	ctx := context.Background()
	root := newPlatform(t)
	o := pgOpts(t, pg.ConnString("postgres"))
	o.Stacks = []string{"staging/scorer"}
	p := func() *spec.Platform { return withPGState(t, root, spec.State{}) }
	if _, err := reconcile.Plan(ctx, p(), o); err != nil {
		t.Fatal(err)
	}
	// Every write of a state waits in the server, which is then killed:
	// the resources exist, the backend never gets their state.
	pg.Query(t, "postgres", `create function slipway_stall() returns trigger language plpgsql as $$ begin perform pg_sleep(600); return new; end $$;
		create trigger stall before insert or update on slipway_staging.states for each row execute function slipway_stall()`)
	done := make(chan error, 1)
	go func() {
		_, err := reconcile.Apply(ctx, p(), o, nil)
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for pg.Query(t, "postgres", "select count(*) from pg_stat_activity where wait_event = 'PgSleep'") == "0" {
		if time.Now().After(deadline) {
			t.Fatal("Terraform never wrote the state")
		}
		time.Sleep(100 * time.Millisecond)
	}
	pg.Kill(t)
	err := <-done
	if !errors.Is(err, terraform.ErrStateNotSaved) {
		t.Fatalf("apply: %v, want ErrStateNotSaved", err)
	}
	hint := "slipway state recover --env staging --stack scorer"
	if !strings.Contains(err.Error(), hint) {
		t.Errorf("apply error lacks %q:\n%v", hint, err)
	}
	pg.Restart(t)
	// Until recovered, the stack is neither planned nor applied again.
	if _, err := reconcile.Plan(ctx, p(), o); !errors.Is(err, terraform.ErrStateNotSaved) || !strings.Contains(err.Error(), hint) {
		t.Errorf("plan before recovery: %v", err)
	}
	if _, err := reconcile.Apply(ctx, p(), o, nil); !errors.Is(err, terraform.ErrStateNotSaved) {
		t.Errorf("apply before recovery: %v", err)
	}
	pg.Query(t, "postgres", "drop trigger stall on slipway_staging.states")
	rec, err := reconcile.Recover(ctx, p(), o, "scorer")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Action != reconcile.RecoverPushed || rec.State.Resources == 0 {
		t.Errorf("recover: %+v", rec)
	}
	if rec.Plan == nil || len(rec.Plan.Stacks) != 1 || rec.Plan.Stacks[0].Changes.Total() != 0 {
		t.Fatalf("plan after recovery: %+v, want one stack without changes", rec.Plan)
	}
	if _, err := os.Stat(filepath.Join(root, ".slipway", "stacks", "staging", "scorer", terraform.ErroredState)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errored.tfstate still in place: %v", err)
	}
}

// TestEmptyStateRecover: a state file left empty by a killed Terraform is
// an error for plan and drift, not "nothing deployed"; recover restores
// the backup only when it is the state the last apply left.
func TestEmptyStateRecover(t *testing.T) {
	needTerraform(t)
	ctx := context.Background()
	root := newPlatform(t)
	o := opts(t)
	o.Envs = []string{"staging"}
	deploy := func() {
		t.Helper()
		if _, err := reconcile.Plan(ctx, load(t, root), o); err != nil {
			t.Fatal(err)
		}
		if _, err := reconcile.Apply(ctx, load(t, root), o, nil); err != nil {
			t.Fatal(err)
		}
	}
	deploy()
	edit(t, filepath.Join(root, "models", "scorer", "model.cue"), `version: "1.0.0"`, `version: "1.0.1"`)
	deploy()
	state := filepath.Join(root, ".slipway", "state", "staging", "scorer.tfstate")
	good, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	// A killed Terraform truncated the state it was replacing.
	if err := os.WriteFile(state, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.Plan(ctx, load(t, root), o); !errors.Is(err, terraform.ErrStateUnreadable) {
		t.Errorf("plan: %v, want ErrStateUnreadable", err)
	}
	if res, err := reconcile.Drift(ctx, load(t, root), o); !errors.Is(err, terraform.ErrStateUnreadable) {
		t.Errorf("drift: %+v, %v; want ErrStateUnreadable", res, err)
	}
	// The backup is the state before the last apply: restoring it would
	// lose what that apply did.
	if _, err := reconcile.Recover(ctx, load(t, root), o, "scorer"); err == nil || !strings.Contains(err.Error(), "older than the state the last apply recorded") {
		t.Errorf("recover from an old backup: %v", err)
	}
	if err := os.WriteFile(state+".backup", good, 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := reconcile.Recover(ctx, load(t, root), o, "scorer")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Action != reconcile.RecoverRestored || rec.Plan == nil || rec.Plan.Stacks[0].Changes.Total() != 0 {
		t.Errorf("recover: %+v (plan %+v)", rec, rec.Plan)
	}
}

// TestAppliedRecordLost: when writing .applied.json failed after a
// successful apply (a full disk), the next apply finds the plan applied in
// the state instead of calling it stale.
func TestAppliedRecordLost(t *testing.T) {
	needTerraform(t)
	ctx := context.Background()
	root := newPlatform(t)
	o := opts(t)
	o.Envs = []string{"staging"}
	o.Stacks = []string{"staging/scorer"}
	if _, err := reconcile.Plan(ctx, load(t, root), o); err != nil {
		t.Fatal(err)
	}
	if _, err := reconcile.Apply(ctx, load(t, root), o, nil); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(root, ".slipway", "plans", "staging", "scorer.applied.json")
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	res, err := reconcile.Apply(ctx, load(t, root), o, nil)
	if err != nil {
		t.Fatalf("apply again: %v", err)
	}
	if got := res.Stacks[0].Status; got != reconcile.StatusAlreadyApplied {
		t.Errorf("status %s, want %s", got, reconcile.StatusAlreadyApplied)
	}
	if _, err := os.Stat(record); err != nil {
		t.Errorf("record not rewritten: %v", err)
	}
}

// TestReadOnlyWorkDir: a work dir that cannot be written is reported as
// such, not as a lock held by another run.
func TestReadOnlyWorkDir(t *testing.T) {
	needTerraform(t)
	ctx := context.Background()
	root := newPlatform(t)
	o := opts(t)
	o.Envs = []string{"staging"}
	o.LockTimeout = time.Second
	if _, err := reconcile.Plan(ctx, load(t, root), o); err != nil {
		t.Fatal(err)
	}
	fresh := newPlatform(t)
	if err := os.Mkdir(filepath.Join(fresh, ".slipway"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ root, dir string }{
		{root, filepath.Join(root, ".slipway", "state", "staging")}, // where Terraform locks
		{fresh, filepath.Join(fresh, ".slipway")},                   // where Slipway locks
	} {
		readOnly(t, c.dir)
		_, err := reconcile.Plan(ctx, load(t, c.root), o)
		if !errors.Is(err, fs.ErrPermission) || errors.Is(err, terraform.ErrLocked) || strings.Contains(err.Error(), "locked by another run") {
			t.Errorf("%s read-only: %v; want a permission error", c.dir, err)
		}
	}
}

// readOnly makes dir unwritable, also for root (immutable), until the
// test ends.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only as root: %v %s", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

// TestPGHungServer: a pg backend whose server accepts connections and
// never answers fails the plan within the connect timeout, and an
// interrupt ends the plan within about a second.
func TestPGHungServer(t *testing.T) {
	needTerraform(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // and never answer
		}
	}()
	conn := fmt.Sprintf("postgres://slipway@%s/postgres?sslmode=disable", l.Addr())
	root := newPlatform(t)
	o := pgOpts(t, conn)
	start := time.Now()
	_, err = reconcile.Plan(context.Background(), withPGState(t, root, spec.State{ConnectTimeout: "2s"}), o)
	if err == nil {
		t.Fatal("plan against a hung server succeeded")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("plan took %s with a 2s connect timeout: %v", d, err)
	}
	t.Logf("failed after %s: %v", time.Since(start), err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	start = time.Now()
	_, err = reconcile.Plan(ctx, withPGState(t, root, spec.State{}), o)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted plan: %v, want context.Canceled", err)
	}
	if d := time.Since(start) - time.Second; d > 1500*time.Millisecond {
		t.Errorf("plan ended %s after the interrupt", d)
	}
}
