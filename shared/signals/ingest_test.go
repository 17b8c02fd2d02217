package signals

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
	"m365security/shared/posture"
)

func TestIngest(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name        string
		first       incident.AlertRecord
		second      incident.AlertRecord
		wantKind    string
		wantCount   int
		resolveLast bool
	}{
		{"the same alert seen again updates its incident and makes no second one",
			alert("a1", "u1", t0), alert("a1", "u1", t0), Unchanged, 1, false},
		{"another alert about the same user within the window joins the incident",
			alert("a1", "u1", t0), alert("a2", "u1", t0.Add(23*time.Hour)), Joined, 1, false},
		{"an alert about the same user after the window opens a new incident",
			alert("a1", "u1", t0), alert("a2", "u1", t0.Add(25*time.Hour)), Created, 2, false},
		{"an alert about another user opens a new incident",
			alert("a1", "u1", t0), alert("a2", "u2", t0.Add(time.Hour)), Created, 2, false},
		{"a resolved incident is not reopened by a later alert about its user",
			alert("a1", "u1", t0), alert("a2", "u1", t0.Add(2*time.Hour)), Created, 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, c := newPipeline(t)
			out, err := p.Ingest(ctx, tenant, incident.FromAlert(tc.first))
			require.NoError(t, err)
			assert.Equal(t, Created, out.Kind)
			assert.Equal(t, IncidentID(tenant, "a1"), out.IncidentID)
			if tc.resolveLast {
				now := t0.Add(time.Hour)
				_, err := p.Records.Incidents.Update(ctx, tenant, out.IncidentID, func(in *incident.Incident) error {
					in.Status, in.ResolvedAt = incident.StatusResolved, &now
					return nil
				})
				require.NoError(t, err)
			}
			c.Add(time.Hour)
			out2, err := p.Ingest(ctx, tenant, incident.FromAlert(tc.second))
			require.NoError(t, err)
			assert.Equal(t, tc.wantKind, out2.Kind)
			got := list(t, p)
			require.Len(t, got, tc.wantCount)
			if tc.resolveLast {
				first, err := p.Records.Incidents.Get(ctx, tenant, out.IncidentID)
				require.NoError(t, err)
				assert.Equal(t, incident.StatusResolved, first.Status, "the resolved incident stays resolved")
			}
		})
	}
}

func TestAStatusChangeInDefenderUpdatesTheTimeline(t *testing.T) {
	ctx := context.Background()
	p, c := newPipeline(t)
	a := alert("a1", "u1", t0)
	_, err := p.Ingest(ctx, tenant, incident.FromAlert(a))
	require.NoError(t, err)
	c.Add(time.Hour)
	a.Status, a.Classification, a.LastUpdateDateTime = "resolved", "truePositive", t0.Add(time.Hour)
	out, err := p.Ingest(ctx, tenant, incident.FromAlert(a))
	require.NoError(t, err)
	assert.Equal(t, Updated, out.Kind)
	in, err := p.Records.Incidents.Get(ctx, tenant, out.IncidentID)
	require.NoError(t, err)
	last := in.Timeline[len(in.Timeline)-1]
	assert.Equal(t, incident.EntryAlertUpdated, last.Kind)
	assert.Contains(t, last.Message, "status new → resolved")
	assert.Contains(t, last.Message, "classification (none) → truePositive")
}

