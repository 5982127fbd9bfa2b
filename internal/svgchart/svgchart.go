// Package svgchart draws small, self-contained SVG charts in Go for
// Slipway's HTML reports: no script, no external font or stylesheet, and
// the same bytes for the same data so reports stay reproducible.
package svgchart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Bar is one group's value with an optional confidence interval.
type Bar struct {
	Label string
	// Value is nil when the metric is undefined for the group; the bar is
	// then drawn as "n/a".
	Value *float64
	// Low and High bound the confidence interval; both or neither.
	Low, High *float64
	// Note is printed after the value, such as "n=412".
	Note string
}

// Bars is a horizontal bar chart with one bar per group, whiskers for
// confidence intervals and a threshold line.
type Bars struct {
	Title string
	Bars  []Bar
	// Threshold draws a dashed line at this value; bars below it are
	// drawn in the warning colour.
	Threshold      *float64
	ThresholdLabel string
	// Max is the axis maximum; 0 picks 1 for rates, or the largest value.
	Max float64
}

// Layout in user units; the SVG scales to its container through viewBox.
const (
	width      = 760
	labelWidth = 150
	valueWidth = 230
	rowHeight  = 26
	barHeight  = 14
	top        = 48
	bottom     = 30
)

// SVG renders the chart as an inline <svg> element.
func (c Bars) SVG() string {
	max := c.Max
	if max <= 0 {
		max = 1
		for _, b := range c.Bars {
			for _, v := range []*float64{b.Value, b.High} {
				if v != nil && *v > max {
					max = *v
				}
			}
		}
		if c.Threshold != nil && *c.Threshold > max {
			max = *c.Threshold
		}
	}
	plotW := float64(width - labelWidth - valueWidth)
	x := func(v float64) float64 { return labelWidth + plotW*math.Max(0, math.Min(v, max))/max }
	h := top + rowHeight*len(c.Bars) + bottom
	var b strings.Builder
	title := html.EscapeString(c.Title)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, width, h, width, h, title)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	fmt.Fprintf(&b, `<text x="0" y="16" class="chart-title">%s</text>`, title)
	// Axis with ticks at quarters of the range.
	axisY := top + rowHeight*len(c.Bars) + 4
	fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d" class="axis"/>`, f(x(0)), axisY, f(x(max)), axisY)
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d" class="grid"/>`, f(x(v)), top-4, f(x(v)), axisY)
		fmt.Fprintf(&b, `<text x="%s" y="%d" class="tick" text-anchor="middle">%s</text>`, f(x(v)), axisY+14, f(v))
	}
	for i, bar := range c.Bars {
		y := top + rowHeight*i
		cy := y + rowHeight/2
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="end">%s</text>`, labelWidth-8, cy+4, html.EscapeString(bar.Label))
		if bar.Value == nil {
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="value">n/a %s</text>`, labelWidth+4, cy+4, html.EscapeString(bar.Note))
			continue
		}
		class := "bar"
		if c.Threshold != nil && *bar.Value < *c.Threshold {
			class = "bar breach"
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%s" height="%d" class="%s"><title>%s: %s</title></rect>`,
			labelWidth, cy-barHeight/2, f(x(*bar.Value)-labelWidth), barHeight, class, html.EscapeString(bar.Label), f(*bar.Value))
		if bar.Low != nil && bar.High != nil {
			lo, hi := f(x(*bar.Low)), f(x(*bar.High))
			fmt.Fprintf(&b, `<g class="ci"><line x1="%s" y1="%d" x2="%s" y2="%d"/><line x1="%s" y1="%d" x2="%s" y2="%d"/><line x1="%s" y1="%d" x2="%s" y2="%d"/></g>`,
				lo, cy, hi, cy, lo, cy-5, lo, cy+5, hi, cy-5, hi, cy+5)
		}
		text := f(*bar.Value)
		if bar.Low != nil && bar.High != nil {
			text += " [" + f(*bar.Low) + ", " + f(*bar.High) + "]"
		}
		if bar.Note != "" {
			text += " " + bar.Note
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="value">%s</text>`, width-valueWidth+6, cy+4, html.EscapeString(text))
	}
	if c.Threshold != nil {
		tx := f(x(*c.Threshold))
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d" class="threshold"/>`, tx, top-8, tx, axisY)
		fmt.Fprintf(&b, `<text x="%s" y="%d" class="threshold-label" text-anchor="middle">threshold %s</text>`, tx, top-11, f(*c.Threshold))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// f formats a coordinate or value with at most three decimals.
func f(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}
