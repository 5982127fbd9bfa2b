// Package prodlog reads production prediction logs, from a PostgreSQL
// table or from partitioned files, and returns only their aggregates:
// histogram counts per feature, counts per category, requests per model
// version and confusion counts per sensitive group. For PostgreSQL the
// aggregation runs in the database as one query, so the rows never cross
// the wire; files are streamed. It is the one package that imports pgx.
package prodlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-ml/slipway/internal/spec"
)

// ErrInput is wrapped by errors in the source itself: a missing table or
// column, a column of the wrong type, files that cannot be read.
var ErrInput = errors.New("invalid prediction log")

// ErrUnreachable is wrapped by errors reaching the database.
var ErrUnreachable = errors.New("prediction log database unreachable")

// Window bounds the requests read by their timestamp: From inclusive (the
// zero time reads from the first), To exclusive.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Query says which source to read and what to count.
type Query struct {
	Source spec.MonitoringSource
	// Root is the directory the files' globs are relative to.
	Root string
	// ConnString is the PostgreSQL connection string, read from the
	// variable Source.ConnEnv names; it is never printed.
	ConnString string
	Window     Window
	// Numeric maps a column to the ascending bin edges its values are
	// counted in: bins (e[i-1], e[i]] with open outer ends.
	Numeric map[string][]float64
	// Categorical columns are counted per value.
	Categorical []string
	// Groups are the sensitive attribute columns confusion counts are
	// split by.
	Groups []string
	// Threshold makes the prediction from the score (positive when score
	// >= threshold) when the source has no prediction column.
	Threshold *float64
	// Cuts, ascending, split the version counts into epochs: epoch i holds
	// the requests at or after Cuts[i-1] and before Cuts[i]. A rollback
	// changes which versions may serve, so the version check needs to
	// know which requests came after it.
	Cuts []time.Time
}

// Cell keys confusion counts: the group (Attr empty for every request),
// the prediction and the label as text.
type Cell struct {
	Attr  string `json:"attr,omitempty"`
	Group string `json:"group,omitempty"`
	Pred  string `json:"pred"`
	Label string `json:"label"`
}

// Counts are the aggregates of the requests in a window.
type Counts struct {
	Rows int64 `json:"rows"`
	// Bins are each numeric column's counts by its edges.
	Bins map[string][]int64 `json:"bins"`
	// Categories are each categorical column's counts per value.
	Categories map[string]map[string]int64 `json:"categories"`
	// Nulls are each column's null values.
	Nulls map[string]int64 `json:"nulls"`
	// Versions are the requests per served model version.
	Versions map[string]int64 `json:"versions"`
	// Epochs are the requests per version in each epoch Query.Cuts
	// makes (len(Cuts)+1 of them); nil without cuts.
	Epochs []map[string]int64 `json:"epochs,omitempty"`
	// Outcomes are the requests with a label, per cell. Pred is "true" or
	// "false" when ScoredPrediction.
	Outcomes         map[Cell]int64 `json:"-"`
	ScoredPrediction bool           `json:"scored_prediction,omitempty"`
	Identity         Identity       `json:"identity"`
}

// Identity names what was read: the tables, or the files with digests.
type Identity struct {
	Kind          string `json:"kind"`
	Table         string `json:"table,omitempty"`
	OutcomesTable string `json:"outcomes_table,omitempty"`
	Files         []File `json:"files,omitempty"`
}

// File is one file read.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

func newCounts(q Query) *Counts {
	c := &Counts{Bins: map[string][]int64{}, Categories: map[string]map[string]int64{},
		Nulls: map[string]int64{}, Versions: map[string]int64{}, Outcomes: map[Cell]int64{}}
	if len(q.Cuts) > 0 {
		c.Epochs = make([]map[string]int64, len(q.Cuts)+1)
		for i := range c.Epochs {
			c.Epochs[i] = map[string]int64{}
		}
	}
	return c
}

// Aggregate reads the source and counts the requests in the window.
func Aggregate(ctx context.Context, q Query) (*Counts, error) {
	switch q.Source.Kind {
	case "postgres":
		return aggregatePG(ctx, q)
	case "files":
		return aggregateFiles(ctx, q)
	}
	return nil, fmt.Errorf("%w: unknown source kind %q", ErrInput, q.Source.Kind)
}

// epoch is the index of the epoch t falls in.
func (q Query) epoch(t time.Time) int {
	n := 0
	for _, c := range q.Cuts {
		if !t.Before(c) {
			n++
		}
	}
	return n
}

func (c *Counts) addVersion(epoch int, v string, n int64) {
	c.Versions[v] += n
	if c.Epochs != nil {
		c.Epochs[epoch][v] += n
	}
}

// predicted says whether the query counts confusion cells.
func (q Query) predicted() bool {
	return q.Source.Outcomes != nil && (q.Source.Prediction != "" || (q.Source.Score != "" && q.Threshold != nil))
}
