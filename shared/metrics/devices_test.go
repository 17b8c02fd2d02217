package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

func TestDevices(t *testing.T) {
	recent := asOf.Add(-24 * time.Hour)
	stale := asOf.Add(-8 * 24 * time.Hour)
	good := &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, LastReported: &recent}
	cases := []struct {
		name           string
		devices        *posture.Devices
		sources        posture.Sources
		compliance     [2]float64
		protection     [2]float64
		unknownCompl   bool
		unknownProtect bool
	}{
		{
			name: "compliant and protected devices are counted over all managed devices",
			devices: &posture.Devices{Devices: []posture.Device{
				{ID: "1", OperatingSystem: "Windows", ComplianceState: "compliant", Protection: good},
				{ID: "2", OperatingSystem: "Windows", ComplianceState: "noncompliant", Protection: &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: false, LastReported: &recent}},
				{ID: "3", OperatingSystem: "Windows", ComplianceState: "compliant", Protection: &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, LastReported: &stale}},
				{ID: "4", OperatingSystem: "iOS", ComplianceState: "inGracePeriod"},
			}},
			sources:    okSources(posture.SrcManagedDevices, posture.SrcProtectionStates),
			compliance: [2]float64{2, 4}, protection: [2]float64{1, 4},
		},
		{
			name:       "overdue signatures are not active protection",
			devices:    &posture.Devices{Devices: []posture.Device{{ID: "1", OperatingSystem: "Windows", ComplianceState: "compliant", Protection: &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, SignatureUpdateOverdue: true, LastReported: &recent}}}},
			sources:    okSources(posture.SrcManagedDevices, posture.SrcProtectionStates),
			compliance: [2]float64{1, 1}, protection: [2]float64{0, 1},
		},
		{
			name:         "no enrolled devices is unknown, not 0%",
			devices:      &posture.Devices{},
			sources:      okSources(posture.SrcManagedDevices, posture.SrcProtectionStates),
			unknownCompl: true, unknownProtect: true,
		},
		{
			name:         "a missing Intune licence makes both unknown",
			sources:      posture.Sources{{Name: posture.SrcManagedDevices, Status: posture.SourceNotLicensed, Reason: "Request not applicable to target tenant"}},
			unknownCompl: true, unknownProtect: true,
		},
		{
			name:           "unreadable protection states leave compliance measured",
			devices:        &posture.Devices{Devices: []posture.Device{{ID: "1", ComplianceState: "compliant"}}},
			sources:        append(okSources(posture.SrcManagedDevices), posture.Source{Name: posture.SrcProtectionStates, Status: posture.SourceForbidden}),
			compliance:     [2]float64{1, 1},
			unknownProtect: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Devices(tc.devices, tc.sources, asOf)
			check := func(name string, unknown bool, w [2]float64) {
				if unknown {
					require.Equal(t, posture.Unknown, got[name].Status)
					require.Nil(t, got[name].Value)
					require.NotEmpty(t, got[name].Reason)
					return
				}
				n, d := ratio(t, got[name])
				require.Equal(t, w, [2]float64{n, d}, name)
			}
			check(posture.MetricDeviceCompliance, tc.unknownCompl, tc.compliance)
			check(posture.MetricEndpointProtection, tc.unknownProtect, tc.protection)
		})
	}
}
