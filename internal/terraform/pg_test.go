package terraform_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/pgtest"
	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/terraform/tftest"
)

const pgRoot = `
terraform {
  backend "pg" { schema_name = "lock_test" }
}
resource "terraform_data" "slow" {
  input = "VALUE"
  provisioner "local-exec" { command = "sleep SLEEP" }
}
`

// TestPGLocking runs two applies of one stack at once against a real
// PostgreSQL state backend, from two working directories as two CI runners
// would: without a lock timeout one fails with a lock error, with one it
// waits and then finds its plan stale. Either way the state stays whole.
func TestPGLocking(t *testing.T) { tftest.Each(t, testPGLocking) }

func testPGLocking(t *testing.T, bin *terraform.Binary) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	work := t.TempDir()
	env := map[string]string{"PG_CONN_STR": pg.ConnString("postgres")}
	stacks := make([]terraform.Stack, 2)
	runners := make([]*terraform.Runner, 2)
	for i := range stacks {
		r, err := terraform.NewRunner(bin, work)
		if err != nil {
			t.Fatal(err)
		}
		runners[i] = r
		stacks[i] = terraform.Stack{ID: "staging/model", Dir: filepath.Join(work, "runner"+string(rune('a'+i))), Env: env, Workspace: "staging.model"}
	}
	round := func(value string, timeout time.Duration) []error {
		t.Helper()
		plans := make([]string, 2)
		for i, s := range stacks {
			writeRoot(t, s.Dir, strings.NewReplacer("VALUE", value, "SLEEP", "2").Replace(pgRoot))
			runners[i].LockTimeout = timeout
			if err := runners[i].Init(ctx, s); err != nil {
				t.Fatal(err)
			}
			plans[i] = filepath.Join(s.Dir, "p.tfplan")
			if _, err := runners[i].Plan(ctx, s, plans[i], terraform.Normal); err != nil {
				t.Fatal(err)
			}
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range stacks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = runners[i].Apply(ctx, stacks[i], plans[i])
			}()
		}
		wg.Wait()
		return errs
	}
	check := func(errs []error, want error) {
		t.Helper()
		var failed []error
		for _, err := range errs {
			if err != nil {
				failed = append(failed, err)
			}
		}
		if len(failed) != 1 || !errors.Is(failed[0], want) {
			t.Fatalf("apply errors = %v, want exactly one %v", errs, want)
		}
		if !strings.Contains(failed[0].Error(), "stack staging/model") {
			t.Errorf("error does not name the stack: %v", failed[0])
		}
	}
	consistent := func(value string) {
		t.Helper()
		st, err := runners[0].State(ctx, stacks[0])
		if err != nil {
			t.Fatal(err)
		}
		if st.Values == nil || len(st.Values.RootModule.Resources) != 1 {
			t.Fatalf("state = %+v, want one resource", st.Values)
		}
		if got := st.Values.RootModule.Resources[0].AttributeValues["input"]; got != value {
			t.Errorf("state input = %v, want %s", got, value)
		}
		if n := pg.Query(t, "postgres", "select count(*) from lock_test.states where name = 'staging.model'"); n != "1" {
			t.Errorf("state rows = %s, want 1", n)
		}
	}

	// No lock timeout: the loser fails at once with a lock error.
	check(round("one", 0), terraform.ErrLocked)
	consistent("one")

	// With a lock timeout the loser waits, then finds the state moved on.
	check(round("two", 30*time.Second), terraform.ErrStalePlan)
	consistent("two")
}

// TestPGInterruptReleasesLock interrupts an apply holding the PostgreSQL
// state lock and checks that the next run gets the lock at once.
func TestPGInterruptReleasesLock(t *testing.T) { tftest.Each(t, testPGInterruptReleasesLock) }

func testPGInterruptReleasesLock(t *testing.T, bin *terraform.Binary) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	work := t.TempDir()
	r, err := terraform.NewRunner(bin, work)
	if err != nil {
		t.Fatal(err)
	}
	r.LockTimeout = 0
	s := terraform.Stack{ID: "staging/slow", Dir: filepath.Join(work, "slow"), Workspace: "staging.slow",
		Env: map[string]string{"PG_CONN_STR": pg.ConnString("postgres")}}
	writeRoot(t, s.Dir, strings.NewReplacer("VALUE", "v", "SLEEP", "30").Replace(pgRoot))
	if err := r.Init(ctx, s); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(work, "slow.tfplan")
	if _, err := r.Plan(ctx, s, plan, terraform.Normal); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Apply(cctx, s, plan) }()
	// The pg backend locks with an advisory lock; wait until it is held.
	deadline := time.Now().Add(20 * time.Second)
	for pg.Query(t, "postgres", "select count(*) from pg_locks where locktype = 'advisory'") == "0" {
		if time.Now().After(deadline) {
			t.Fatal("apply never took the lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("apply err = %v, want cancellation", err)
	}
	if n := pg.Query(t, "postgres", "select count(*) from pg_locks where locktype = 'advisory'"); n != "0" {
		t.Errorf("%s advisory locks still held after the interrupt", n)
	}
	if _, err := r.Plan(ctx, s, filepath.Join(work, "again.tfplan"), terraform.Normal); err != nil {
		t.Fatalf("plan after the interrupt: %v", err)
	}
}
