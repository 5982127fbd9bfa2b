package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/reconcile"
)

// TestConcurrentPlans runs two plans of one work dir at once, as two
// release jobs would: the second waits for the first, both succeed, and
// every saved plan still has the digest its summary records.
func TestConcurrentPlans(t *testing.T) {
	needTerraform(t)
	root := newPlatform(t)
	o := opts(t)
	o.Envs = []string{"staging"}
	o.WorkDirWait = 10 * time.Minute // a slow machine's first plan
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = reconcile.Plan(context.Background(), load(t, root), o)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	sums, err := reconcile.SavedPlans(load(t, root), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 4 {
		t.Fatalf("%d saved plans, want 4", len(sums))
	}
	for _, s := range sums {
		d, err := digest.File(filepath.Join(root, filepath.FromSlash(s.PlanFile)))
		if err != nil || d != s.PlanSHA256 {
			t.Errorf("%s: plan file %s (%v), summary says %s", s.Stack, d, err, s.PlanSHA256)
		}
	}
	left, _ := filepath.Glob(filepath.Join(root, ".slipway", "plans", "*", ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestWorkDirBusy: a run that finds the work dir held says by whom, after
// a bounded wait, and a cancelled wait ends at once.
func TestWorkDirBusy(t *testing.T) {
	root := newPlatform(t)
	wd := filepath.Join(root, ".slipway")
	_, unlock, err := reconcile.LockWorkDir(context.Background(), wd, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	o := opts(t)
	o.WorkDirWait = 300 * time.Millisecond
	start := time.Now()
	_, err = reconcile.Plan(context.Background(), load(t, root), o)
	if !errors.Is(err, reconcile.ErrWorkDirBusy) {
		t.Fatalf("plan: %v, want ErrWorkDirBusy", err)
	}
	want := fmt.Sprintf("another slipway run holds %s (pid %d)", wd, os.Getpid())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.WorkDirWait = time.Minute
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if _, err := reconcile.Apply(ctx, load(t, root), o, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("apply: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a cancelled wait took %s", d)
	}
	// The holder's own nested calls do not wait for themselves.
	ctx2, unlock2, err := reconcile.LockWorkDir(context.Background(), t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock2()
	if _, u, err := reconcile.LockWorkDir(ctx2, wd, 100*time.Millisecond); !errors.Is(err, reconcile.ErrWorkDirBusy) {
		u()
		t.Errorf("another dir's lock let this one through: %v", err)
	}
}
