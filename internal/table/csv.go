package table

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-ml/slipway/internal/safefile"
)

// blockSize is how much CSV one worker parses at a time: big enough that
// handing blocks over costs nothing, small enough to keep memory flat.
const blockSize = 1 << 20

// chunk is a run of whole CSV records.
type chunk struct {
	idx       int
	data      []byte
	firstRow  int64 // number of the chunk's first record
	firstLine int64
	quoted    bool // the chunk contains a '"' and needs the careful parser
}

// scanCSV reads CSV in blocks cut at record boundaries and parses the
// blocks on several workers. The splitter only looks for the last newline
// outside quotes, so it runs far ahead of the parsers.
func scanCSV(ctx context.Context, f io.Reader, gz bool, opts Options, fn RowFunc) (Info, error) {
	h := newDigest(opts)
	tee := io.TeeReader(f, h)
	src := tee
	if gz {
		// Decompressed bytes are capped in total and in ratio to the
		// compressed bytes read, so a gzip bomb stops early.
		in := &safefile.CountingReader{R: tee}
		zr, err := gzip.NewReader(in)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Info{}, &Error{File: opts.Name, Err: ErrEmpty}
			}
			return Info{}, &Error{File: opts.Name, Err: fmt.Errorf("%w: gzip: %v", ErrSyntax, err)}
		}
		defer zr.Close()
		src = safefile.Decompressed(zr, in, "")
	}
	sp := &splitter{r: src, line: 1}
	first, err := sp.next()
	if err != nil {
		return Info{}, &Error{File: opts.Name, Err: err}
	}
	if first == nil || len(bytes.TrimSpace(first.data)) == 0 {
		return Info{}, &Error{File: opts.Name, Err: fmt.Errorf("%w: no header row", ErrEmpty)}
	}
	// The header is the first record of the first chunk.
	var p csvParser
	headerLine := int64(1)
	var (
		rec   [][]byte
		rest  []byte
		lines int64
		perr  error
	)
	for {
		rec, rest, lines, perr = p.record(first.data)
		if perr != nil {
			return Info{}, &Error{File: opts.Name, Line: headerLine, Err: perr}
		}
		if len(rec) == 1 && len(rec[0]) == 0 && len(rest) > 0 {
			// Blank lines before the header are skipped and hold no row
			// number.
			first.data = rest
			headerLine += lines
			sp.row--
			continue
		}
		break
	}
	header := make([]string, len(rec))
	for i, b := range rec {
		header[i] = string(b)
	}
	if len(header) > 0 {
		header[0] = string(bytes.TrimPrefix([]byte(header[0]), []byte("\ufeff")))
	}
	for _, h := range header {
		// A file with CR-only line endings is one long line: without this
		// its "header" repeats values and fails as a duplicate column.
		if strings.ContainsRune(h, '\r') {
			return Info{}, &Error{File: opts.Name, Line: headerLine, Err: fmt.Errorf("%w: the file's lines end in a carriage return alone (classic Mac OS line endings); save it with LF or CRLF line endings", ErrSyntax)}
		}
	}
	names, idx, err := project(opts.Name, header, opts.Columns, headerLine)
	if err != nil {
		return Info{}, err
	}
	first.data = rest
	first.firstRow = 1
	first.firstLine = headerLine + lines

	rows, err := runChunks(ctx, sp, first, opts, func(w int) chunkParser {
		cp := &csvParser{file: opts.Name, width: len(header), idx: idx, header: header, row: newRow(opts.Name, names)}
		return func(c *chunk) (int64, error) { return cp.parse(c, w, fn) }
	})
	if err != nil {
		return Info{}, err
	}
	if rows == 0 {
		return Info{}, &Error{File: opts.Name, Err: fmt.Errorf("%w: the file has a header (line %d) and nothing else", ErrNoRows, headerLine)}
	}
	// Drain what the tee has not seen (a trailing gzip footer).
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Info{}, err
	}
	return Info{Header: header, Columns: names, Rows: rows, SHA256: h.sum(), Workers: opts.Workers}, nil
}

// chunkParser parses one chunk and returns the rows it delivered.
type chunkParser func(c *chunk) (int64, error)

