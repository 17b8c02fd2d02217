package collect

import (
	"context"
	"log/slog"
	"slices"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/security"

	"m365security/shared/graph"
	"m365security/shared/posture"
)

// securityPageSize is the security API's largest $top (larger values are
// capped). Graph keeps about 90 daily scores and a few hundred control
// profiles, so each list is one request.
const securityPageSize = 1000

type secureScoreState struct {
	scores   []posture.Score
	profiles []posture.ControlProfile
}

// SecureScore reads every daily Secure Score Graph keeps (sorted newest
// first here: Graph documents that order but the product does not rely on
// it) and the control profiles that describe the improvement actions.
func SecureScore(ctx context.Context, c *graph.Reader, log *slog.Logger) (*posture.SecureScore, posture.Sources) {
	var st secureScoreState
	srcs := run(ctx, c, collectorLog(log, posture.AreaSecureScore), secureScoreSources(), &st)
	return &posture.SecureScore{Scores: st.scores, Profiles: st.profiles}, srcs
}

func secureScoreSources() []source[secureScoreState] {
	area := posture.AreaSecureScore
	return []source[secureScoreState]{
		{SourceInfo{
			Name: posture.SrcSecureScores, Area: area, Path: "/security/secureScores",
			Query:    "$top=1000",
			PageSize: securityPageSize, PageSizeSource: "security API: $top capped at 1000; ~90 daily scores kept",
			Permission: "SecurityEvents.Read.All",
		}, fetchSecureScores},
		{SourceInfo{
			Name: posture.SrcControlProfiles, Area: area, Path: "/security/secureScoreControlProfiles",
			Query:    "$top=1000",
			PageSize: securityPageSize, PageSizeSource: "security API: $top capped at 1000",
			Permission: "SecurityEvents.Read.All",
		}, fetchControlProfiles},
	}
}

func fetchSecureScores(ctx context.Context, r *reader, st *secureScoreState) (int, error) {
	b := r.c.SDK().Security().SecureScores()
	cfg := &security.SecureScoresRequestBuilderGetRequestConfiguration{
		QueryParameters: &security.SecureScoresRequestBuilderGetQueryParameters{Top: ptr(int32(securityPageSize))},
	}
	out := []posture.Score{}
	err := listPages(ctx, r, "list secure scores",
		func(ctx context.Context) (models.SecureScoreCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (models.SecureScoreCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.SecureScoreCollectionResponseable) error {
			for _, s := range p.GetValue() {
				out = append(out, convertScore(s))
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	slices.SortStableFunc(out, func(a, b posture.Score) int { return b.CreatedAt.Compare(a.CreatedAt) })
	st.scores = out
	return len(out), nil
}

func convertScore(s models.SecureScoreable) posture.Score {
	out := posture.Score{
		CreatedAt:    timeOf(s.GetCreatedDateTime()),
		CurrentScore: deref(s.GetCurrentScore()),
		MaxScore:     deref(s.GetMaxScore()),
	}
	if avgs := s.GetAverageComparativeScores(); len(avgs) > 0 {
		out.AverageScores = make(map[string]float64, len(avgs))
		for _, a := range avgs {
			out.AverageScores[deref(a.GetBasis())] = deref(a.GetAverageScore())
		}
	}
	for _, c := range s.GetControlScores() {
		out.ControlScores = append(out.ControlScores, posture.ControlScore{
			ControlName:     deref(c.GetControlName()),
			ControlCategory: deref(c.GetControlCategory()),
			Score:           deref(c.GetScore()),
		})
	}
	return out
}

func fetchControlProfiles(ctx context.Context, r *reader, st *secureScoreState) (int, error) {
	b := r.c.SDK().Security().SecureScoreControlProfiles()
	cfg := &security.SecureScoreControlProfilesRequestBuilderGetRequestConfiguration{
		QueryParameters: &security.SecureScoreControlProfilesRequestBuilderGetQueryParameters{Top: ptr(int32(securityPageSize))},
	}
	out := []posture.ControlProfile{}
	err := listPages(ctx, r, "list secure score control profiles",
		func(ctx context.Context) (models.SecureScoreControlProfileCollectionResponseable, error) {
			return b.Get(ctx, cfg)
		},
		func(ctx context.Context, link string) (models.SecureScoreControlProfileCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.SecureScoreControlProfileCollectionResponseable) error {
			for _, c := range p.GetValue() {
				out = append(out, posture.ControlProfile{
					ID:              deref(c.GetId()),
					Title:           deref(c.GetTitle()),
					ControlCategory: deref(c.GetControlCategory()),
					MaxScore:        deref(c.GetMaxScore()),
					Rank:            int(deref(c.GetRank())),
					UserImpact:      deref(c.GetUserImpact()),
					Deprecated:      deref(c.GetDeprecated()),
					ActionURL:       deref(c.GetActionUrl()),
					Service:         deref(c.GetService()),
					Remediation:     plainText(deref(c.GetRemediation()), maxRemediation),
				})
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.profiles = out
	return len(out), nil
}
