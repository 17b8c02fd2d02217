package metrics

import (
	"fmt"
	"strings"
	"time"

	"m365security/shared/incident"
	"m365security/shared/posture"
)

// ProtectionMaxAge is how recently a device must have reported its Defender
// state to count as reporting.
const ProtectionMaxAge = 7 * 24 * time.Hour

// EndpointProtected applies the README's endpoint-protection rule: a Windows
// device whose windowsProtectionState shows anti-malware and real-time
// protection on, signatures not overdue, and a report within ProtectionMaxAge
// of asOf. Devices with no protection state (non-Windows, or never reported)
// are not counted as protected.
func EndpointProtected(d posture.Device, asOf time.Time) bool {
	p := d.Protection
	return p != nil && p.MalwareProtectionEnabled && p.RealTimeProtectionEnabled && !p.SignatureUpdateOverdue &&
		p.LastReported != nil && asOf.Sub(*p.LastReported) <= ProtectionMaxAge
}

// Devices computes deviceCompliance and endpointProtectionCoverage.
func Devices(dv *posture.Devices, src posture.Sources, asOf time.Time) map[string]posture.Metric {
	out := map[string]posture.Metric{}
	if missing := src.Missing(posture.SrcManagedDevices); len(missing) > 0 || dv == nil {
		reason := "managed devices could not be read: " + strings.Join(missing, "; ")
		out[posture.MetricDeviceCompliance] = posture.UnknownMetric(posture.UnitRatio, reason, asOf)
		out[posture.MetricEndpointProtection] = posture.UnknownMetric(posture.UnitRatio, reason, asOf)
		return out
	}
	var compliant, protected int
	for _, d := range dv.Devices {
		if d.ComplianceState == "compliant" {
			compliant++
		}
		if EndpointProtected(d, asOf) {
			protected++
		}
	}
	const none = "no managed devices enrolled in Intune"
	out[posture.MetricDeviceCompliance] = posture.Ratio(compliant, len(dv.Devices), asOf, none)
	if missing := src.Missing(posture.SrcProtectionStates); len(missing) > 0 {
		out[posture.MetricEndpointProtection] = posture.UnknownMetric(posture.UnitRatio,
			"Windows protection states could not be read: "+strings.Join(missing, "; "), asOf)
	} else {
		out[posture.MetricEndpointProtection] = posture.Ratio(protected, len(dv.Devices), asOf, none)
	}
	return out
}

// SecureScore computes the latest currentScore / maxScore.
func SecureScore(ss *posture.SecureScore, src posture.Sources, asOf time.Time) map[string]posture.Metric {
	if missing := src.Missing(posture.SrcSecureScores); len(missing) > 0 || ss == nil {
		return map[string]posture.Metric{posture.MetricSecureScore: posture.UnknownMetric(posture.UnitRatio,
			"secure scores could not be read: "+strings.Join(missing, "; "), asOf)}
	}
	latest, ok := LatestScore(ss.Scores)
	if !ok {
		return map[string]posture.Metric{posture.MetricSecureScore: posture.UnknownMetric(posture.UnitRatio,
			"Microsoft has not computed a Secure Score for this tenant yet", asOf)}
	}
	m := posture.RatioF(latest.CurrentScore, latest.MaxScore, latest.CreatedAt, "Secure Score has a maximum of 0")
	return map[string]posture.Metric{posture.MetricSecureScore: m}
}

// LatestScore returns the newest score by createdDateTime: Graph's order is
// not documented, so it is not relied on.
func LatestScore(scores []posture.Score) (posture.Score, bool) {
	if len(scores) == 0 {
		return posture.Score{}, false
	}
	best := scores[0]
	for _, s := range scores[1:] {
		if s.CreatedAt.After(best.CreatedAt) {
			best = s
		}
	}
	return best, true
}

// RestoreTests computes restoreTestSuccess over the 365 days before now and
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
