package signals

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
)

func TestACustomRoleDefinitionIsReadThroughItsTemplate(t *testing.T) {
	prev := identitySnap("s1", nil, nil)
	next := identitySnap("s2", []posture.RoleAssignment{{PrincipalID: "u1", RoleDefinitionID: "def-ga", Kind: "active"}}, nil)
	next.Identity.RoleDefinitions = append(next.Identity.RoleDefinitions, posture.RoleDefinition{ID: "def-ga", TemplateID: posture.RoleGlobalAdmin, DisplayName: "Global Administrator"})
	got := DirectoryChanges(tenant, IdentityView{Snapshot: prev}, IdentityView{Snapshot: next})
	require.Len(t, got, 1)
	assert.Equal(t, "high", got[0].Severity)
	assert.Contains(t, got[0].ID, posture.RoleGlobalAdmin, "the id names the template")

	noTemplate := identitySnap("s3", []posture.RoleAssignment{{PrincipalID: "u1", RoleDefinitionID: "custom", Kind: "active"}}, nil)
	noTemplate.Identity.RoleDefinitions = append(noTemplate.Identity.RoleDefinitions, posture.RoleDefinition{ID: "custom", DisplayName: "Helpdesk custom"})
	assert.Empty(t, DirectoryChanges(tenant, IdentityView{Snapshot: prev}, IdentityView{Snapshot: noTemplate}), "a custom role is not on the privileged list")
}

func TestBackstopKeepsTheFullSyncTime(t *testing.T) {
	ctx := context.Background()
	p, c := newPipeline(t)
	src := &fakeDelta{changed: map[string]int{}}
	reassessed := 0
	b := &Backstop{Pipeline: p, Source: src, Reassess: func(context.Context, string) error { reassessed++; return nil }}
	_, err := b.Run(ctx, tenant)
	require.NoError(t, err)
	first, err := p.Records.Signals.Delta(ctx, tenant, "users")
	require.NoError(t, err)
	assert.Equal(t, t0, first.FullSyncAt, "the first round is a full sync")

	c.Add(time.Hour)
	_, err = b.Run(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 0, reassessed, "no change, no re-assessment")
	st, err := p.Records.Signals.Delta(ctx, tenant, "users")
	require.NoError(t, err)
	assert.Equal(t, t0, st.FullSyncAt, "an incremental round keeps the full sync time")
	assert.Equal(t, t0.Add(time.Hour), st.SyncedAt)
	assert.NotEqual(t, first.Link, st.Link, "the new link is stored")

	c.Add(time.Hour)
	src.changed = map[string]int{"groups": 1}
	n, err := b.Run(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, reassessed, "one change is enough")

	c.Add(time.Hour)
	src.changed, src.resync = map[string]int{}, true
	_, err = b.Run(ctx, tenant)
	require.NoError(t, err)
	st, err = p.Records.Signals.Delta(ctx, tenant, "users")
	require.NoError(t, err)
	assert.Equal(t, t0.Add(3*time.Hour), st.FullSyncAt, "a resync is a full sync")
}

type countingSource struct {
	fakeSource
	detectionCalls int
}

func (c *countingSource) RiskDetections(ctx context.Context, tenantID string, since time.Time, wait Pace) ([]incident.RiskDetectionRecord, error) {
	c.detectionCalls++
	return c.fakeSource.RiskDetections(ctx, tenantID, since, wait)
}

func TestDetectionsAreReadOnlyForRiskyUsersAndCountsAreKept(t *testing.T) {
	ctx := context.Background()
	p, c := newPipeline(t)
	src := &countingSource{}
	po := &Poller{Pipeline: p, Source: src, Classify: classify}
	_, err := po.Poll(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 0, src.detectionCalls, "no risky users, no detection read")

	src.alerts = []incident.AlertRecord{alert("a1", "u1", t0)}
	src.risky = []incident.RiskyUserRecord{{ID: "u1", RiskLevel: "high", RiskState: "atRisk", RiskLastUpdatedDateTime: t0}}
	res, err := po.Poll(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 1, src.detectionCalls)
	assert.Equal(t, 1, res.Created)
	assert.Equal(t, 1, res.Updated, "the risky user joined the alert's incident")
	assert.Equal(t, 1, res.Alerts)
	assert.Equal(t, 1, res.RiskyUsers)

	// An alert updated at exactly the watermark moves nothing.
	c.Add(time.Minute)
	res, err = po.Poll(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, t0, res.Watermark)
	assert.Equal(t, 0, res.Created+res.Updated, "nothing new")
}

func TestAdoptionKeepsTheLastRenewalAndRenewsAtTheThreshold(t *testing.T) {
	ctx := context.Background()
	m, g, c := newManager(t, "https://app.example.com")
	subs, err := m.Ensure(ctx, tenant)
	require.NoError(t, err)
	created := subs[0].LastRenewedAt
	c.Add(time.Hour)
	subs, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, created, subs[0].LastRenewedAt, "adopting without renewing keeps the last renewal")

	// Exactly a third left: not yet; a second less: renewed.
	c.now = t0.Add(Lifetime - renewWhenLeft)
	_, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 0, g.renews)
	c.now = c.now.Add(time.Second)
	_, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 2, g.renews)

	// A stored record Graph no longer holds is forgotten.
	require.NoError(t, m.Records.Subscriptions.Put(ctx, records.Subscription{ID: "gone", TenantID: tenant, Resource: "/users", Status: SubActive, ExpirationDateTime: c.now}))
	_, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	stored, err := m.Records.Subscriptions.List(ctx, tenant)
	require.NoError(t, err)
	for _, s := range stored {
		assert.NotEqual(t, "gone", s.ID)
	}
	require.Len(t, stored, 2)

	// Reauthorizing one the product does not track is fine: Ensure adopts
	// it later.
	require.NoError(t, m.Reauthorize(ctx, tenant, "untracked"))
}
