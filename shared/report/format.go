package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/posture"
)

// These format numbers the same way in HTML, CSV and PDF.

// FormatMetric writes a metric for people: "91.2 %", "34 min", or
// "unknown (reason)"; never a zero for what was not measured.
func FormatMetric(m posture.Metric) string {
	if !m.IsMeasured() {
		s := "unknown"
		if m.Reason != "" {
			s += " (" + m.Reason + ")"
		}
		if m.LastMeasured != nil && m.LastMeasured.IsMeasured() {
			s += "; last measured " + FormatValue(*m.LastMeasured.Value, m.LastMeasured.Unit) + " on " + m.LastMeasured.AsOf.Format(time.DateOnly)
		}
		return s
	}
	s := FormatValue(*m.Value, m.Unit)
	if m.Unit == posture.UnitRatio && m.Numerator != nil && m.Denominator != nil {
		s += fmt.Sprintf(" (%s of %s)", trim(*m.Numerator), trim(*m.Denominator))
	}
	return s
}

// FormatValue writes a bare value of a unit.
func FormatValue(v float64, unit string) string {
	switch unit {
	case posture.UnitRatio:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + " %"
	case posture.UnitMinutes:
		return minutes(v)
	case posture.UnitDays:
		return trim(v) + " days"
	}
	return trim(v)
}

func minutes(v float64) string {
	switch {
	case v >= 48*60:
		return strconv.FormatFloat(v/1440, 'f', 1, 64) + " days"
	case v >= 120:
		return strconv.FormatFloat(v/60, 'f', 1, 64) + " h"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " min"
}

func trim(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// FormatChange writes a row's change since the previous period: "+2.1 pt"
// for ratios, "" when either end is unknown.
func FormatChange(r MetricRow) string {
	if r.Change == nil {
		if r.Previous == nil {
			return "n/a"
		}
		return "unknown"
	}
	c := *r.Change
	sign := "+"
	if c < 0 {
		sign = "−"
		c = -c
	}
	if r.Unit == posture.UnitRatio {
		return sign + strconv.FormatFloat(c*100, 'f', 1, 64) + " pt"
	}
	return sign + FormatValue(c, r.Unit)
}

// FormatTarget writes a row's target and whether it is met.
func FormatTarget(r MetricRow) string {
	if r.Target == nil {
		return ""
	}
	s := "≥ " + FormatValue(*r.Target, r.Unit)
	if r.MeetsTarget != nil {
		if *r.MeetsTarget {
			s += " met"
		} else {
			s += " missed"
		}
	}
	return s
}

// changeTexts name control changes for people.
var changeTexts = map[controls.Change]string{
	controls.NewFailing:   "newly failing",
	controls.Fixed:        "fixed",
	controls.Regressed:    "regressed",
	controls.StillFailing: "still failing",
	controls.Passing:      "passing",
	controls.NoData:       "not evaluated",
}

// ChangeText names a control change for people.
func ChangeText(c controls.Change) string {
	if t, ok := changeTexts[c]; ok {
		return t
	}
	return string(c)
}

func date(t time.Time) string     { return t.UTC().Format("2 Jan 2006") }
func datetime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

func join(s []string) string { return strings.Join(s, ", ") }

func pct(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return FormatValue(*v, posture.UnitRatio)
}

func count(n *int) string {
	if n == nil {
		return "no data"
	}
	return strconv.Itoa(*n)
}

// ShortMetric writes a metric's value alone, or "unknown" (the reason is in
// the JSON and CSV).
func ShortMetric(m posture.Metric) string {
	if !m.IsMeasured() {
		return "unknown"
	}
	return FormatValue(*m.Value, m.Unit)
}

// Plural writes "1 incident" or "3 incidents".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
