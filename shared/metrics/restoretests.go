package metrics

import (
	"time"

	"m365security/shared/posture"
)

// daysSinceRestoreTest from the most recent recorded test.
func RestoreTests(tests []posture.RestoreTest, now time.Time) map[string]posture.Metric {
	out := map[string]posture.Metric{}
	var recent, ok int
	var last *posture.RestoreTest
	for i, t := range tests {
		if t.PerformedAt.After(now) {
			continue // recorded with a future date: not evidence yet
		}
		if now.Sub(t.PerformedAt) <= 365*24*time.Hour {
			recent++
			if t.Succeeded {
				ok++
			}
		}
		if last == nil || t.PerformedAt.After(last.PerformedAt) {
			last = &tests[i]
		}
	}
	out[posture.MetricRestoreTestSuccess] = posture.Ratio(ok, recent, now, "no restore test recorded in the last 365 days")
	if last == nil {
		out[posture.MetricDaysSinceRestore] = posture.UnknownMetric(posture.UnitDays, "no restore test has been recorded", now)
	} else {
		out[posture.MetricDaysSinceRestore] = posture.Value(float64(int(now.Sub(last.PerformedAt).Hours()/24)), posture.UnitDays, now)
	}
	return out
}
