package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/handler/hostmeta"
	"m365security/handler/invoke"
	"m365security/shared/assess"
	"m365security/shared/fanout"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store"
	"m365security/shared/store/embedded"
)

// refusingStore refuses every snapshot write of one tenant, as a store
// that keeps rejecting that tenant's documents would.
type refusingStore struct {
	store.Store
	tenant string
}

func (r refusingStore) Put(ctx context.Context, d store.Doc, m store.WriteMode) (string, error) {
	if d.TenantID == r.tenant && d.Kind == store.KindSnapshot {
		return "", fmt.Errorf("%w: refused for the test", store.ErrInvalid)
	}
	return r.Store.Put(ctx, d, m)
}

func TestFanOutRunsEachTenantAsItsOwnDelivery(t *testing.T) {
	const good, bad = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
	base, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = base.Close() })
	st := refusingStore{Store: base, tenant: bad}
	recs := records.New(st)
	log := slog.New(slog.DiscardHandler)

	var mu sync.Mutex
	calls := map[string]int{}
	cfg := Config{Tenants: []string{good, bad}}
	a := &app{cfg: cfg, log: log, store: st, records: recs, now: time.Now, tenants: map[string]bool{good: true, bad: true},
		parker: storeParker{recs.Parked}}
	a.assess = assess.New(recs, func(_ context.Context, tenantID string, _ posture.Area) assess.Collected {
		mu.Lock()
		calls[tenantID]++
		mu.Unlock()
		return assess.Collected{Sources: posture.Sources{{Name: posture.SrcManagedDevices, Status: posture.SourceOK}}, Devices: &posture.Devices{}}
	}, time.Now, log)

	wd, err := os.Getwd()
	require.NoError(t, err)
	hostDir, fnDir, err := hostmeta.Locate(wd)
	require.NoError(t, err)
	meta, err := hostmeta.Load(hostDir, fnDir, func(string) string { return "" })
	require.NoError(t, err)
	mux, err := a.router(meta)
	require.NoError(t, err)
	var closers []func(context.Context) error
	require.NoError(t, a.startQueue(context.Background(), cfg, meta, mux, &closers))
	t.Cleanup(func() {
		for _, c := range closers {
			_ = c(context.Background())
		}
	})

	timer := a.fanOutTimer(fanout.CollectJob(posture.AreaDevices), time.Hour)
	require.NoError(t, timer(context.Background(), invoke.Invocation{Log: log}, invoke.TimerInfo{}))

	var parked []records.ParkedMessage
	require.Eventually(t, func() bool {
		parked, err = recs.Parked.Range(context.Background(), time.Time{}, time.Time{})
		require.NoError(t, err)
		return len(parked) == 1
	}, 30*time.Second, 10*time.Millisecond, "the failing tenant's work is dead-lettered")

	snap, err := recs.Snapshots.Latest(context.Background(), good, posture.AreaDevices, time.Time{})
	require.NoError(t, err)
	require.NotNil(t, snap, "the healthy tenant's collection was stored")
	none, err := recs.Snapshots.Latest(context.Background(), bad, posture.AreaDevices, time.Time{})
	require.NoError(t, err)
	require.Nil(t, none)

	p := parked[0]
	require.Equal(t, "RunTenantWork", p.Function)
	require.Equal(t, 10, p.DeliveryCount, "retried up to the queue's max delivery count")
	require.Contains(t, p.Reason, "refused for the test", "the dead letter says why")
	require.Contains(t, p.Body, bad)
	count := func(tenant string) int {
		mu.Lock()
		defer mu.Unlock()
		return calls[tenant]
	}
	require.Equal(t, 1, count(good), "one delivery, not held up by the other tenant's retries")
	require.Equal(t, 10, count(bad))

	// A second firing in the same period queues nothing new.
	require.NoError(t, timer(context.Background(), invoke.Invocation{Log: log}, invoke.TimerInfo{}))
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, 1, count(good))
}

func TestTenantWorkThatCanNeverRunIsPermanent(t *testing.T) {
	const tenant = "aaaaaaaa-0000-4000-8000-000000000001"
	a := &app{log: slog.New(slog.DiscardHandler), tenants: map[string]bool{tenant: true}}
	cases := []struct {
		name string
		body string
	}{
		{"a body that is not a work item", `{"job":`},
		{"an unmonitored tenant", `{"job":"collect:identity","tenantId":"cccccccc-0000-4000-8000-000000000003","period":"2026120110"}`},
		{"an unknown job", `{"job":"mine:bitcoin","tenantId":"` + tenant + `","period":"2026120110"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := a.runTenantWork(context.Background(), invoke.Invocation{Log: a.log}, invoke.Message{Body: []byte(tc.body)})
			require.Error(t, err)
			require.False(t, invoke.IsRetry(err), "retrying cannot help: the message is parked with the reason")
		})
	}
}
