package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// symbolRune matches what needs an emoji or symbol font: arrows,
// technical symbols,
// dingbats, geometric shapes, emoji and their variation selector.
func symbolRune(r rune) bool {
	return (r >= 0x2190 && r <= 0x21FF) || (r >= 0x2300 && r <= 0x2BFF) || r >= 0x1F000 || r == 0xFE0F || unicode.Is(unicode.So, r)
}

// TestHTMLHasNoSymbolGlyphs: every mark of the HTML reports is an inline
// SVG icon; no character of them needs an emoji or symbol font, which a
// browser or its PDF may lack (the mark then prints as an empty box).
func TestHTMLHasNoSymbolGlyphs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no HTML goldens: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, r := range line {
				if symbolRune(r) {
					t.Errorf("%s:%d: %q (U+%04X) needs a symbol font: %.80s", f, i+1, r, r, line)
					break
				}
			}
		}
		if !strings.Contains(string(b), `<svg class="icon"`) {
			t.Errorf("%s has no icon", f)
		}
	}
	// Every mark the report writes becomes an icon.
	for _, m := range allMarks() {
		h := string(htmlMark(m))
		for _, r := range h {
			if symbolRune(r) {
				t.Errorf("htmlMark(%q) = %q keeps %q", m, h, r)
			}
		}
	}
}

// allMarks are the marks of every status, outcome, waiver state,
// verification and digest match.
func allMarks() []string {
	var out []string
	for _, s := range []string{StatusCovered, StatusException, StatusGap, StatusNotApplicable} {
		out = append(out, statusMark(s))
	}
	for _, o := range []string{"pass", "warn", "waived", "deny", "insufficient_evidence", "missing"} {
		out = append(out, outcomeMark(o))
	}
	for _, w := range []string{WaiverActive, WaiverExpiring, WaiverExpired, WaiverUnapproved} {
		out = append(out, waiverMark(w))
	}
	for _, m := range []string{matchOK, matchBundled, matchBlobMissing, matchBlobChanged, matchChanged, matchMissing} {
		out = append(out, matchMark(m))
	}
	return append(out, verifiedMark(true), verifiedMark(false), yesNo(false))
}

// TestIconsDrawn opens every mark of the report in real headless
// Chromium, with the report's own styles, and reads the screenshot: each
// mark's icon box has pixels of the mark's colour, so the icon was drawn
// (an emoji the fonts lack would leave an empty box or nothing).
func TestIconsDrawn(t *testing.T) {
	bin := findChromium(t)
	style := regexp.MustCompile(`(?s)<style>.*?</style>`).FindString(htmlTemplate)
	colours := map[string]string{"ok": "#1a7f37", "warn": "#9a6700", "bad": "#cf222e", "insufficient": "#8250df"}
	type cell struct {
		mark, class string
		x, y        int
	}
	var cells []cell
	var page strings.Builder
	page.WriteString("<!DOCTYPE html><html><head><meta charset=\"utf-8\">" + style +
		"<style>body{margin:0;padding:0;background:#fff;font-size:40px}.m{position:absolute;width:400px;height:60px;white-space:nowrap;overflow:hidden}</style></head><body>\n" + string(iconSprite) + "\n")
	n := 0
	for _, m := range allMarks() {
		h := string(htmlMark(m))
		class := regexp.MustCompile(`^<span class="([a-z]+)">`).FindStringSubmatch(h)
		if class == nil {
			continue // a plain word, no icon
		}
		c := cell{mark: m, class: class[1], x: 10 + 420*(n%3), y: 10 + 80*(n/3)}
		cells = append(cells, c)
		fmt.Fprintf(&page, `<div class="m" style="left:%dpx;top:%dpx">%s</div>`+"\n", c.x, c.y, h)
		n++
	}
	page.WriteString("</body></html>\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "marks.html")
	if err := os.WriteFile(file, []byte(page.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "marks.png")
	runChromium(t, bin, "--window-size=1300,800", "--hide-scrollbars", "--force-device-scale-factor=1", "--screenshot="+shot, "file://"+file)
	f, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cells {
		want := colours[c.class]
		// The icon is the first 1.05em (42 px) of the cell.
		box := image.Rect(c.x, c.y, c.x+46, c.y+56)
		if got := pixelsOf(img, box, want); got < 150 {
			t.Errorf("mark %q: %d pixel(s) of %s in its icon box %v, want an icon drawn (>= 150)", c.mark, got, want, box)
		}
	}
	t.Logf("screenshot %s: %d marks", shot, len(cells))
}

// pixelsOf counts the pixels within box whose colour is within a small
// distance of hex (#rrggbb).
func pixelsOf(img image.Image, box image.Rectangle, hex string) int {
	var wr, wg, wb int
	fmt.Sscanf(hex, "#%02x%02x%02x", &wr, &wg, &wb)
	n := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			d := abs8(int(r>>8)-wr) + abs8(int(g>>8)-wg) + abs8(int(b>>8)-wb)
			if d < 40 {
				n++
			}
		}
	}
	return n
}

func abs8(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestPDFWithoutChromium: without a Chromium on PATH, --format pdf fails
// at once and says what to install.
func TestPDFWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var out bytes.Buffer
	err := Render(context.Background(), &out, &Report{}, FormatPDF)
	if !errors.Is(err, ErrNoChromium) {
		t.Fatalf("Render pdf without chromium: %v, want ErrNoChromium", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %d bytes", out.Len())
	}
}
