package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
	"m365security/shared/posture"
)

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
