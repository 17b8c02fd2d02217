package assess

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store"
)

// Tests of behaviour the rest of the suite exercised without asserting:
// counts and finding texts of built snapshots, validation boundaries, store
// failures that must surface, the log lines that become App Insights
// columns, and the order of answers.

// failingStore fails every write of one kind of document.
type failingStore struct {
	store.Store
	kind store.Kind
}

func (s *failingStore) Put(ctx context.Context, d store.Doc, m store.WriteMode) (string, error) {
	if d.Kind == s.kind {
		return "", fmt.Errorf("%w: disk full", store.ErrInvalid)
	}
	return s.Store.Put(ctx, d, m)
}

var _ store.Store = (*failingStore)(nil)

// logLines captures the service's log records as decoded JSON objects.
type logLines struct{ buf bytes.Buffer }

func (l *logLines) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(&l.buf, nil)) }

func (l *logLines) withMessage(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func TestBuildDevicesCountsAndFindings(t *testing.T) {
	at := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	recent, stale := at.Add(-time.Hour), at.Add(-8*24*time.Hour)
	prot := func(mod func(*posture.Protection)) *posture.Protection {
		p := &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, LastReported: &recent}
		mod(p)
		return p
	}
	win := func(id, state string, p *posture.Protection) posture.Device {
		return posture.Device{ID: id, DeviceName: strings.ToUpper(id), OperatingSystem: "Windows", ComplianceState: state,
			UserID: "u-" + id, UserPrincipalName: id + "@contoso.test", Protection: p}
	}
	c := Collected{
		Sources: posture.Sources{{Name: posture.SrcManagedDevices, Status: posture.SourceOK}, {Name: posture.SrcProtectionStates, Status: posture.SourceOK}},
		Devices: &posture.Devices{Devices: []posture.Device{
			win("ok", "compliant", prot(func(*posture.Protection) {})),
			win("malware", "noncompliant", prot(func(p *posture.Protection) { p.MalwareProtectionEnabled = false })),
			win("realtime", "inGracePeriod", prot(func(p *posture.Protection) { p.RealTimeProtectionEnabled = false })),
			win("signatures", "compliant", prot(func(p *posture.Protection) { p.SignatureUpdateOverdue = true })),
			win("silent", "compliant", prot(func(p *posture.Protection) { p.LastReported = &stale })),
			win("never", "compliant", prot(func(p *posture.Protection) { p.LastReported = nil })),
			{ID: "mac", DeviceName: "MAC", OperatingSystem: "macOS", ComplianceState: "noncompliant", UserID: "u-mac", UserPrincipalName: "mac@contoso.test"},
		}},
	}
	b, err := build(tenant, posture.AreaDevices, c, at)
	require.NoError(t, err)
	require.Equal(t, &posture.Counts{Devices: 7, DevicesByOS: map[string]int{"Windows": 6, "macOS": 1},
		DevicesByState: map[string]int{"compliant": 4, "noncompliant": 2, "inGracePeriod": 1}}, b.snap.Counts)
	details := func(list string) map[string]string {
		out := map[string]string{}
		for _, f := range b.snap.Findings[list].Items {
			require.Equal(t, posture.FindingDevice, f.Kind)
			require.Equal(t, "u-"+f.ID, f.UserID)
			require.Equal(t, strings.ToUpper(f.ID), f.Name)
			out[f.ID] = f.Detail
		}
		return out
	}
	require.Equal(t, map[string]string{
		"malware":  "compliance state noncompliant (Windows, malware@contoso.test)",
		"realtime": "compliance state inGracePeriod (Windows, realtime@contoso.test)",
		"mac":      "compliance state noncompliant (macOS, mac@contoso.test)",
	}, details(posture.ListNoncompliantDevice))
	require.Equal(t, map[string]string{
		"malware":    "anti-malware protection is off",
		"realtime":   "real-time protection is off",
		"signatures": "security intelligence (signature) update overdue",
		"silent":     "protection state not reported in the last 7 days",
		"never":      "protection state not reported in the last 7 days",
	}, details(posture.ListUnprotectedDevices))
	require.Equal(t, []string{"mac"}, func() []string {
		var ids []string
		for _, f := range b.snap.Findings[posture.ListUnmeasuredDevices].Items {
			ids = append(ids, f.ID)
		}
		return ids
	}())
}

func TestBuildIdentityCountsUsersByKind(t *testing.T) {
	c := Collected{Identity: &posture.Identity{Users: []posture.User{
		{ID: "m1", AccountEnabled: true, UserType: "Member"},
		{ID: "m2", AccountEnabled: true, UserType: "Member"},
		{ID: "g1", AccountEnabled: true, UserType: "Guest"},
		{ID: "d1", AccountEnabled: false, UserType: "Member"},
		{ID: "d2", AccountEnabled: false, UserType: "Guest"},
	}}}
	b, err := build(tenant, posture.AreaIdentity, c, time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, 5, b.snap.Counts.Users)
	require.Equal(t, 2, b.snap.Counts.EnabledMembers)
	require.Equal(t, 1, b.snap.Counts.Guests, "a disabled guest counts as disabled")
	require.Equal(t, 2, b.snap.Counts.Disabled)
}

