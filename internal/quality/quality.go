// Package quality checks a data snapshot against its source's declared
// schema and expectations (completeness, unique keys, validity of type,
// allowed values and range, freshness, duplicate rows) and measures drift
// between a reference and a current snapshot (population stability index
// and two-sample Kolmogorov–Smirnov).
package quality

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/table"
)

// Report is the quality of one data source's snapshot.
type Report struct {
	Snapshot     string             `json:"snapshot"`
	SHA256       string             `json:"sha256"`
	Rows         int64              `json:"rows"`
	Completeness map[string]float64 `json:"completeness"`
	UniqueKeys   *UniqueKeys        `json:"unique_keys,omitempty"`
	// RowsPer counts, for each column of quality.minRowsPer, the rows of
	// each value; values the field allows but the snapshot lacks are 0.
	RowsPer       map[string]map[string]int64 `json:"rows_per,omitempty"`
	Validity      map[string]Validity         `json:"validity"`
	Freshness     *Freshness                  `json:"freshness,omitempty"`
	DuplicateRows float64                     `json:"duplicate_rows"`
	Violations    []Violation                 `json:"violations"`
}

// UniqueKeys says whether the key columns identify each row.
type UniqueKeys struct {
	Columns    []string `json:"columns"`
	Duplicates int64    `json:"duplicates"`
	Unique     bool     `json:"unique"`
}

// Validity counts non-null values that break the column's declared type,
// allowed values or range.
type Validity struct {
	Invalid int64   `json:"invalid"`
	Rate    float64 `json:"rate"`
}

// Freshness is the age of the newest record.
type Freshness struct {
	Field         string  `json:"field"`
	Newest        string  `json:"newest"`
	AgeSeconds    float64 `json:"age_seconds"`
	MaxAgeSeconds float64 `json:"max_age_seconds"`
	Fresh         bool    `json:"fresh"`
}

