package records

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
	"m365security/shared/store"
	"m365security/shared/store/embedded"
)

const tenant = "11111111-2222-4333-8444-555555555555"

var t0 = time.Date(2026, 11, 2, 8, 5, 0, 0, time.UTC)

func newTestStore(t testing.TB) store.Store {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func sources(failed ...string) posture.Sources {
	out := posture.Sources{}
	for _, n := range []string{posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcConditionalAccess} {
		st := posture.SourceOK
		for _, f := range failed {
			if f == n {
				st = posture.SourceForbidden
			}
		}
		out = append(out, posture.Source{Name: n, Status: st})
	}
	return out
}

func snapshotOf(run string, at time.Time, src posture.Sources) posture.Snapshot {
	return posture.Snapshot{ID: SnapshotID(posture.AreaIdentity, at), TenantID: tenant, Area: posture.AreaIdentity, TakenAt: at,
		RunID: run, Sources: src, Metrics: map[string]posture.Metric{}}
}

func users(n int) []posture.UserMFA {
	out := make([]posture.UserMFA, n)
	for i := range out {
		out[i] = posture.UserMFA{ID: NewID(), UserPrincipalName: NewID() + "@contoso.test"}
	}
	return out
}

// chunkCount counts every per-user chunk document of the tenant.
func chunkCount(t *testing.T, s store.Store) int {
	t.Helper()
	n := 0
	require.NoError(t, store.Each(context.Background(), s, store.Query{Kind: store.KindSnapshot, TenantID: tenant,
		Attrs: map[string]string{attrPart: partUsers}}, func(store.Doc) error { n++; return nil }))
	return n
}

func TestSnapshotPut(t *testing.T) {
	cases := []struct {
		name       string
		first      posture.Sources
		second     posture.Sources
		wantStored bool
		wantRun    string
	}{
		{"a complete re-run replaces the period's snapshot", sources(posture.SrcUsers), sources(), true, "second"},
		{"an equally complete re-run replaces it", sources(), sources(), true, "second"},
		{"a re-run that lost a source is kept as an attempt", sources(), sources(posture.SrcUsers), false, "first"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			r := New(s).Snapshots
			ctx := context.Background()
			ok, err := r.Put(ctx, snapshotOf("first", t0, tc.first), users(2500))
			require.NoError(t, err)
			require.True(t, ok)
			ok, err = r.Put(ctx, snapshotOf("second", t0.Add(10*time.Minute), tc.second), users(2500))
			require.NoError(t, err)
			require.Equal(t, tc.wantStored, ok)
			got, err := r.Latest(ctx, tenant, posture.AreaIdentity, time.Time{})
			require.NoError(t, err)
			require.Equal(t, tc.wantRun, got.RunID)
			require.Equal(t, 2, got.UserChunks)
			states, err := r.UserStates(ctx, *got, nil)
			require.NoError(t, err)
			require.Len(t, states, 2500)
			require.Equal(t, 2, chunkCount(t, s), "the losing run's chunks are deleted, not left as orphans")
			if !tc.wantStored {
				require.Len(t, got.Attempts, 1)
				require.Equal(t, "second", got.Attempts[0].RunID)
			}
		})
	}
}

// racingStore lets another writer store a more complete header of the same
// period right before this run's header write reaches the store.
type racingStore struct {
	store.Store
	once  sync.Once
	other func()
}

func (r *racingStore) Put(ctx context.Context, d store.Doc, m store.WriteMode) (string, error) {
	if d.Attrs[attrPart] == partHeader {
		r.once.Do(r.other)
	}
	return r.Store.Put(ctx, d, m)
}

