package metrics

import (
	"strings"
	"time"

	"m365security/shared/posture"
)

// SecureScore computes the latest currentScore / maxScore.
func SecureScore(ss *posture.SecureScore, src posture.Sources, asOf time.Time) map[string]posture.Metric {
	if missing := src.Missing(posture.SrcSecureScores); len(missing) > 0 || ss == nil {
		return map[string]posture.Metric{posture.MetricSecureScore: posture.UnknownMetric(posture.UnitRatio,
			"secure scores could not be read: "+strings.Join(missing, "; "), asOf)}
	}
	latest, ok := LatestScore(ss.Scores)
	if !ok {
		return map[string]posture.Metric{posture.MetricSecureScore: posture.UnknownMetric(posture.UnitRatio,
			"Microsoft has not computed a Secure Score for this tenant yet", asOf)}
	}
	m := posture.RatioF(latest.CurrentScore, latest.MaxScore, latest.CreatedAt, "Secure Score has a maximum of 0")
	return map[string]posture.Metric{posture.MetricSecureScore: m}
}

// LatestScore returns the newest score by createdDateTime: Graph's order is

// not documented, so it is not relied on.
func LatestScore(scores []posture.Score) (posture.Score, bool) {
	if len(scores) == 0 {
		return posture.Score{}, false
	}
	best := scores[0]
	for _, s := range scores[1:] {
		if s.CreatedAt.After(best.CreatedAt) {
			best = s
		}
	}
	return best, true
}

// RestoreTests computes restoreTestSuccess over the 365 days before now and
