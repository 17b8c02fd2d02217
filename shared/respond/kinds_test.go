package respond

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
	"m365security/shared/incident"
	"m365security/shared/settings"
)

// Every action kind, approved and run through the engine, sends its
// documented request to the simulator once and records Graph's answer.
func TestEveryKindSendsItsRequestOnce(t *testing.T) {
	f := newFixture(t)
	u, dev, alert := f.user(2), f.tenant.ManagedDevices[0].ID, f.tenant.Alerts[0].ID
	tests := []struct {
		typ, target, targetUser string
		method, path, body      string
		result                  string
	}{
		{incident.ActionRevokeSessions, u, "", "POST", "/users/" + u + "/revokeSignInSessions", "", "sessions revoked"},
		{incident.ActionDisableAccount, u, "", "PATCH", "/users/" + u, `{"accountEnabled":false}`, "disabled"},
		{incident.ActionEnableAccount, u, "", "PATCH", "/users/" + u, `{"accountEnabled":true}`, "enabled"},
		{incident.ActionRequirePasswordChange, u, "", "PATCH", "/users/" + u, `{"passwordProfile":{"forceChangePasswordNextSignIn":true}}`, "password change"},
		{incident.ActionConfirmCompromised, u, "", "POST", "/identityProtection/riskyUsers/confirmCompromised", `{"userIds":["` + u + `"]}`, "compromised"},
		{incident.ActionDisableInboxRule, "rule-1", u, "PATCH", "/users/" + u + "/mailFolders/inbox/messageRules/rule-1", `{"isEnabled":false}`, "rule disabled"},
		{incident.ActionRemediateMessage, "msg-1", "a@contoso.example", "POST", "/security/collaboration/analyzedEmails/remediate",
			`{"displayName":"m365security incident k","description":"Soft-delete of a message of incident k","severity":"high","action":"softDelete","remediateSendersCopy":false,"analyzedEmails":[{"networkMessageId":"msg-1","recipientEmailAddress":"a@contoso.example"}]}`,
			"Action Center: https://security.microsoft.com/action-center"},
		{incident.ActionDefenderScan, dev, "", "POST", "/deviceManagement/managedDevices/" + dev + "/windowsDefenderScan", `{"quickScan":true}`, "scan started"},
		{incident.ActionRemoteLock, dev, "", "POST", "/deviceManagement/managedDevices/" + dev + "/remoteLock", "", "locked"},
		{incident.ActionRetireDevice, dev, "", "POST", "/deviceManagement/managedDevices/" + dev + "/retire", "", "retired"},
		{incident.ActionWipeDevice, dev, "", "POST", "/deviceManagement/managedDevices/" + dev + "/wipe", `{"keepEnrollmentData":false,"keepUserData":false,"persistEsimDataPlan":false}`, "wiped"},
		{incident.ActionUpdateAlert, alert, "", "PATCH", "/security/alerts_v2/" + alert, `{"status":"inProgress"}`, "inProgress"},
	}
	now := f.clock.now()
	in := incident.Incident{ID: "k", TenantID: f.tenant.ID, Category: incident.CategoryOther, Severity: "high", Status: incident.StatusInProgress, CreatedAt: now}
	for _, tt := range tests {
		in.Actions = append(in.Actions, incident.Action{ID: tt.typ, Type: tt.typ, Target: tt.target, TargetUser: tt.targetUser,
			Status: incident.ActionApproved, IdempotencyKey: "k|" + tt.typ})
	}
	require.NoError(t, f.rec.Incidents.Create(f.ctx, in))
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			f.sim.ResetWrites()
			require.NoError(t, f.engine.Handle(f.ctx, Job{Kind: JobAction, TenantID: f.tenant.ID, IncidentID: "k", ActionID: tt.typ}))
			require.NoError(t, f.engine.Handle(f.ctx, Job{Kind: JobAction, TenantID: f.tenant.ID, IncidentID: "k", ActionID: tt.typ}))
			writes := f.sim.Writes()
			require.NotEmpty(t, writes)
			assert.Equal(t, tt.method, writes[0].Method)
			assert.Equal(t, "/v1.0"+tt.path, writes[0].Path)
			if tt.body != "" {
				assert.JSONEq(t, tt.body, string(writes[0].Body))
			}
			n := 0
			for _, w := range writes {
				if w.Path == writes[0].Path && w.Method == writes[0].Method {
					n++
				}
			}
			assert.Equal(t, 1, n, "sent once though handled twice")
			a := f.action("k", tt.typ, tt.target)
			assert.Equal(t, incident.ActionExecuted, a.Status, a.Error)
			assert.Contains(t, a.Result, tt.result)
		})
	}
}

