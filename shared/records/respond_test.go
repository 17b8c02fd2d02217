package records

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/store"
)

func TestBrakeLogUpdatesNeverLoseAnEntry(t *testing.T) {
	r := New(newTestStore(t)).State
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.UpdateBrake(ctx, tenant, func(v *BrakeLog) error {
				v.Entries = append(v.Entries, BrakeEntry{Key: string(rune('a' + i)), At: t0})
				return nil
			})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	got, err := r.UpdateBrake(ctx, tenant, func(*BrakeLog) error { return store.ErrUnchanged })
	require.NoError(t, err)
	require.Len(t, got.Entries, 4, "concurrent claims all land")
}

func TestNoticeLogIsOneDocumentPerIncident(t *testing.T) {
	r := New(newTestStore(t)).Notices
	ctx := context.Background()
	_, ok, err := r.Get(ctx, tenant, "inc/with?odd#id")
	require.NoError(t, err)
	require.False(t, ok)
	_, err = r.Update(ctx, tenant, "inc/with?odd#id", func(l *NoticeLog) error {
		l.Entries["e1/mail"] = NoticeEntry{Event: "newIncident", Channel: "mail", Status: "sent", LastTry: t0}
		return nil
	})
	require.NoError(t, err, "any incident id makes a valid document id")
	l, err := r.Update(ctx, tenant, "inc/with?odd#id", func(l *NoticeLog) error {
		l.Entries["e2/mail"] = NoticeEntry{Event: "actionFailed", Channel: "mail", Status: "retrying", LastTry: t0.Add(time.Minute)}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, l.Entries, 2)
	require.Equal(t, "inc/with?odd#id", l.IncidentID)
	got, ok, err := r.Get(ctx, tenant, "inc/with?odd#id")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, l, got)
	other, ok, err := r.Get(ctx, tenant, "another")
	require.NoError(t, err)
	require.False(t, ok)
	require.Empty(t, other.Entries)
}
