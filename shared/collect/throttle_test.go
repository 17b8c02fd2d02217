package collect

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

func TestThrottledRequestsAreRetried(t *testing.T) {
	_, base := newTestServer(t, smallTenant(), graphsim.Options{})
	want, _ := Identity(context.Background(), base, discardLogger())

	tests := []struct {
		name     string
		throttle func(*graphsim.Server)
		// batched429 is how many $batch items must have been answered 429.
		batched429 int
	}{
		{
			name:     "every third request answered 429 with Retry-After 0",
			throttle: func(s *graphsim.Server) { s.SetThrottle(graphsim.Throttle{EveryN: 3, RetryAfter: 0}) },
		},
		{
			name: "every fourth request answered 503 with Retry-After 0",
			throttle: func(s *graphsim.Server) {
				s.SetThrottle(graphsim.Throttle{EveryN: 4, Fault: graphsim.ServiceUnavailable(0)})
			},
		},
		{
			name:     "plain requests answered 429 with Retry-After 1",
			throttle: func(s *graphsim.Server) { s.FailNext("/users", 2, graphsim.TooManyRequests(1)) },
		},
		{
			name:       "$batch items answered 429 with Retry-After 1",
			throttle:   func(s *graphsim.Server) { s.FailNext("/groups/", 3, graphsim.TooManyRequests(1)) },
			batched429: 3,
		},
		{
			name:     "the $batch envelope answered 429 with Retry-After 0",
			throttle: func(s *graphsim.Server) { s.FailNext("/$batch", 2, graphsim.TooManyRequests(0)) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
			tc.throttle(srv)
			got, srcs := Identity(context.Background(), c, discardLogger())
			requireStatuses(t, srcs, nil)
			require.Equal(t, want, got)
			if tc.batched429 > 0 {
				n := 0
				for _, e := range srv.Log() {
					if e.Batch && e.Status == 429 {
						n++
					}
				}
				require.Equal(t, tc.batched429, n)
				// Retried items are requests too.
				require.Equal(t, srv.Stats().BatchItems, mustSource(t, srcs, posture.SrcGroupMembers).Requests)
			}
		})
	}
}

func TestBatchItemThrottledPastRetriesFailsItsGroupOnly(t *testing.T) {
	srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
	srv.ForceError("/groups/"+gAll, graphsim.TooManyRequests(0))
	id, srcs := Identity(context.Background(), c, discardLogger())
	requireStatuses(t, srcs, map[string]posture.SourceStatus{posture.SrcGroupMembers: posture.SourceThrottled})

	tests := []struct {
		name     string
		group    string
		complete bool
	}{
		{"the throttled group is incomplete", gAll, false},
		{"another group is complete", gBreakGlass, true},
		{"a role group is complete", gAdmins, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := groupByID(id, tc.group)
			require.True(t, ok)
			require.Equal(t, tc.complete, g.Complete)
		})
	}
	src := mustSource(t, srcs, posture.SrcGroupMembers)
	require.Contains(t, src.Reason, "members of 1 of 5 groups")
	require.Equal(t, 4, src.Items)
}
