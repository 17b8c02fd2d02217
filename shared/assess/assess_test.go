package assess

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store"
	"m365security/shared/store/embedded"
)

const tenant = "11111111-2222-4333-8444-555555555555"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestStore(t testing.TB) store.Store {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fakeTenant builds an identity collection of n members, every third one
// unregistered, under one all-users MFA policy.
func fakeTenant(n int) Collected {
	off := false
	id := &posture.Identity{SecurityDefaultsEnabled: &off, Authorization: &posture.Authorization{AllowInvitesFrom: "everyone"},
		Policies: []posture.CAPolicy{{ID: "p1", DisplayName: "MFA", State: posture.PolicyEnabled, IncludeUsers: []string{"All"},
			IncludeApplications: []string{"All"}, BuiltInControls: []string{"mfa"}}}}
	for i := 0; i < n; i++ {
		id.Users = append(id.Users, posture.User{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), UserPrincipalName: fmt.Sprintf("u%05d@contoso.test", i),
			AccountEnabled: true, UserType: "Member", Registration: &posture.Registration{IsMfaRegistered: i%3 != 0}})
	}
	var src posture.Sources
	for _, s := range []string{posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults, posture.SrcConditionalAccess,
		posture.SrcGroupMembers, posture.SrcRoleAssignments, posture.SrcAuthorizationPolicy, posture.SrcDomains} {
		src = append(src, posture.Source{Name: s, Status: posture.SourceOK})
	}
	return Collected{Identity: id, Sources: src}
}

func withFailed(c Collected, name string, status posture.SourceStatus) Collected {
	out := c
	out.Sources = nil
	for _, s := range c.Sources {
		if s.Name == name {
			s.Status, s.Reason = status, "HTTP 403 Authorization_RequestDenied"
		}
		out.Sources = append(out.Sources, s)
	}
	return out
}

type fixture struct {
	svc   *Service
	store store.Store
	clock *clock
	next  Collected
	calls int
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{store: newTestStore(t), clock: &clock{t: time.Date(2026, 11, 2, 8, 5, 0, 0, time.UTC)}, next: fakeTenant(30)}
	f.svc = New(records.New(f.store), func(ctx context.Context, tenantID string, area posture.Area) Collected {
		f.calls++
		return f.next
	}, f.clock.now, slog.New(slog.DiscardHandler))
	return f
}

func (f *fixture) headers(t *testing.T) []store.Doc {
	t.Helper()
	p, err := f.store.Query(context.Background(), store.Query{Kind: store.KindSnapshot, TenantID: tenant,
		Attrs: map[string]string{"part": "header"}})
	require.NoError(t, err)
	return p.Docs
}

func TestRunStoresSnapshotMetricsAndHistory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	require.True(t, res.Stored)

	v, err := f.svc.Metrics(ctx, tenant, time.Time{})
	require.NoError(t, err)
	cov := v.Metrics[posture.MetricMFACoverage]
	require.Equal(t, posture.Measured, cov.Status)
	require.Equal(t, 20.0, *cov.Numerator)
	require.Equal(t, 30.0, *cov.Denominator)
	require.Equal(t, posture.Unknown, v.Metrics[posture.MetricDeviceCompliance].Status, "devices never collected")

	h, err := f.svc.MetricsHistory(ctx, tenant, f.clock.now().Add(-time.Hour), f.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, h, 1)
	require.Equal(t, res.SnapshotID, h[0].SnapshotID)

	users, err := f.svc.MFAUsers(ctx, tenant, time.Time{}, true)
	require.NoError(t, err)
	require.Len(t, users.Users, 10)
	for _, u := range users.Users {
		require.Equal(t, posture.No, u.Protected)
		require.Equal(t, "not registered for MFA", u.Reason)
	}
}

func TestRunTwiceInAPeriodIsIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	f.clock.add(10 * time.Minute)
	_, err = f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	require.Len(t, f.headers(t), 1, "same hour, same snapshot")
	f.clock.add(time.Hour)
	_, err = f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	require.Len(t, f.headers(t), 2, "a new hour is a new snapshot")
}

func TestConcurrentRunsLeaveOneConsistentSnapshot(t *testing.T) {
	f := newFixture(t)
	f.next = fakeTenant(4500) // three user chunks per run
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.Run(context.Background(), tenant, posture.AreaIdentity)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, f.headers(t), 1)
	users, err := f.svc.MFAUsers(context.Background(), tenant, time.Time{}, false)
	require.NoError(t, err)
	require.Len(t, users.Users, 4500, "the header's run id selects exactly one run's chunks")
}

