package records

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
)

func TestIncidents(t *testing.T) {
	r := New(newTestStore(t)).Incidents
	ctx := context.Background()
	mk := func(id string, created time.Time, status string) incident.Incident {
		return incident.Incident{ID: id, TenantID: tenant, Status: status, CreatedAt: created, Category: incident.CategoryOther}
	}
	require.NoError(t, r.Create(ctx, mk("old-open", t0.Add(-60*24*time.Hour), incident.StatusNew)))
	require.NoError(t, r.Create(ctx, mk("old-resolved", t0.Add(-60*24*time.Hour), incident.StatusResolved)))
	require.NoError(t, r.Create(ctx, mk("recent-resolved", t0.Add(-24*time.Hour), incident.StatusResolved)))
	require.NoError(t, r.Create(ctx, mk("future", t0.Add(time.Hour), incident.StatusNew)))
	require.Error(t, r.Create(ctx, mk("old-open", t0, incident.StatusNew)), "an id is created once")

	got, err := r.ForMetrics(ctx, tenant, t0, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, []string{"old-open", "recent-resolved"}, incidentIDs(got), "open ones of any age and the window's, nothing after t0")

	list, err := r.List(ctx, tenant, IncidentQuery{Status: incident.StatusResolved})
	require.NoError(t, err)
	require.Equal(t, []string{"old-resolved", "recent-resolved"}, incidentIDs(list))
	list, err = r.List(ctx, tenant, IncidentQuery{From: t0.Add(-2 * 24 * time.Hour), To: t0.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, []string{"recent-resolved", "future"}, incidentIDs(list))

	// Concurrent updates of one incident all land.
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			_, err := r.Update(ctx, tenant, "old-open", func(in *incident.Incident) error {
				in.Timeline = append(in.Timeline, incident.Entry{At: t0, Kind: "note", Message: string(rune('a' + i))})
				return nil
			})
			require.NoError(t, err)
		})
	}
	wg.Wait()
	in, err := r.Get(ctx, tenant, "old-open")
	require.NoError(t, err)
	require.Len(t, in.Timeline, 6)

	resolved, err := r.Update(ctx, tenant, "old-open", func(in *incident.Incident) error { in.Status = incident.StatusResolved; return nil })
	require.NoError(t, err)
	require.Equal(t, incident.StatusResolved, resolved.Status)
	open, err := r.List(ctx, tenant, IncidentQuery{OpenOnly: true})
	require.NoError(t, err)
	require.Equal(t, []string{"future"}, incidentIDs(open), "a resolved incident leaves the open index")

	_, err = r.Update(ctx, tenant, "missing", func(*incident.Incident) error { return nil })
	require.ErrorIs(t, err, ErrNotFound)
	_, err = r.Get(ctx, tenant, "missing")
	require.ErrorIs(t, err, ErrNotFound)
	boom := errors.New("refused")
	_, err = r.Update(ctx, tenant, "future", func(*incident.Incident) error { return boom })
	require.ErrorIs(t, err, boom)
}

func incidentIDs(list []incident.Incident) []string {
	out := []string{}
	for _, in := range list {
		out = append(out, in.ID)
	}
	return out
}

func TestExceptionsRelevantAt(t *testing.T) {
	r := New(newTestStore(t)).Exceptions
	ctx := context.Background()
	mk := func(id string, created, expires time.Time) controls.Exception {
		return controls.Exception{ID: id, TenantID: tenant, ControlID: "MS.AAD.3.2v2", CreatedAt: created, ExpiresAt: expires}
	}
	day := 24 * time.Hour
	for _, e := range []controls.Exception{
		mk("active", t0.Add(-day), t0.Add(day)),
		mk("expired-recently", t0.Add(-30*day), t0.Add(-day)),
		mk("expired-long-ago", t0.Add(-400*day), t0.Add(-ExpiredShown-day)),
		mk("made-later", t0.Add(time.Hour), t0.Add(10*day)),
		mk("revoked", t0.Add(-day), t0.Add(day)),
	} {
		require.NoError(t, r.Add(ctx, e))
	}
	rev, err := r.Revoke(ctx, tenant, "revoked", t0.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, controls.ExceptionRevoked, rev.Status)
	again, err := r.Revoke(ctx, tenant, "revoked", t0)
	require.NoError(t, err)
	require.True(t, again.RevokedAt.Equal(t0.Add(-time.Hour)), "revoking twice keeps the first time")
	_, err = r.Revoke(ctx, tenant, "missing", t0)
	require.ErrorIs(t, err, ErrNotFound)

	got, err := r.Relevant(ctx, tenant, t0)
	require.NoError(t, err)
	status := map[string]string{}
	for _, e := range got {
		status[e.ID] = e.Status
	}
	require.Equal(t, map[string]string{"active": "active", "expired-recently": "expired", "revoked": "revoked"}, status,
		"long-expired exceptions are not read, and one made after t does not exist yet at t")

	all, err := r.All(ctx, tenant, t0)
	require.NoError(t, err)
	require.Len(t, all, 5)
	require.Equal(t, "made-later", all[0].ID, "newest first")
	require.Equal(t, "expired-long-ago", all[4].ID)
}

