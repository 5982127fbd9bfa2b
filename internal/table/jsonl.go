package table

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// scanJSONL reads one JSON object per line. The first object's keys are
// the header (sorted, since objects have no order); a key missing from a
// later object is a null.
func scanJSONL(ctx context.Context, f io.Reader, opts Options, fn RowFunc) (Info, error) {
	h := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(f, h))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var (
		header []string
		names  []string
		idx    map[string]int
		r      *Row
		rowNum int64
		line   int64
		sawAny bool
	)
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		sawAny = true
		rowNum++
		if rowNum%4096 == 0 && ctx.Err() != nil {
			return Info{}, ctx.Err()
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
			msg := "not a JSON object"
			if err != nil {
				msg = err.Error()
			}
			return Info{}, &Error{File: opts.Name, Row: rowNum, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
		}
		if header == nil {
			header = make([]string, 0, len(obj))
			for k := range obj {
				header = append(header, k)
			}
			sort.Strings(header)
			var err error
			var pos []int
			if names, pos, err = project(opts.Name, header, opts.Columns, 0); err != nil {
				e := err.(*Error)
				e.Row, e.Line = rowNum, line
				return Info{}, e
			}
			idx = make(map[string]int, len(names))
			for j, k := range pos {
				if k >= 0 {
					idx[header[j]] = k
				}
			}
			r = newRow(opts.Name, names)
		}
		for k := range r.fields {
			r.fields[k], r.null[k] = nil, true
		}
		for key, raw := range obj {
			k, ok := idx[key]
			if !ok {
				continue
			}
			text, null, err := jsonText(raw)
			if err != nil {
				return Info{}, &Error{File: opts.Name, Row: rowNum, Line: line, Column: key, Err: err}
			}
			r.fields[k], r.null[k] = text, null
		}
		r.num, r.line = rowNum, line
		if err := fn(0, r); err != nil {
			return Info{}, err
		}
	}
	if err := sc.Err(); err != nil {
		return Info{}, &Error{File: opts.Name, Line: line + 1, Err: err}
	}
	if !sawAny {
		return Info{}, &Error{File: opts.Name, Err: fmt.Errorf("%w: no JSON objects", ErrEmpty)}
	}
	return Info{Header: header, Columns: names, Rows: rowNum, SHA256: "sha256:" + hex.EncodeToString(h.Sum(nil)), Workers: 1}, nil
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
