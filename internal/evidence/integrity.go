package evidence

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
// rows (12 bytes each, and 24-32 more once a table is needed), never with
// the predictions.
type goldIndex struct {
	seed maphash.Seed
	// seed64 seeds hashBytes: random per index, like seed.
	seed64 uint64
	// keys and labels are the gold rows, indexed by row number - 1: the
	// key's hash (0 for a number no row has, as blank JSON Lines leave)
	// and the label's code (labelCode), with bit 0 set once a prediction
	// has the row's key. Row order lets a lookup try the row after the
	// previous match first: predictions made by scoring the gold file
	// keep its order, and then the join reads the index sequentially and
	// needs no table at all.
	keys   []uint64
	labels []uint32
	// unique is set when the gold keys are known to be unique: they
	// strictly increase in file order (quality.KeyLess), or the quality
	// check that read the file found no key repeated. Then the table is
	// only built when a lookup misses the row order.
	unique bool
	once   sync.Once
	// slots is an open-addressing table: the top 32 bits of a key's hash
	// above its row+1 (0 is empty), placed by the hash's top bits; the
	// full hash is compared in keys when the top bits match.
	slots []uint64
	shift uint
	// dup is the first row, in file order, whose key repeats an earlier
	// row's, or -1; set by build.
	dup int
}

// table builds the hash table once, when first needed.
func (g *goldIndex) table() { g.once.Do(g.build) }

// find returns the gold row of key hash k.
func (g *goldIndex) find(k uint64) (int, bool) {
	g.table()
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
			if row := int(uint32(s)) - 1; g.keys[row] == k {
				return row, true
			}
		}
	}
}

