package records

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

func TestHistoryEarliest(t *testing.T) {
	h := New(newTestStore(t)).History
	ctx := context.Background()
	_, ok, err := h.Earliest(ctx, "t1")
	require.NoError(t, err)
	require.False(t, ok, "no point, no start of monitoring")
	t0 := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	for i, a := range []posture.Area{posture.AreaDevices, posture.AreaIdentity, posture.AreaDevices} {
		at := t0.Add(time.Duration(2-i) * time.Hour)
		require.NoError(t, h.Put(ctx, posture.HistoryPoint{SnapshotID: string(a) + at.Format("2006010215"), TenantID: "t1", Area: a, TakenAt: at}))
	}
	require.NoError(t, h.Put(ctx, posture.HistoryPoint{SnapshotID: "x", TenantID: "t2", Area: posture.AreaIdentity, TakenAt: t0.Add(-time.Hour)}))
	first, ok, err := h.Earliest(ctx, "t1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, t0, first, "the oldest point of any area, of this tenant only")
}
