package evidence

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync/atomic"

	"github.com/slipway-ml/slipway/internal/quality"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/table"
)

// Integrity is what joining the predictions to the gold snapshot on the
// gold data source's quality.uniqueKeys shows: that the gold set was
// really used, and really held out.
type Integrity struct {
	// Keys are the join columns.
	Keys []string `json:"keys"`
	// GoldRows and PredictionRows are the rows of each side.
	GoldRows       int64 `json:"gold_rows"`
	PredictionRows int64 `json:"prediction_rows"`
	// UnknownKeys counts prediction rows whose key is not in the gold set.
	UnknownKeys int64 `json:"unknown_keys"`
	// Covered counts gold rows with at least one prediction; Coverage is
	// Covered over GoldRows.
	Covered  int64   `json:"covered"`
	Coverage float64 `json:"coverage"`
	// LabelMismatches counts prediction rows whose label differs from the
	// gold row's.
	LabelMismatches int64 `json:"label_mismatches"`
	// TrainingOverlap is, per training data source with a snapshot, how
	// many of its rows have a key of the gold set.
	TrainingOverlap map[string]int64 `json:"training_overlap"`
}

// goldIndex holds the gold set by hashed key: memory grows with the gold
// rows, never with the predictions.
type goldIndex struct {
	seed maphash.Seed
	// slots is an open-addressing table of key hashes (0 is empty) with
	// their row in at: a lookup is one or two cache lines, where a Go map
	// took a third of the join's time.
	slots []uint64
	at    []int32
	label []uint64
	seen  []atomic.Bool
}

