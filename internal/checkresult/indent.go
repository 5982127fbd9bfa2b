package checkresult

import "bytes"

// indent appends compact JSON src to dst indented as json.Indent(dst,
// src, "", "  ") does, byte for byte (TestIndentMatchesJSON). A check
// result of 1,000 models is tens of megabytes, and json.Indent's
// byte-at-a-time scanner took most of the time of writing it; this skips
// through strings with IndexByte. src must be what json.Marshal writes:
// valid, with no space outside strings.
func indent(dst, src []byte) []byte {
	var in indenter
	return in.append(dst, src)
}

// indenter is indent over a document given in pieces, each of whole tokens
// (a piece never ends inside a string or a number, nor between an empty
// object's or array's brackets): a result is indented as it is encoded,
// unit by unit, without holding it whole.
type indenter struct{ depth int }

func (in *indenter) append(dst, src []byte) []byte {
	depth := in.depth
	defer func() { in.depth = depth }()
	newline := func() {
		dst = append(dst, '\n')
		for range depth {
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
