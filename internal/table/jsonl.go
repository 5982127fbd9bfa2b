package table

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"
)

// scanJSONL reads one JSON object per line, in blocks cut at newlines and
// parsed on several workers like CSV. The first object's keys are the
// header (sorted, since objects have no order); a key missing from a later
// object is a null. Rows are numbered by line; blank lines hold no row.
func scanJSONL(ctx context.Context, f io.Reader, opts Options, fn RowFunc) (Info, error) {
	h := newDigest(opts)
	tee := io.TeeReader(f, h)
	sp := &splitter{r: tee, row: 1, line: 1, lines: true}
	first, err := sp.next()
	if err != nil {
		return Info{}, &Error{File: opts.Name, Err: err}
	}
	// The header comes from the first object.
	var (
		header []string
		line   = first.firstLine
		data   = first.data
	)
	for len(data) > 0 && header == nil {
		end := bytes.IndexByte(data, '\n')
		l := data
		if end >= 0 {
			l = data[:end]
		}
		if t := bytes.TrimSpace(l); len(t) > 0 {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(t, &obj); err != nil || obj == nil {
				return Info{}, &Error{File: opts.Name, Row: line, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, jsonMessage(err))}
			}
			header = make([]string, 0, len(obj))
			for k := range obj {
				header = append(header, k)
			}
			sort.Strings(header)
			break
		}
		if end < 0 {
			break
		}
		data = data[end+1:]
		line++
	}
	if header == nil {
		return Info{}, &Error{File: opts.Name, Err: fmt.Errorf("%w: no JSON objects", ErrEmpty)}
	}
	names, pos, err := project(opts.Name, header, opts.Columns, 0)
	if err != nil {
		e := err.(*Error)
		e.Row, e.Line = line, line
		return Info{}, e
	}
	idx := make(map[string]int, len(names))
	for j, k := range pos {
		if k >= 0 {
			idx[header[j]] = k
		}
	}
	rows, err := runChunks(ctx, sp, first, opts, func(w int) chunkParser {
		p := &jsonlParser{file: opts.Name, idx: idx, row: newRow(opts.Name, names)}
		return func(c *chunk) (int64, error) { return p.parse(c, w, fn) }
	})
	if err != nil {
		return Info{}, err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Info{}, err
	}
	return Info{Header: header, Columns: names, Rows: rows, SHA256: h.sum(), Workers: opts.Workers}, nil
}

func jsonMessage(err error) string {
	if err == nil {
		return "not a JSON object"
	}
	return err.Error()
}

type jsonlParser struct {
	file string
	idx  map[string]int
	row  *Row
	// keys are the current line's keys, for flat's duplicate check.
	keys [][]byte
}

func (p *jsonlParser) parse(c *chunk, w int, fn RowFunc) (int64, error) {
	data := c.data
	line := c.firstLine
	var n int64
	r := p.row
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		var l []byte
		if end < 0 {
			l, data = data, nil
		} else {
			l, data = data[:end], data[end+1:]
		}
		cur := line
		line++
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		for k := range r.fields {
			r.fields[k], r.null[k] = nil, true
		}
		if !p.flat(l) {
			if err := p.general(l); err != nil {
				err.Row, err.Line = cur, cur
				return n, err
			}
		}
		r.num, r.line = cur, cur
		if err := fn(w, r); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// general parses a line with encoding/json: objects with nested values or
// escaped strings, and every malformed line (for its error message).
func (p *jsonlParser) general(l []byte) *Error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(l, &obj); err != nil || obj == nil {
		return &Error{File: p.file, Err: fmt.Errorf("%w: %s", ErrSyntax, jsonMessage(err))}
	}
	if key, dup := duplicateKey(l); dup {
		// encoding/json keeps the last value without a word.
		return &Error{File: p.file, Column: key, Err: fmt.Errorf("%w: key appears twice in the object", ErrSyntax)}
	}
	r := p.row
	for key, raw := range obj {
		k, ok := p.idx[key]
		if !ok {
			continue
		}
		text, null, err := jsonText(raw)
		if err != nil {
			return &Error{File: p.file, Column: key, Err: err}
		}
		r.fields[k], r.null[k] = text, null
	}
	return nil
}

// duplicateKey returns the first top-level key of a valid JSON object
// that appears twice.
func duplicateKey(l []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(l))
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return "", false
		}
		if seen[key] {
			return key, true
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}

// flat parses the common line without allocating: an object whose keys
// and string values have no escapes and whose values are strings,
// numbers, true, false or null. It returns false for anything else,
// which general then parses (or rejects).
func (p *jsonlParser) flat(b []byte) bool {
	r := p.row
	p.keys = p.keys[:0]
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			return false
		}
		key := b[i+1 : i+1+j]
		if !plainString(key) {
			return false
		}
		// A repeated key goes to general, which reports it.
		for _, k := range p.keys {
			if bytes.Equal(k, key) {
				return false
			}
		}
		p.keys = append(p.keys, key)
		i = skipSpace(b, i+j+2)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return false
		}
		var (
			val  []byte
			null bool
		)
		switch c := b[i]; {
		case c == '"':
			j := bytes.IndexByte(b[i+1:], '"')
			if j < 0 {
				return false
			}
			val = b[i+1 : i+1+j]
			if !plainString(val) {
				return false
			}
			i += j + 2
		case c == 't' && bytes.HasPrefix(b[i:], []byte("true")):
			val, i = b[i:i+4], i+4
		case c == 'f' && bytes.HasPrefix(b[i:], []byte("false")):
			val, i = b[i:i+5], i+5
		case c == 'n' && bytes.HasPrefix(b[i:], []byte("null")):
			null, i = true, i+4
		case c == '-' || (c >= '0' && c <= '9'):
			j := jsonNumberEnd(b, i)
			if j < 0 {
				return false
			}
			val, i = b[i:j], j
		default:
			return false
		}
		if k, ok := p.idx[string(key)]; ok {
			r.fields[k], r.null[k] = val, null
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
			continue
		case '}':
			return skipSpace(b, i+1) == len(b)
		}
		return false
	}
}

// plainString reports whether a JSON string's content means itself: no
// escapes, no control characters, valid UTF-8 (encoding/json replaces
// invalid bytes).
func plainString(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// jsonNumberEnd returns the end of the JSON number starting at i, or -1
// when the text there is not one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumberEnd(b []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	if i < len(b) && !(b[i] == ',' || b[i] == '}' || b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		return -1
	}
	return i
}

// jsonText turns a JSON value into the text a CSV field would hold.
func jsonText(raw json.RawMessage) ([]byte, bool, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, true, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		return []byte(s), false, nil
	default:
		return raw, false, nil
	}
}
