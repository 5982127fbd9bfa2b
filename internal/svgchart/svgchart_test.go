package svgchart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func ptr(v float64) *float64 { return &v }

func TestBarsSVG(t *testing.T) {
	c := Bars{
		Title:     "Selection rate by sex <&>",
		Threshold: ptr(0.2),
		Bars: []Bar{
			{Label: "F", Value: ptr(0.25), Low: ptr(0.2), High: ptr(0.3), Note: "n=100"},
			{Label: "M", Value: ptr(0.1), Low: ptr(0.05), High: ptr(0.15)},
			{Label: "X", Note: "too small"},
		},
	}
	svg := c.SVG()
	if svg != c.SVG() {
		t.Fatal("SVG is not deterministic")
	}
	// Well-formed XML, so browsers parse it inline without complaint.
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{
		`class="bar breach"`,    // M is under the threshold
		`class="threshold"`,     // the line
		`threshold 0.2`,         // its label
		`<g class="ci">`,        // whiskers
		`0.25 [0.2, 0.3] n=100`, // value with interval
		`n/a too small`,         // undefined value
		`&lt;&amp;&gt;`,         // escaped title
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Count(svg, `class="bar"`) != 1 {
		t.Errorf("want one bar above the threshold:\n%s", svg)
	}
}
