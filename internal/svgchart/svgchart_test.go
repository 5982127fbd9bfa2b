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

func TestLinesSVG(t *testing.T) {
	c := Lines{
		Title:     "PSI by run <&>",
		Labels:    []string{"11-01", "11-02", "11-03"},
		Threshold: ptr(0.2),
		Series: []Series{
			{Name: "income", Values: []*float64{ptr(0.01), ptr(0.02), ptr(0.03)}},
			{Name: "debt_ratio", Values: []*float64{ptr(0.05), nil, ptr(0.34)}},
		},
	}
	svg := c.SVG()
	if svg != c.SVG() {
		t.Fatal("SVG is not deterministic")
	}
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{"PSI by run &lt;&amp;&gt;", `class="point s1 breach" fill="#cf222e"`, "debt_ratio 11-03: 0.34", `d="M48 `} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q:\n%s", want, svg)
		}
	}
	// The undefined point breaks the line: debt_ratio's path has two moves.
	if !strings.Contains(svg, `<path d="M48 170.112 M590 54.762" class="series s1"`) {
		t.Errorf("debt_ratio line not broken at the gap:\n%s", svg)
	}
	if strings.Count(svg, "breach") != 1 {
		t.Errorf("want exactly one breach point:\n%s", svg)
	}
}
