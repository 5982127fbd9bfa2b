// Package jsonindent indents compact JSON as json.Indent does, byte for
// byte, but without its byte-at-a-time scanner: it skips through strings
// with IndexByte. The check result and the audit report are tens to
// hundreds of megabytes of JSON at 1,000 models, and json.Indent (also
// behind json.Encoder.SetIndent) took most of the time of writing them.
package jsonindent

import (
	"bytes"
	"strings"
)

// newlines is a line break and the indentation of the 64 shallowest
// depths, copied whole: appending the spaces one pair at a time was most
// of the cost of indenting a report of 100 MB of indentation.
var newlines = "\n" + strings.Repeat("  ", 64)

// Append appends compact JSON src to dst indented as json.Indent(dst,
// src, "", "  ") does, byte for byte (TestMatchesJSON). src must be what
// json.Marshal or a json.Encoder without indentation writes: valid, with
// no space outside strings.
func Append(dst, src []byte) []byte {
	var in Indenter
	return in.Append(dst, src)
}

// Indenter is Append over a document given in pieces, each of whole tokens
// (a piece never ends inside a string or a number, nor between an empty
// object's or array's brackets), so a large document is indented as it is
// encoded, without holding it whole. Depth is the nesting the next piece
// starts at: a value encoded on its own and written at depth d of a larger
// document starts at Depth d, as json.Indent with a prefix of 2d spaces.
type Indenter struct{ Depth int }

// Append appends the piece src to dst, indented.
func (in *Indenter) Append(dst, src []byte) []byte {
	depth := in.Depth
	defer func() { in.Depth = depth }()
	newline := func() {
		if n := 1 + 2*depth; n <= len(newlines) {
			dst = append(dst, newlines[:n]...)
			return
		}
		dst = append(dst, newlines...)
		for range depth - (len(newlines)-1)/2 {
			dst = append(dst, ' ', ' ')
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			// Copy the string through its closing quote.
			j := i + 1
			for {
				k := bytes.IndexAny(src[j:], `"\`)
				if k < 0 {
					j = len(src)
					break
				}
				j += k
				if src[j] == '\\' {
					j += 2
					continue
				}
				j++
				break
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			// A number, true, false or null: up to the next delimiter.
			j := i + 1
			for j < len(src) && !delim(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	return dst
}

func delim(c byte) bool {
	switch c {
	case ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}
