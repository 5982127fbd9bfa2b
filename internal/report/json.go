package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"

	"github.com/slipway-ml/slipway/internal/jsonindent"
)

// JSON writes the report as indented JSON following
// docs/report-schema.json: the bytes one json.Encoder with two-space
// indentation and no HTML escaping writes for the whole report, but
// written member by member and the elements of its lists one by one, a
// few at a time on every CPU. Encoding the whole report at once built it
// in one buffer and indented it into another (242 MiB at 1,000 models and
// 10,000 releases), and growing and copying those buffers cost more than
// the encoding itself.
func (r *Report) JSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	v := reflect.ValueOf(r).Elem()
	t := v.Type()
	bw.WriteString("{")
	first := true
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if !first {
			bw.WriteString(",")
		}
		first = false
		key, err := json.Marshal(name)
		if err != nil {
			return err
		}
		bw.WriteString("\n  ")
		bw.Write(key)
		bw.WriteString(": ")
		if err := writeJSONValue(bw, v.Field(i)); err != nil {
			return err
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// writeJSONValue writes a member of the report at depth one: a non-empty
// list element by element, anything else whole.
func writeJSONValue(w *bufio.Writer, v reflect.Value) error {
	if v.Kind() != reflect.Slice || v.Len() == 0 {
		e := newIndenter(1)
		if err := e.encode(v.Interface()); err != nil {
			return err
		}
		_, err := w.Write(e.bytes())
		return err
	}
	w.WriteString("[")
	// Each slot keeps its encoder, whose buffers then grow once.
	slots := make([]*indenter, renderSlots(v.Len()))
	for i := range slots {
		slots[i] = newIndenter(2)
	}
	err := inOrder(v.Len(), len(slots), func(s, i int) error {
		return slots[s].encode(v.Index(i).Interface())
	}, func(s, i int) error {
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n    ")
		_, err := w.Write(slots[s].bytes())
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.WriteString("\n  ]")
	return err
}

// indenter encodes values as the report's encoder writes them at the
// depth given: compactly, then indented by jsonindent, which gives
// json.Encoder.SetIndent's bytes without its byte-at-a-time indenter.
type indenter struct {
	depth int
	buf   bytes.Buffer
	enc   *json.Encoder
	out   []byte
}

func newIndenter(depth int) *indenter {
	e := &indenter{depth: depth}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

func (e *indenter) encode(v any) error {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	in := jsonindent.Indenter{Depth: e.depth}
	e.out = in.Append(e.out[:0], bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
	return nil
}

// bytes is the last value encoded.
func (e *indenter) bytes() []byte { return e.out }
