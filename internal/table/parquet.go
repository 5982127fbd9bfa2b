package table

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// checkParquetSize refuses a file whose column chunks declare more
// uncompressed bytes than the evidence limit allows, or more than the
// ratio limit times the file's size, before any page is decompressed.
func checkParquetSize(pf *parquet.File, size int64) error {
	l := safefile.Current()
	var total int64
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			total += max(c.MetaData.TotalUncompressedSize, 0)
		}
	}
	if total > l.Sizes[safefile.Evidence] {
		return &safefile.LimitError{Kind: safefile.Evidence, Limit: l.Sizes[safefile.Evidence]}
	}
	if total > 1<<20 && total > l.Ratio*size {
		return &safefile.LimitError{Kind: safefile.Evidence, Ratio: l.Ratio}
	}
	return nil
}

// scanParquet reads the flat top-level columns of a Parquet file and
// renders each value as the text a CSV would hold, so every format goes
// through the same typed accessors. Timestamps become RFC 3339 in UTC and
// dates YYYY-MM-DD.
func scanParquet(ctx context.Context, f *os.File, opts Options, fn RowFunc) (Info, error) {
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if st.Size() == 0 {
		return Info{}, &Error{File: opts.Name, Err: ErrEmpty}
	}
	sum, err := digest.File(f.Name())
	if err != nil {
		return Info{}, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return Info{}, &Error{File: opts.Name, Err: fmt.Errorf("%w: parquet: %v", ErrSyntax, err)}
	}
	if err := checkParquetSize(pf, st.Size()); err != nil {
		return Info{}, &Error{File: opts.Name, Err: err}
	}
	schema := pf.Schema()
	var (
		header []string
		kinds  []func([]byte, parquet.Value) []byte
	)
	for _, fld := range schema.Fields() {
		if !fld.Leaf() || fld.Repeated() {
			continue
		}
		header = append(header, fld.Name())
		kinds = append(kinds, render(fld.Type()))
	}
	names, idx, err := project(opts.Name, header, opts.Columns, 0)
	if err != nil {
		return Info{}, err
	}
	// Leaf column index of each header column.
	leaf := make([]int, len(header))
	for j, h := range header {
		lc, ok := schema.Lookup(h)
		if !ok {
			return Info{}, &Error{File: opts.Name, Column: h, Err: ErrMissingColumn}
		}
		leaf[j] = lc.ColumnIndex
	}
	col := map[int]int{} // leaf column -> header position
	for j, l := range leaf {
		col[l] = j
	}
	rd := parquet.NewReader(pf)
	defer rd.Close()
	r := newRow(opts.Name, names)
	bufs := make([][]byte, len(names))
	batch := make([]parquet.Row, 256)
	var rowNum int64
	for {
		if ctx.Err() != nil {
			return Info{}, ctx.Err()
		}
		n, err := rd.ReadRows(batch)
		for _, row := range batch[:n] {
			rowNum++
			for k := range r.fields {
				r.fields[k], r.null[k] = nil, true
			}
			for _, v := range row {
				j, ok := col[v.Column()]
				if !ok {
					continue
				}
				k := idx[j]
				if k < 0 || v.IsNull() {
					continue
				}
				bufs[k] = kinds[j](bufs[k][:0], v)
				r.fields[k], r.null[k] = bufs[k], false
			}
			r.num = rowNum
			if err := fn(0, r); err != nil {
				return Info{}, err
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Info{}, &Error{File: opts.Name, Row: rowNum + 1, Err: fmt.Errorf("%w: parquet: %v", ErrSyntax, err)}
		}
	}
	if rowNum == 0 {
		return Info{}, &Error{File: opts.Name, Err: fmt.Errorf("%w: the file has a schema and no rows", ErrNoRows)}
	}
	return Info{Header: header, Columns: names, Rows: rowNum, SHA256: sum, Workers: 1}, nil
}

// render chooses how values of a column type become text.
func render(t parquet.Type) func([]byte, parquet.Value) []byte {
	if lt := t.LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.TimestampType:
			unit := time.Millisecond
			switch v.Unit.Value.(type) {
			case *format.MicroSeconds:
				unit = time.Microsecond
			case *format.NanoSeconds:
				unit = time.Nanosecond
			}
			return func(b []byte, x parquet.Value) []byte {
				ts := time.Unix(0, 0).Add(time.Duration(x.Int64()) * unit).UTC()
				return ts.AppendFormat(b, time.RFC3339Nano)
			}
		case *format.DateType:
			return func(b []byte, x parquet.Value) []byte {
				return time.Unix(int64(x.Int32())*86400, 0).UTC().AppendFormat(b, "2006-01-02")
			}
		}
	}
	switch t.Kind() {
	case parquet.Boolean:
		return func(b []byte, x parquet.Value) []byte { return strconv.AppendBool(b, x.Boolean()) }
	case parquet.Int32:
		return func(b []byte, x parquet.Value) []byte { return strconv.AppendInt(b, int64(x.Int32()), 10) }
	case parquet.Int64:
		return func(b []byte, x parquet.Value) []byte { return strconv.AppendInt(b, x.Int64(), 10) }
	case parquet.Float:
		return func(b []byte, x parquet.Value) []byte { return strconv.AppendFloat(b, float64(x.Float()), 'g', -1, 32) }
	case parquet.Double:
		return func(b []byte, x parquet.Value) []byte { return strconv.AppendFloat(b, x.Double(), 'g', -1, 64) }
	default:
		return func(b []byte, x parquet.Value) []byte { return append(b, x.ByteArray()...) }
	}
}
