package console

import (
	"fmt"
	"html/template"
	"strings"
)

// Sparkline dimensions, in CSS pixels.
const (
	sparkWidth  = 120
	sparkHeight = 28
	sparkPad    = 2
)

// Sparkline draws values (oldest first) as a small inline SVG line, empty
// when there are fewer than two points. It writes numbers only, never tenant
// text, which is why returning template.HTML is safe. The reports' chart
// package may replace it behind this one signature.
func Sparkline(values []float64) template.HTML {
	if len(values) < 2 {
		return ""
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	span := hi - lo
	var pts strings.Builder
	for i, v := range values {
		x := sparkPad + float64(i)*float64(sparkWidth-2*sparkPad)/float64(len(values)-1)
		y := float64(sparkHeight) / 2
		if span > 0 {
			y = sparkPad + (hi-v)/span*float64(sparkHeight-2*sparkPad)
		}
		if i > 0 {
			pts.WriteByte(' ')
		}
		fmt.Fprintf(&pts, "%.1f,%.1f", x, y)
	}
	return template.HTML(fmt.Sprintf(`<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="trend over %d measurements"><polyline points="%s"/></svg>`,
		sparkWidth, sparkHeight, sparkWidth, sparkHeight, len(values), pts.String()))
}