func TestFailedRerunInSamePeriodKeepsGoodSnapshot(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.next
	_, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)

	f.next = withFailed(good, posture.SrcRegistrationDetails, posture.SourceForbidden)
	f.clock.add(5 * time.Minute)
	res, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	require.False(t, res.Stored, "a less complete run must not replace the period's snapshot")

	v, err := f.svc.Metrics(ctx, tenant, time.Time{})
	require.NoError(t, err)
	require.Equal(t, posture.Measured, v.Metrics[posture.MetricMFARegistration].Status)
	col, err := f.svc.Collection(ctx, tenant, time.Time{})
	require.NoError(t, err)
	require.Len(t, col.Areas[posture.AreaIdentity].Attempts, 1, "the failed attempt is surfaced")
}

func TestUnknownMetricCarriesLastMeasuredValue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.next
	_, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	f.clock.add(2 * time.Hour)
	f.next = withFailed(good, posture.SrcRegistrationDetails, posture.SourceForbidden)
	_, err = f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)

	v, err := f.svc.Metrics(ctx, tenant, time.Time{})
	require.NoError(t, err)
	m := v.Metrics[posture.MetricMFARegistration]
	require.Equal(t, posture.Unknown, m.Status)
	require.Nil(t, m.Value, "never 0 when unknown")
	require.Contains(t, m.Reason, "userRegistrationDetails: forbidden")
	require.NotNil(t, m.LastMeasured)
	require.InDelta(t, 20.0/30.0, *m.LastMeasured.Value, 1e-9)
}

func TestCollectorErrorStoresAnUnknownSnapshot(t *testing.T) {
	f := newFixture(t)
	// What collect.Area.Unavailable returns when no Graph client can be built.
	f.svc.collect = func(context.Context, string, posture.Area) Collected {
		return Collected{Sources: posture.Sources{{Name: "graph", Status: posture.SourceFailed, Reason: "create credential: no managed identity"},
			{Name: posture.SrcManagedDevices, Status: posture.SourceSkipped, Reason: "graph client unavailable"}}}
	}
	_, err := f.svc.Run(context.Background(), tenant, posture.AreaDevices)
	require.NoError(t, err)
	v, err := f.svc.Metrics(context.Background(), tenant, time.Time{})
	require.NoError(t, err)
	require.Equal(t, posture.Unknown, v.Metrics[posture.MetricDeviceCompliance].Status)
	require.Contains(t, v.Metrics[posture.MetricDeviceCompliance].Reason, "managedDevices: skipped")
}

func TestControlsHistoryAcrossRuns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := f.clock.now()
	_, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	// The tenant fixes guest invitations the next day.
	f.clock.add(24 * time.Hour)
	fixed := fakeTenant(30)
	fixed.Identity.Authorization.AllowInvitesFrom = "adminsAndGuestInviters"
	f.next = fixed
	_, err = f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)

	h, err := f.svc.ControlsHistory(ctx, tenant, start.Add(-time.Hour), f.clock.now().Add(time.Hour))
	require.NoError(t, err)
	var got controls.ControlHistory
	for _, c := range h.Controls {
		if c.ID == "MS.AAD.8.2v1" {
			got = c
		}
	}
	require.Equal(t, controls.Fixed, got.Change)
	require.Len(t, got.Fixes, 1)
	require.InDelta(t, 1.0, got.Fixes[0].Days, 1e-6)
}

func TestExceptionLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	// Users 0, 3, 6... are unregistered; accept them all for M365SEC.MFA.1.
	var ids []string
	for i := 0; i < 30; i += 3 {
		ids = append(ids, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
	}
	e, err := f.svc.AddException(ctx, tenant, controls.Exception{ControlID: "M365SEC.MFA.1", Scope: controls.Scope{Users: ids},
		Reason: "pilot users without phones", ApprovedBy: "ciso@contoso.test", ExpiresAt: f.clock.now().Add(48 * time.Hour)})
	require.NoError(t, err)
	status := func() controls.Status {
		v, err := f.svc.Controls(ctx, tenant, time.Time{})
		require.NoError(t, err)
		for _, c := range v.Controls {
			if c.ID == "M365SEC.MFA.1" {
				return c.Status
			}
		}
		return ""
	}
	require.Equal(t, controls.Excepted, status())
	f.clock.add(72 * time.Hour)
	require.Equal(t, controls.Fail, status(), "expired exceptions stop counting")
	list, err := f.svc.Exceptions(ctx, tenant)
	require.NoError(t, err)
	require.Equal(t, controls.ExceptionExpired, list[0].Status)

	_, err = f.svc.RevokeException(ctx, tenant, e.ID)
	require.NoError(t, err)
	_, err = f.svc.RevokeException(ctx, tenant, "does-not-exist")
	require.ErrorIs(t, err, ErrNotFound)

	_, err = f.svc.AddException(ctx, tenant, controls.Exception{ControlID: "nope"})
	var ve *controls.ValidationError
	require.ErrorAs(t, err, &ve)
}

