package respond

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
)

// The whole path the incident pipeline takes with the engine: a Defender
// alert as Graph gives it, normalized and opened as an incident with its
// response targets, then OnIncident, ending in Graph writes and a notice.
func TestFromARaisedAlertToAnExecutedActionAndASentNotice(t *testing.T) {
	f := newFixture(t)
	u := f.tenant.Users[6]
	now := f.clock.now()
	alert := incident.AlertRecord{ID: f.tenant.Alerts[1].ID, TenantID: f.tenant.ID, Title: "Suspicious inbox manipulation rule",
		Severity: "high", Status: "new", ServiceSource: "microsoftDefenderForOffice365",
		CreatedDateTime: now.Add(-10 * time.Minute), FirstActivityDateTime: now.Add(-30 * time.Minute), LastUpdateDateTime: now.Add(-10 * time.Minute),
		Evidence: []incident.Evidence{
			{ODataType: incident.ODataUserEvidence, UserAccount: &incident.UserAccount{AzureAdUserID: u.ID, UserPrincipalName: u.UserPrincipalName}},
			{ODataType: incident.ODataMailboxConfigurationEvidence, ConfigurationType: "userInboxRule", ConfigurationID: "rule-fwd",
				ExternalDirectoryObjectID: u.ID, MailboxPrimaryAddress: u.UserPrincipalName},
		}}
	sig := incident.FromAlert(alert)
	require.Equal(t, incident.CategoryAccountCompromise, sig.Category)
	in := incident.NewIncident(sig, "inc-alert", now)
	in.ResponseTargets = in.ResponseTargets.Merge(incident.TargetsFromAlert(alert))
	require.NoError(t, f.rec.Incidents.Create(f.ctx, in))

	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, in.ID))

	user := strings.ToLower(u.ID)
	assert.Equal(t, 1, f.writesTo("POST", "/users/"+user+"/revokeSignInSessions"))
	assert.Equal(t, 1, f.writesTo("PATCH", "/users/"+user+"/mailFolders/inbox/messageRules/rule-fwd"))
	assert.Equal(t, 1, f.writesTo("PATCH", "/security/alerts_v2/"+alert.ID))
	assert.Zero(t, f.accountPatches(user, false))
	got := f.incident(in.ID)
	assert.Equal(t, incident.StatusAwaitingApproval, got.Status)
	first := got.FirstExecutedAt()
	require.NotNil(t, first, "meanTimeToRespond has a first response")
	assert.Equal(t, now, *first)
	mail := f.sim.SentMail()
	require.Len(t, mail, 1)
	assert.Contains(t, mail[0].Body, "disableAccount")
	assert.Contains(t, mail[0].Body, "/approve?tenant="+f.tenant.ID)
}
