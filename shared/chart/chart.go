// Package chart draws the small time-series charts reports and the console
// show, with gonum.org/v1/plot: a trend line with an optional target and a
// sparkline. SVG is for pages served over HTTP; PNG for mail (Outlook and
// Gmail do not render inline SVG) and PDF. It knows nothing of tenants,
// metrics or stores: callers pass points.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format is an output format.
type Format string

// Formats.
const (
	SVG Format = "svg"
	PNG Format = "png"
)

// Point is one value at one time. A point that is not Known (the value
// could not be measured) breaks the line instead of drawing a zero.
type Point struct {
	At    time.Time
	Value float64
	Known bool
}

// Options shape a trend chart. Sizes are in CSS pixels (96 per inch).
type Options struct {
	Title string
	// Percent shows a 0..1 ratio as 0..100 %.
	Percent bool
	// Target, when set, is drawn as a dashed line.
	Target *float64
	Width  int // default 560
	Height int // default 200
	// TimeFormat labels the x axis (Go layout); default "Jan 06".
	TimeFormat string
}

// MaxPoints bounds one chart's input: a caller with more points has not
// reduced its series and would make an unreadable, slow chart.
const MaxPoints = 5000

// Limits on the canvas, so a caller's size cannot allocate unbounded
// memory.
const (
	minSide = 16
	maxSide = 2000
)

var (
	lineColor   = color.RGBA{R: 0x1f, G: 0x5f, B: 0xa8, A: 0xff}
	targetColor = color.RGBA{R: 0xc0, G: 0x39, B: 0x2b, A: 0xff}
)

// ErrTooManyPoints is returned for more than MaxPoints points.
var ErrTooManyPoints = errors.New("chart: too many points")

// Trend draws points as a line over time, with the target dashed, in f.
func Trend(points []Point, o Options, f Format) ([]byte, error) {
	if len(points) > MaxPoints {
		return nil, fmt.Errorf("%w (%d, at most %d)", ErrTooManyPoints, len(points), MaxPoints)
	}
	w, h := side(o.Width, 560), side(o.Height, 200)
	p := plot.New()
	p.Title.Text = o.Title
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.X.Tick.Label.Font.Size = vg.Points(7)
	p.Y.Tick.Label.Font.Size = vg.Points(7)
	tf := o.TimeFormat
	if tf == "" {
		tf = "Jan 06"
	}
	p.X.Tick.Marker = plot.TimeTicks{Format: tf}
	p.Add(plotter.NewGrid())
	scale := 1.0
	// The value axis starts at zero so a small change does not look like a
	// collapse; data below zero still widens it.
	p.Y.Min = 0
	if o.Percent {
		scale = 100
		p.Y.Min, p.Y.Max = 0, 100
		p.Y.Label.Text = "%"
	}
	segments := split(points, scale)
	known := 0
	for _, seg := range segments {
		known += len(seg)
		l, s, err := plotter.NewLinePoints(seg)
		if err != nil {
			return nil, fmt.Errorf("chart %q: %w", o.Title, err)
		}
		l.Color, l.Width = lineColor, vg.Points(1.5)
		s.Color, s.Radius, s.Shape = lineColor, vg.Points(1.5), draw.CircleGlyph{}
		p.Add(l, s)
	}
	if known == 0 {
		// An empty chart states so rather than drawing an axis at zero.
		p.Title.Text = o.Title + " (no measured values)"
		p.HideY()
	}
	if xys := targetLine(points, o.Target, scale); xys != nil {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("chart %q target: %w", o.Title, err)
		}
		l.Color, l.Dashes = targetColor, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add("target", l)
		p.Legend.Top = false
		p.Legend.TextStyle.Font.Size = vg.Points(7)
	}
	if len(points) == 1 {
		// A single point would give the axis no width.
		p.X.Min, p.X.Max = around(points[0].At)
	}
	return render(p, w, h, f)
}

// Sparkline draws points as a bare line, no axes or labels, for tables and
// tiles.
func Sparkline(points []Point, width, height int, f Format) ([]byte, error) {
	if len(points) > MaxPoints {
		return nil, fmt.Errorf("%w (%d, at most %d)", ErrTooManyPoints, len(points), MaxPoints)
	}
	p := plot.New()
	p.HideAxes()
	for _, seg := range split(points, 1) {
		l, err := plotter.NewLine(seg)
		if err != nil {
			return nil, fmt.Errorf("sparkline: %w", err)
		}
		l.Color, l.Width = lineColor, vg.Points(1.2)
		p.Add(l)
	}
	return render(p, side(width, 120), side(height, 28), f)
}

// split turns points into runs of known values, scaled; an unknown point
// ends a run. Points are taken in the order given.
func split(points []Point, scale float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for _, pt := range points {
		if !pt.Known || math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, plotter.XY{X: unix(pt.At), Y: pt.Value * scale})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// targetLine is the target drawn across the points' time span, scaled; nil
// without a target or points.
func targetLine(points []Point, target *float64, scale float64) plotter.XYs {
	if target == nil || math.IsNaN(*target) || len(points) == 0 {
		return nil
	}
	first, last := bounds(points)
	t := *target * scale
	return plotter.XYs{{X: unix(first), Y: t}, {X: unix(last), Y: t}}
}

// around is an x range of a day centred on t.
func around(t time.Time) (float64, float64) {
	x := unix(t)
	return x - 43200, x + 43200
}

func bounds(points []Point) (time.Time, time.Time) {
	first, last := points[0].At, points[0].At
	for _, p := range points[1:] {
		if p.At.Before(first) {
			first = p.At
		}
		if p.At.After(last) {
			last = p.At
		}
	}
	return first, last
}

func unix(t time.Time) float64 { return float64(t.Unix()) }

// side clamps a pixel size, defaulting a zero one.
func side(v, def int) int {
	if v == 0 {
		v = def
	}
	return min(max(v, minSide), maxSide)
}

// pxToPt converts CSS pixels to the points vg measures in.
func pxToPt(px int) vg.Length { return vg.Length(px) * vg.Inch / 96 }

func render(p *plot.Plot, w, h int, f Format) ([]byte, error) {
	var buf bytes.Buffer
	switch f {
	case SVG:
		c := vgsvg.New(pxToPt(w), pxToPt(h))
		p.Draw(draw.New(c))
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("write svg: %w", err)
		}
	case PNG:
		c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(pxToPt(w), pxToPt(h)), vgimg.UseDPI(96),
			vgimg.UseBackgroundColor(color.White))}
		p.Draw(draw.New(c))
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("write png: %w", err)
		}
	default:
		return nil, fmt.Errorf("chart: unknown format %q (svg or png)", f)
	}
	return buf.Bytes(), nil
}
