package report

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// pdfTexts reads back the text of a PDF Chromium printed, enough for a
// test to look for words: every Flate stream is inflated; the fonts'
// ToUnicode maps (bfchar and bfrange) turn the two-byte glyph codes of the
// text objects back into characters. Each content stream is decoded with
// each map, since which font a run uses is not tracked; a test looks for a
// phrase in any of the decodings.
func pdfTexts(pdf []byte) []string {
	var streams [][]byte
	start := regexp.MustCompile(`stream\r?\n`)
	for _, loc := range start.FindAllIndex(pdf, -1) {
		end := bytes.Index(pdf[loc[1]:], []byte("endstream"))
		if end < 0 {
			continue
		}
		r, err := zlib.NewReader(bytes.NewReader(pdf[loc[1] : loc[1]+end]))
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(r)
		streams = append(streams, b)
	}
	pair := regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
	triple := regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
	block := func(s []byte, name string) [][]byte {
		return regexp.MustCompile(`(?s)begin`+name+`(.*?)end`+name).FindAll(s, -1)
	}
	var maps []map[uint64]string
	for _, s := range streams {
		if !bytes.Contains(s, []byte("beginbf")) {
			continue
		}
		m := map[uint64]string{}
		for _, blk := range block(s, "bfrange") {
			for _, x := range triple.FindAllSubmatch(blk, -1) {
				lo, _ := strconv.ParseUint(string(x[1]), 16, 32)
				hi, _ := strconv.ParseUint(string(x[2]), 16, 32)
				base, _ := strconv.ParseUint(string(x[3]), 16, 32)
				for g := lo; g <= hi && g-lo < 1<<16; g++ {
					m[g] = string(rune(base + g - lo))
				}
			}
		}
		for _, blk := range block(s, "bfchar") {
			for _, x := range pair.FindAllSubmatch(blk, -1) {
				g, _ := strconv.ParseUint(string(x[1]), 16, 32)
				u, err := hex.DecodeString(string(x[2]))
				if err != nil || len(u)%2 != 0 {
					continue
				}
				units := make([]uint16, len(u)/2)
				for i := range units {
					units[i] = uint16(u[2*i])<<8 | uint16(u[2*i+1])
				}
				m[g] = string(utf16.Decode(units))
			}
		}
		maps = append(maps, m)
	}
	glyphs := regexp.MustCompile(`<([0-9A-Fa-f]{4,})>`)
	var out []string
	for _, s := range streams {
		if !bytes.Contains(s, []byte("BT")) || bytes.Contains(s, []byte("beginbf")) {
			continue
		}
		runs := glyphs.FindAllSubmatch(s, -1)
		for _, m := range maps {
			var b strings.Builder
			for _, r := range runs {
				h := r[1]
				for i := 0; i+4 <= len(h); i += 4 {
					g, _ := strconv.ParseUint(string(h[i:i+4]), 16, 32)
					b.WriteString(m[g])
				}
			}
			out = append(out, b.String())
		}
	}
	return out
}

// pdfHas reports whether a decoding of some page holds phrase.
func pdfHas(texts []string, phrase string) bool {
	for _, t := range texts {
		if strings.Contains(t, phrase) {
			return true
		}
	}
	return false
}