func TestPhishingRemediationWithoutTheLicenceFailsWithThatReason(t *testing.T) {
	f := newFixture(t)
	f.sim.SetLicensing(graphsim.Licensing{WithoutMDOP2: true})
	f.setSettings(func(s *settings.Tenant) { s.ResponsibilityModel = settings.FullyManaged })
	now := f.clock.now()
	in := incident.Incident{ID: "ph", TenantID: f.tenant.ID, Category: incident.CategoryPhishing, Severity: "medium", Status: incident.StatusNew,
		CreatedAt: now, DetectedAt: &now, ResponseTargets: incident.ResponseTargets{
			Messages:     []incident.MessageRef{{NetworkMessageID: "nm-1", Recipient: strings.ToLower(f.tenant.Users[5].UserPrincipalName)}},
			ClickedUsers: []string{f.user(5)}}}
	require.NoError(t, f.rec.Incidents.Create(f.ctx, in))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, "ph"))
	a := f.action("ph", incident.ActionRemediateMessage, "nm-1")
	assert.Equal(t, incident.ActionFailed, a.Status)
	assert.Contains(t, a.Error, "not licensed")
	assert.Contains(t, a.Error, "Defender for Office 365 Plan 2")
	assert.Equal(t, 1, a.Attempts, "a licence failure is not retried")
	assert.Equal(t, incident.ActionExecuted, f.action("ph", incident.ActionRevokeSessions, f.user(5)).Status)
}

func TestARetryWaitsForGraphsRetryAfterThroughTheDispatcher(t *testing.T) {
	d := &recordingDispatcher{}
	f := newFixture(t, func(s *setup) { s.opts.Dispatcher = d })
	u := f.user(22)
	f.sim.FailWrites("/users/"+u+"/revokeSignInSessions", 1, graphsim.TooManyRequests(7))
	id := f.compromise("inc-q", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	// The first job is queued; run it as the queue would.
	job := d.take(t, JobAction, 0)
	require.NoError(t, f.engine.Handle(f.ctx, job.j))
	a := f.action(id, incident.ActionRevokeSessions, u)
	assert.Equal(t, incident.ActionApproved, a.Status)
	assert.Equal(t, 1, a.Attempts)
	require.NotNil(t, a.NextAttemptAt)
	assert.Equal(t, f.clock.now().Add(7*time.Second), *a.NextAttemptAt, "Graph's Retry-After is honoured")
	assert.Contains(t, a.LastError, "429")
	retry := d.take(t, JobAction, 1)
	assert.Equal(t, *a.NextAttemptAt, retry.at)
	// The first job redelivered late is stale: it sends nothing.
	require.NoError(t, f.engine.Handle(f.ctx, job.j))
	assert.Equal(t, 1, f.writesTo("POST", "/revokeSignInSessions"))
	require.NoError(t, f.engine.Handle(f.ctx, retry.j))
	a = f.action(id, incident.ActionRevokeSessions, u)
	assert.Equal(t, incident.ActionExecuted, a.Status)
	assert.Equal(t, 2, a.Attempts)
	assert.Nil(t, a.NextAttemptAt)
}

type queued struct {
	j  Job
	at time.Time
}

type recordingDispatcher struct {
	jobs []queued
}

func (d *recordingDispatcher) Dispatch(_ context.Context, j Job, at time.Time) error {
	d.jobs = append(d.jobs, queued{j, at})
	return nil
}

func (d *recordingDispatcher) take(t *testing.T, kind string, attempt int) queued {
	t.Helper()
	for i, q := range d.jobs {
		if q.j.Kind == kind && q.j.Attempt == attempt {
			d.jobs = append(d.jobs[:i], d.jobs[i+1:]...)
			return q
		}
	}
	t.Fatalf("no %s job for attempt %d in %+v", kind, attempt, d.jobs)
	return queued{}
}

func TestAnInFlightAttemptIsCheckedAgainAfterItsLease(t *testing.T) {
	d := &recordingDispatcher{}
	f := newFixture(t, func(s *setup) { s.opts.Dispatcher = d })
	u := f.user(25)
	id := f.compromise("inc-l", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	first := d.take(t, JobAction, 0)
	// The executor claims the attempt and dies before recording a result.
	claimed := f.clock.now()
	_, err := f.rec.Incidents.Update(f.ctx, f.tenant.ID, id, func(in *incident.Incident) error {
		a := &in.Actions[in.ActionByID(first.j.ActionID)]
		a.ClaimedAt, a.Attempts = &claimed, 1
		return nil
	})
	require.NoError(t, err)
	// The redelivered job sees a live claim and schedules a check.
	require.NoError(t, f.engine.Handle(f.ctx, first.j))
	check := d.take(t, JobAction, 1)
	assert.Equal(t, claimed.Add(5*time.Minute+time.Second), check.at)
	f.clock.add(5*time.Minute + time.Second)
	require.NoError(t, f.engine.Handle(f.ctx, check.j))
	in := f.incident(id)
	a := in.Actions[in.ActionByID(first.j.ActionID)]
	assert.Equal(t, incident.ActionFailed, a.Status)
	assert.Contains(t, a.Error, "outcome unknown")
	assert.Zero(t, f.writesTo("POST", "/revokeSignInSessions"), "never sent again")
}