func TestBuildSecureScoreKeepsTheLatestDayDetail(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	detail := []posture.ControlScore{{ControlName: "MFARegistrationV2"}}
	cases := []struct {
		name string
		ss   *posture.SecureScore
		want *posture.SecureScore
	}{
		{"no Secure Score read stores none", nil, nil},
		{"the series is stored newest first with only the latest day's control scores", &posture.SecureScore{Scores: []posture.Score{
			{CreatedAt: day(-2), CurrentScore: 50, ControlScores: detail},
			{CreatedAt: day(0), CurrentScore: 52, ControlScores: detail},
			{CreatedAt: day(-1), CurrentScore: 51, ControlScores: detail},
		}}, &posture.SecureScore{Scores: []posture.Score{
			{CreatedAt: day(0), CurrentScore: 52, ControlScores: detail},
			{CreatedAt: day(-1), CurrentScore: 51},
			{CreatedAt: day(-2), CurrentScore: 50},
		}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := build(tenant, posture.AreaSecureScore, Collected{SecureScore: tc.ss,
				Sources: posture.Sources{{Name: posture.SrcSecureScores, Status: posture.SourceOK}}}, day(0).Add(6*time.Hour))
			require.NoError(t, err)
			require.Equal(t, tc.want, b.snap.SecureScore)
		})
	}
}

func TestAddException(t *testing.T) {
	valid := func(f *fixture) controls.Exception {
		return controls.Exception{ControlID: "MS.AAD.1.1v1", Reason: "break glass", ApprovedBy: "ciso@contoso.test",
			Scope:     controls.Scope{Users: []string{"AAAAAAAA-0000-4000-8000-000000000001"}, Groups: []string{"BBBBBBBB-0000-4000-8000-000000000001"}},
			ExpiresAt: f.clock.now().Add(48 * time.Hour)}
	}
	t.Run("a stored exception is active with lower-case scope ids", func(t *testing.T) {
		f := newFixture(t)
		e, err := f.svc.AddException(context.Background(), tenant, valid(f))
		require.NoError(t, err)
		require.Equal(t, controls.ExceptionActive, e.Status)
		require.Equal(t, tenant, e.TenantID)
		require.NotEmpty(t, e.ID)
		require.Equal(t, f.clock.now(), e.CreatedAt)
		require.Equal(t, []string{"aaaaaaaa-0000-4000-8000-000000000001"}, e.Scope.Users)
		require.Equal(t, []string{"bbbbbbbb-0000-4000-8000-000000000001"}, e.Scope.Groups)
		list, err := f.svc.Exceptions(context.Background(), tenant)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, e.ID, list[0].ID)
	})
	t.Run("an exception the store cannot write is an error, not a success", func(t *testing.T) {
		f := newFixture(t)
		f.svc.records = records.New(&failingStore{Store: f.store, kind: store.KindException})
		_, err := f.svc.AddException(context.Background(), tenant, valid(f))
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

func TestAddRestoreTestBoundaries(t *testing.T) {
	tenYears := 10 * 365 * 24 * time.Hour
	cases := []struct {
		name  string
		ago   time.Duration // how long before now it was performed; negative: after
		notes int
		want  string // part of the problem; empty: accepted
	}{
		{"a test performed a few minutes ahead of our clock is accepted", -4 * time.Minute, 0, ""},
		{"a test performed beyond the clock skew allowance is in the future", -6 * time.Minute, 0, "in the future"},
		{"a test performed just under ten years ago is accepted", tenYears - time.Hour, 0, ""},
		{"a test performed over ten years ago is rejected", tenYears + time.Hour, 0, "more than ten years ago"},
		{"notes of 4000 characters are accepted", time.Hour, 4000, ""},
		{"notes of 4001 characters are rejected", time.Hour, 4001, "notes are longer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.svc.AddRestoreTest(context.Background(), tenant, posture.RestoreTest{PerformedAt: f.clock.now().Add(-tc.ago),
				Workload: "exchange", Succeeded: true, Notes: strings.Repeat("n", tc.notes)})
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			var ve *controls.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, 1)
			require.Contains(t, ve.Problems[0], tc.want)
		})
	}
	t.Run("a restore test the store cannot write is an error, not a success", func(t *testing.T) {
		f := newFixture(t)
		f.svc.records = records.New(&failingStore{Store: f.store, kind: store.KindRestoreTest})
		_, err := f.svc.AddRestoreTest(context.Background(), tenant, posture.RestoreTest{PerformedAt: f.clock.now().Add(-time.Hour), Workload: "exchange"})
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}

func TestRunLogsHowManySourcesFailed(t *testing.T) {
	f := newFixture(t)
	var logs logLines
	f.svc.log = logs.logger()
	f.next = withFailed(f.next, posture.SrcRegistrationDetails, posture.SourceForbidden)
	_, err := f.svc.Run(context.Background(), tenant, posture.AreaIdentity)
	require.NoError(t, err)
	recs := logs.withMessage(t, "assessment finished")
	require.Len(t, recs, 1)
	require.Equal(t, float64(len(f.next.Sources)), recs[0]["sources"])
	require.Equal(t, 1.0, recs[0]["sources_failed"])
	require.Equal(t, 0.0, recs[0]["history_repaired"])
	require.Empty(t, logs.withMessage(t, "history points repaired for snapshots stored without one"), "nothing to repair, nothing to warn about")
}

func TestRepairIsBoundedPerRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var logs logLines
	f.svc.log = logs.logger()
	// 50 hourly backup snapshots stored without history points, as 50
	// crashes between the two writes would leave them.
	for i := 50; i > 0; i-- {
		at := f.clock.now().Add(-time.Duration(i) * time.Hour)
		b, err := build(tenant, posture.AreaBackup, Collected{Backup: &posture.Backup{ServiceStatus: "enabled"}}, at)
		require.NoError(t, err)
		b.snap.ID, b.snap.RunID = SnapshotID(posture.AreaBackup, at), records.NewID()
		stored, err := f.svc.records.Snapshots.Put(ctx, b.snap, nil)
		require.NoError(t, err)
		require.True(t, stored)
	}
	f.next = Collected{Backup: &posture.Backup{ServiceStatus: "enabled"}}
	res, err := f.svc.Run(ctx, tenant, posture.AreaBackup)
	require.NoError(t, err)
	require.Equal(t, repairLimit, res.Repaired)
	warns := logs.withMessage(t, "history points repaired for snapshots stored without one")
	require.Len(t, warns, 1)
	require.Equal(t, "WARN", warns[0]["level"])
	require.Equal(t, float64(repairLimit), warns[0]["repaired"])

	h, err := f.svc.MetricsHistory(ctx, tenant, f.clock.now().Add(-51*time.Hour), f.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, h, repairLimit+1, "the oldest 48 lost points and the run's own")
}

