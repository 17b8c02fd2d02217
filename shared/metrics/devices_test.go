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
			name: "compliance counts over all managed devices, protection over the devices whose state Graph can read",
			devices: &posture.Devices{Devices: []posture.Device{
				{ID: "1", OperatingSystem: "Windows", ComplianceState: "compliant", Protection: good},
				{ID: "2", OperatingSystem: "Windows", ComplianceState: "noncompliant", Protection: &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: false, LastReported: &recent}},
				{ID: "3", OperatingSystem: "Windows", ComplianceState: "compliant", Protection: &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, LastReported: &stale}},
				{ID: "4", OperatingSystem: "iOS", ComplianceState: "inGracePeriod"},
			}},
			sources:    okSources(posture.SrcManagedDevices, posture.SrcProtectionStates),
			compliance: [2]float64{2, 4}, protection: [2]float64{1, 3},
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
			devices:        &posture.Devices{Devices: []posture.Device{{ID: "1", OperatingSystem: "Windows", ComplianceState: "compliant"}}},
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

// TestEndpointProtectionMeasuresWhatGraphCanRead pins the denominator of
// endpointProtectionCoverage to the devices whose protection state Graph can
// read (Windows), with the rest counted beside it per platform.
func TestEndpointProtectionMeasuresWhatGraphCanRead(t *testing.T) {
	recent := asOf.Add(-24 * time.Hour)
	stale := asOf.Add(-7*24*time.Hour - time.Second)
	edge := asOf.Add(-7 * 24 * time.Hour)
	on := func(at time.Time) *posture.Protection {
		return &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, LastReported: &at}
	}
	dev := func(id, os string, p *posture.Protection) posture.Device {
		return posture.Device{ID: id, DeviceName: "dev-" + id, OperatingSystem: os, ComplianceState: "compliant", Protection: p}
	}
	ok := okSources(posture.SrcManagedDevices, posture.SrcProtectionStates)
	cases := []struct {
		name       string
		devices    []posture.Device
		sources    posture.Sources
		protection [2]float64 // numerator, denominator; zero means unknown
		unmeasured map[string]int
	}{
		{
			name: "Macs, iPhones and Android phones are counted beside the ratio, not as unprotected",
			devices: []posture.Device{dev("1", "Windows", on(recent)), dev("2", "Windows", nil),
				dev("3", "macOS", nil), dev("4", "macOS", nil), dev("5", "iOS", nil), dev("6", "Android", nil)},
			sources: ok, protection: [2]float64{1, 2},
			unmeasured: map[string]int{"macOS": 2, "iOS": 1, "Android": 1},
		},
		{
			name:    "a Windows device that never reported a state is measured and not protected",
			devices: []posture.Device{dev("1", "Windows", nil), dev("2", "Windows", on(recent))},
			sources: ok, protection: [2]float64{1, 2}, unmeasured: map[string]int{},
		},
		{
			name:    "a Windows device whose state is older than seven days is measured and not protected",
			devices: []posture.Device{dev("1", "Windows", on(stale))},
			sources: ok, protection: [2]float64{0, 1}, unmeasured: map[string]int{},
		},
		{
			name:    "a Windows device that reported exactly seven days ago still counts as reporting",
			devices: []posture.Device{dev("1", "Windows", on(edge))},
			sources: ok, protection: [2]float64{1, 1}, unmeasured: map[string]int{},
		},
		{
			name:    "a tenant of Macs only is unknown, with the Macs counted as unmeasured",
			devices: []posture.Device{dev("1", "macOS", nil), dev("2", "macOS", nil)},
			sources: ok, unmeasured: map[string]int{"macOS": 2},
		},
		{
			name:    "a device without a reported operating system is unmeasured under unknown",
			devices: []posture.Device{dev("1", "", nil), dev("2", "Windows", on(recent))},
			sources: ok, protection: [2]float64{1, 1}, unmeasured: map[string]int{"unknown": 1},
		},
		{
			name:       "unreadable protection states make the ratio unknown and still count the unmeasured platforms",
			devices:    []posture.Device{dev("1", "Windows", nil), dev("2", "iOS", nil)},
			sources:    append(okSources(posture.SrcManagedDevices), posture.Source{Name: posture.SrcProtectionStates, Status: posture.SourceFailed, Reason: "503"}),
			unmeasured: map[string]int{"iOS": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Devices(&posture.Devices{Devices: tc.devices}, tc.sources, asOf)[posture.MetricEndpointProtection]
			if tc.protection == [2]float64{} {
				require.Equal(t, posture.Unknown, m.Status)
				require.Nil(t, m.Value)
				require.NotEmpty(t, m.Reason)
			} else {
				n, d := ratio(t, m)
				require.Equal(t, tc.protection, [2]float64{n, d})
			}
			require.NotNil(t, m.Unmeasured, "unmeasured is given whenever the devices were read")
			got, total := map[string]int{}, 0
			for platform, c := range m.Unmeasured.ByPlatform {
				got[platform] = c.Count
				total += c.Count
				require.NotEmpty(t, c.Reason)
				if platform != "unknown" {
					require.Contains(t, c.Reason, platform, "the reason names the platform")
				}
			}
			require.Equal(t, tc.unmeasured, got)
			require.Equal(t, total, m.Unmeasured.Total)
		})
	}
}

func TestEndpointProtectionUnknownReasons(t *testing.T) {
	ok := okSources(posture.SrcManagedDevices, posture.SrcProtectionStates)
	macs := Devices(&posture.Devices{Devices: []posture.Device{{ID: "1", OperatingSystem: "macOS"}}}, ok, asOf)
	require.Equal(t, "no managed device has a protection state Graph can read (1 on other platforms: see unmeasured)",
		macs[posture.MetricEndpointProtection].Reason)
	require.Equal(t, posture.Measured, macs[posture.MetricDeviceCompliance].Status, "compliance still counts the Mac")

	none := Devices(&posture.Devices{}, ok, asOf)
	require.Equal(t, "no managed devices enrolled in Intune", none[posture.MetricEndpointProtection].Reason)
	require.Equal(t, 0, none[posture.MetricEndpointProtection].Unmeasured.Total)

	unread := Devices(nil, posture.Sources{{Name: posture.SrcManagedDevices, Status: posture.SourceForbidden, Reason: "403"}}, asOf)
	require.Nil(t, unread[posture.MetricEndpointProtection].Unmeasured, "nothing is counted when the devices were not read")
}

func TestUnmeasuredPlatformReasons(t *testing.T) {
	cases := []struct {
		name, os string
		ok       bool
		reason   string
	}{
		{"Windows is measurable", "Windows", true, ""},
		{"macOS is not, and the reason says Graph has no state for it", "macOS", false,
			"Graph has no endpoint protection state for macOS devices (Intune's windowsProtectionState covers Windows only)"},
		{"a device without an operating system is not, and says so", "", false,
			"Intune reports no operating system for the device, so Graph has no protection state to read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := posture.Device{OperatingSystem: tc.os}.ProtectionMeasurable()
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.reason, reason)
		})
	}
}
