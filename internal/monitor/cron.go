package monitor

import (
	"fmt"
	"strconv"
	"strings"
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
// like) leaves between two runs, found by walking a year minute by
// minute: exact for every schedule, and cheap enough to run per model.
func MaxGap(expr string) (time.Duration, error) {
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
	// Day of month and day of week combine with OR when both are
	// restricted, as in cron.
	domAll, dowAll := parts[2] == "*", parts[4] == "*"
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var last time.Time
	var gap time.Duration
	for t := start; t.Before(start.AddDate(1, 1, 0)); t = t.Add(time.Minute) {
		if !fs[0][t.Minute()] || !fs[1][t.Hour()] || !fs[3][int(t.Month())] {
			continue
		}
		dom, dow := fs[2][t.Day()], fs[4][int(t.Weekday())]
		day := dom && dow
		if !domAll && !dowAll {
			day = dom || dow
		}
		if !day {
			continue
		}
		if !last.IsZero() {
			gap = max(gap, t.Sub(last))
		}
		last = t
	}
	if last.IsZero() {
		return 0, fmt.Errorf("schedule %q never runs", expr)
	}
	return gap, nil
}