// find returns the gold row of key hash k.
func (g *goldIndex) find(k uint64) (int32, bool) {
	mask := uint64(len(g.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch g.slots[i] {
		case k:
			return g.at[i], true
		case 0:
			return 0, false
		}
	}
}

// insert adds key hash k for row; false when k is already there.
func (g *goldIndex) insert(k uint64, row int32) bool {
	if 2*(len(g.label)+1) > len(g.slots) {
		g.grow()
	}
	mask := uint64(len(g.slots) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch g.slots[i] {
		case k:
			return false
		case 0:
			g.slots[i], g.at[i] = k, row
			return true
		}
	}
}

func (g *goldIndex) grow() {
	old, oldAt := g.slots, g.at
	g.slots = make([]uint64, max(1024, 2*len(old)))
	g.at = make([]int32, len(g.slots))
	mask := uint64(len(g.slots) - 1)
	for j, k := range old {
		if k == 0 {
			continue
		}
		i := k & mask
		for g.slots[i] != 0 {
			i = (i + 1) & mask
		}
		g.slots[i], g.at[i] = k, oldAt[j]
	}
}

// errDuplicateKey is a key that appears twice in the gold snapshot.
var errDuplicateKey = errors.New("duplicate key: the gold set's uniqueKeys must identify one row")

// keyHash hashes the key columns, the first len(keys) columns of r.
func (g *goldIndex) keyHash(r *table.Row, n int) uint64 {
	var h maphash.Hash
	h.SetSeed(g.seed)
	for i := range n {
		h.Write(r.Bytes(i))
		h.WriteByte(0)
	}
	// 0 marks an empty slot.
	return max(h.Sum64(), 1)
}

func (g *goldIndex) valueHash(b []byte) uint64 { return maphash.Bytes(g.seed, b) }

// integrity joins the predictions to the gold snapshot; nil when the gold
// data source declares no uniqueKeys or has no snapshot (nothing to join
// on), with a problem recorded when a file cannot be joined.
func (b *builder) integrity(m spec.Model, workers int) *Integrity {
	src, ok := b.p.DataSources[m.Evaluation.Data]
	if !ok || src.Snapshot == "" || src.Quality == nil || len(src.Quality.UniqueKeys) == 0 {
		return nil
	}
	keys := src.Quality.UniqueKeys
	label := m.Evaluation.Columns.Label
	goldAbs, err := b.p.ResolvePath(src.Snapshot)
	if err != nil {
		b.problem(KindData, src.Snapshot, err)
		return nil
	}
	predAbs, err := b.p.ResolvePath(m.Evaluation.Predictions)
	if err != nil {
		return nil // evaluation records the problem
	}
	types := map[string]string{}
	for _, f := range src.Schema {
		types[f.Name] = f.Type
	}
	keyTypes := make([]string, len(keys))
	for i, k := range keys {
		keyTypes[i] = types[k]
	}
	out, err := Join(b.ctx, JoinInput{
		Gold: goldAbs, GoldName: src.Snapshot,
		Predictions: predAbs, PredictionsName: m.Evaluation.Predictions,
		Keys: keys, KeyTypes: keyTypes, Label: label, Workers: workers,
	})
	if err != nil {
		b.problem(KindData, src.Snapshot, err)
		return nil
	}
	out.TrainingOverlap = map[string]int64{}
	for _, name := range m.Training.Data {
		ts, ok := b.p.DataSources[name]
		if !ok || ts.Snapshot == "" || name == m.Evaluation.Data {
			continue
		}
		abs, err := b.p.ResolvePath(ts.Snapshot)
		if err != nil {
			continue // the data quality check records it
		}
		n, err := out.overlap(b.ctx, abs, ts.Snapshot, workers)
		if err != nil {
			b.problem(KindData, ts.Snapshot, err)
			continue
		}
		out.TrainingOverlap[name] = n
	}
	return out.Integrity
}

// JoinInput names the two sides of a gold join.
type JoinInput struct {
	Gold, GoldName               string
	Predictions, PredictionsName string
	Keys                         []string
	// KeyTypes are the gold schema's types of Keys (#FieldType; "" is
	// unknown): a prediction key of another type is an error, not an
	// unknown key.
	KeyTypes []string
	Label    string
	Workers  int
}

type joined struct {
	*Integrity
	g    *goldIndex
	keys []string
}

// Join streams the predictions against the gold snapshot loaded into a
// hashed index. A missing key or label column, or a duplicate gold key, is
// an error naming the file, row and column.
func Join(ctx context.Context, in JoinInput) (*joined, error) {
	g := &goldIndex{seed: maphash.MakeSeed()}
	g.grow()
	cols := append(append([]string(nil), in.Keys...), in.Label)
	n := len(in.Keys)
	info, err := table.Scan(ctx, in.Gold, table.Options{Columns: cols, Workers: 1, Name: in.GoldName}, func(_ int, r *table.Row) error {
		if !g.insert(g.keyHash(r, n), int32(len(g.label))) {
			return r.Errorf(0, errDuplicateKey)
		}
		g.label = append(g.label, g.valueHash(r.Bytes(n)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	g.seen = make([]atomic.Bool, len(g.label))
	out := &Integrity{Keys: in.Keys, GoldRows: info.Rows}
	type tally struct{ unknown, mismatch int64 }
	// Each worker keeps its own tallies; the table package numbers
	// workers from 0 to Workers-1.
	workers := in.Workers
	if workers <= 0 || workers > 64 {
		workers = min(runtime.NumCPU(), 64)
	}
	per := make([]tally, workers)
	pinfo, err := table.Scan(ctx, in.Predictions, table.Options{Columns: cols, Workers: workers, Name: in.PredictionsName}, func(w int, r *table.Row) error {
		t := &per[w]
		i, ok := g.find(g.keyHash(r, n))
		if !ok {
			// Only a key the gold set lacks can be of the wrong type:
			// checked here, off the path of the rows that join.
			if err := keyType(r, in.KeyTypes); err != nil {
				return err
			}
			t.unknown++
			return nil
		}
		g.seen[i].Store(true)
		if g.label[i] != g.valueHash(r.Bytes(n)) {
			t.mismatch++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.PredictionRows = pinfo.Rows
	for _, t := range per {
		out.UnknownKeys += t.unknown
		out.LabelMismatches += t.mismatch
	}
	for i := range g.seen {
		if g.seen[i].Load() {
			out.Covered++
		}
	}
	if out.GoldRows > 0 {
		out.Coverage = float64(out.Covered) / float64(out.GoldRows)
	}
	return &joined{Integrity: out, g: g, keys: in.Keys}, nil
}

// keyType is an error naming the row and column when a key column of r
// holds a value that is not of the gold schema's type for it.
func keyType(r *table.Row, types []string) error {
	for i, t := range types {
		if t == "" || r.IsNull(i) {
			continue
		}
		if msg := quality.TypeMismatch(t, r.Bytes(i)); msg != "" {
			return r.Errorf(i, fmt.Errorf("key column differs in type from the gold set: %s, the gold schema declares %s", msg, t))
		}
	}
	return nil
}

// overlap counts the rows of a training snapshot whose key is in the gold
// set.
func (j *joined) overlap(ctx context.Context, path, name string, workers int) (int64, error) {
	var hits atomic.Int64
	_, err := table.Scan(ctx, path, table.Options{Columns: j.keys, Workers: workers, Name: name}, func(_ int, r *table.Row) error {
		if _, ok := j.g.find(j.g.keyHash(r, len(j.keys))); ok {
			hits.Add(1)
		}
		return nil
	})
	return hits.Load(), err
}
