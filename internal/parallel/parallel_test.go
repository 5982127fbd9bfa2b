package parallel

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestForLimit(t *testing.T) {
	tests := []struct {
		name     string
		n, limit int
		// maxBusy is the most calls that may run at once.
		maxBusy int
	}{
		{"none", 0, 4, 0},
		{"one item", 1, 4, 1},
		{"serial", 50, 1, 1},
		{"no limit asked is serial", 50, 0, 1},
		{"bounded", 200, 3, 3},
		{"fewer items than goroutines", 2, 8, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make([]int, tt.n)
			var busy, most atomic.Int64
			var mu sync.Mutex
			ForLimit(tt.n, tt.limit, func(i int) {
				b := busy.Add(1)
				mu.Lock()
				most.Store(max(most.Load(), b))
				calls[i]++
				mu.Unlock()
				busy.Add(-1)
			})
			want := make([]int, tt.n)
			for i := range want {
				want[i] = 1
			}
			if d := cmp.Diff(want, calls); d != "" {
				t.Errorf("calls per item (-want +got):\n%s", d)
			}
			if got := int(most.Load()); got > tt.maxBusy {
				t.Errorf("%d calls ran at once, want at most %d", got, tt.maxBusy)
			}
		})
	}
}

// TestForLimitSerialInOrder: below two goroutines the calls are made in
// turn, on the caller's goroutine, so they see each other's writes.
func TestForLimitSerialInOrder(t *testing.T) {
	var got []int
	ForLimit(5, 1, func(i int) { got = append(got, i) })
	if d := cmp.Diff([]int{0, 1, 2, 3, 4}, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}

// TestForContextStops: once ctx is done no further call is made, on one
// goroutine or several; the calls started run to their end.
func TestForContextStops(t *testing.T) {
	for _, limit := range []int{1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		var made atomic.Int64
		ForContext(ctx, 1000, limit, func(i int) {
			if made.Add(1) == 10 {
				cancel()
			}
		})
		cancel()
		// Up to limit calls may have been started when ctx was done.
		if got := made.Load(); got < 10 || got > int64(10+limit) {
			t.Errorf("limit %d: %d calls made, want 10 to %d", limit, got, 10+limit)
		}
	}
}
