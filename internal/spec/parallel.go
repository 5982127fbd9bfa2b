package spec

import "runtime"

// parallelMin is the number of like items, such as a platform's models or
// files, from which their work is spread over the processors. CUE values
// are safe for concurrent use since v0.17 (cue-lang/cue#2733); decoding
// them, parsing and reading files are most of what Slipway adds to CUE's
// own evaluation, and the same work for each item.
const parallelMin = 64

// spread is how many goroutines share the work of n like items
// (parallel.ForLimit): every processor when n is large, one below
// parallelMin, where starting goroutines costs more than it saves.
func spread(n int) int {
	return min(runtime.GOMAXPROCS(0), n/parallelMin*2)
}
