package svgchart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Series is one named line of a time series; Values line up with the
// chart's Labels, nil where the figure is undefined (the line breaks).
type Series struct {
	Name   string
	Values []*float64
}

// Lines is a time-series chart: one point per run, evenly spaced (runs
// follow a schedule, and an even spacing keeps a missed run visible as a
// label gap rather than hiding it in a long segment), a line per series
// and a threshold line.
type Lines struct {
	Title string
	// Labels name the points, such as each run's date.
	Labels []string
	Series []Series
	// Threshold draws a dashed line at this value; points beyond it (above
	// it, or below it with Below) are drawn as breaches.
	Threshold      *float64
	ThresholdLabel string
	Below          bool
}

// palette colours the series by presentation attributes, so the chart
// needs no stylesheet rule beyond the bar chart's.
var palette = []string{"#218bff", "#bf8700", "#8250df", "#1a7f37", "#bc4c00", "#57606a"}

const (
	linesHeight = 220
	legendWidth = 170
	axisWidth   = 48
)

// SVG renders the chart as an inline <svg> element.
func (c Lines) SVG() string {
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(v *float64) {
		if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
			lo, hi = math.Min(lo, *v), math.Max(hi, *v)
		}
	}
	for _, s := range c.Series {
		for _, v := range s.Values {
			see(v)
		}
	}
	see(c.Threshold)
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.05
	plotW := float64(width - axisWidth - legendWidth)
	plotH := float64(linesHeight - top - bottom)
	n := len(c.Labels)
	x := func(i int) float64 {
		if n <= 1 {
			return axisWidth + plotW/2
		}
		return axisWidth + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return top + plotH*(hi-v)/(hi-lo) }
	var b strings.Builder
	title := html.EscapeString(c.Title)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, width, linesHeight, width, linesHeight, title)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	fmt.Fprintf(&b, `<text x="0" y="16" class="chart-title">%s</text>`, title)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%s" y2="%s" class="grid"/>`, axisWidth, f(y(v)), f(axisWidth+plotW), f(y(v)))
		fmt.Fprintf(&b, `<text x="%d" y="%s" class="tick" text-anchor="end">%s</text>`, axisWidth-4, f(y(v)+4), f(v))
	}
	axisY := f(top + plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%s" y2="%s" class="axis"/>`, axisWidth, axisY, f(axisWidth+plotW), axisY)
	// At most six labels under the axis, always the first and the last.
	step := max(1, (n+5)/6)
	for i, l := range c.Labels {
		if i%step != 0 && i != n-1 {
			continue
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" class="tick" text-anchor="middle">%s</text>`, f(x(i)), f(top+plotH+16), html.EscapeString(l))
	}
	if c.Threshold != nil {
		ty := f(y(*c.Threshold))
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%s" y2="%s" class="threshold"/>`, axisWidth, ty, f(axisWidth+plotW), ty)
		label := c.ThresholdLabel
		if label == "" {
			label = "threshold " + f(*c.Threshold)
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" class="threshold-label" text-anchor="end">%s</text>`, f(axisWidth+plotW), f(y(*c.Threshold)-4), html.EscapeString(label))
	}
	for si, s := range c.Series {
		var path []string
		move := true
		for i, v := range s.Values {
			if i >= n || v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
				move = true
				continue
			}
			cmd := "L"
			if move {
				cmd, move = "M", false
			}
			path = append(path, cmd+f(x(i))+" "+f(y(*v)))
		}
		if len(path) > 0 {
			fmt.Fprintf(&b, `<path d="%s" class="series s%d" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(path, " "), si%6, palette[si%6])
		}
		for i, v := range s.Values {
			if i >= n || v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
				continue
			}
			class, fill, r := fmt.Sprintf("point s%d", si%6), palette[si%6], 3
			if c.Threshold != nil && ((!c.Below && *v > *c.Threshold) || (c.Below && *v < *c.Threshold)) {
				class, fill, r = class+" breach", "#cf222e", 5
			}
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%d" class="%s" fill="%s"><title>%s %s: %s</title></circle>`,
				f(x(i)), f(y(*v)), r, class, fill, html.EscapeString(s.Name), html.EscapeString(c.Labels[i]), f(*v))
		}
		ly := top + 16*si
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="series s%d" stroke="%s" stroke-width="2"/>`, width-legendWidth+10, ly, width-legendWidth+28, ly, si%6, palette[si%6])
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label">%s</text>`, width-legendWidth+34, ly+4, html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
