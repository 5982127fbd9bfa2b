// Package table streams the rows of tabular evidence files (CSV, gzip CSV,
// JSON Lines and Parquet) with typed access to named columns. Rows are
// numbered from 1 and every error names the file, the row and the column,
// so a bad predictions file can be fixed without guessing.
package table

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/redact"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// Sentinel errors wrapped by *Error so callers can branch on the kind of
// problem.
var (
	ErrEmpty         = errors.New("empty file")
	ErrNoRows        = errors.New("no data rows")
	ErrMissingColumn = errors.New("column not found")
	ErrRagged        = errors.New("wrong number of fields")
	ErrNotNumber     = errors.New("not a number")
	ErrMissingValue  = errors.New("missing value")
	ErrFormat        = errors.New("unsupported file format")
	ErrSyntax        = errors.New("syntax error")
)

// Error is bad input at a place in a file. Row is the 1-based data row
// (0 for the header or the file as a whole); Line is the physical line for
// text formats (0 when unknown).
type Error struct {
	File   string
	Row    int64
	Line   int64
	Column string
	Err    error
}

// Error renders the place and the problem, as in: f.csv: row 3 (line 4), column "x": not a number.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Row > 0 && e.Line > 0:
		fmt.Fprintf(&b, ": row %d (line %d)", e.Row, e.Line)
	case e.Row > 0:
		fmt.Fprintf(&b, ": row %d", e.Row)
	case e.Line > 0:
		fmt.Fprintf(&b, ": header (line %d)", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", redact.Quote(e.Column))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the sentinel or underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Format is a file format Scan reads.
type Format string

// Formats Scan reads.
const (
	CSV     Format = "csv"
	CSVGzip Format = "csv.gz"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// DetectFormat chooses the format from the file name's extension.
func DetectFormat(path string) (Format, error) {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(name, ".csv.gz") || strings.HasSuffix(name, ".csv.gzip"):
		return CSVGzip, nil
	case strings.HasSuffix(name, ".csv"):
		return CSV, nil
	case strings.HasSuffix(name, ".jsonl") || strings.HasSuffix(name, ".ndjson"):
		return JSONL, nil
	case strings.HasSuffix(name, ".parquet") || strings.HasSuffix(name, ".pq"):
		return Parquet, nil
	}
	return "", &Error{File: path, Err: fmt.Errorf("%w: want .csv, .csv.gz, .jsonl, .ndjson or .parquet", ErrFormat)}
}

// Options select what Scan reads.
type Options struct {
	// Columns are the columns to read, in the order Row indexes them; nil
	// reads every column in file order.
	Columns []string
	// Workers is how many goroutines call the row function; 0 means one
	// per CPU. Only CSV is read in parallel.
	Workers int
	// Name is how errors name the file; the path when empty.
	Name string
	// NoDigest leaves Info.SHA256 empty, for a caller that checks the
	// file's digest elsewhere: hashing costs about a tenth of a scan.
	NoDigest bool
}

// Info describes a scanned file.
type Info struct {
	// Header is every column of the file, in file order.
	Header []string
	// Columns are the columns Row indexes.
	Columns []string
	// Rows is the number of data rows read.
	Rows int64
	// SHA256 is the "sha256:<hex>" digest of the file's bytes as stored.
	SHA256 string
	// Workers is the number of workers that called the row function.
	Workers int
}

// RowFunc is called once per row. Calls with the same worker index never
// overlap; calls with different indexes may. The row is only valid during
// the call.
type RowFunc func(worker int, r *Row) error

// Scan reads the table at path and calls fn for every data row. An empty
// file, a file without data rows, a missing column and a malformed row are
// errors of type *Error; the first error in file order wins and stops the
// scan.
func Scan(ctx context.Context, path string, opts Options, fn RowFunc) (Info, error) {
	if opts.Name == "" {
		opts.Name = path
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	format, err := DetectFormat(opts.Name)
	if err != nil {
		if format, err = DetectFormat(path); err != nil {
			return Info{}, err
		}
	}
	// A FIFO or device would block or never end: only regular files.
	f, err := safefile.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Info{}, &Error{File: opts.Name, Err: err}
	}
	defer f.Close()
	switch format {
	case CSV:
		return scanCSV(ctx, safefile.LimitReader(f, "", safefile.Evidence), false, opts, fn)
	case CSVGzip:
		return scanCSV(ctx, f, true, opts, fn)
	case JSONL:
		return scanJSONL(ctx, safefile.LimitReader(f, "", safefile.Evidence), opts, fn)
	default:
		return scanParquet(ctx, f, opts, fn)
	}
}

// scanDigest is the hash behind Info.SHA256, or nothing under NoDigest.
type scanDigest struct{ h hash.Hash }

func newDigest(opts Options) scanDigest {
	if opts.NoDigest {
		return scanDigest{}
	}
	return scanDigest{sha256.New()}
}

func (d scanDigest) Write(p []byte) (int, error) {
	if d.h != nil {
		d.h.Write(p)
	}
	return len(p), nil
}

func (d scanDigest) sum() string {
	if d.h == nil {
		return ""
	}
	return digest.Prefix + hex.EncodeToString(d.h.Sum(nil))
}

// project maps the header to the requested columns: idx[j] is the
// position in Columns of header column j, or -1.
func project(file string, header []string, want []string, line int64) ([]string, []int, error) {
	if want == nil {
		want = header
	}
	pos := make(map[string]int, len(header))
	for j, h := range header {
		if _, dup := pos[h]; dup {
			return nil, nil, &Error{File: file, Line: line, Column: h, Err: fmt.Errorf("%w: column appears twice in the header", ErrSyntax)}
		}
		pos[h] = j
	}
	idx := make([]int, len(header))
	for j := range idx {
		idx[j] = -1
	}
	for i, c := range want {
		j, ok := pos[c]
		if !ok {
			return nil, nil, &Error{File: file, Line: line, Column: c, Err: fmt.Errorf("%w (columns: %s)", ErrMissingColumn, redact.Clip(strings.Join(header, ", ")))}
		}
		idx[j] = i
	}
	return append([]string(nil), want...), idx, nil
}

// Row is one data row, restricted to the requested columns.
type Row struct {
	file   string
	num    int64
	line   int64
	names  []string
	fields [][]byte
	null   []bool
}

func newRow(file string, names []string) *Row {
	return &Row{file: file, names: names, fields: make([][]byte, len(names)), null: make([]bool, len(names))}
}

// Num is the row's 1-based number among the file's data rows.
func (r *Row) Num() int64 { return r.num }

// Line is the physical line the row starts on, or 0 for binary formats.
func (r *Row) Line() int64 { return r.line }

// Len is the number of columns.
func (r *Row) Len() int { return len(r.fields) }

// Name is the name of column i.
func (r *Row) Name(i int) string { return r.names[i] }

// Bytes is the text of column i; it is only valid during the row call.
func (r *Row) Bytes(i int) []byte { return r.fields[i] }

// String is the text of column i, copied.
func (r *Row) String(i int) string { return string(r.fields[i]) }

// IsNull reports whether column i holds no value: an empty CSV field, a
// JSON null or an absent key, a Parquet null.
func (r *Row) IsNull(i int) bool { return r.null[i] }

// Float parses column i as a finite number. NaN, infinities, empty and
// non-numeric values are errors naming the row and column.
func (r *Row) Float(i int) (float64, error) {
	if r.null[i] {
		return 0, r.Errorf(i, ErrMissingValue)
	}
	v, ok := ParseFloat(r.fields[i])
	if !ok {
		return 0, r.Errorf(i, fmt.Errorf("%w: %s", ErrNotNumber, redact.Quote(string(r.fields[i]))))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, r.Errorf(i, fmt.Errorf("%w: %s is not finite", ErrNotNumber, redact.Quote(string(r.fields[i]))))
	}
	return v, nil
}

// Errorf returns err located at column i of this row.
func (r *Row) Errorf(i int, err error) error {
	col := ""
	if i >= 0 && i < len(r.names) {
		col = r.names[i]
	}
	return &Error{File: r.file, Row: r.num, Line: r.line, Column: col, Err: err}
}

// ParseFloat parses a decimal number without allocating. Plain decimals
// of up to 15 significant digits take an exact fast path (the mantissa
// and the power of ten are both exact in a float64, so one correctly
// rounded division gives the correctly rounded result); everything else
// goes to strconv.
func ParseFloat(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i++
	}
	var mant uint64
	digits, nd, frac, sawDot, ok := 0, 0, 0, false, i < len(b)
	for ; i < len(b) && ok; i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			nd++
			if mant != 0 || c != '0' {
				digits++
			}
			mant = mant*10 + uint64(c-'0')
			if sawDot {
				frac++
			}
		case c == '.' && !sawDot:
			sawDot = true
		default:
			ok = false
		}
	}
	if ok && nd > 0 && digits <= 15 && frac <= 22 {
		v := float64(mant)
		if frac > 0 {
			v /= pow10[frac]
		}
		if neg {
			v = -v
		}
		return v, true
	}
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, true
		}
		return 0, false
	}
	return v, true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// EstimateRows guesses the number of rows of an uncompressed text file
// from its size and the line lengths of its first 64 KiB, so callers can
// size buffers once; 0 means no estimate.
func EstimateRows(path string) int64 {
	format, err := DetectFormat(path)
	if err != nil || (format != CSV && format != JSONL) {
		return 0
	}
	f, err := safefile.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	buf := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, buf)
	lines := bytes.Count(buf[:n], []byte{'\n'})
	if lines == 0 {
		return 0
	}
	return st.Size() / int64(max(1, n/lines))
}
