package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
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

func TestSecureScoreUsesNewestByDateNotOrder(t *testing.T) {
	ss := &posture.SecureScore{Scores: []posture.Score{
		{CreatedAt: asOf.Add(-48 * time.Hour), CurrentScore: 50, MaxScore: 100},
		{CreatedAt: asOf.Add(-24 * time.Hour), CurrentScore: 60, MaxScore: 120},
		{CreatedAt: asOf.Add(-72 * time.Hour), CurrentScore: 10, MaxScore: 100},
	}}
	got := SecureScore(ss, okSources(posture.SrcSecureScores), asOf)[posture.MetricSecureScore]
	n, d := ratio(t, got)
	require.Equal(t, [2]float64{60, 120}, [2]float64{n, d})
	require.Equal(t, asOf.Add(-24*time.Hour), got.AsOf)

	empty := SecureScore(&posture.SecureScore{}, okSources(posture.SrcSecureScores), asOf)[posture.MetricSecureScore]
	require.Equal(t, posture.Unknown, empty.Status)
	forbidden := SecureScore(nil, posture.Sources{{Name: posture.SrcSecureScores, Status: posture.SourceForbidden}}, asOf)[posture.MetricSecureScore]
	require.Equal(t, posture.Unknown, forbidden.Status)
}

func TestRestoreTests(t *testing.T) {
	tests := []posture.RestoreTest{
		{PerformedAt: asOf.AddDate(0, 0, -10), Succeeded: true},
		{PerformedAt: asOf.AddDate(0, 0, -40), Succeeded: false},
		{PerformedAt: asOf.AddDate(0, 0, -400), Succeeded: false}, // outside the 365-day window
		{PerformedAt: asOf.AddDate(0, 0, 3), Succeeded: true},     // future-dated: ignored
	}
	got := RestoreTests(tests, asOf)
	n, d := ratio(t, got[posture.MetricRestoreTestSuccess])
	require.Equal(t, [2]float64{1, 2}, [2]float64{n, d})
	require.Equal(t, 10.0, *got[posture.MetricDaysSinceRestore].Value)

	none := RestoreTests(nil, asOf)
	require.Equal(t, posture.Unknown, none[posture.MetricRestoreTestSuccess].Status)
	require.Equal(t, posture.Unknown, none[posture.MetricDaysSinceRestore].Status)
}

func TestIncidents(t *testing.T) {
	at := func(m int) *time.Time { v := asOf.Add(time.Duration(m) * time.Minute); return &v }
	list := []incident.Incident{
		{ // detected 30 min after activity, first action 20 min after detection, resolved 2 h after detection
			Status: incident.StatusResolved, CreatedAt: *at(-1000), FirstActivityAt: at(-1030), DetectedAt: at(-1000), ResolvedAt: at(-880),
			Actions: []incident.Action{{Status: incident.ActionExecuted, ExecutedAt: at(-970)}, {Status: incident.ActionExecuted, ExecutedAt: at(-980)}},
		},
		{ // open, detected 10 min after activity, one action awaiting approval
			Status: incident.StatusAwaitingApproval, CreatedAt: *at(-100), FirstActivityAt: at(-110), DetectedAt: at(-100),
			Actions: []incident.Action{{Status: incident.ActionProposed, RequiresApproval: true}, {Status: incident.ActionProposed}},
		},
		{ // older than 30 days: counts as open but not in the means
			Status: incident.StatusNew, CreatedAt: asOf.AddDate(0, 0, -45), FirstActivityAt: at(-70000), DetectedAt: at(-60000),
		},
	}
	got := Incidents(list, asOf)
	require.InDelta(t, 20.0, *got[posture.MetricMTTD].Value, 1e-9)
	require.InDelta(t, 20.0, *got[posture.MetricMTTRespond].Value, 1e-9)
	require.InDelta(t, 120.0, *got[posture.MetricMTTResolve].Value, 1e-9)
	require.Equal(t, 2.0, *got[posture.MetricOpenIncidents].Value)
	require.Equal(t, 1.0, *got[posture.MetricPendingApprovals].Value)

	empty := Incidents(nil, asOf)
	require.Equal(t, posture.Unknown, empty[posture.MetricMTTD].Status)
	require.Equal(t, 0.0, *empty[posture.MetricOpenIncidents].Value, "a count of zero incidents is measured")
}
