package fanout

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

func TestSplitMakesOneItemPerTenantKeyedByJobTenantAndPeriod(t *testing.T) {
	fired := time.Date(2026, 12, 1, 10, 0, 3, 0, time.FixedZone("CET", 3600))
	msgs, err := Split(CollectJob(posture.AreaIdentity), []string{"A", "b"}, fired, time.Hour)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	require.Equal(t, "collect:identity|a|2026120109", msgs[0].ID, "tenant lower-cased, period in UTC hours")
	require.Equal(t, "collect:identity|b|2026120109", msgs[1].ID)
	w, err := Parse(msgs[1].Body)
	require.NoError(t, err)
	require.Equal(t, Work{Job: "collect:identity", TenantID: "b", Period: "2026120109", FiredAt: fired.UTC()}, w)

	again, err := Split(CollectJob(posture.AreaIdentity), []string{"a"}, fired.Add(40*time.Minute), time.Hour)
	require.NoError(t, err)
	require.Equal(t, msgs[0].ID, again[0].ID, "a second firing in the same hour has the same key")
	next, err := Split(CollectJob(posture.AreaIdentity), []string{"a"}, fired.Add(time.Hour), time.Hour)
	require.NoError(t, err)
	require.NotEqual(t, msgs[0].ID, next[0].ID, "the next hour is new work")
	other, err := Split(CollectJob(posture.AreaDevices), []string{"a"}, fired, time.Hour)
	require.NoError(t, err)
	require.NotEqual(t, msgs[0].ID, other[0].ID, "another job is other work")
	require.Equal(t, "20261201", Period(fired, 24*time.Hour))
	require.Equal(t, "202612010905", Period(fired.Truncate(time.Hour).Add(7*time.Minute), 5*time.Minute), "the poller's 5-minute slots")
	none, err := Split("x", nil, fired, time.Hour)
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestParseRefusesWhatCanNeverRun(t *testing.T) {
	cases := []struct {
		name string
		body string
		ok   bool
	}{
		{"a complete item parses", `{"job":"collect:identity","tenantId":"t","period":"2026120110"}`, true},
		{"no job", `{"tenantId":"t"}`, false},
		{"no tenant", `{"job":"collect:identity"}`, false},
		{"not JSON", `collect`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body))
			require.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
}
