package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

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
