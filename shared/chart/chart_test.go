package chart

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func months(vals ...float64) []Point {
	out := make([]Point, len(vals))
	for i, v := range vals {
		out[i] = Point{At: time.Date(2026, time.Month(i+1), 1, 0, 0, 0, 0, time.UTC), Value: v, Known: v >= 0}
	}
	return out
}

func TestTrend(t *testing.T) {
	target := 0.9
	cases := []struct {
		name   string
		points []Point
		opts   Options
	}{
		{"a year of ratios draws with its target", months(0.6, 0.65, 0.7, -1, 0.8, 0.82, 0.85, 0.86, 0.9, 0.91, 0.93, 0.95), Options{Title: "MFA coverage", Percent: true, Target: &target}},
		{"one point still draws", months(0.5), Options{Title: "one"}},
		{"no points draws an empty chart", nil, Options{Title: "none"}},
		{"only unknown points draws an empty chart", months(-1, -1), Options{Title: "unknown"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svg, err := Trend(tc.points, tc.opts, SVG)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(bytes.TrimSpace(svg), []byte("<?xml")) || bytes.Contains(svg[:200], []byte("<svg")), "svg output")
			require.Contains(t, string(svg), "</svg>")
			b, err := Trend(tc.points, tc.opts, PNG)
			require.NoError(t, err)
			img, err := png.Decode(bytes.NewReader(b))
			require.NoError(t, err)
			require.Equal(t, 560, img.Bounds().Dx())
			require.Equal(t, 200, img.Bounds().Dy())
			if os.Getenv("CHART_OUT") != "" {
				require.NoError(t, os.WriteFile(os.Getenv("CHART_OUT")+"/"+strings.ReplaceAll(tc.name, " ", "_")+".png", b, 0o644))
			}
		})
	}
}

func TestTrendMarksNoValues(t *testing.T) {
	svg, err := Trend(months(-1), Options{Title: "x"}, SVG)
	require.NoError(t, err)
	require.Contains(t, string(svg), "no measured values")
	svg, err = Trend(months(0.5), Options{Title: "x"}, SVG)
	require.NoError(t, err)
	require.NotContains(t, string(svg), "no measured values")
}

func TestSplitBreaksAtUnknown(t *testing.T) {
	segs := split(months(0.1, 0.2, -1, 0.4), 100)
	require.Len(t, segs, 2)
	require.Len(t, segs[0], 2)
	require.InDelta(t, 20, segs[0][1].Y, 1e-9)
	require.Len(t, segs[1], 1)
	require.InDelta(t, 40, segs[1][0].Y, 1e-9)
}

func TestSizesAreClamped(t *testing.T) {
	require.Equal(t, 560, side(0, 560))
	require.Equal(t, minSide, side(1, 560))
	require.Equal(t, maxSide, side(1e9, 560))
	require.Equal(t, 300, side(300, 560))
}

func TestSparkline(t *testing.T) {
	b, err := Sparkline(months(0.1, 0.3, 0.2), 120, 30, PNG)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, 120, img.Bounds().Dx())
	require.Equal(t, 30, img.Bounds().Dy())
	svg, err := Sparkline(months(0.1, 0.3), 0, 0, SVG)
	require.NoError(t, err)
	require.Contains(t, string(svg), "<svg")
}

func TestRefusals(t *testing.T) {
	_, err := Trend(make([]Point, MaxPoints+1), Options{}, SVG)
	require.ErrorIs(t, err, ErrTooManyPoints)
	_, err = Sparkline(make([]Point, MaxPoints+1), 0, 0, SVG)
	require.ErrorIs(t, err, ErrTooManyPoints)
	_, err = Trend(months(0.5), Options{}, Format("gif"))
	require.ErrorContains(t, err, "unknown format")
}

func TestTargetLine(t *testing.T) {
	target := 0.9
	pts := months(0.5, 0.6, 0.7)
	xys := targetLine(pts, &target, 100)
	require.Len(t, xys, 2)
	require.InDelta(t, 90, xys[0].Y, 1e-9, "the target is scaled like the values")
	require.InDelta(t, 90, xys[1].Y, 1e-9)
	require.Equal(t, unix(pts[0].At), xys[0].X, "it spans the first point")
	require.Equal(t, unix(pts[2].At), xys[1].X, "to the last")
	unordered := []Point{pts[2], pts[0], pts[1]}
	xys = targetLine(unordered, &target, 1)
	require.Equal(t, unix(pts[0].At), xys[0].X, "whatever the order of the points")
	require.Equal(t, unix(pts[2].At), xys[1].X)
	require.Nil(t, targetLine(pts, nil, 1), "no target, no line")
	require.Nil(t, targetLine(nil, &target, 1), "no points, no line")
	nan := math.NaN()
	require.Nil(t, targetLine(pts, &nan, 1))
	svg, err := Trend(nil, Options{Target: &target}, SVG)
	require.NoError(t, err, "a target over no points does not fail")
	require.NotContains(t, string(svg), ">target<")
	svg, err = Trend(pts, Options{Target: &target}, SVG)
	require.NoError(t, err)
	require.Contains(t, string(svg), "target", "the target is in the legend")
}

func TestAround(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lo, hi := around(at)
	require.Equal(t, float64(at.Unix()-43200), lo)
	require.Equal(t, float64(at.Unix()+43200), hi)
}

func TestTimeFormat(t *testing.T) {
	svg, err := Trend(months(0.1, 0.2, 0.3, 0.4, 0.5), Options{}, SVG)
	require.NoError(t, err)
	require.Regexp(t, `>(Jan|Feb|Mar|Apr|May) 26<`, string(svg), "the default labels are month and year")
	svg, err = Trend(months(0.1, 0.2, 0.3, 0.4, 0.5), Options{TimeFormat: "2006/01"}, SVG)
	require.NoError(t, err)
	require.Contains(t, string(svg), ">2026/0", "a given layout is used")
}

func TestPointLimitIsInclusive(t *testing.T) {
	pts := make([]Point, MaxPoints)
	for i := range pts {
		pts[i] = Point{At: time.Unix(int64(i)*3600, 0), Value: 1, Known: true}
	}
	_, err := Trend(pts, Options{}, PNG)
	require.NoError(t, err, "exactly MaxPoints is accepted")
	_, err = Sparkline(pts, 0, 0, PNG)
	require.NoError(t, err)
}

func TestSplitSkipsEmptyRuns(t *testing.T) {
	require.Len(t, split(months(-1, 0.2, -1, -1), 1), 1, "unknown points at either end make no empty run")
	require.Empty(t, split(months(-1), 1))
	require.Empty(t, split([]Point{{Value: math.Inf(1), Known: true}}, 1), "an infinite value is not drawn")
}