func TestConcurrentIngestOfOneAlertMakesOneIncident(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.Ingest(ctx, tenant, incident.FromAlert(alert("a1", "u1", t0)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got := list(t, p)
	require.Len(t, got, 1)
	assert.Equal(t, []string{"a1"}, got[0].AlertIDs)
}

func TestConcurrentAlertsAboutOneUserAllLandInTheIncident(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	_, err := p.Ingest(ctx, tenant, incident.FromAlert(alert("a0", "u1", t0)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 1; i <= 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := p.Ingest(ctx, tenant, incident.FromAlert(alert("a"+string(rune('0'+i)), "u1", t0.Add(time.Duration(i)*time.Minute))))
			assert.NoError(t, err)
		}(i)
	}
	wg.Wait()
	got := list(t, p)
	require.Len(t, got, 1, "every alert joined the one open incident")
	assert.Len(t, got[0].AlertIDs, 7, "no concurrent update was lost")
}

func TestAClaimWhoseIncidentWasNeverStoredIsCompletedOnRedelivery(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	s := incident.FromAlert(alert("a1", "u1", t0))
	_, err := p.Records.Signals.ClaimFor(ctx, tenant, s.ID, "inc-crashed", t0)
	require.NoError(t, err)
	out, err := p.Ingest(ctx, tenant, s)
	require.NoError(t, err)
	assert.Equal(t, Created, out.Kind)
	assert.Equal(t, "inc-crashed", out.IncidentID)
}

func TestOnChangeIsToldOfChangesOnlyAndItsErrorIsReturned(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	var told []string
	fail := false
	p.OnChange = func(_ context.Context, _, id string) error {
		told = append(told, id)
		if fail {
			return errors.New("engine down")
		}
		return nil
	}
	s := incident.FromAlert(alert("a1", "u1", t0))
	_, err := p.Ingest(ctx, tenant, s)
	require.NoError(t, err)
	_, err = p.Ingest(ctx, tenant, s)
	require.NoError(t, err)
	assert.Len(t, told, 1, "an unchanged incident is not told again")
	fail = true
	_, err = p.Ingest(ctx, tenant, incident.FromAlert(alert("a2", "u1", t0.Add(time.Minute))))
	require.ErrorContains(t, err, "engine down")
	_, err = p.Ingest(ctx, tenant, incident.Signal{})
	require.Error(t, err, "a signal without id is refused")
}

func TestANewIncidentIsEnrichedAndSaysWhenPostureIsMissing(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	out, err := p.Ingest(ctx, tenant, incident.FromAlert(alert("a1", "u1", t0)))
	require.NoError(t, err)
	in, err := p.Records.Incidents.Get(ctx, tenant, out.IncidentID)
	require.NoError(t, err)
	require.Len(t, in.Posture, 2, "user id and UPN without a snapshot are two unresolved subjects")
	assert.Equal(t, "unknown", in.Posture[0].MFARegistered)
	assert.Contains(t, in.Posture[0].Reason, "no identity snapshot")
	assert.Equal(t, EntryEnriched, in.Timeline[len(in.Timeline)-1].Kind)
}

func TestABatchCorrelatesAgainstWhatItStored(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	// An incident stored before the batch, and one resolved long ago.
	_, err := p.Ingest(ctx, tenant, incident.FromAlert(alert("a0", "u0", t0.Add(-time.Hour))))
	require.NoError(t, err)
	b := p.NewBatch(tenant)
	kinds := []string{}
	for _, a := range []incident.AlertRecord{alert("a1", "u1", t0), alert("a2", "u1", t0.Add(time.Minute)), alert("a3", "u0", t0), alert("a1", "u1", t0)} {
		out, err := b.Ingest(ctx, incident.FromAlert(a))
		require.NoError(t, err)
		kinds = append(kinds, out.Kind)
	}
	assert.Equal(t, []string{Created, Joined, Joined, Unchanged}, kinds)
	got := list(t, p)
	require.Len(t, got, 2)
	assert.Len(t, got[1].AlertIDs, 2)
}

func TestIncidentsAreEnrichedFromStoredSnapshotsAndSubjectsJoiningLater(t *testing.T) {
	ctx := context.Background()
	p, c := newPipeline(t)
	id := identitySnap("identity-1", []posture.RoleAssignment{{PrincipalID: "u1", RoleDefinitionID: posture.RoleGlobalAdmin, Kind: "active"}}, nil)
	id.TenantID, id.Area, id.TakenAt = tenant, posture.AreaIdentity, t0.Add(-time.Hour)
	users := []posture.UserMFA{
		{ID: "u1", UserPrincipalName: "u1@contoso.com", Registered: posture.Yes, Enforced: posture.Yes, Protected: posture.Yes},
		{ID: "u2", UserPrincipalName: "u2@contoso.com", Registered: posture.No, Enforced: posture.Yes, Protected: posture.No, Reason: "not registered"},
	}
	_, err := p.Records.Snapshots.Put(ctx, *id, users)
	require.NoError(t, err)
	devs := posture.Snapshot{ID: "devices-1", TenantID: tenant, Area: posture.AreaDevices, TakenAt: t0.Add(-time.Hour),
		Findings: map[string]posture.FindingList{posture.ListNoncompliantDevice: {Total: 1, Items: []posture.Finding{{ID: "intune-7", Name: "LAPTOP-7", Detail: "noncompliant"}}}}}
	_, err = p.Records.Snapshots.Put(ctx, devs, nil)
	require.NoError(t, err)

	a := alert("a1", "u1", t0)
	a.Evidence = append(a.Evidence, incident.Evidence{ODataType: incident.ODataDeviceEvidence, DeviceDNSName: "laptop-7.contoso.local"})
	out, err := p.Ingest(ctx, tenant, incident.FromAlert(a))
	require.NoError(t, err)
	in, err := p.Records.Incidents.Get(ctx, tenant, out.IncidentID)
	require.NoError(t, err)
	require.Len(t, in.Posture, 2, "the user (by id and UPN) and the device")
	assert.Equal(t, "yes", in.Posture[0].MFARegistered)
	assert.Equal(t, []string{"Global Administrator"}, in.Posture[0].AdminRoles)
	assert.Equal(t, "identity-1", in.Posture[0].SnapshotID)
	assert.Equal(t, "noncompliant", in.Posture[1].Compliance)
	assert.Equal(t, []string{"intune-7"}, in.ResponseTargets.ManagedDevices, "Intune's id, for device actions")
	assert.Contains(t, in.Timeline[len(in.Timeline)-1].Message, "u1@contoso.com: MFA registered yes, enforced yes")

	// u2 joins the incident through a second alert naming both users.
	c.Add(time.Minute)
	b := alert("a2", "u1", t0.Add(time.Minute))
	b.Evidence = append(b.Evidence, incident.Evidence{ODataType: incident.ODataUserEvidence, UserAccount: &incident.UserAccount{AzureAdUserID: "u2"}})
	out2, err := p.Ingest(ctx, tenant, incident.FromAlert(b))
	require.NoError(t, err)
	require.Equal(t, out.IncidentID, out2.IncidentID)
	in, err = p.Records.Incidents.Get(ctx, tenant, out.IncidentID)
	require.NoError(t, err)
	require.Len(t, in.Posture, 3, "the subject who joined is enriched once")
	assert.Equal(t, "no", in.Posture[2].MFARegistered)
	assert.Equal(t, "not registered", in.Posture[2].Reason)
	last := in.Timeline[len(in.Timeline)-1]
	assert.Equal(t, EntryEnriched, last.Kind)
	assert.Equal(t, "posture added: u2@contoso.com: MFA registered no, enforced yes", last.Message)

	// The same second alert again enriches nothing more.
	_, err = p.Ingest(ctx, tenant, incident.FromAlert(b))
	require.NoError(t, err)
	again, err := p.Records.Incidents.Get(ctx, tenant, out.IncidentID)
	require.NoError(t, err)
	assert.Len(t, again.Timeline, len(in.Timeline))
	assert.Equal(t, "no users or devices to enrich", enrichedMessage(nil))
	assert.Equal(t, "posture added: x: posture unknown", enrichedMessage([]incident.SubjectPosture{{ID: "x", Kind: "user"}}))
}

func TestCandidatesAreBoundedAndIncludeRecentlyResolvedOnes(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	out, err := p.Ingest(ctx, tenant, incident.FromAlert(alert("a1", "u1", t0)))
	require.NoError(t, err)
	resolvedAt := t0.Add(3 * time.Hour)
	_, err = p.Records.Incidents.Update(ctx, tenant, out.IncidentID, func(in *incident.Incident) error {
		in.Status, in.ResolvedAt = incident.StatusResolved, &resolvedAt
		return nil
	})
	require.NoError(t, err)
	// An alert detected before the resolution, arriving late, is recorded
	// in the resolved incident without reopening it: single and in a batch.
	late := alert("a2", "u1", t0.Add(2*time.Hour))
	got, err := p.Ingest(ctx, tenant, incident.FromAlert(late))
	require.NoError(t, err)
	assert.Equal(t, out.IncidentID, got.IncidentID)
	b := p.NewBatch(tenant)
	got, err = b.Ingest(ctx, incident.FromAlert(alert("a3", "u1", t0.Add(150*time.Minute))))
	require.NoError(t, err)
	assert.Equal(t, out.IncidentID, got.IncidentID)
	in, err := p.Records.Incidents.Get(ctx, tenant, out.IncidentID)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusResolved, in.Status)
	assert.Len(t, in.AlertIDs, 3)
}