func TestMetricsViewWithoutTheMetricOrSnapshots(t *testing.T) {
	t.Run("a snapshot that did not compute a metric says so", func(t *testing.T) {
		f := newFixture(t)
		ctx := context.Background()
		at := f.clock.now().Add(-time.Hour)
		snap := posture.Snapshot{ID: SnapshotID(posture.AreaDevices, at), RunID: records.NewID(), TenantID: tenant, Area: posture.AreaDevices,
			TakenAt: at, Metrics: map[string]posture.Metric{}}
		_, err := f.svc.records.Snapshots.Put(ctx, snap, nil)
		require.NoError(t, err)
		v, err := f.svc.Metrics(ctx, tenant, time.Time{})
		require.NoError(t, err)
		m := v.Metrics[posture.MetricDeviceCompliance]
		require.Equal(t, posture.Unknown, m.Status)
		require.Equal(t, "not computed by the latest devices collection", m.Reason)
		require.Equal(t, snap.ID, v.SnapshotIDs[posture.AreaDevices])
		require.Equal(t, at, v.AsOf)
	})
	t.Run("a tenant never collected still has incident and restore-test metrics as of now", func(t *testing.T) {
		f := newFixture(t)
		v, err := f.svc.Metrics(context.Background(), tenant, time.Time{})
		require.NoError(t, err)
		require.Equal(t, f.clock.now(), v.AsOf)
		require.Empty(t, v.SnapshotIDs)
		open := v.Metrics[posture.MetricOpenIncidents]
		require.Equal(t, posture.Measured, open.Status)
		require.Equal(t, 0.0, *open.Value)
		require.Contains(t, v.Metrics, posture.MetricDaysSinceRestore)
	})
}

func TestMFAUsersAreSortedByUserPrincipalName(t *testing.T) {
	f := newFixture(t)
	// Collected in reverse order, so the stored chunk order is not the answer's.
	c := fakeTenant(0)
	for _, upn := range []string{"zoe@contoso.test", "mia@contoso.test", "adam@contoso.test"} {
		c.Identity.Users = append(c.Identity.Users, posture.User{ID: "id-" + upn, UserPrincipalName: upn, AccountEnabled: true, UserType: "Member",
			Registration: &posture.Registration{IsMfaRegistered: true}})
	}
	f.next = c
	_, err := f.svc.Run(context.Background(), tenant, posture.AreaIdentity)
	require.NoError(t, err)
	v, err := f.svc.MFAUsers(context.Background(), tenant, time.Time{}, false)
	require.NoError(t, err)
	var upns []string
	for _, u := range v.Users {
		upns = append(upns, u.UserPrincipalName)
	}
	require.Equal(t, []string{"adam@contoso.test", "mia@contoso.test", "zoe@contoso.test"}, upns)
}
