package metrics

import (
	"fmt"
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
// of asOf. A device with no protection state (never reported, or a platform
// Graph cannot measure; see Device.ProtectionMeasurable) is not protected.
func EndpointProtected(d posture.Device, asOf time.Time) bool {
	p := d.Protection
	return p != nil && p.MalwareProtectionEnabled && p.RealTimeProtectionEnabled && !p.SignatureUpdateOverdue &&
		p.LastReported != nil && asOf.Sub(*p.LastReported) <= ProtectionMaxAge
}

// Devices computes deviceCompliance (over every managed device) and
// endpointProtectionCoverage (over the devices whose protection state Graph
// can read; the others are counted in the metric's Unmeasured per platform).
func Devices(dv *posture.Devices, src posture.Sources, asOf time.Time) map[string]posture.Metric {
	out := map[string]posture.Metric{}
	if missing := src.Missing(posture.SrcManagedDevices); len(missing) > 0 || dv == nil {
		reason := "managed devices could not be read: " + strings.Join(missing, "; ")
		out[posture.MetricDeviceCompliance] = posture.UnknownMetric(posture.UnitRatio, reason, asOf)
		out[posture.MetricEndpointProtection] = posture.UnknownMetric(posture.UnitRatio, reason, asOf)
		return out
	}
	var compliant, measurable, protected int
	unmeasured := posture.NewUnmeasured()
	for _, d := range dv.Devices {
		if d.ComplianceState == "compliant" {
			compliant++
		}
		if ok, reason := d.ProtectionMeasurable(); !ok {
			unmeasured.Add(d.Platform(), reason)
			continue
		}
		measurable++
		if EndpointProtected(d, asOf) {
			protected++
		}
	}
	const none = "no managed devices enrolled in Intune"
	out[posture.MetricDeviceCompliance] = posture.Ratio(compliant, len(dv.Devices), asOf, none)
	ep := posture.Ratio(protected, measurable, asOf, none)
	if missing := src.Missing(posture.SrcProtectionStates); len(missing) > 0 {
		ep = posture.UnknownMetric(posture.UnitRatio,
			"Windows protection states could not be read: "+strings.Join(missing, "; "), asOf)
	} else if measurable == 0 && unmeasured.Total > 0 {
		ep = posture.UnknownMetric(posture.UnitRatio, fmt.Sprintf(
			"no managed device has a protection state Graph can read (%d on other platforms: see unmeasured)", unmeasured.Total), asOf)
	}
	ep.Unmeasured = unmeasured
	out[posture.MetricEndpointProtection] = ep
	return out
}
