package evidence

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/slipway-ml/slipway/internal/metrics"
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
// rows (about 40 bytes each), never with the predictions.
type goldIndex struct {
	seed maphash.Seed
	// rows are the gold rows in file order: key and label hashes, with
	// bit 0 of label set once a prediction has the row's key. File order
	// lets a lookup try the row after the previous match first:
	// predictions made by scoring the gold file keep its order, and then
	// the join reads the index sequentially instead of at random.
	rows []goldRow
	// slots is an open-addressing table: the top 32 bits of a key's hash
	// above its row+1 (0 is empty), placed by the hash's top bits; the
	// full hash is compared in rows when the top bits match.
	slots []uint64
	shift uint
}

type goldRow struct{ key, label uint64 }

// find returns the gold row of key hash k.
func (g *goldIndex) find(k uint64) (int, bool) {
	if len(g.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(g.slots) - 1)
	frag := k &^ 0xffffffff
	for i := k >> g.shift; ; i = (i + 1) & mask {
		s := g.slots[i]
		if s == 0 {
			return 0, false
		}
		if s&^0xffffffff == frag {
			if row := int(uint32(s)) - 1; g.rows[row].key == k {
				return row, true
			}
		}
	}
}

// build fills the table from rows. It inserts in the order of the slots
// the keys start at (a counting sort by the hash's top bits), so that
// the writes walk the table instead of jumping: a random write per gold
// row was the largest cost of the join. It returns the first row, in file
// order, whose key repeats an earlier row's, or -1.
func (g *goldIndex) build() int {
	n := len(g.rows)
	logSize := uint(10)
	for 1<<logSize < n+n/2 { // load at most 2/3
		logSize++
	}
	g.slots = make([]uint64, 1<<logSize)
	g.shift = 64 - logSize
	mask := uint64(len(g.slots) - 1)
	// Partitions of 2^18 slots (2 MB) stay in the cache while filled, and
	// few enough of them are filled at once for the TLB.
	pshift := 64 - uint(max(0, int(logSize)-18))
	var count []int
	if pshift < 64 {
		count = make([]int, 1<<(64-pshift)+1)
	} else {
		count = make([]int, 2)
	}
	part := func(k uint64) uint64 {
		if pshift >= 64 {
			return 0
		}
		return k >> pshift
	}
	for i := range g.rows {
		count[part(g.rows[i].key)+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	// Stable, so a partition's rows stay in file order and the later of
	// two equal keys is the one found to repeat. An entry is what a slot
	// holds, the hash's top 32 bits and the row (8 bytes where the row's
	// own 16 would double the memory this takes).
	order := make([]uint64, n)
	for i, r := range g.rows {
		p := part(r.key)
		order[count[p]] = r.key&^0xffffffff | uint64(i)
		count[p]++
	}
	dup := -1
	for _, o := range order {
		frag, row := o&^0xffffffff, int(uint32(o))
		i := frag >> g.shift
		for ; g.slots[i] != 0; i = (i + 1) & mask {
			if s := g.slots[i]; s&^0xffffffff == frag && g.rows[int(uint32(s))-1].key == g.rows[row].key {
				if dup < 0 || row < dup {
					dup = row
				}
				break
			}
		}
		if g.slots[i] == 0 {
			g.slots[i] = frag | uint64(row+1)
		}
	}
	return dup
}

// errDuplicateKey is a key that appears twice in the gold snapshot.
var errDuplicateKey = errors.New("duplicate key: the gold set's uniqueKeys must identify one row")

// keyHash hashes the key columns at (each field hashed on its own, so
// that field boundaries count).
func (g *goldIndex) keyHash(r *table.Row, at []int) uint64 {
	h := maphash.Bytes(g.seed, r.Bytes(at[0]))
	for _, i := range at[1:] {
		h = (bits.RotateLeft64(h, 29) ^ maphash.Bytes(g.seed, r.Bytes(i))) * 0x9e3779b97f4a7c15
	}
	// 0 marks an empty slot.
	return max(h, 1)
}

// labelHash hashes a label with bit 0 clear (the row's seen mark).
func (g *goldIndex) labelHash(b []byte) uint64 { return maphash.Bytes(g.seed, b) &^ 1 }

// goldJoin is a gold join prepared before the evaluation's scan of the
// predictions, which carries it (metrics.Config.Visit).
type goldJoin struct {
	in  JoinInput
	j   *joined
	err error
	// failed is set when the evaluation could not carry the join, which
	// then runs on its own to name what is wrong.
	failed bool
}

// prepareJoin loads the gold index of m's join; nil when the gold data
// source declares no uniqueKeys or has no snapshot (nothing to join on).
// Problems are recorded by integrity, after the evaluation's.
func (b *builder) prepareJoin(m spec.Model, workers int) *goldJoin {
	src, ok := b.p.DataSources[m.Evaluation.Data]
	if !ok || src.Snapshot == "" || src.Quality == nil || len(src.Quality.UniqueKeys) == 0 {
		return nil
	}
	gj := &goldJoin{}
	goldAbs, err := b.p.ResolvePath(src.Snapshot)
	if err != nil {
		gj.err = err
		return gj
	}
	predAbs, err := b.p.ResolvePath(m.Evaluation.Predictions)
	if err != nil {
		return nil // evaluation records the problem
	}
	types := map[string]string{}
	for _, f := range src.Schema {
		types[f.Name] = f.Type
	}
	keyTypes := make([]string, len(src.Quality.UniqueKeys))
	for i, k := range src.Quality.UniqueKeys {
		keyTypes[i] = types[k]
	}
	gj.in = JoinInput{
		Gold: goldAbs, GoldName: src.Snapshot,
		Predictions: predAbs, PredictionsName: m.Evaluation.Predictions,
		Keys: src.Quality.UniqueKeys, KeyTypes: keyTypes, Label: m.Evaluation.Columns.Label, Workers: workers,
	}
	gj.j, gj.err = loadGold(b.ctx, gj.in)
	return gj
}

// visitor is what the evaluation's scan calls for the join; nil when
// there is nothing to join.
func (gj *goldJoin) visitor() *metrics.Visitor {
	if gj == nil || gj.j == nil {
		return nil
	}
	return gj.j.visitor()
}

// integrity finishes the join of the predictions to the gold snapshot;
// nil when there is nothing to join on, with a problem recorded when a
// file cannot be joined.
func (b *builder) integrity(m spec.Model, rep *metrics.Report, gj *goldJoin) *Integrity {
	if gj == nil {
		return nil
	}
	src := b.p.DataSources[m.Evaluation.Data]
	if gj.err != nil {
		b.problem(KindData, src.Snapshot, gj.err)
		return nil
	}
	out := gj.j
	if gj.failed {
		var err error
		if out, err = Join(b.ctx, gj.in); err != nil {
			b.problem(KindData, src.Snapshot, err)
			return nil
		}
	} else {
		out.finish(rep.Rows)
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
		n, err := out.overlap(b.ctx, abs, ts.Snapshot, gj.in.Workers)
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
	g        *goldIndex
	keys     []string
	keyTypes []string
	labelCol string
	per      []tally
}

// tally is one worker's counts, a cache line of its own.
type tally struct {
	unknown, mismatch int64
	// next is the gold row after this worker's previous match.
	next int
	_    [40]byte
}

// loadGold reads the gold snapshot into a hashed index. A missing key or
// label column, or a duplicate key, is an error naming the file, row and
// column.
func loadGold(ctx context.Context, in JoinInput) (*joined, error) {
	g := &goldIndex{seed: maphash.MakeSeed()}
	g.rows = make([]goldRow, 0, table.EstimateRows(in.Gold)*21/20)
	cols := append(append([]string(nil), in.Keys...), in.Label)
	n := len(in.Keys)
	at := make([]int, len(cols))
	for i := range at {
		at[i] = i
	}
	opts := table.Options{Columns: cols, Workers: 1, Name: in.GoldName}
	info, err := table.Scan(ctx, in.Gold, opts, func(_ int, r *table.Row) error {
		g.rows = append(g.rows, goldRow{key: g.keyHash(r, at[:n]), label: g.labelHash(r.Bytes(n))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dup := g.build(); dup >= 0 {
		// Read again up to the row, to name it as the scan does.
		var rows int
		_, err := table.Scan(ctx, in.Gold, opts, func(_ int, r *table.Row) error {
			if rows == dup {
				return r.Errorf(0, errDuplicateKey)
			}
			rows++
			return nil
		})
		return nil, err
	}
	workers := in.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &joined{
		Integrity: &Integrity{Keys: in.Keys, GoldRows: info.Rows},
		g:         g, keys: in.Keys, keyTypes: in.KeyTypes, labelCol: in.Label, per: make([]tally, workers),
	}, nil
}

// visitor joins each prediction row as the scan that reads it passes:
// the key columns, then the label.
func (j *joined) visitor() *metrics.Visitor {
	cols := append(append([]string(nil), j.keys...), j.labelCol)
	return &metrics.Visitor{Columns: cols, Row: j.probe}
}

// probe tallies one prediction row; at holds the key columns, then the
// label.
func (j *joined) probe(w int, r *table.Row, at []int) error {
	t := &j.per[w]
	g := j.g
	n := len(at) - 1
	k := g.keyHash(r, at[:n])
	i := t.next
	if i >= len(g.rows) || g.rows[i].key != k {
		var ok bool
		if i, ok = g.find(k); !ok {
			// Only a key the gold set lacks can be of the wrong type:
			// checked here, off the path of the rows that join.
			if err := keyType(r, at[:n], j.keyTypes); err != nil {
				return err
			}
			t.unknown++
			return nil
		}
	}
	t.next = i + 1
	row := &g.rows[i]
	l := atomic.LoadUint64(&row.label)
	if l&1 == 0 {
		atomic.OrUint64(&row.label, 1)
	}
	if l&^1 != g.labelHash(r.Bytes(at[n])) {
		t.mismatch++
	}
	return nil
}

// finish sums the workers' tallies and the coverage.
func (j *joined) finish(predictionRows int64) {
	out := j.Integrity
	out.PredictionRows = predictionRows
	for _, t := range j.per {
		out.UnknownKeys += t.unknown
		out.LabelMismatches += t.mismatch
	}
	for i := range j.g.rows {
		out.Covered += int64(j.g.rows[i].label & 1)
	}
	if out.GoldRows > 0 {
		out.Coverage = float64(out.Covered) / float64(out.GoldRows)
	}
}

// Join streams the predictions against the gold snapshot loaded into a
// hashed index, in a scan of its own. A missing key or label column, or
// a duplicate gold key, is an error naming the file, row and column.
func Join(ctx context.Context, in JoinInput) (*joined, error) {
	j, err := loadGold(ctx, in)
	if err != nil {
		return nil, err
	}
	v := j.visitor()
	at := make([]int, len(v.Columns))
	for i := range at {
		at[i] = i
	}
	info, err := table.Scan(ctx, in.Predictions, table.Options{Columns: v.Columns, Workers: len(j.per), Name: in.PredictionsName}, func(w int, r *table.Row) error {
		return v.Row(w, r, at)
	})
	if err != nil {
		return nil, err
	}
	j.finish(info.Rows)
	return j, nil
}

// keyType is an error naming the row and column when a key column of r
// (at[i] holds key i) holds a value that is not of the gold schema's
// type for it.
func keyType(r *table.Row, at []int, types []string) error {
	for i, t := range types {
		c := at[i]
		if t == "" || r.IsNull(c) {
			continue
		}
		if msg := quality.TypeMismatch(t, r.Bytes(c)); msg != "" {
			return r.Errorf(c, fmt.Errorf("key column differs in type from the gold set: %s, the gold schema declares %s", msg, t))
		}
	}
	return nil
}

// overlap counts the rows of a training snapshot whose key is in the gold
// set.
func (j *joined) overlap(ctx context.Context, path, name string, workers int) (int64, error) {
	var hits atomic.Int64
	at := make([]int, len(j.keys))
	for i := range at {
		at[i] = i
	}
	_, err := table.Scan(ctx, path, table.Options{Columns: j.keys, Workers: workers, Name: name}, func(_ int, r *table.Row) error {
		if _, ok := j.g.find(j.g.keyHash(r, at)); ok {
			hits.Add(1)
		}
		return nil
	})
	return hits.Load(), err
}