// Violation is one expectation the snapshot does not meet.
type Violation struct {
	Check   string `json:"check"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// column is the running state of one declared column.
type column struct {
	field    spec.Field
	idx      int
	nulls    int64
	invalid  int64
	firstBad string
	allowed  map[string]bool
	allowedN []float64
	// counts are the rows per value, for a column of minRowsPer.
	counts map[string]int64
}

// MaxValuesPer is the most distinct values a column of minRowsPer may
// have: more is an identifier, not classes or groups, and counting them
// would cost memory with the snapshot's size.
const MaxValuesPer = 1000

// Visitor is work done on each row of a snapshot as Check reads it, so
// that other work on the same file (the gold join's index) needs no
// second read of it.
type Visitor struct {
	// Columns are the columns Row is given.
	Columns []string
	// Row is called once per row, in file order; at[i] is the index of
	// Columns[i] in r, or -1 when the snapshot lacks that column.
	Row func(r *table.Row, at []int) error
}

// errUnordered stops the scan that relies on the keys' order when a key
// does not sort after the previous row's.
var errUnordered = errors.New("keys out of order")

// Check reads the snapshot at path (name is how reports and errors name
// it) and checks it against src's schema and quality expectations. now is
// the clock freshness is judged by.
func Check(ctx context.Context, path, name string, src spec.DataSource, now time.Time) (*Report, error) {
	return CheckVisit(ctx, path, name, src, now, nil)
}

// CheckVisit is Check with v, when not nil, seeing every row of the same
// scan.
func CheckVisit(ctx context.Context, path, name string, src spec.DataSource, now time.Time, v *Visitor) (*Report, error) {
	rep := &Report{Snapshot: name, Completeness: map[string]float64{}, Validity: map[string]Validity{}, Violations: []Violation{}}
	var (
		cols     []*column
		byName   map[string]*column
		keyIdx   []int
		keys     = map[[2]uint64]struct{}{}
		rowsSeen = map[[2]uint64]struct{}{}
		keyDups  int64
		rowDups  int64
		newest   time.Time
		freshIdx = -1
		header   []string
		visitAt  []int
		// ordered is set while the key columns strictly increase from
		// row to row (KeyLess): the keys are then unique by their order
		// alone, and so are the rows, so neither is hashed into a set.
		// The first key out of order stops that scan; a second one then
		// hashes every row, and counts the rest from the row it stopped
		// at (from) on.
		ordered bool
		order   keyOrder
		from    int64 = 1
	)
	q := src.Quality
	if q == nil {
		q = &spec.Quality{}
	}
	setup := func(r *table.Row) {
		byName = map[string]*column{}
		for i := 0; i < r.Len(); i++ {
			header = append(header, r.Name(i))
		}
		for _, f := range src.Schema {
			c := &column{field: f, idx: -1}
			for i, h := range header {
				if h == f.Name {
					c.idx = i
				}
			}
			if len(f.Allowed) > 0 {
				c.allowed = map[string]bool{}
				for _, a := range f.Allowed {
					switch v := a.(type) {
					case float64:
						c.allowedN = append(c.allowedN, v)
						c.allowed[strconv.FormatFloat(v, 'f', -1, 64)] = true
					case int:
						c.allowedN = append(c.allowedN, float64(v))
						c.allowed[strconv.Itoa(v)] = true
					default:
						c.allowed[fmt.Sprint(v)] = true
					}
				}
			}
			if _, ok := q.MinRowsPer[f.Name]; ok {
				c.counts = map[string]int64{}
			}
			cols = append(cols, c)
			byName[f.Name] = c
		}
		for _, k := range q.UniqueKeys {
			for i, h := range header {
				if h == k {
					keyIdx = append(keyIdx, i)
				}
			}
		}
		ordered = len(keyIdx) == len(q.UniqueKeys) && len(keyIdx) > 0
		if q.Freshness != nil {
			for i, h := range header {
				if h == q.Freshness.Field {
					freshIdx = i
				}
			}
		}
		if v != nil {
			visitAt = make([]int, len(v.Columns))
			for j, c := range v.Columns {
				visitAt[j] = slices.Index(header, c)
			}
		}
	}
	// Keys and rows are compared by 128-bit hashes (two independent
	// 64-bit ones): a false duplicate among 10^9 rows has odds below
	// 10^-20, and the sets stay 16 bytes per row.
	var h hash128
	h.init()
	fn := func(_ int, r *table.Row) error {
		if byName == nil {
			setup(r)
		}
		switch {
		case ordered:
			if !order.next(r, keyIdx) {
				from = r.Num()
				return errUnordered
			}
		default:
			if len(keyIdx) == len(q.UniqueKeys) && len(keyIdx) > 0 {
				h.reset()
				for _, i := range keyIdx {
					h.write(r.Bytes(i))
				}
				if repeats(keys, h.sum()) {
					keyDups++
				}
			}
			h.reset()
			for i := 0; i < r.Len(); i++ {
				h.write(r.Bytes(i))
			}
			if repeats(rowsSeen, h.sum()) {
				rowDups++
			}
		}
		if r.Num() < from {
			return nil // counted by the scan that stopped
		}
		for _, c := range cols {
			if c.idx < 0 {
				continue
			}
			if r.IsNull(c.idx) {
				c.nulls++
				continue
			}
			if c.counts != nil {
				if n, ok := c.counts[string(r.Bytes(c.idx))]; ok || len(c.counts) <= MaxValuesPer {
					c.counts[string(r.Bytes(c.idx))] = n + 1
				}
			}
			if why := c.check(r.Bytes(c.idx)); why != "" {
				if c.invalid == 0 {
					c.firstBad = fmt.Sprintf("row %d: %s", r.Num(), why)
				}
				c.invalid++
			}
		}
		if freshIdx >= 0 && !r.IsNull(freshIdx) {
			if t, ok := parseTime(string(r.Bytes(freshIdx))); ok && t.After(newest) {
				newest = t
			}
		}
		if v != nil {
			return v.Row(r, visitAt)
		}
		return nil
	}
	opts := table.Options{Workers: 1, Name: name}
	info, err := table.Scan(ctx, path, opts, fn)
	if errors.Is(err, errUnordered) {
		ordered = false
		info, err = table.Scan(ctx, path, opts, fn)
	}
	if err != nil {
		return nil, err
	}
	rep.SHA256 = info.SHA256
	rep.Rows = info.Rows
	n := float64(info.Rows)
	violate := func(check, col, format string, args ...any) {
		rep.Violations = append(rep.Violations, Violation{Check: check, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	declared := map[string]bool{}
	for _, c := range cols {
		declared[c.field.Name] = true
		if c.idx < 0 {
			violate("schema", c.field.Name, "declared column is missing from the snapshot")
			continue
		}
		comp := 1 - float64(c.nulls)/n
		rep.Completeness[c.field.Name] = comp
		want, ok := q.Completeness[c.field.Name]
		if !ok {
			want, ok = q.Completeness["*"]
		}
		if ok && comp < want {
			violate("completeness", c.field.Name, "%.4f of values present, expected at least %.4f", comp, want)
		}
		if !c.field.Nullable && c.nulls > 0 && !ok {
			violate("completeness", c.field.Name, "%d null values in a column that is not nullable", c.nulls)
		}
		nonNull := float64(info.Rows - c.nulls)
		v := Validity{Invalid: c.invalid}
		if nonNull > 0 {
			v.Rate = float64(c.invalid) / nonNull
		}
		rep.Validity[c.field.Name] = v
		if c.invalid > 0 {
			violate("validity", c.field.Name, "%d invalid values (first at %s)", c.invalid, c.firstBad)
		}
		if c.counts != nil {
			if len(c.counts) > MaxValuesPer {
				violate("min_rows_per", c.field.Name, "more than %d distinct values: not classes or groups", MaxValuesPer)
				continue
			}
			for v := range c.allowed {
				if _, ok := c.counts[v]; !ok {
					c.counts[v] = 0
				}
			}
			if rep.RowsPer == nil {
				rep.RowsPer = map[string]map[string]int64{}
			}
			rep.RowsPer[c.field.Name] = c.counts
		}
	}
	for _, hname := range header {
		if !declared[hname] {
			violate("schema", hname, "column is not in the declared schema")
		}
	}
	if len(q.UniqueKeys) > 0 {
		uk := &UniqueKeys{Columns: q.UniqueKeys, Duplicates: keyDups, Unique: keyDups == 0}
		if len(keyIdx) != len(q.UniqueKeys) {
			uk.Unique = false
			violate("unique_keys", strings.Join(q.UniqueKeys, ","), "key columns are missing from the snapshot")
		} else if keyDups > 0 {
			violate("unique_keys", strings.Join(q.UniqueKeys, ","), "%d rows repeat a key of an earlier row", keyDups)
		}
		rep.UniqueKeys = uk
	}
	rep.DuplicateRows = float64(rowDups) / n
	if q.MaxDuplicateRows != nil && rep.DuplicateRows > *q.MaxDuplicateRows {
		violate("duplicate_rows", "", "%.4f of rows repeat an earlier row, expected at most %.4f", rep.DuplicateRows, *q.MaxDuplicateRows)
	}
	if f := q.Freshness; f != nil {
		maxAge, err := ParseAge(f.MaxAge)
		if err != nil {
			return nil, fmt.Errorf("%s: freshness: %w", name, err)
		}
		fr := &Freshness{Field: f.Field, MaxAgeSeconds: maxAge.Seconds()}
		switch {
		case freshIdx < 0:
			violate("freshness", f.Field, "freshness field is missing from the snapshot")
		case newest.IsZero():
			violate("freshness", f.Field, "no value parses as a timestamp (RFC 3339 or YYYY-MM-DD)")
		default:
			fr.Newest = newest.UTC().Format(time.RFC3339)
			fr.AgeSeconds = now.Sub(newest).Seconds()
			fr.Fresh = now.Sub(newest) <= maxAge
			if !fr.Fresh {
				violate("freshness", f.Field, "newest record %s is older than %s", fr.Newest, f.MaxAge)
			}
		}
		rep.Freshness = fr
	}
	return rep, nil
}

var intRe = regexp.MustCompile(`^[+-]?[0-9]+$`)

// TypeMismatch returns why a non-null value is not of a schema field type
// (#FieldType), or "".
func TypeMismatch(fieldType string, b []byte) string {
	_, _, msg := typed(fieldType, b)
	return msg
}

// typed parses b as fieldType: its number when the type is numeric, or why
// it is not of the type.
func typed(fieldType string, b []byte) (num float64, numeric bool, msg string) {
	switch fieldType {
	case "int":
		if !intRe.Match(b) {
			return 0, false, fmt.Sprintf("%q is not an int", b)
		}
		num, _ = table.ParseFloat(b)
		return num, true, ""
	case "float":
		v, ok := table.ParseFloat(b)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false, fmt.Sprintf("%q is not a finite float", b)
		}
		return v, true, ""
	case "bool":
		switch strings.ToLower(string(b)) {
		case "true", "false", "0", "1":
		default:
			return 0, false, fmt.Sprintf("%q is not a bool", b)
		}
	case "timestamp":
		if _, ok := parseTime(string(b)); !ok {
			return 0, false, fmt.Sprintf("%q is not a timestamp", b)
		}
	case "date":
		if _, err := time.Parse("2006-01-02", string(b)); err != nil {
			return 0, false, fmt.Sprintf("%q is not a date (YYYY-MM-DD)", b)
		}
	}
	return 0, false, ""
}

// check returns why a non-null value breaks the column's declaration, or "".
func (c *column) check(b []byte) string {
	f := c.field
	num, numeric, msg := typed(f.Type, b)
	if msg != "" {
		return msg
	}
	if c.allowed != nil {
		ok := c.allowed[string(b)]
		if !ok && numeric {
			for _, a := range c.allowedN {
				if a == num {
					ok = true
				}
			}
		}
		if !ok {
			return fmt.Sprintf("%q is not an allowed value", b)
		}
	}
	if f.Range != nil && numeric {
		if f.Range.Min != nil && num < *f.Range.Min {
			return fmt.Sprintf("%s is below the minimum %v", b, *f.Range.Min)
		}
		if f.Range.Max != nil && num > *f.Range.Max {
			return fmt.Sprintf("%s is above the maximum %v", b, *f.Range.Max)
		}
	}
	return ""
}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ParseAge reads the spec's durations: a number and s, m, h or d.
func ParseAge(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("duration %q: want a number and s, m, h or d", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("duration %q: want a number and s, m, h or d", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("duration %q: want a number and s, m, h or d", s)
	}
	return time.Duration(n) * unit, nil
}

// hash128 is two maphash hashes with independent seeds. Fields are
// length-prefixed so ("ab","c") and ("a","bc") differ.
type hash128 struct{ a, b maphash.Hash }

func (h *hash128) init() {
	h.a.SetSeed(maphash.MakeSeed())
	h.b.SetSeed(maphash.MakeSeed())
}

func (h *hash128) reset() { h.a.Reset(); h.b.Reset() }

func (h *hash128) write(p []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
	h.a.Write(n[:])
	h.a.Write(p)
	h.b.Write(n[:])
	h.b.Write(p)
}

func (h *hash128) sum() [2]uint64 { return [2]uint64{h.a.Sum64(), h.b.Sum64()} }

// repeats adds k to set and reports whether it was there already.
func repeats(set map[[2]uint64]struct{}, k [2]uint64) bool {
	if _, ok := set[k]; ok {
		return true
	}
	set[k] = struct{}{}
	return false
}

// keyOrder checks that the key columns strictly increase from row to row.
type keyOrder struct {
	// lex and short say the keys still strictly increase in byte order,
	// and in shorter-first order (integers without padding).
	lex, short bool
	// prev is the previous row's key, copied: a row's bytes only live
	// during its call.
	prev, cur [][]byte
}

// next sees the key (the columns at) of the next row and reports whether
// the keys still strictly increase in one of the two orders.
func (o *keyOrder) next(r *table.Row, at []int) bool {
	if o.prev == nil {
		o.prev, o.cur = make([][]byte, len(at)), make([][]byte, len(at))
		o.lex, o.short = true, true
		for i, c := range at {
			o.prev[i] = append(o.prev[i], r.Bytes(c)...)
		}
		return true
	}
	for i, c := range at {
		o.cur[i] = r.Bytes(c)
	}
	lex, short := KeyLess(o.prev, o.cur)
	o.lex, o.short = o.lex && lex, o.short && short
	for i := range at {
		o.prev[i] = append(o.prev[i][:0], o.cur[i]...)
	}
	return o.lex || o.short
}

// KeyLess reports whether key a sorts before key b, column by column, in
// byte order and in shorter-first order (integers without padding); one
// comparison of the bytes answers both. Keys that strictly increase in
// either order are unique.
func KeyLess(a, b [][]byte) (lex, short bool) {
	for i := range a {
		c := bytes.Compare(a[i], b[i])
		if c == 0 {
			continue
		}
		if len(a[i]) != len(b[i]) {
			return c < 0, len(a[i]) < len(b[i])
		}
		return c < 0, c < 0
	}
	return false, false
}