// runChunks feeds first and every further chunk of sp to opts.Workers
// parsers. Chunk i always goes to worker i mod Workers, and each worker
// takes its chunks in file order, so what a worker accumulates (and the
// rounding of its floating-point sums) is the same on every run. The
// error of the earliest failing chunk wins; later chunks are skipped.
func runChunks(ctx context.Context, sp *splitter, first *chunk, opts Options, newParser func(w int) chunkParser) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make([]chan *chunk, opts.Workers)
	for w := range work {
		work[w] = make(chan *chunk, 2)
	}
	var (
		g       errgroup.Group
		rows    atomic.Int64
		errMu   sync.Mutex
		errIdx  = int(^uint(0) >> 1)
		firstEr error
		stopAt  atomic.Int64 // chunks after this index are skipped
	)
	stopAt.Store(int64(errIdx))
	fail := func(idx int, err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if idx < errIdx {
			errIdx, firstEr = idx, err
			stopAt.Store(int64(idx))
		}
	}
	for w := range work {
		parse := newParser(w)
		// Not g's first-error cancellation: the earliest chunk's error
		// must win, whichever worker meets its error first.
		g.Go(func() error {
			for c := range work[w] {
				if int64(c.idx) > stopAt.Load() || ctx.Err() != nil {
					sp.release(c)
					continue
				}
				n, err := parse(c)
				rows.Add(n)
				if err != nil {
					fail(c.idx, err)
				}
				sp.release(c)
			}
			return nil
		})
	}
	feed := func(c *chunk) bool {
		select {
		case work[c.idx%len(work)] <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var readErr error
	if feed(first) {
		for {
			if int64(sp.idx) > stopAt.Load() {
				break
			}
			c, err := sp.next()
			if err != nil {
				readErr = err
				break
			}
			if c == nil || !feed(c) {
				break
			}
		}
	}
	for _, ch := range work {
		close(ch)
	}
	_ = g.Wait() // errors go through fail
	if firstEr != nil {
		return 0, firstEr
	}
	if readErr != nil {
		if errors.Is(readErr, safefile.ErrTooLarge) {
			return 0, &Error{File: opts.Name, Err: readErr} // the file's, not a row's
		}
		return 0, &Error{File: opts.Name, Row: sp.row, Err: readErr}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return rows.Load(), nil
}

// rows is the number of record terminators in the chunk plus a final
// unterminated record, which is what row numbers count.
func (c *chunk) rows() int64 {
	if !c.quoted {
		n := int64(bytes.Count(c.data, []byte{'\n'}))
		if len(c.data) > 0 && c.data[len(c.data)-1] != '\n' {
			n++
		}
		return n
	}
	var n int64
	in := false
	for _, b := range c.data {
		switch b {
		case '"':
			in = !in
		case '\n':
			if !in {
				n++
			}
		}
	}
	if len(c.data) > 0 && c.data[len(c.data)-1] != '\n' {
		n++
	}
	return n
}

type splitter struct {
	r io.Reader
	// lines cuts at every newline: JSON Lines records never span lines,
	// and their quotes are not CSV quotes.
	lines bool
	buf   []byte // carried-over partial record
	eof   bool
	idx   int
	row   int64
	line  int64
	pool  sync.Pool
}

func (s *splitter) release(c *chunk) {
	b := c.data[:0]
	if cap(b) >= blockSize {
		s.pool.Put(&b)
	}
}

func (s *splitter) block() []byte {
	if p, ok := s.pool.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, blockSize+blockSize/4)
}

// next returns the next run of whole records, or nil at the end.
func (s *splitter) next() (*chunk, error) {
	if s.eof && len(s.buf) == 0 {
		return nil, nil
	}
	data := append(s.block(), s.buf...)
	s.buf = s.buf[:0]
	for {
		if !s.eof && len(data) < cap(data) {
			n, err := io.ReadFull(s.r, data[len(data):cap(data)])
			data = data[:len(data)+n]
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				s.eof = true
			} else if err != nil {
				return nil, err
			}
		}
		if s.eof {
			c := &chunk{idx: s.idx, data: data, quoted: !s.lines && bytes.IndexByte(data, '"') >= 0, firstRow: s.row, firstLine: s.line}
			s.advance(c)
			return c, nil
		}
		quoted := !s.lines && bytes.IndexByte(data, '"') >= 0
		cut := lastRecordEnd(data, quoted)
		if cut > 0 {
			s.buf = append(s.buf, data[cut:]...)
			c := &chunk{idx: s.idx, data: data[:cut], quoted: quoted, firstRow: s.row, firstLine: s.line}
			s.advance(c)
			return c, nil
		}
		// One record is longer than the block: grow and read on, up to
		// the row limit.
		if limit := safefile.Limit(safefile.Row); int64(len(data)) > limit {
			return nil, fmt.Errorf("row at line %d: %w", s.line, &safefile.LimitError{Kind: safefile.Row, Limit: limit})
		}
		grown := make([]byte, len(data), 2*cap(data))
		copy(grown, data)
		data = grown
	}
}

func (s *splitter) advance(c *chunk) {
	s.idx++
	s.row += c.rows()
	s.line += int64(bytes.Count(c.data, []byte{'\n'}))
}

