package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

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
