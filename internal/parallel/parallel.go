// Package parallel runs the same work for each of n items on a bounded
// number of goroutines: Slipway's one worker pool. Its callers differ only
// in how many goroutines they allow and whether an interrupt stops them,
// so that is all it lets them choose; the work reports its failures by
// writing them at its own index, and the caller decides what they mean.
package parallel

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// For calls f(i) for every 0 <= i < n on at most one goroutine per
// processor, and returns when every call has. f must write only what
// belongs to its own i.
func For(n int, f func(i int)) {
	ForContext(context.Background(), n, runtime.GOMAXPROCS(0), f)
}

// ForLimit is For on at most limit goroutines. With limit below 2 it
// calls f in turn on the calling goroutine: one goroutine at a time gains
// nothing from being another one.
func ForLimit(n, limit int, f func(i int)) {
	ForContext(context.Background(), n, limit, f)
}

// ForContext is ForLimit that stops once ctx is done: the calls started
// run to their end (f is given ctx by its caller if it can stop early),
// the rest are never made. The caller reads ctx.Err() to know which.
func ForContext(ctx context.Context, n, limit int, f func(i int)) {
	if limit < 2 || n < 2 {
		for i := range n {
			if ctx.Err() != nil {
				return
			}
			f(i)
		}
		return
	}
	var g errgroup.Group
	g.SetLimit(limit)
	// Items are started in order, so that the first are done first.
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			// Go waits for a free goroutine: ctx may be done by then.
			if ctx.Err() == nil {
				f(i)
			}
			return nil
		})
	}
	_ = g.Wait() // f returns no error: failures are the caller's to record
}
