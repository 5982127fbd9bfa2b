package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cronField is the set of values one field of a cron expression allows.
type cronField map[int]bool

func parseField(s string, lo, hi int) (cronField, error) {
	f := cronField{}
	for _, part := range strings.Split(s, ",") {
		step := 1
		if base, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("step %q", st)
			}
			part, step = base, n
		}
		from, to := lo, hi
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			a, b, _ := strings.Cut(part, "-")
			x, err1 := strconv.Atoi(a)
			y, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("range %q", part)
			}
			from, to = x, y
		default:
			x, err := strconv.Atoi(part)
			if err != nil {
				return nil, fmt.Errorf("value %q", part)
			}
			from, to = x, x
			if step > 1 {
				to = hi
			}
		}
		if from < lo || to > hi || from > to {
			return nil, fmt.Errorf("%q outside %d-%d", part, lo, hi)
		}
		for v := from; v <= to; v += step {
			f[v] = true
		}
	}
	return f, nil
}

var shorthands = map[string]string{
	"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
	"@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
}

// MaxGap is the longest time a five-field cron schedule (or @daily and the
// like) leaves between two runs, found by walking a year and a month: exact
// for every schedule. The walk goes day by day and visits only the hours
// and minutes the schedule allows, and each expression is walked once per
// process: the audit report asks for every model's schedule, and walking a
// year minute by minute per model cost it most of its CPU time.
func MaxGap(expr string) (time.Duration, error) {
	if g, ok := maxGaps.Load(expr); ok {
		r := g.(gapResult)
		return r.gap, r.err
	}
	gap, err := maxGap(expr)
	maxGaps.Store(expr, gapResult{gap, err})
	return gap, err
}

type gapResult struct {
	gap time.Duration
	err error
}

// maxGaps memoises MaxGap by expression.
var maxGaps sync.Map

func maxGap(expr string) (time.Duration, error) {
	if s, ok := shorthands[expr]; ok {
		expr = s
	}
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return 0, fmt.Errorf("schedule %q: want five fields", expr)
	}
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	var fs [5]cronField
	for i, p := range parts {
		f, err := parseField(p, bounds[i][0], bounds[i][1])
		if err != nil {
			return 0, fmt.Errorf("schedule %q: %v", expr, err)
		}
		fs[i] = f
	}
	if fs[4][7] {
		fs[4][0] = true
	}
	var hours, minutes []int
	for h := 0; h <= 23; h++ {
		if fs[1][h] {
			hours = append(hours, h)
		}
	}
	for m := 0; m <= 59; m++ {
		if fs[0][m] {
			minutes = append(minutes, m)
		}
	}
	// Day of month and day of week combine with OR when both are
	// restricted, as in cron.
	domAll, dowAll := parts[2] == "*", parts[4] == "*"
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 1, 0)
	var last, gap int64 // minutes since start; last < 0: none yet
	last = -1
	for day := start; day.Before(end); day = day.AddDate(0, 0, 1) {
		if !fs[3][int(day.Month())] {
			continue
		}
		dom, dow := fs[2][day.Day()], fs[4][int(day.Weekday())]
		ok := dom && dow
		if !domAll && !dowAll {
			ok = dom || dow
		}
		if !ok {
			continue
		}
		base := int64(day.Sub(start) / time.Minute)
		for _, h := range hours {
			for _, m := range minutes {
				t := base + int64(h*60+m)
				if last >= 0 {
					gap = max(gap, t-last)
				}
				last = t
			}
		}
	}
	if last < 0 {
		return 0, fmt.Errorf("schedule %q never runs", expr)
	}
	return time.Duration(gap) * time.Minute, nil
}
