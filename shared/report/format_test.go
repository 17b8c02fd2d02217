package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/posture"
)

func f64(v float64) *float64 { return &v }

func TestFormatMetric(t *testing.T) {
	at := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	last := posture.Ratio(8, 10, at, "")
	cases := []struct {
		name string
		m    posture.Metric
		want string
	}{
		{"a ratio shows its percentage and counts", posture.Ratio(34, 40, at, ""), "85.0 % (34 of 40)"},
		{"a ratio without counts shows the percentage", posture.Metric{Status: posture.Measured, Value: f64(0.5), Unit: posture.UnitRatio}, "50.0 %"},
		{"a ratio with only a numerator shows the percentage", posture.Metric{Status: posture.Measured, Value: f64(0.5), Numerator: f64(1), Unit: posture.UnitRatio}, "50.0 %"},
		{"a count with counts shows just the count", posture.Metric{Status: posture.Measured, Value: f64(3), Numerator: f64(3), Denominator: f64(4), Unit: posture.UnitCount}, "3"},
		{"minutes under two hours are minutes", posture.Value(95, posture.UnitMinutes, at), "95 min"},
		{"two hours and more are hours", posture.Value(120, posture.UnitMinutes, at), "2.0 h"},
		{"two days and more are days", posture.Value(48*60, posture.UnitMinutes, at), "2.0 days"},
		{"days are days", posture.Value(45, posture.UnitDays, at), "45 days"},
		{"a fraction keeps one decimal", posture.Value(2.25, posture.UnitPoints, at), "2.2"},
		{"unknown says why", posture.UnknownMetric(posture.UnitRatio, "no data", at), "unknown (no data)"},
		{"unknown without a reason says unknown", posture.UnknownMetric(posture.UnitRatio, "", at), "unknown"},
		{"unknown with a last value shows it and when", posture.Metric{Status: posture.Unknown, Unit: posture.UnitRatio, Reason: "forbidden", LastMeasured: &last},
			"unknown (forbidden); last measured 80.0 % on 2026-10-31"},
		{"an unknown last value is not shown", posture.Metric{Status: posture.Unknown, Unit: posture.UnitRatio, Reason: "x", LastMeasured: &posture.Metric{Status: posture.Unknown}}, "unknown (x)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, FormatMetric(tc.m)) })
	}
	require.Equal(t, "unknown", ShortMetric(posture.UnknownMetric(posture.UnitRatio, "x", at)))
	require.Equal(t, "85.0 %", ShortMetric(posture.Ratio(34, 40, at, "")))
}

func TestFormatChangeAndTarget(t *testing.T) {
	prev := posture.Ratio(1, 2, time.Time{}, "")
	cases := []struct {
		name         string
		row          MetricRow
		change, targ string
	}{
		{"a rise in a ratio is in points", MetricRow{Unit: posture.UnitRatio, Previous: &prev, Change: f64(0.021)}, "+2.1 pt", ""},
		{"a fall in a ratio has a minus", MetricRow{Unit: posture.UnitRatio, Previous: &prev, Change: f64(-0.05)}, "−5.0 pt", ""},
		{"no change is a plus zero", MetricRow{Unit: posture.UnitCount, Previous: &prev, Change: f64(0)}, "+0", ""},
		{"a fall in minutes is in minutes", MetricRow{Unit: posture.UnitMinutes, Previous: &prev, Change: f64(-13)}, "−13 min", ""},
		{"no previous period is not applicable", MetricRow{Unit: posture.UnitRatio}, "n/a", ""},
		{"an unknown end is unknown", MetricRow{Unit: posture.UnitRatio, Previous: &prev}, "unknown", ""},
		{"a met target says so", MetricRow{Unit: posture.UnitRatio, Target: f64(0.9), MeetsTarget: ptr(true)}, "n/a", "≥ 90.0 % met"},
		{"a missed target says so", MetricRow{Unit: posture.UnitRatio, Target: f64(0.9), MeetsTarget: ptr(false)}, "n/a", "≥ 90.0 % missed"},
		{"a target without a value is just the target", MetricRow{Unit: posture.UnitRatio, Target: f64(0.95)}, "n/a", "≥ 95.0 %"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.change, FormatChange(tc.row))
			require.Equal(t, tc.targ, FormatTarget(tc.row))
		})
	}
}

func TestSmallFormats(t *testing.T) {
	require.Equal(t, "newly failing", ChangeText(controls.NewFailing))
	require.Equal(t, "fixed", ChangeText(controls.Fixed))
	require.Equal(t, "somethingElse", ChangeText("somethingElse"))
	require.Equal(t, "unknown", pct(nil))
	require.Equal(t, "12.5 %", pct(f64(0.125)))
	require.Equal(t, "no data", count(nil))
	require.Equal(t, "7", count(ptr(7)))
	require.Equal(t, "1 incident", Plural(1, "incident"))
	require.Equal(t, "0 incidents", Plural(0, "incident"))
	require.Equal(t, "2 alerts", Plural(2, "alert"))
	require.Equal(t, "-3", trim(-3))
	require.Equal(t, "100000000000000000000.0", trim(1e20), "huge values are not wrapped through an int64")
	require.Equal(t, "a, b", join([]string{"a", "b"}))
	require.Equal(t, "1000000000000000.0", trim(1e15), "from 1e15 on, values are not wrapped through an int64")
	require.Equal(t, "999999999999999", trim(1e15-1))
}
