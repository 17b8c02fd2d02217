package metrics

import (
	"fmt"
	"time"

	"m365security/shared/incident"
	"m365security/shared/posture"
)

// IncidentWindow is the look-back of the mean-time metrics.
const IncidentWindow = 30 * 24 * time.Hour

// Incidents computes the mean-time metrics over incidents created in the

// last 30 days and the open/pending counts over all incidents.
func Incidents(all []incident.Incident, now time.Time) map[string]posture.Metric {
	out := map[string]posture.Metric{}
	var detect, respond, resolve []float64
	open, pending := 0, 0
	for _, in := range all {
		if in.IsOpen() {
			open++
			pending += in.PendingApprovals()
		}
		if now.Sub(in.CreatedAt) > IncidentWindow || in.CreatedAt.After(now) {
			continue
		}
		if in.DetectedAt != nil && in.FirstActivityAt != nil {
			detect = append(detect, in.DetectedAt.Sub(*in.FirstActivityAt).Minutes())
		}
		if first := in.FirstExecutedAt(); first != nil && in.DetectedAt != nil {
			respond = append(respond, first.Sub(*in.DetectedAt).Minutes())
		}
		if in.Status == incident.StatusResolved && in.ResolvedAt != nil && in.DetectedAt != nil {
			resolve = append(resolve, in.ResolvedAt.Sub(*in.DetectedAt).Minutes())
		}
	}
	mean := func(xs []float64, what string) posture.Metric {
		if len(xs) == 0 {
			return posture.UnknownMetric(posture.UnitMinutes, fmt.Sprintf("no incidents in the last 30 days with %s", what), now)
		}
		var sum float64
		for _, x := range xs {
			sum += x
		}
		return posture.Value(sum/float64(len(xs)), posture.UnitMinutes, now)
	}
	out[posture.MetricMTTD] = mean(detect, "both first activity and detection times")
	out[posture.MetricMTTRespond] = mean(respond, "an executed response action")
	out[posture.MetricMTTResolve] = mean(resolve, "a resolution")
	out[posture.MetricOpenIncidents] = posture.Value(float64(open), posture.UnitCount, now)
	out[posture.MetricPendingApprovals] = posture.Value(float64(pending), posture.UnitCount, now)
	return out
}