// lastRecordEnd is the offset just past the last newline that is not
// inside a quoted field; data starts at a record boundary.
func lastRecordEnd(data []byte, quoted bool) int {
	if !quoted {
		return bytes.LastIndexByte(data, '\n') + 1
	}
	in, cut := false, 0
	for i, b := range data {
		switch b {
		case '"':
			in = !in
		case '\n':
			if !in {
				cut = i + 1
			}
		}
	}
	return cut
}

// csvParser splits records into fields (RFC 4180: comma separated, double
// quotes around fields that hold commas, quotes or newlines).
type csvParser struct {
	file    string
	width   int
	idx     []int // header position -> requested column, or -1
	header  []string
	row     *Row
	fields  [][]byte
	scratch []byte
}

func (p *csvParser) parse(c *chunk, w int, fn RowFunc) (int64, error) {
	data := c.data
	rowNum, line := c.firstRow, c.firstLine
	var n int64
	r := p.row
	for len(data) > 0 {
		var (
			rec   [][]byte
			lines int64
			err   error
		)
		if c.quoted {
			rec, data, lines, err = p.record(data)
			if err != nil {
				return n, &Error{File: p.file, Row: rowNum, Line: line, Err: err}
			}
		} else {
			end := bytes.IndexByte(data, '\n')
			var l []byte
			if end < 0 {
				l, data = data, nil
			} else {
				l, data = data[:end], data[end+1:]
				lines = 1
			}
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			rec = p.split(l)
		}
		if len(rec) == 1 && len(rec[0]) == 0 && p.width > 1 {
			// A blank line keeps its row number but holds no row.
			rowNum++
			line += lines
			continue
		}
		if len(rec) != p.width {
			col := ""
			if len(rec) < p.width {
				col = p.header[len(rec)]
			}
			return n, &Error{File: p.file, Row: rowNum, Line: line, Column: col, Err: fmt.Errorf("%w: %d fields, header has %d", ErrRagged, len(rec), p.width)}
		}
		for j, f := range rec {
			if k := p.idx[j]; k >= 0 {
				r.fields[k] = f
				r.null[k] = len(f) == 0
			}
		}
		r.num, r.line = rowNum, line
		if err := fn(w, r); err != nil {
			return n, err
		}
		n++
		rowNum++
		line += lines
	}
	return n, nil
}

// split cuts an unquoted line at commas.
func (p *csvParser) split(l []byte) [][]byte {
	f := p.fields[:0]
	for {
		i := bytes.IndexByte(l, ',')
		if i < 0 {
			f = append(f, l)
			break
		}
		f = append(f, l[:i])
		l = l[i+1:]
	}
	p.fields = f
	return f
}

// record parses one record that may hold quoted fields and returns the
// rest of data and the number of newlines consumed.
func (p *csvParser) record(data []byte) ([][]byte, []byte, int64, error) {
	f := p.fields[:0]
	p.scratch = p.scratch[:0]
	var lines int64
	i := 0
	for {
		if i < len(data) && data[i] == '"' {
			// Quoted field: copy into scratch, undoubling quotes.
			start := len(p.scratch)
			i++
			for {
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					return nil, nil, 0, fmt.Errorf("%w: quoted field is not closed", ErrSyntax)
				}
				lines += int64(bytes.Count(data[i:i+j], []byte{'\n'}))
				p.scratch = append(p.scratch, data[i:i+j]...)
				i += j + 1
				if i < len(data) && data[i] == '"' {
					p.scratch = append(p.scratch, '"')
					i++
					continue
				}
				break
			}
			f = append(f, p.scratch[start:len(p.scratch):len(p.scratch)])
			switch {
			case i >= len(data):
				p.fields = f
				return f, nil, lines, nil
			case data[i] == ',':
				i++
				continue
			case data[i] == '\n':
				p.fields = f
				return f, data[i+1:], lines + 1, nil
			case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
				p.fields = f
				return f, data[i+2:], lines + 1, nil
			case data[i] == '\r' && i+1 == len(data):
				p.fields = f
				return f, nil, lines, nil
			default:
				return nil, nil, 0, fmt.Errorf("%w: unexpected %q after a closing quote", ErrSyntax, data[i])
			}
		}
		// Unquoted field up to the next comma or newline.
		j := i
		for j < len(data) && data[j] != ',' && data[j] != '\n' {
			if data[j] == '"' {
				return nil, nil, 0, fmt.Errorf("%w: bare quote in an unquoted field", ErrSyntax)
			}
			j++
		}
		field := data[i:j]
		if j == len(data) || data[j] == '\n' {
			if len(field) > 0 && field[len(field)-1] == '\r' {
				field = field[:len(field)-1]
			}
			f = append(f, field)
			p.fields = f
			if j == len(data) {
				return f, nil, lines, nil
			}
			return f, data[j+1:], lines + 1, nil
		}
		f = append(f, field)
		i = j + 1
	}
}
