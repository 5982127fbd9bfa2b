package jsonindent

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestMatchesJSON keeps Append byte for byte equal to json.Indent, on
// edge cases and on a whole check result, and Indenter equal to
// json.Indent with a prefix when a value starts deeper.
func TestMatchesJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `""`, `0`, `{"a":[],"b":{},"c":[1,2.5e-7,-3],"d":null,"e":true,"f":false}`,
		`{"s":"a \"quoted\" {[,:]} \\ \u00e9 <tag> \\\"","t":["x",{"y":[{}]}]}`,
		`[[[]],[{"k":""}],"",0]`,
	}
	golden, err := os.ReadFile("../check/testdata/rejected.json")
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, golden); err != nil {
		t.Fatal(err)
	}
	// Deeper than the indentation Append copies whole.
	docs = append(docs, compact.String(), strings.Repeat(`[1,`, 70)+"2"+strings.Repeat("]", 70))
	for _, d := range docs {
		for depth := range 3 {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(d), strings.Repeat("  ", depth), "  "); err != nil {
				t.Fatalf("%s: %v", d, err)
			}
			in := Indenter{Depth: depth}
			if got := in.Append(nil, []byte(d)); string(got) != want.String() {
				t.Errorf("depth %d, %.60s…:\n%s\nwant:\n%s", depth, d, got, want.String())
			}
			if in.Depth != depth {
				t.Errorf("depth %d, %.60s…: the indenter ends at depth %d", depth, d, in.Depth)
			}
		}
	}
}

// TestPieces: a document given in pieces of whole tokens indents as the
// whole does.
func TestPieces(t *testing.T) {
	pieces := []string{`{"units":`, `[`, `{"a":[1,2]}`, `,`, `{"b":{}}`, `]`, `,"z":"}"}`}
	var in Indenter
	var got []byte
	for _, p := range pieces {
		got = in.Append(got, []byte(p))
	}
	var want bytes.Buffer
	if err := json.Indent(&want, []byte(strings.Join(pieces, "")), "", "  "); err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("got:\n%s\nwant:\n%s", got, want.String())
	}
}
