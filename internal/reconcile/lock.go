package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/slipway-ml/slipway/internal/atomicfile"
)

// WorkDirWait is how long a run waits for another run's work-dir lock by
// default.
const WorkDirWait = 30 * time.Second

// LockFile is the work-dir lock's file, relative to the work dir. It holds
// the pid of the run that holds the lock, for the message of the next one.
const LockFile = "slipway.lock"

// ErrWorkDirBusy: another slipway process holds the work dir.
var ErrWorkDirBusy = errors.New("work dir busy")

type lockKey struct{}

// LockWorkDir takes the work dir's exclusive lock, so two slipway runs in
// one work dir never plan, sign or apply over each other's files. Every
// command that writes plans, check results or releases takes it: check,
// plan, release, apply, drift and state recover. It waits up to wait (0
// means WorkDirWait) for a run that holds it, or until ctx ends.
//
// The returned context records the lock: a nested call with it (release
// running the check, which plans) does not wait for itself. unlock
// releases the lock; the kernel releases it too when the process dies.
func LockWorkDir(ctx context.Context, dir string, wait time.Duration) (context.Context, func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ctx, func() {}, err
	}
	if held, _ := ctx.Value(lockKey{}).(map[string]bool); held[abs] {
		return ctx, func() {}, nil
	}
	if wait <= 0 {
		wait = WorkDirWait
	}
	// The lock file is the first thing a run writes: a committed symlink
	// in place of the work dir must not carry even that elsewhere.
	if err := atomicfile.CheckDir(filepath.Dir(abs), abs); err != nil {
		return ctx, func() {}, fmt.Errorf("work dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return ctx, func() {}, fmt.Errorf("work dir: %w", err)
	}
	path := filepath.Join(abs, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return ctx, func() {}, fmt.Errorf("work dir lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return ctx, func() {}, fmt.Errorf("work dir lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return ctx, func() {}, fmt.Errorf("%w: another slipway run holds %s%s (waited %s); wait for it to finish or stop it",
				ErrWorkDirBusy, abs, holder(path), wait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return ctx, func() {}, fmt.Errorf("waiting for the work dir lock of %s%s: %w", abs, holder(path), ctx.Err())
		case <-tick.C:
		}
	}
	// The pid is only for messages: a failure to record it is no reason to
	// stop.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	held := map[string]bool{abs: true}
	if old, ok := ctx.Value(lockKey{}).(map[string]bool); ok {
		for k := range old {
			held[k] = true
		}
	}
	unlock := func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
	return context.WithValue(ctx, lockKey{}, held), unlock, nil
}

// holder names the pid recorded in the lock file, if any.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if pid := strings.TrimSpace(string(b)); pid != "" {
		return " (pid " + pid + ")"
	}
	return ""
}
