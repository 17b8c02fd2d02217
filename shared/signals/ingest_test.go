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
