package metrics

import (
	"strings"
	"time"

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