func TestSnapshotPutRaceNeverReplacesAMoreCompleteSnapshot(t *testing.T) {
	base := newTestStore(t)
	ctx := context.Background()
	rs := &racingStore{Store: base}
	rs.other = func() {
		ok, err := New(base).Snapshots.Put(ctx, snapshotOf("complete", t0, sources()), users(10))
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, err := New(rs).Snapshots.Put(ctx, snapshotOf("degraded", t0.Add(time.Minute), sources(posture.SrcRegistrationDetails)), users(10))
	require.NoError(t, err)
	require.False(t, ok, "the degraded run re-decides after its conditional write fails")
	got, err := New(base).Snapshots.Latest(ctx, tenant, posture.AreaIdentity, time.Time{})
	require.NoError(t, err)
	require.Equal(t, "complete", got.RunID)
	require.Len(t, got.Attempts, 1)
	require.Equal(t, 1, chunkCount(t, base), "the degraded run's chunk is removed")
}

func TestLatestAsOf(t *testing.T) {
	s := newTestStore(t)
	r := New(s).Snapshots
	ctx := context.Background()
	for i := range 3 {
		_, err := r.Put(ctx, snapshotOf("r", t0.Add(time.Duration(i)*time.Hour), sources()), nil)
		require.NoError(t, err)
	}
	got, err := r.Latest(ctx, tenant, posture.AreaIdentity, t0.Add(90*time.Minute))
	require.NoError(t, err)
	require.True(t, got.TakenAt.Equal(t0.Add(time.Hour)), "as of 09:35 the 09:05 snapshot is the latest")
	got, err = r.Latest(ctx, tenant, posture.AreaIdentity, t0.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, got.TakenAt.Equal(t0.Add(time.Hour)), "a snapshot taken exactly at the moment counts")
	byID, err := r.Get(ctx, tenant, got.ID)
	require.NoError(t, err)
	require.Equal(t, got.RunID, byID.RunID, "a report traces a number to its snapshot by id")
	_, err = r.Get(ctx, tenant, "identity-1999010100")
	require.ErrorIs(t, err, ErrNotFound)
	got, err = r.Latest(ctx, tenant, posture.AreaIdentity, t0.Add(-time.Minute))
	require.NoError(t, err)
	require.Nil(t, got, "nothing before the first run")
	got, err = r.Latest(ctx, tenant, posture.AreaDevices, time.Time{})
	require.NoError(t, err)
	require.Nil(t, got, "another area has none")
	n := 0
	require.NoError(t, r.Each(ctx, tenant, posture.AreaIdentity, t0.Add(time.Minute), t0.Add(3*time.Hour), func(posture.Snapshot) error { n++; return nil }))
	require.Equal(t, 2, n)
}

func TestUsersAreChunkedAtTheChunkSize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		users  int
		chunks int
	}{
		{"no users make no chunk", 0, 0},
		{"exactly one chunk's worth makes one chunk", userChunkSize, 1},
		{"one more user makes a second chunk", userChunkSize + 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			r := New(s).Snapshots
			_, err := r.Put(context.Background(), snapshotOf("r", t0, sources()), users(tc.users))
			require.NoError(t, err)
			got, err := r.Latest(context.Background(), tenant, posture.AreaIdentity, time.Time{})
			require.NoError(t, err)
			require.Equal(t, tc.chunks, got.UserChunks)
			require.Equal(t, tc.chunks, chunkCount(t, s))
			states, err := r.UserStates(context.Background(), *got, nil)
			require.NoError(t, err)
			require.Len(t, states, tc.users)
		})
	}
}

func TestAttemptsAreCapped(t *testing.T) {
	r := New(newTestStore(t)).Snapshots
	ctx := context.Background()
	_, err := r.Put(ctx, snapshotOf("good", t0, sources()), nil)
	require.NoError(t, err)
	for i := range maxAttempts + 2 {
		ok, err := r.Put(ctx, snapshotOf(fmt.Sprintf("bad%d", i), t0.Add(time.Duration(i+1)*time.Second), sources(posture.SrcUsers)), nil)
		require.NoError(t, err)
		require.False(t, ok)
	}
	got, err := r.Latest(ctx, tenant, posture.AreaIdentity, time.Time{})
	require.NoError(t, err)
	require.Len(t, got.Attempts, maxAttempts)
	require.Equal(t, fmt.Sprintf("bad%d", maxAttempts+1), got.Attempts[maxAttempts-1].RunID, "the newest attempts are kept")
	require.Equal(t, "bad2", got.Attempts[0].RunID)
}
