package seed

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store/embedded"
)

const tenant = "11111111-2222-4333-8444-555555555555"

var now = time.Date(2026, 11, 15, 8, 0, 0, 0, time.UTC)

func newRecords(t *testing.T) *records.Records {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return records.New(s)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestYear(t *testing.T) {
	rec := newRecords(t)
	opts := Options{TenantID: tenant, Now: now, Days: 30, Gap: [2]int{10, 8}, Forbidden: [2]int{5, 4}}
	base := Synthetic(16, 10, now, "")
	res, err := Year(context.Background(), rec, base, opts, quiet)
	require.NoError(t, err)
	require.False(t, res.Skipped)
	require.Equal(t, (30-3)*len(base), res.Snapshots, "a snapshot a day per area, but for the three-day gap")
	require.Equal(t, 3, res.Incidents, "the plan's incidents of the last 30 days")
	require.Equal(t, 5, res.RestoreTests)
	require.Equal(t, 2, res.Exceptions)

	points, err := rec.History.AreaRange(context.Background(), tenant, posture.AreaIdentity, now.AddDate(0, 0, -31), now)
	require.NoError(t, err)
	require.Len(t, points, 27)
	require.Equal(t, day(now, 30), points[0].TakenAt)
	require.Equal(t, day(now, 1), points[len(points)-1].TakenAt)
	days := map[time.Time]posture.HistoryPoint{}
	for _, p := range points {
		days[p.TakenAt] = p
	}
	for _, back := range []int{10, 9, 8} {
		_, ok := days[day(now, back)]
		require.False(t, ok, "day %d back is in the gap", back)
	}
	for back, want := range map[int]posture.SourceStatus{6: posture.SourceOK, 5: posture.SourceForbidden, 4: posture.SourceForbidden, 3: posture.SourceOK} {
		src, _ := days[day(now, back)].Sources.Get(posture.SrcRegistrationDetails)
		require.Equal(t, want, src.Status, "registration read %d days back", back)
	}
	first := *days[day(now, 30)].Metrics[posture.MetricMFARegistration].Value
	last := *days[day(now, 1)].Metrics[posture.MetricMFARegistration].Value
	require.Less(t, first, last, "registration improves over the period")

	again, err := Year(context.Background(), rec, Synthetic(16, 10, now, ""), opts, quiet)
	require.NoError(t, err)
	require.True(t, again.Skipped, "a second run over the same store adds nothing")
}

func TestYearWeekly(t *testing.T) {
	rec := newRecords(t)
	base := Synthetic(8, 4, now, "")
	res, err := Year(context.Background(), rec, base, Options{TenantID: tenant, Now: now, Days: 21, Every: 7}, quiet)
	require.NoError(t, err)
	require.Equal(t, 3*len(base), res.Snapshots, "every seventh day counted from the newest: 1, 8 and 15 days back")
}

func TestIdempotentRecords(t *testing.T) {
	rec := newRecords(t)
	base := Synthetic(16, 4, now, "")
	n, err := incidents(context.Background(), rec, tenant, now, 365)
	require.NoError(t, err)
	require.Equal(t, len(incidentPlan), n)
	n, err = incidents(context.Background(), rec, tenant, now, 365)
	require.NoError(t, err)
	require.Zero(t, n, "incidents are not stored twice")
	n, err = restoreTests(context.Background(), rec, tenant, now)
	require.NoError(t, err)
	require.Equal(t, len(restorePlan), n)
	n, err = restoreTests(context.Background(), rec, tenant, now)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = exceptions(context.Background(), rec, base, tenant, now)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = exceptions(context.Background(), rec, base, tenant, now)
	require.NoError(t, err)
	require.Zero(t, n)
	list, err := rec.Exceptions.All(context.Background(), tenant, now)
	require.NoError(t, err)
	status := map[string]string{}
	for _, e := range list {
		status[e.ID] = e.Status
	}
	require.Equal(t, map[string]string{"seed-exc-expired": "expired", "seed-exc-active": "active"}, status)
	n, err = exceptions(context.Background(), rec, map[posture.Area]posture.Collected{}, tenant, now)
	require.NoError(t, err)
	require.Zero(t, n, "no identity, no users to accept a risk for")

	in, err := rec.Incidents.Get(context.Background(), tenant, "seed-inc-11")
	require.NoError(t, err)
	require.Equal(t, "awaitingApproval", in.Status, "the wipe still waits for approval")
	in, err = rec.Incidents.Get(context.Background(), tenant, "seed-inc-01")
	require.NoError(t, err)
	require.Equal(t, "resolved", in.Status)
	require.NotNil(t, in.FirstExecutedAt())
}

func TestVary(t *testing.T) {
	base := Synthetic(40, 30, now, "")
	at := day(now, 100)
	start := vary(base[posture.AreaIdentity], posture.AreaIdentity, at, 0, false)
	end := vary(base[posture.AreaIdentity], posture.AreaIdentity, at, 1, false)
	reg := func(c posture.Collected) int {
		n := 0
		for _, u := range c.Identity.Users {
			if u.Registration != nil && u.Registration.IsMfaRegistered {
				n++
			}
		}
		return n
	}
	require.Equal(t, reg(base[posture.AreaIdentity]), reg(end), "at the end of the year the base is today's")
	require.Less(t, reg(start), reg(end))
	require.Equal(t, 35, reg(base[posture.AreaIdentity]), "vary does not change the base")

	dev := vary(base[posture.AreaDevices], posture.AreaDevices, at, 0, false)
	nc := 0
	for _, d := range dev.Devices.Devices {
		require.Equal(t, at.Add(-time.Hour), d.LastSync, "devices synced on the day")
		if d.Protection != nil {
			require.Equal(t, at.Add(-2*time.Hour), *d.Protection.LastReported)
		}
		if d.ComplianceState != "compliant" {
			nc++
		}
	}
	require.Greater(t, nc, 3, "more devices were non-compliant a year ago than today's 3")
	ss := vary(base[posture.AreaSecureScore], posture.AreaSecureScore, at, 0, false)
	require.Len(t, ss.SecureScore.Scores, 1)
	require.Less(t, ss.SecureScore.Scores[0].CurrentScore, 62.0)
	require.Equal(t, at.Add(-time.Hour), ss.SecureScore.Scores[0].CreatedAt)
	require.Equal(t, 62.0, base[posture.AreaSecureScore].SecureScore.Scores[0].CurrentScore)
	empty := vary(posture.Collected{}, posture.AreaIdentity, at, 0, true)
	require.Nil(t, empty.Identity)
}

func TestSynthetic(t *testing.T) {
	b := Synthetic(100, 50, now, "<b>x</b>")
	id := b[posture.AreaIdentity].Identity
	require.Len(t, id.Users, 100)
	require.Equal(t, "<b>x</b>", id.Users[0].DisplayName)
	admins, unreg := 0, 0
	for _, u := range id.Users {
		if u.Registration.IsAdmin {
			admins++
		}
		if !u.Registration.IsMfaRegistered {
			unreg++
		}
	}
	require.Equal(t, 2, admins)
	require.Equal(t, 13, unreg)
	ios := 0
	for _, d := range b[posture.AreaDevices].Devices.Devices {
		if d.OperatingSystem == "iOS" {
			ios++
			require.Nil(t, d.Protection)
		}
	}
	require.Equal(t, 10, ios)
	for _, c := range b {
		for _, s := range c.Sources {
			require.True(t, s.OK())
		}
	}
}
