package controls

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

func TestHistory(t *testing.T) {
	day := func(d int) time.Time { return now.AddDate(0, 0, d) }
	points := func(statuses ...string) []posture.HistoryPoint {
		var ps []posture.HistoryPoint
		for i, s := range statuses {
			ps = append(ps, posture.HistoryPoint{Area: posture.AreaIdentity, TakenAt: day(-len(statuses) + i + 1),
				Controls: map[string]posture.ControlState{"MS.AAD.1.1v1": {Status: s}}})
		}
		return ps
	}
	// The window holds the last five daily points and ends tomorrow; now is
	// the moment of the last point, so failing time stops there.
	from, to := day(-4), day(1)
	cases := []struct {
		name     string
		statuses []string // one per day, oldest first; the last is today
		change   Change
		days     float64
		fixes    int
	}{
		{"passing throughout", []string{"pass", "pass", "pass", "pass", "pass", "pass"}, Passing, 0, 0},
		{"failing from the start of the window to now", []string{"fail", "fail", "fail", "fail", "fail", "fail"}, StillFailing, 4, 0},
		{"failing for the first time inside the window", []string{"pass", "pass", "pass", "fail", "fail", "fail"}, NewFailing, 2, 0},
		{"fixed inside the window", []string{"fail", "fail", "fail", "pass", "pass", "pass"}, Fixed, 2, 1},
		{"fixed and failing again inside the window", []string{"fail", "fail", "pass", "pass", "fail", "fail"}, Regressed, 2, 1},
		{"failing again after a fix before the window, as of now", []string{"fail", "pass", "pass", "pass", "pass", "pass", "fail"}, Regressed, 0, 0},
		{"an unknown evaluation does not count as a fix", []string{"fail", "fail", "unknown", "unknown", "fail", "fail"}, StillFailing, 4, 0},
		{"an excepted control is not out of compliance", []string{"fail", "fail", "excepted", "excepted", "excepted", "excepted"}, Fixed, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got ControlHistory
			for _, h := range History(points(tc.statuses...), from, to, day(0)) {
				if h.ID == "MS.AAD.1.1v1" {
					got = h
				}
			}
			require.Equal(t, tc.change, got.Change)
			require.InDelta(t, tc.days, got.DaysOutOfCompliance, 1e-9)
			require.Len(t, got.Fixes, tc.fixes)
			if tc.fixes == 0 {
				require.Nil(t, got.MeanTimeToFixDays, "no fix, no mean time to fix")
			}
		})
	}
}

func TestHistoryTimeToFix(t *testing.T) {
	mk := func(at time.Time, s string) posture.HistoryPoint {
		return posture.HistoryPoint{TakenAt: at, Controls: map[string]posture.ControlState{"MS.AAD.6.1v1": {Status: s}}}
	}
	ps := []posture.HistoryPoint{
		mk(now.Add(-10*24*time.Hour), "fail"),
		mk(now.Add(-9*24*time.Hour), "fail"),
		mk(now.Add(-7*24*time.Hour), "pass"), // fixed after 3 days
		mk(now.Add(-5*24*time.Hour), "fail"),
		mk(now.Add(-4*24*time.Hour), "pass"), // fixed after 1 day
	}
	for _, h := range History(ps, now.Add(-30*24*time.Hour), now, now) {
		if h.ID != "MS.AAD.6.1v1" {
			require.Equal(t, NoData, h.Change, "controls without points have no data")
			continue
		}
		require.Equal(t, Fixed, h.Change)
		require.Len(t, h.Fixes, 2)
		require.InDelta(t, 3.0, h.Fixes[0].Days, 1e-9)
		require.InDelta(t, 1.0, h.Fixes[1].Days, 1e-9)
		require.InDelta(t, 2.0, *h.MeanTimeToFixDays, 1e-9)
		require.InDelta(t, 4.0, h.DaysOutOfCompliance, 1e-9)
		require.Nil(t, h.FailingSince)
	}
}

// TestDaysOutOfComplianceCountsToNow: failing time ends at min(now, to),
// whatever window the caller asks for.
func TestDaysOutOfComplianceCountsToNow(t *testing.T) {
	failedAt := now.Add(-30 * time.Second)
	points := []posture.HistoryPoint{
		{TakenAt: now.Add(-48 * time.Hour), Controls: map[string]posture.ControlState{"MS.AAD.1.1v1": {Status: "pass"}}},
		{TakenAt: failedAt, Controls: map[string]posture.ControlState{"MS.AAD.1.1v1": {Status: "fail"}}},
	}
	endOfDay := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		from, to time.Time
		now      time.Time
		days     float64
	}{
		{"a control failing for 30 seconds with the window ending tonight shows 30 seconds", now.AddDate(0, 0, -30), endOfDay, now, 30.0 / 86400},
		{"a window ending at the end of the year counts only to now", now.AddDate(0, 0, -30), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), now, 30.0 / 86400},
		{"a window that ended before now counts to its end", now.AddDate(0, 0, -30), failedAt.Add(10 * time.Second), now, 10.0 / 86400},
		{"a window that starts after now has no failing time", now.Add(time.Hour), now.Add(2 * time.Hour), now, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range History(points, tc.from, tc.to, tc.now) {
				if h.ID == "MS.AAD.1.1v1" {
					require.InDelta(t, tc.days, h.DaysOutOfCompliance, 1e-9)
				}
			}
		})
	}
}
