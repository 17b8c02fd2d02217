package assess

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

// TestDeviceFindingsSeparateUnmeasurableFromUnprotected: a device whose
// protection state Graph cannot read is listed as not measurable, never as
// unprotected; a Windows device without a state is unprotected.
func TestDeviceFindingsSeparateUnmeasurableFromUnprotected(t *testing.T) {
	at := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	recent := at.Add(-time.Hour)
	good := &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, LastReported: &recent}
	c := Collected{
		Sources: posture.Sources{{Name: posture.SrcManagedDevices, Status: posture.SourceOK}, {Name: posture.SrcProtectionStates, Status: posture.SourceOK}},
		Devices: &posture.Devices{Devices: []posture.Device{
			{ID: "w1", DeviceName: "LAPTOP-1", OperatingSystem: "Windows", ComplianceState: "compliant", Protection: good},
			{ID: "w2", DeviceName: "LAPTOP-2", OperatingSystem: "Windows", ComplianceState: "compliant"},
			{ID: "m1", DeviceName: "MacBook", OperatingSystem: "macOS", ComplianceState: "compliant"},
			{ID: "i1", DeviceName: "iPhone", OperatingSystem: "iOS", ComplianceState: "compliant"},
		}},
	}
	b, err := build("t", posture.AreaDevices, c, at)
	require.NoError(t, err)
	snap := b.snap
	ids := func(l posture.FindingList) []string {
		var out []string
		for _, f := range l.Items {
			out = append(out, f.ID)
		}
		return out
	}
	require.Equal(t, []string{"w2"}, ids(snap.Findings[posture.ListUnprotectedDevices]))
	require.Equal(t, "no Windows protection state reported", snap.Findings[posture.ListUnprotectedDevices].Items[0].Detail)
	unmeasured := snap.Findings[posture.ListUnmeasuredDevices]
	require.Equal(t, []string{"m1", "i1"}, ids(unmeasured))
	require.Equal(t, "not measurable: Graph has no endpoint protection state for macOS devices (Intune's windowsProtectionState covers Windows only)",
		unmeasured.Items[0].Detail)
	m := snap.Metrics[posture.MetricEndpointProtection]
	require.Equal(t, 0.5, *m.Value)
	require.Equal(t, 2, m.Unmeasured.Total)
}
