package incident

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPendingApprovalsCountsProposedActionsThatNeedApproval(t *testing.T) {
	in := Incident{Actions: []Action{
		{RequiresApproval: true, Status: ActionProposed},
		{RequiresApproval: true, Status: ActionProposed},
		{RequiresApproval: false, Status: ActionProposed},
		{RequiresApproval: true, Status: ActionApproved},
	}}
	require.Equal(t, 2, in.PendingApprovals())
}

func TestFirstExecutedAt(t *testing.T) {
	early, late := t0, t0.Add(time.Hour)
	tests := []struct {
		name    string
		actions []Action
		want    *time.Time
	}{
		{"no executed action gives nil", []Action{{Status: ActionProposed, ExecutedAt: &early}}, nil},
		{"an executed action without a time is skipped", []Action{{Status: ActionExecuted}}, nil},
		{"the earliest executed action wins", []Action{
			{Status: ActionExecuted, ExecutedAt: &late}, {Status: ActionExecuted, ExecutedAt: &early}, {Status: ActionExecuted, ExecutedAt: &late},
		}, &early},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Incident{Actions: tc.actions}.FirstExecutedAt())
		})
	}
}
