package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/vanng822/go-premailer/premailer"

	"m365security/shared/chart"
	"m365security/shared/controls"
	"m365security/shared/posture"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// MaxRows bounds each list in HTML and PDF; the CSV and JSON carry all.
const MaxRows = 50

var funcs = template.FuncMap{
	"metric":      FormatMetric,
	"short":       ShortMetric,
	"plural":      Plural,
	"change":      FormatChange,
	"target":      FormatTarget,
	"changeText":  ChangeText,
	"changeClass": func(c controls.Change) string { return map[bool]string{true: "ok", false: "bad"}[c == controls.Fixed] },
	"date":        date,
	"datetime":    datetime,
	"join":        join,
	"pct":         pct,
	"pctv":        func(v float64) string { return FormatValue(v, posture.UnitRatio) },
	"count":       count,
	"whole":       func(v *float64) string { return strconv.FormatFloat(*v, 'f', 0, 64) },
	"list":        func(v ...any) []any { return v },
	"last": func(ps []TrendPoint) *TrendPoint {
		if len(ps) == 0 {
			return nil
		}
		return &ps[len(ps)-1]
	},
	"limit": func(v any) any { return limitRows(v) },
	"more": func(total int) template.HTML {
		if total <= MaxRows {
			return ""
		}
		return template.HTML(fmt.Sprintf(`<p class="muted">and %d more: see the CSV and JSON report.</p>`, total-MaxRows))
	},
}

var templates = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.tmpl"))

// limitRows cuts a slice to MaxRows for display.
func limitRows(v any) any {
	switch s := v.(type) {
	case []IncidentRow:
		return s[:min(len(s), MaxRows)]
	case []ActionRow:
		return s[:min(len(s), MaxRows)]
	case []UserRow:
		return s[:min(len(s), MaxRows)]
	case []DeviceRow:
		return s[:min(len(s), MaxRows)]
	}
	return v
}

// Chart is one rendered chart: SVG for the web page, PNG for mail (by
// content id) and PDF.
type Chart struct {
	Metric    string
	ContentID string
	Alt       string
	SVG       template.HTML
	PNG       []byte
}

// chartedMetrics are the metrics a review draws, in order; the quarterly
// draws the first three and the risk trend.
var chartedMetrics = []string{posture.MetricMFACoverage, posture.MetricDeviceCompliance, posture.MetricSecureScore,
	posture.MetricEndpointProtection, posture.MetricMTTRespond}

// quarterlyCharts is how many of chartedMetrics a quarterly review draws.
const quarterlyCharts = 3

// Charts renders the report's trend charts in format f.
func Charts(r Report, f chart.Format) ([]Chart, *Chart, error) {
	names := chartedMetrics
	if r.Kind == Quarterly {
		names = names[:quarterlyCharts]
	}
	var out []Chart
	for _, name := range names {
		for _, m := range r.Metrics {
			if m.Name != name || len(m.Trend) == 0 {
				continue
			}
			c, err := drawTrend(m.Title+" (month end)", "chart-"+m.Name, m.Trend, m.Unit == posture.UnitRatio, m.Target, f)
			if err != nil {
				return nil, nil, err
			}
			c.Metric = m.Name
			out = append(out, c)
		}
	}
	var risk *Chart
	if r.Executive != nil && len(r.Executive.RiskTrend) > 0 {
		c, err := drawTrend("Failing controls (month end)", "chart-risk", r.Executive.RiskTrend, false, nil, f)
		if err != nil {
			return nil, nil, err
		}
		risk = &c
	}
	return out, risk, nil
}

func drawTrend(title, cid string, trend []TrendPoint, percent bool, target *float64, f chart.Format) (Chart, error) {
	pts := make([]chart.Point, 0, len(trend))
	for _, t := range trend {
		p := chart.Point{At: t.At}
		if t.Value != nil {
			p.Value, p.Known = *t.Value, true
		}
		pts = append(pts, p)
	}
	b, err := chart.Trend(pts, chart.Options{Title: title, Percent: percent, Target: target, Width: 560, Height: 200}, f)
	if err != nil {
		return Chart{}, fmt.Errorf("draw %s: %w", cid, err)
	}
	c := Chart{ContentID: cid, Alt: title}
	if f == chart.SVG {
		// The SVG is drawn by gonum from our own titles and numbers,
		// never from tenant data; the XML prolog is dropped for inline use.
		s := string(b)
		if i := strings.Index(s, "<svg"); i > 0 {
			s = s[i:]
		}
		c.SVG = template.HTML(s)
	} else {
		c.PNG = b
	}
	return c, nil
}

// view is what the template reads.
type view struct {
	R         Report
	Title     string
	Quarterly bool
	Mail      bool
	Charts    []Chart
	RiskChart *Chart
	// Rest says where what the mail left out is.
	Rest string
}

// Title names a report kind for people.
func Title(k Kind) string {
	if k == Quarterly {
		return "Quarterly executive review"
	}
	return "Monthly operational review"
}

// HTML renders the web page: charts as inline SVG.
func HTML(r Report) ([]byte, error) {
	charts, risk, err := Charts(r, chart.SVG)
	if err != nil {
		return nil, err
	}
	return render(view{R: r, Title: Title(r.Kind), Quarterly: r.Kind == Quarterly, Charts: charts, RiskChart: risk})
}

// MailHTML renders the mail body — tables, inline CSS, no scripts or
// external resources, charts as cid: images — and returns the charts the
// mail must carry as inline PNG attachments. rest, when set, is a sentence
// saying where what the mail left out can be found.
func MailHTML(r Report, rest string) ([]byte, []Chart, error) {
	charts, risk, err := Charts(r, chart.PNG)
	if err != nil {
		return nil, nil, err
	}
	raw, err := render(view{R: r, Title: Title(r.Kind), Quarterly: r.Kind == Quarterly, Mail: true, Charts: charts, RiskChart: risk, Rest: rest})
	if err != nil {
		return nil, nil, err
	}
	pm, err := premailer.NewPremailerFromBytes(raw, premailer.NewOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("inline mail css: %w", err)
	}
	out, err := pm.Transform()
	if err != nil {
		return nil, nil, fmt.Errorf("inline mail css: %w", err)
	}
	if risk != nil {
		charts = append(charts, *risk)
	}
	return []byte(out), charts, nil
}

func render(v view) ([]byte, error) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, "report", v); err != nil {
		return nil, fmt.Errorf("render %s html: %w", v.R.Kind, err)
	}
	return buf.Bytes(), nil
}
