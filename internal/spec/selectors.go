package spec

import "strings"

// plainSelectors splits the paths the policies write, such as
// models."credit-default".handover.alerts[0].name, without CUE's parser:
// identifiers, double-quoted labels without escapes and list indexes,
// joined by dots. Finding positions parsed every finding's path with
// cue.ParsePath, a quarter of a second of a 2,000-unit check. Any other
// path reports false and is left to CUE's parser (TestPlainSelectors
// holds the two to the same answers).
func plainSelectors(path string) ([]string, bool) {
	var sels []string
	i := 0
	for i < len(path) {
		switch c := path[i]; {
		case c == '"':
			end := strings.IndexByte(path[i+1:], '"')
			if end < 0 {
				return nil, false
			}
			label := path[i+1 : i+1+end]
			if label == "" || strings.ContainsAny(label, "\\\n") {
				return nil, false
			}
			sels = append(sels, label)
			i += end + 2
		case c == '[':
			end := strings.IndexByte(path[i:], ']')
			if end < 2 || !digits(path[i+1:i+end]) || (end > 2 && path[i+1] == '0') {
				return nil, false
			}
			sels = append(sels, path[i:i+end+1])
			i += end + 1
		case identStart(c):
			j := i + 1
			for j < len(path) && identPart(path[j]) {
				j++
			}
			sels = append(sels, path[i:j])
			i = j
		default:
			return nil, false
		}
		// A selector ends the path, or is followed by a dot and another
		// selector, or by an index.
		switch {
		case i == len(path):
		case path[i] == '.' && i+1 < len(path) && path[i+1] != '[':
			i++
		case path[i] == '[':
		default:
			return nil, false
		}
	}
	return sels, len(sels) > 0
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// identStart and identPart are the ASCII letters of a CUE identifier
// that no keyword or definition marker can be mistaken for: a path with
// anything else, # and _ prefixes included, goes to CUE's parser.
func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func identPart(c byte) bool {
	return identStart(c) || c >= '0' && c <= '9' || c == '_'
}
