package spec

import (
	"runtime"

	"golang.org/x/sync/errgroup"
)

// parallelMin is the number of like items, such as a platform's models or
// files, from which their work is spread over the processors. CUE values
// are safe for concurrent use since v0.17 (cue-lang/cue#2733); decoding
// them, parsing and reading files are most of what Slipway adds to CUE's
// own evaluation, and the same work for each item.
const parallelMin = 64

// forEach calls f for 0 <= i < n, on every processor when n is large, and
// returns when every call has.
func forEach(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin*2)
	if workers < 2 {
		for i := range n {
			f(i)
		}
		return
	}
	var g errgroup.Group
	g.SetLimit(workers)
	// Items are started in order, so that the first are done first.
	for i := range n {
		g.Go(func() error { f(i); return nil })
	}
	_ = g.Wait() // f returns no error
}