func TestRestoreTestsAndTargets(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.AddRestoreTest(ctx, tenant, posture.RestoreTest{PerformedAt: f.clock.now().Add(-48 * time.Hour), Workload: "exchange", Succeeded: true})
	require.NoError(t, err)
	_, err = f.svc.AddRestoreTest(ctx, tenant, posture.RestoreTest{PerformedAt: f.clock.now().Add(48 * time.Hour), Workload: "exchange"})
	require.ErrorContains(t, err, "future")
	_, err = f.svc.AddRestoreTest(ctx, tenant, posture.RestoreTest{PerformedAt: f.clock.now(), Workload: "tape"})
	require.ErrorContains(t, err, "workload must be one of")
	v, err := f.svc.Metrics(ctx, tenant, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 2.0, *v.Metrics[posture.MetricDaysSinceRestore].Value)

	tg, err := f.svc.Targets(ctx, tenant)
	require.NoError(t, err)
	require.Equal(t, controls.DefaultTargets(), tg)
	tg.MFACoverage = 0.5
	_, err = f.svc.SetTargets(ctx, tenant, tg)
	require.NoError(t, err)
	got, err := f.svc.Targets(ctx, tenant)
	require.NoError(t, err)
	require.Equal(t, 0.5, got.MFACoverage)
	tg.MFACoverage = 1.5
	_, err = f.svc.SetTargets(ctx, tenant, tg)
	require.Error(t, err)
}

// crashingStore fails history writes while crash is set, as a process
// killed between the snapshot header and its history point would leave it.
type crashingStore struct {
	store.Store
	crash bool
}

func (c *crashingStore) Put(ctx context.Context, d store.Doc, m store.WriteMode) (string, error) {
	if c.crash && d.Kind == store.KindHistory {
		return "", fmt.Errorf("%w: killed", store.ErrInvalid)
	}
	return c.Store.Put(ctx, d, m)
}

func TestARunRepairsTheHistoryPointACrashLost(t *testing.T) {
	f := newFixture(t)
	cs := &crashingStore{Store: f.store, crash: true}
	f.svc.records = records.New(cs)
	ctx := context.Background()
	first, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.Error(t, err, "the history write failed after the header was stored")
	h, err := f.svc.MetricsHistory(ctx, tenant, f.clock.now().Add(-time.Hour), f.clock.now().Add(3*time.Hour))
	require.NoError(t, err)
	require.Empty(t, h, "the crash left a snapshot without a history point")

	cs.crash = false
	f.clock.add(time.Hour)
	res, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	require.Equal(t, 1, res.Repaired)
	h, err = f.svc.MetricsHistory(ctx, tenant, f.clock.now().Add(-2*time.Hour), f.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, h, 2, "the next run wrote the lost point and its own")
	require.Equal(t, first.SnapshotID, h[0].SnapshotID)
	require.Equal(t, res.SnapshotID, h[1].SnapshotID)

	f.clock.add(time.Hour)
	res, err = f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	require.Zero(t, res.Repaired, "nothing is repaired twice")
}

func TestEveryAreaHasAnEvaluation(t *testing.T) {
	for _, a := range posture.Areas {
		_, ok := builders[a]
		require.True(t, ok, "area %s has no builder", a)
	}
	require.Len(t, builders, len(posture.Areas))
	_, err := build(tenant, "nope", Collected{}, time.Now())
	require.Error(t, err)
}

func TestRepairLooksBackSevenDaysOnly(t *testing.T) {
	f := newFixture(t)
	cs := &crashingStore{Store: f.store, crash: true}
	f.svc.records = records.New(cs)
	ctx := context.Background()
	_, err := f.svc.Run(ctx, tenant, posture.AreaIdentity) // stored, its point lost
	require.Error(t, err)
	f.clock.add(repairWindow - time.Hour)
	_, err = f.svc.Run(ctx, tenant, posture.AreaIdentity) // its repair fails, yet it is stored; its point is lost too
	require.Error(t, err)
	snap, err := f.svc.Latest(ctx, tenant, posture.AreaIdentity, time.Time{})
	require.NoError(t, err)
	require.True(t, snap.TakenAt.Equal(f.clock.now()), "a failed repair does not cost the run its snapshot")
	cs.crash = false
	f.clock.add(2 * time.Hour) // the first snapshot is now 7 days and 1 hour old
	res, err := f.svc.Run(ctx, tenant, posture.AreaIdentity)
	require.NoError(t, err)
	require.Equal(t, 1, res.Repaired, "only the snapshot within the last seven days is repaired")
}
