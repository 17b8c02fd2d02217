package controls

import (
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

// TestEndpointProtectionJudgesTheMeasuredRatio: M365SEC.DEV.2 judges the
// devices Graph can measure and is unknown when there are none; devices it
// cannot measure are evidence, not findings.
func TestEndpointProtectionJudgesTheMeasuredRatio(t *testing.T) {
	sources := posture.Sources{{Name: posture.SrcManagedDevices, Status: posture.SourceOK}, {Name: posture.SrcProtectionStates, Status: posture.SourceOK}}
	macs := func(n int) (*posture.Unmeasured, posture.FindingList) {
		u, l := posture.NewUnmeasured(), posture.FindingList{}
		for i := 0; i < n; i++ {
			u.Add("macOS", "Graph has no endpoint protection state for macOS devices")
			l.Add(posture.Finding{Kind: posture.FindingDevice, ID: "mac", Detail: "not measurable"})
		}
		return u, l
	}
	unprotected := func(n int) posture.FindingList {
		l := posture.FindingList{}
		for i := 0; i < n; i++ {
			l.Add(posture.Finding{Kind: posture.FindingDevice, ID: "win", Detail: "real-time protection is off"})
		}
		return l
	}
	cases := []struct {
		name        string
		protected   int // of the measured Windows devices
		measured    int
		unmeasured  int
		want        Status
		findings    int
		reasonIsSet bool
	}{
		{"nine of ten Windows devices protected passes however many Macs there are", 9, 10, 30, Pass, 0, false},
		{"eight of ten Windows devices protected fails with the two as findings, not the Macs", 8, 10, 30, Fail, 2, false},
		{"all Windows devices protected passes with no Macs", 4, 4, 0, Pass, 0, false},
		{"a tenant of Macs only is unknown, not failing", 0, 0, 5, Unknown, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, ul := macs(tc.unmeasured)
			var m posture.Metric
			if tc.measured == 0 {
				m = posture.UnknownMetric(posture.UnitRatio, "no managed device has a protection state Graph can read", now)
			} else {
				m = posture.Ratio(tc.protected, tc.measured, now, "")
			}
			m.Unmeasured = u
			snap := &posture.Snapshot{Area: posture.AreaDevices, TakenAt: now, Sources: sources,
				Metrics: map[string]posture.Metric{posture.MetricEndpointProtection: m},
				Findings: map[string]posture.FindingList{posture.ListUnprotectedDevices: unprotected(tc.measured - tc.protected),
					posture.ListUnmeasuredDevices: ul}}
			r := eval(t, "M365SEC.DEV.2", NewInput(now, DefaultTargets(), snap))
			require.Equal(t, tc.want, r.Status, r.Reason)
			require.Equal(t, tc.findings, r.Findings.Total)
			for _, f := range r.Findings.Items {
				require.Equal(t, "win", f.ID, "only measured devices are findings")
			}
			require.Equal(t, tc.reasonIsSet, r.Reason != "")
			require.Equal(t, u, r.Evidence["unmeasured"], "the unmeasured count is evidence")
			if tc.unmeasured > 0 {
				require.Equal(t, ul, r.Evidence["unmeasuredDevices"], "the unmeasurable devices are listed as evidence")
			} else {
				require.NotContains(t, r.Evidence, "unmeasuredDevices")
			}
		})
	}
}