func TestSettingsTargetsMerge(t *testing.T) {
	r := New(newTestStore(t)).Settings
	ctx := context.Background()
	tg, err := r.Targets(ctx, tenant)
	require.NoError(t, err)
	require.Equal(t, controls.DefaultTargets(), tg, "defaults before anything is stored")
	got, err := r.UpdateTargets(ctx, tenant, func(t *controls.Targets) error { t.MFACoverage = 0.5; return nil })
	require.NoError(t, err)
	want := controls.DefaultTargets()
	want.MFACoverage = 0.5
	require.Equal(t, want, got, "the first update starts from the defaults")
	_, err = r.UpdateTargets(ctx, tenant, func(t *controls.Targets) error { t.AlertReviewHours = 4; return nil })
	require.NoError(t, err)
	stored, err := r.Targets(ctx, tenant)
	require.NoError(t, err)
	want.AlertReviewHours = 4
	require.Equal(t, want, stored)
}

func TestStateSentReportsSubscriptionsAndParked(t *testing.T) {
	rec := New(newTestStore(t))
	ctx := context.Background()

	ts, err := rec.State.Timer(ctx, "CollectIdentity")
	require.NoError(t, err)
	require.True(t, ts.Last.IsZero())
	require.NoError(t, rec.State.SetTimer(ctx, "CollectIdentity", TimerState{Last: t0}))
	ts, err = rec.State.Timer(ctx, "CollectIdentity")
	require.NoError(t, err)
	require.True(t, ts.Last.Equal(t0))

	_, ok, err := rec.State.AlertPolling(ctx, tenant)
	require.NoError(t, err)
	require.False(t, ok, "never polled")
	_, err = rec.State.UpdateAlertPolling(ctx, tenant, func(p *AlertPolling) error { p.Watermark, p.LastPolledAt = t0, t0; return nil })
	require.NoError(t, err)
	ap, ok, err := rec.State.AlertPolling(ctx, tenant)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, ap.Watermark.Equal(t0))

	_, ok, err = rec.SentReports.Get(ctx, tenant, "monthly", "2026-10")
	require.NoError(t, err)
	require.False(t, ok)
	sr, err := rec.SentReports.Update(ctx, tenant, "monthly", "2026-10", func(s *SentReport, exists bool) error {
		require.False(t, exists)
		s.Status, s.Attempts, s.LastTry = "failed", s.Attempts+1, t0
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, "monthly", sr.Kind)
	require.Equal(t, "2026-10", sr.Period)
	_, err = rec.SentReports.Update(ctx, tenant, "monthly", "2026-10", func(s *SentReport, exists bool) error {
		require.True(t, exists)
		s.Status, s.Attempts, s.LastTry = "sent", s.Attempts+1, t0.Add(time.Hour)
		return nil
	})
	require.NoError(t, err)
	log, err := rec.SentReports.Range(ctx, tenant, t0, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, log, 1)
	require.Equal(t, "sent", log[0].Status)
	require.Equal(t, 2, log[0].Attempts)

	for i, exp := range []time.Time{t0.Add(48 * time.Hour), t0.Add(2 * time.Hour)} {
		require.NoError(t, rec.Subscriptions.Put(ctx, Subscription{ID: []string{"s-late", "s-soon"}[i], TenantID: tenant, Resource: "users",
			ExpirationDateTime: exp, Status: "active"}))
	}
	due, err := rec.Subscriptions.ExpiringBefore(ctx, tenant, t0.Add(24*time.Hour))
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, "s-soon", due[0].ID)
	_, err = rec.Subscriptions.Update(ctx, tenant, "s-soon", func(s *Subscription, exists bool) error {
		require.True(t, exists)
		s.ExpirationDateTime = t0.Add(72 * time.Hour)
		return nil
	})
	require.NoError(t, err)
	all, err := rec.Subscriptions.List(ctx, tenant)
	require.NoError(t, err)
	require.Equal(t, "s-late", all[0].ID, "soonest expiry first after the renewal")
	require.NoError(t, rec.Subscriptions.Delete(ctx, tenant, "s-soon"))
	require.NoError(t, rec.Subscriptions.Delete(ctx, tenant, "s-soon"), "deleting twice is not an error")

	require.NoError(t, rec.Parked.Park(ctx, ParkedMessage{Function: "RunTenantWork", MessageID: "m1", Reason: "bad", ParkedAt: t0}))
	parked, err := rec.Parked.Range(ctx, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, parked, 1)
	require.Equal(t, "m1", parked[0].MessageID)

	require.NoError(t, rec.RestoreTests.Add(ctx, posture.RestoreTest{ID: "r1", TenantID: tenant, PerformedAt: t0, Workload: "exchange"}))
	tests, err := rec.RestoreTests.Range(ctx, tenant, t0.Add(time.Second), time.Time{})
	require.NoError(t, err)
	require.Empty(t, tests, "from is inclusive of its instant only")
	tests, err = rec.RestoreTests.Range(ctx, tenant, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, tests, 1)

	boom := errors.New("refused")
	_, err = rec.State.UpdateAlertPolling(ctx, tenant, func(*AlertPolling) error { return boom })
	require.ErrorIs(t, err, boom)
}

func TestSafeAttrKeepsAPortableCharacterSet(t *testing.T) {
	require.Equal(t, "MS.AAD.3.2v2", safeAttr("MS.AAD.3.2v2"))
	require.Equal(t, "abc-_9Z", safeAttr("a b/c-_9Z<é>"))
	require.Equal(t, "09azAZ.", safeAttr("/0:9`a{z@A[Z\u0080."), "each range's ends are kept and their neighbours dropped")
	require.Len(t, NewID(), 16)
	require.NotEqual(t, NewID(), NewID())
}
