package prodlog

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/quality"
	"github.com/slipway-ml/slipway/internal/table"
)

// glob lists the files a repository-relative pattern matches, sorted.
func glob(root, pattern string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
	if err != nil {
		return nil, fmt.Errorf("%w: glob %q: %v", ErrInput, pattern, err)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("%w: no files match %q", ErrInput, pattern)
	}
	slices.Sort(matches)
	return matches, nil
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}

// parseTime reads a logged timestamp: RFC 3339, or a date.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// aggregateFiles streams the partitions. Outcomes are read first into a
// map from request id to label: they are joined, as the database would,
// on the id, which costs memory in the number of labelled requests (the
// logs themselves are never held).
func aggregateFiles(ctx context.Context, q Query) (*Counts, error) {
	src := q.Source
	c := newCounts(q)
	c.Identity = Identity{Kind: "files"}
	var labels map[string]string
	if q.predicted() {
		c.ScoredPrediction = src.Prediction == ""
		files, err := glob(q.Root, src.Outcomes.Path)
		if err != nil {
			return nil, err
		}
		labels = map[string]string{}
		for _, f := range files {
			name := rel(q.Root, f)
			info, err := table.Scan(ctx, f, table.Options{Columns: []string{src.Outcomes.ID, src.Outcomes.Label}, Workers: 1, Name: name}, func(_ int, r *table.Row) error {
				if r.IsNull(0) || r.IsNull(1) {
					return nil
				}
				labels[r.String(0)] = r.String(1)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInput, err)
			}
			c.Identity.Files = append(c.Identity.Files, File{Path: name, SHA256: info.SHA256})
		}
	}
	files, err := glob(q.Root, src.Path)
	if err != nil {
		return nil, err
	}
	cols := []string{src.Timestamp, src.ID, src.Version}
	index := func(name string) int {
		if i := slices.Index(cols, name); i >= 0 {
			return i
		}
		cols = append(cols, name)
		return len(cols) - 1
	}
	numeric := slices.Sorted(mapsKeys(q.Numeric))
	numIdx := make([]int, len(numeric))
	for i, n := range numeric {
		numIdx[i] = index(n)
		c.Bins[n] = make([]int64, len(q.Numeric[n])+1)
	}
	catIdx := make([]int, len(q.Categorical))
	for i, n := range q.Categorical {
		catIdx[i] = index(n)
		c.Categories[n] = map[string]int64{}
	}
	predIdx, groupIdx := -1, make([]int, len(q.Groups))
	if q.predicted() {
		if src.Prediction != "" {
			predIdx = index(src.Prediction)
		} else {
			predIdx = index(src.Score)
		}
		for i, g := range q.Groups {
			groupIdx[i] = index(g)
		}
	}
	for _, f := range files {
		name := rel(q.Root, f)
		info, err := table.Scan(ctx, f, table.Options{Columns: cols, Workers: 1, Name: name}, func(_ int, r *table.Row) error {
			if r.IsNull(0) {
				return r.Errorf(0, table.ErrMissingValue)
			}
			ts, ok := parseTime(r.String(0))
			if !ok {
				return r.Errorf(0, fmt.Errorf("%q is not a timestamp", r.String(0)))
			}
			if (!q.Window.From.IsZero() && ts.Before(q.Window.From)) || (!q.Window.To.IsZero() && !ts.Before(q.Window.To)) {
				return nil
			}
			c.Rows++
			c.addVersion(q.epoch(ts), r.String(2), 1)
			for i, n := range numeric {
				j := numIdx[i]
				if r.IsNull(j) {
					c.Nulls[n]++
					continue
				}
				v, err := r.Float(j)
				if err != nil {
					return err
				}
				c.Bins[n][quality.Bin(q.Numeric[n], v)]++
			}
			for i, n := range q.Categorical {
				j := catIdx[i]
				if r.IsNull(j) {
					c.Nulls[n]++
					continue
				}
				c.Categories[n][r.String(j)]++
			}
			if predIdx < 0 || r.IsNull(predIdx) {
				return nil
			}
			y, ok := labels[r.String(1)]
			if !ok {
				return nil
			}
			p := r.String(predIdx)
			if src.Prediction == "" {
				s, err := r.Float(predIdx)
				if err != nil {
					return err
				}
				p = strconv.FormatBool(s >= *q.Threshold)
			}
			c.Outcomes[Cell{Pred: p, Label: y}]++
			for i, g := range q.Groups {
				grp := metrics.Missing
				if !r.IsNull(groupIdx[i]) {
					grp = r.String(groupIdx[i])
				}
				c.Outcomes[Cell{Attr: g, Group: grp, Pred: p, Label: y}]++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		c.Identity.Files = append(c.Identity.Files, File{Path: name, SHA256: info.SHA256})
	}
	return c, nil
}