// build fills the table from keys. It inserts in the order of the slots
// the keys start at (a counting sort by the hash's top bits), so that
// the writes walk the table instead of jumping: a random write per gold
// row was the largest cost of the join. It sets dup to the first row, in
// file order, whose key repeats an earlier row's, or -1.
func (g *goldIndex) build() {
	g.dup = -1
	n := len(g.keys)
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
	rows := 0
	for _, k := range g.keys {
		if k != 0 {
			count[part(k)+1]++
			rows++
		}
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	// Stable, so a partition's rows stay in file order and the later of
	// two equal keys is the one found to repeat. An entry is what a slot
	// holds, the hash's top 32 bits and the row.
	order := make([]uint64, rows)
	for i, k := range g.keys {
		if k == 0 {
			continue
		}
		p := part(k)
		order[count[p]] = k&^0xffffffff | uint64(i)
		count[p]++
	}
	for _, o := range order {
		frag, row := o&^0xffffffff, int(uint32(o))
		i := frag >> g.shift
		for ; g.slots[i] != 0; i = (i + 1) & mask {
			if s := g.slots[i]; s&^0xffffffff == frag && g.keys[int(uint32(s))-1] == g.keys[row] {
				if g.dup < 0 || row < g.dup {
					g.dup = row
				}
				break
			}
		}
		if g.slots[i] == 0 {
			g.slots[i] = frag | uint64(row+1)
		}
	}
}

// hashBytes hashes a field. Keys of up to 16 bytes, nearly every key,
// take wyhash's short-input path: two loads and two 64-bit multiplies,
// less than half of what a maphash call costs on them, which the join
// pays twice a row (gold and prediction). Longer ones go to maphash.
func (g *goldIndex) hashBytes(b []byte) uint64 {
	const p0, p1 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	n := len(b)
	var a, c uint64
	switch {
	case n > 16:
		return maphash.Bytes(g.seed, b)
	case n >= 8:
		a, c = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		a, c = uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n > 0:
		a = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	mix := func(x, y uint64) uint64 {
		hi, lo := bits.Mul64(x, y)
		return hi ^ lo
	}
	return mix(p1^uint64(n), mix(a^p1^g.seed64, c^p0^g.seed64))
}

// errDuplicateKey is a key that appears twice in the gold snapshot.
var errDuplicateKey = errors.New("duplicate key: the gold set's uniqueKeys must identify one row")

// keyHash hashes the key columns at (each field hashed on its own, so
// that field boundaries count).
func (g *goldIndex) keyHash(r *table.Row, at []int) uint64 {
	h := g.hashBytes(r.Bytes(at[0]))
	for _, i := range at[1:] {
		h = (bits.RotateLeft64(h, 29) ^ g.hashBytes(r.Bytes(i))) * 0x9e3779b97f4a7c15
	}
	// 0 marks an empty slot and a row number no row has.
	return max(h, 1)
}

// labelCode is a label in 32 bits with bit 0 clear (the row's seen mark):
// a label of up to 3 bytes (every class label in practice: "0", "1",
// "yes") is held exactly, with its length; a longer one is hashed, with
// bit 31 set so it never equals a short one.
func (g *goldIndex) labelCode(b []byte) uint32 {
	if len(b) <= 3 {
		var v uint32
		for _, c := range b {
			v = v<<8 | uint32(c)
		}
		return (uint32(len(b))<<24 | v) << 1
	}
	return uint32(g.hashBytes(b))&^1 | 1<<31
}

// keyOrder checks, per worker, that the gold keys strictly increase
// within each run of consecutive rows the worker reads; sortedKeys then
// checks the runs against each other.
type keyOrder struct {
	// lex and short say the keys still strictly increase in byte order,
	// and in shorter-first order (integers without padding).
	lex, short bool
	// prev is the previous row's key (copied: a row's bytes only live
	// during its call), cur the current row's (not copied).
	prev, cur [][]byte
	prevNum   int64
	runs      []keyRun
}

// keyRun is a run of consecutive rows: its first row and its first and
// last keys.
type keyRun struct {
	first      int64
	start, end [][]byte
}

func cloneKey(k [][]byte) [][]byte {
	out := make([][]byte, len(k))
	for i := range k {
		out[i] = bytes.Clone(k[i])
	}
	return out
}

// row sees the key of the next row this worker reads (columns 0..n-1).
func (o *keyOrder) row(r *table.Row, n int) {
	if !o.lex && !o.short {
		return
	}
	num := r.Num()
	if n == 1 && len(o.runs) > 0 && num == o.prevNum+1 {
		// One key column, the common case, without the slices of
		// columns: this runs on every gold row.
		a, b := o.prev[0], r.Bytes(0)
		c := bytes.Compare(a, b)
		o.lex = o.lex && c < 0
		o.short = o.short && (len(a) < len(b) || len(a) == len(b) && c < 0)
		o.prevNum = num
		o.prev[0] = append(a[:0], b...)
		return
	}
	if o.cur == nil {
		o.cur, o.prev = make([][]byte, n), make([][]byte, n)
	}
	for i := range n {
		o.cur[i] = r.Bytes(i)
	}
	if len(o.runs) == 0 || num != o.prevNum+1 {
		if len(o.runs) > 0 {
			o.runs[len(o.runs)-1].end = cloneKey(o.prev)
		}
		o.runs = append(o.runs, keyRun{first: num, start: cloneKey(o.cur)})
	} else {
		lex, short := quality.KeyLess(o.prev, o.cur)
		o.lex, o.short = o.lex && lex, o.short && short
	}
	o.prevNum = num
	for i := range n {
		o.prev[i] = append(o.prev[i][:0], o.cur[i]...)
	}
}

// sortedKeys says whether the workers' rows, taken together in file
// order, have strictly increasing keys in one of the two orders.
func sortedKeys(orders []keyOrder) bool {
	lex, short := true, true
	var runs []keyRun
	for i := range orders {
		o := &orders[i]
		lex, short = lex && o.lex, short && o.short
		if len(o.runs) > 0 {
			o.runs[len(o.runs)-1].end = o.prev
		}
		runs = append(runs, o.runs...)
	}
	slices.SortFunc(runs, func(a, b keyRun) int { return cmp.Compare(a.first, b.first) })
	for i := 1; i < len(runs) && (lex || short); i++ {
		l, sh := quality.KeyLess(runs[i-1].end, runs[i].start)
		lex, short = lex && l, short && sh
	}
	return lex || short
}

// goldJoin is a gold join prepared before the evaluation's scan of the
// predictions, which carries it (metrics.Config.Visit).
type goldJoin struct {
	in  JoinInput
	j   *joined
	err error
	// failed is set when the evaluation could not carry the join, which
	// then runs on its own to name what is wrong.
	failed bool
	// onCheck says the gold index was filled on the quality check's scan.
	onCheck bool
}

// goldQuality is the gold snapshot's quality check, run before the
// evaluation so that the join's gold index is filled on its scan; data
// reports it where it reports every snapshot's.
type goldQuality struct {
	source string
	rep    *quality.Report
	err    error
}

// prepareJoin checks the gold snapshot's quality and loads the gold index
// of m's join on the same scan. The join is nil when the gold data source
// declares no uniqueKeys or has no snapshot (nothing to join on), or when
// noJoin; problems are recorded by integrity, after the evaluation's.
func (b *builder) prepareJoin(m spec.Model, now time.Time, opts Options) (*goldJoin, *goldQuality) {
	src, ok := b.p.DataSources[m.Evaluation.Data]
	if !ok || src.Snapshot == "" {
		return nil, nil
	}
	goldAbs, err := b.p.ResolvePath(src.Snapshot)
	join := !opts.noJoin && src.Quality != nil && len(src.Quality.UniqueKeys) > 0
	if err != nil {
		if !join {
			return nil, nil // data records the problem
		}
		return &goldJoin{err: err}, nil
	}
	gq := &goldQuality{source: m.Evaluation.Data}
	predAbs, err := b.p.ResolvePath(m.Evaluation.Predictions)
	if !join || err != nil { // evaluation records a bad predictions path
		gq.rep, gq.err = quality.Check(b.ctx, goldAbs, src.Snapshot, src, now)
		return nil, gq
	}
	types := map[string]string{}
	for _, f := range src.Schema {
		types[f.Name] = f.Type
	}
	keyTypes := make([]string, len(src.Quality.UniqueKeys))
	for i, k := range src.Quality.UniqueKeys {
		keyTypes[i] = types[k]
	}
	gj := &goldJoin{}
	gj.in = JoinInput{
		Gold: goldAbs, GoldName: src.Snapshot,
		Predictions: predAbs, PredictionsName: m.Evaluation.Predictions,
		Keys: src.Quality.UniqueKeys, KeyTypes: keyTypes, Label: m.Evaluation.Columns.Label, Workers: opts.Workers,
	}
	if gj.in.Workers <= 0 {
		gj.in.Workers = runtime.GOMAXPROCS(0)
	}
	v, finish := goldVisitor(gj.in, gj.in.Workers)
	gq.rep, gq.err = quality.CheckVisit(b.ctx, goldAbs, src.Snapshot, src, now, v)
	if gq.err == nil {
		gj.j, gj.err = finish(b.ctx, gq.rep)
		gj.onCheck = gj.j != nil
	}
	if gj.j == nil && gj.err == nil {
		// The check could not carry the index: the join reads the file
		// on its own, and names what is wrong.
		gj.j, gj.err = loadGold(b.ctx, gj.in)
	}
	return gj, gq
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
		b.joinProblem(m, src, gj.err)
		return nil
	}
	out := gj.j
	if gj.failed {
		var err error
		if out, err = Join(b.ctx, gj.in); err != nil {
			b.joinProblem(m, src, err)
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

// joinProblem records a join error against the file it names: the
// predictions (a missing key column, a key of another type than the gold
// schema's), located at evaluation.predictions, or else the gold snapshot
// (a duplicate key), a data problem.
func (b *builder) joinProblem(m spec.Model, gold spec.DataSource, err error) {
	var te *table.Error
	if errors.As(err, &te) && te.File == m.Evaluation.Predictions {
		b.problem(KindPredictions, m.Evaluation.Predictions, err)
		return
	}
	b.problem(KindData, gold.Snapshot, err)
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

// goldFill fills a goldIndex as a scan of the gold snapshot passes its
// rows. Rows land at their row number, so workers fill one array with no
// copy afterwards; rows past the estimate wait in overflow. Memory fresh
// from the system is already zero: a slice larger than the rows costs
// address space, not time, as long as nothing touches its tail.
type goldFill struct {
	g    *goldIndex
	size int
	per  []goldWorker
}

// goldWorker is one worker's part of a fill, a cache line of its own.
type goldWorker struct {
	overflow []goldExtra
	// last is the largest row stored, or -1.
	last int
	_    [32]byte
}

type goldExtra struct {
	row   int
	key   uint64
	label uint32
}

func newGoldFill(path string, workers int) *goldFill {
	size := int(table.EstimateRows(path)*21/20) + 64
	seed := maphash.MakeSeed()
	g := &goldIndex{seed: seed, seed64: maphash.Bytes(seed, nil), dup: -1, keys: make([]uint64, size), labels: make([]uint32, size)}
	f := &goldFill{g: g, size: size, per: make([]goldWorker, workers)}
	for i := range f.per {
		f.per[i].last = -1
	}
	return f
}

// row stores row r of worker w: its key is the columns keyAt, its label
// the column labelAt.
func (f *goldFill) row(w int, r *table.Row, keyAt []int, labelAt int) {
	g, p := f.g, &f.per[w]
	row, k, l := int(r.Num()-1), g.keyHash(r, keyAt), g.labelCode(r.Bytes(labelAt))
	p.last = max(p.last, row)
	if row < f.size {
		g.keys[row], g.labels[row] = k, l
	} else {
		p.overflow = append(p.overflow, goldExtra{row, k, l})
	}
}

// done trims the index to the rows read. unique says the keys are known
// to be unique; otherwise the table is built at once, to find a repeat.
func (f *goldFill) done(unique bool) *goldIndex {
	g := f.g
	// The last row stored ends the rows: row numbers are dense but for
	// blank JSON Lines, whose keys stay 0.
	last := -1
	for _, p := range f.per {
		last = max(last, p.last)
	}
	if last >= f.size {
		g.keys = append(g.keys, make([]uint64, last+1-f.size)...)
		g.labels = append(g.labels, make([]uint32, last+1-f.size)...)
		for _, p := range f.per {
			for _, e := range p.overflow {
				g.keys[e.row], g.labels[e.row] = e.key, e.label
			}
		}
	}
	g.keys, g.labels = g.keys[:last+1], g.labels[:last+1]
	if g.unique = unique; !unique {
		// Keys that may repeat: the table finds the first repeat now,
		// whatever the predictions are.
		g.table()
	}
	return g
}

// joinColumns are the columns the join reads of either side: the keys,
// then the label.
func (in JoinInput) joinColumns() []string {
	return append(append([]string(nil), in.Keys...), in.Label)
}

// newJoined is the join of in on the gold index g of a snapshot of
// goldRows rows, or the error naming the first repeated key.
func newJoined(ctx context.Context, in JoinInput, g *goldIndex, goldRows int64, workers int) (*joined, error) {
	if g.dup >= 0 {
		opts := table.Options{Columns: in.joinColumns(), Name: in.GoldName, NoDigest: true}
		return nil, duplicateRow(ctx, in.Gold, opts, g.dup)
	}
	return &joined{
		Integrity: &Integrity{Keys: in.Keys, GoldRows: goldRows},
		g:         g, keys: in.Keys, keyTypes: in.KeyTypes, labelCol: in.Label, per: make([]tally, workers),
	}, nil
}

// goldVisitor fills the gold index of in as the gold snapshot's quality
// check reads it (quality.CheckVisit), so that the file is parsed once
// for both. finish ends it: nil when the check could not carry the fill
// (a key or label column missing), for loadGold to name the problem.
func goldVisitor(in JoinInput, workers int) (v *quality.Visitor, finish func(ctx context.Context, rep *quality.Report) (*joined, error)) {
	fill := newGoldFill(in.Gold, 1)
	n := len(in.Keys)
	missing := false
	v = &quality.Visitor{Columns: in.joinColumns(), Row: func(r *table.Row, at []int) error {
		if missing || slices.Contains(at, -1) {
			missing = true
			return nil
		}
		fill.row(0, r, at[:n], at[n])
		return nil
	}}
	finish = func(ctx context.Context, rep *quality.Report) (*joined, error) {
		if missing || rep == nil || rep.UniqueKeys == nil {
			return nil, nil
		}
		// The quality check compared every key (by order, or by a
		// 128-bit hash): the join needs no check of its own.
		return newJoined(ctx, in, fill.done(rep.UniqueKeys.Unique), rep.Rows, workers)
	}
	return v, finish
}

// loadGold reads the gold snapshot into a hashed index, on every worker.
// A missing key or label column, or a duplicate key, is an error naming
// the file, row and column.
func loadGold(ctx context.Context, in JoinInput) (*joined, error) {
	workers := in.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	fill := newGoldFill(in.Gold, workers)
	orders := make([]keyOrder, workers)
	for i := range orders {
		orders[i].lex, orders[i].short = true, true
	}
	n := len(in.Keys)
	at := make([]int, n+1)
	for i := range at {
		at[i] = i
	}
	// The evidence records the snapshot's digest where it opens the file
	// (Gold.SnapshotSHA256); hashing it again here would only cost time.
	opts := table.Options{Columns: in.joinColumns(), Workers: workers, Name: in.GoldName, NoDigest: true}
	info, err := table.Scan(ctx, in.Gold, opts, func(w int, r *table.Row) error {
		orders[w].row(r, n)
		fill.row(w, r, at[:n], n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newJoined(ctx, in, fill.done(sortedKeys(orders)), info.Rows, workers)
}

// duplicateRow reads the gold snapshot again up to the row (0-based) whose
// key repeats, to name it as the scan does.
func duplicateRow(ctx context.Context, path string, opts table.Options, row int) error {
	opts.Workers = 1
	_, err := table.Scan(ctx, path, opts, func(_ int, r *table.Row) error {
		if int(r.Num()-1) == row {
			return r.Errorf(0, errDuplicateKey)
		}
		return nil
	})
	return err
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
	if i >= len(g.keys) || g.keys[i] != k {
		// A worker's first row of a chunk: the predictions' row number
		// is the gold row's when both files hold the same rows in the
		// same order.
		if i = int(r.Num() - 1); i >= len(g.keys) || g.keys[i] != k {
			var ok bool
			if i, ok = g.find(k); !ok {
				// Only a key the gold set lacks can be of the wrong
				// type: checked here, off the path of the rows that
				// join.
				if err := keyType(r, at[:n], j.keyTypes); err != nil {
					return err
				}
				t.unknown++
				return nil
			}
		}
	}
	t.next = i + 1
	l := atomic.LoadUint32(&g.labels[i])
	if l&1 == 0 {
		atomic.OrUint32(&g.labels[i], 1)
	}
	if l&^1 != g.labelCode(r.Bytes(at[n])) {
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
	for _, l := range j.g.labels {
		out.Covered += int64(l & 1)
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
