package respond

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"m365security/shared/playbook"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/graphsim"
	"m365security/shared/incident"
	"m365security/shared/principal"
	"m365security/shared/settings"
)

func principalOf(name string, verified bool) principal.Principal {
	p := principal.Principal{Name: name, Verified: verified}
	if verified {
		p.ObjectID, p.Roles = "7a0c1d2e-0000-4000-8000-000000000001", []string{principal.RoleApprove}
	}
	return p
}

func TestCoManagedCompromiseRevokesAtOnceAndProposesTheDisable(t *testing.T) {
	f := newFixture(t)
	u := f.user(3)
	id := f.compromise("inc-1", u, strings.ToLower(f.tenant.Users[3].UserPrincipalName))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))

	revoke := f.action(id, incident.ActionRevokeSessions, u)
	assert.Equal(t, incident.ActionExecuted, revoke.Status)
	assert.False(t, revoke.RequiresApproval)
	require.NotNil(t, revoke.DecidedBy)
	assert.Equal(t, incident.DeciderRule, revoke.DecidedBy.Kind)
	assert.Equal(t, 1, revoke.Attempts)
	assert.NotEmpty(t, revoke.IdempotencyKey)
	assert.Equal(t, 1, f.writesTo("POST", "/users/"+u+"/revokeSignInSessions"))

	disable := f.action(id, incident.ActionDisableAccount, u)
	assert.Equal(t, incident.ActionProposed, disable.Status)
	assert.True(t, disable.RequiresApproval)
	assert.True(t, disable.Reversible)
	assert.Contains(t, disable.Reason, "co-managed")
	assert.Zero(t, f.accountPatches(u, false), "a co-managed disable waits for a person")

	alert := f.action(id, incident.ActionUpdateAlert, f.tenant.Alerts[0].ID)
	assert.Equal(t, incident.ActionExecuted, alert.Status)

	in := f.incident(id)
	assert.Equal(t, incident.StatusAwaitingApproval, in.Status)
	assert.Equal(t, 2, in.PendingApprovals(), "disable and password change wait")
	// One user acted on once, though the entities name them by id and UPN.
	assert.Len(t, in.Actions, 4)

	mail := f.sim.SentMail()
	require.Len(t, mail, 1, "one notice for the incident's events")
	assert.Equal(t, f.tenant.Users[0].UserPrincipalName, mail[0].Sender)
	assert.Equal(t, []string{"soc@contoso.example"}, mail[0].To)
	assert.Contains(t, mail[0].Subject, "New high-severity incident")
	assert.Contains(t, mail[0].Subject, "Action awaiting your approval")
	assert.Contains(t, mail[0].Body, "/api/incidents/inc-1/actions/"+disable.ID+"/approve?tenant=")
}

func TestRedeliveredIncidentAddsNothingAndExecutesNothingAgain(t *testing.T) {
	f := newFixture(t)
	u := f.user(4)
	id := f.compromise("inc-2", u)
	for range 3 {
		require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	}
	in := f.incident(id)
	assert.Len(t, in.Actions, 4)
	assert.Equal(t, 1, f.writesTo("POST", "/revokeSignInSessions"), "the idempotency key holds under redelivery")
	assert.Len(t, f.sim.SentMail(), 1, "a notice is sent once per event")
}

func TestApprovalAndRejection(t *testing.T) {
	tests := []struct {
		name        string
		decide      func(f *fixture, r Request) (incident.Action, error)
		wantStatus  string
		wantDisable int
	}{
		{"an approval sends exactly one disable", func(f *fixture, r Request) (incident.Action, error) { return f.engine.Approve(f.ctx, r) },
			incident.ActionExecuted, 1},
		{"a rejection sends nothing", func(f *fixture, r Request) (incident.Action, error) { return f.engine.Reject(f.ctx, r) },
			incident.ActionRejected, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.user(5)
			id := f.compromise("inc-3", u)
			require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
			d := f.action(id, incident.ActionDisableAccount, u)
			a, err := tt.decide(f, f.request(id, d.ID, "alice@contoso.example", true))
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, a.Status)
			require.NotNil(t, a.DecidedBy)
			assert.Equal(t, incident.Decider{Kind: incident.DeciderPerson, Name: "alice@contoso.example",
				ObjectID: "7a0c1d2e-0000-4000-8000-000000000001", Verified: true}, *a.DecidedBy)
			assert.Equal(t, "checked with the user", a.Note)
			assert.Equal(t, tt.wantDisable, f.accountPatches(u, false))
		})
	}
}

func TestDoubleApprovalIsOneGraphWrite(t *testing.T) {
	f := newFixture(t)
	u := f.user(6)
	id := f.compromise("inc-4", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	d := f.action(id, incident.ActionDisableAccount, u)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.engine.Approve(f.ctx, f.request(id, d.ID, "approver"+string(rune('a'+i)), false))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	_, err := f.engine.Approve(f.ctx, f.request(id, d.ID, "late", false))
	require.NoError(t, err)
	assert.Equal(t, 1, f.accountPatches(u, false))
	got := f.action(id, incident.ActionDisableAccount, u)
	assert.Equal(t, incident.ActionExecuted, got.Status)
	assert.Equal(t, 1, got.Attempts)
	assert.False(t, got.DecidedBy.Verified, "AUTH=none decisions are marked unverified")
}

func TestApprovalRacingUndoNeverLeavesTheAccountDisabledAfterAnAcceptedUndo(t *testing.T) {
	for round := range 5 {
		f := newFixture(t)
		u := f.user(7)
		id := f.compromise("inc-5", u)
		require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
		d := f.action(id, incident.ActionDisableAccount, u)
		var undoErr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := f.engine.Approve(f.ctx, f.request(id, d.ID, "alice", false))
			assert.NoError(t, err)
		}()
		go func() { defer wg.Done(); _, undoErr = f.engine.Undo(f.ctx, f.request(id, d.ID, "bob", false)) }()
		wg.Wait()
		assert.Equal(t, 1, f.accountPatches(u, false), "round %d: the approval writes once", round)
		if undoErr != nil {
			require.ErrorIs(t, undoErr, ErrConflict, "round %d", round)
			assert.Zero(t, f.accountPatches(u, true), "round %d: a refused undo writes nothing", round)
			continue
		}
		assert.Equal(t, 1, f.accountPatches(u, true), "round %d: an accepted undo re-enables after the disable", round)
		writes := f.sim.Writes()
		last := writes[len(writes)-1]
		for _, w := range writes {
			if w.Method == "PATCH" {
				last = w
			}
		}
		assert.JSONEq(t, `{"accountEnabled":true}`, string(last.Body), "round %d: the enable comes last", round)
	}
}

func TestUndoReenablesADisabledAccountAsItsOwnAction(t *testing.T) {
	f := newFixture(t)
	u := f.user(8)
	id := f.compromise("inc-6", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	d := f.action(id, incident.ActionDisableAccount, u)

	_, err := f.engine.Undo(f.ctx, f.request(id, d.ID, "bob", false))
	require.ErrorIs(t, err, ErrConflict, "nothing to undo before the disable ran")

	_, err = f.engine.Approve(f.ctx, f.request(id, d.ID, "alice", true))
	require.NoError(t, err)
	undo, err := f.engine.Undo(f.ctx, f.request(id, d.ID, "bob", true))
	require.NoError(t, err)
	again, err := f.engine.Undo(f.ctx, f.request(id, d.ID, "bob", true))
	require.NoError(t, err)
	assert.Equal(t, undo.ID, again.ID, "undoing twice is one undo")
	assert.Equal(t, incident.ActionEnableAccount, undo.Type)
	assert.Equal(t, incident.ActionExecuted, undo.Status)
	assert.Equal(t, d.ID, undo.UndoOf)
	assert.Equal(t, "bob", undo.DecidedBy.Name)
	assert.Equal(t, undo.ID, f.action(id, incident.ActionDisableAccount, u).UndoneBy)
	assert.Equal(t, 1, f.accountPatches(u, true))

	revoke := f.action(id, incident.ActionRevokeSessions, u)
	_, err = f.engine.Undo(f.ctx, f.request(id, revoke.ID, "bob", true))
	require.ErrorIs(t, err, ErrConflict, "revoking sessions cannot be undone")
}

func TestDecisionsOnMissingOrSettledActions(t *testing.T) {
	f := newFixture(t)
	u := f.user(9)
	id := f.compromise("inc-7", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	d := f.action(id, incident.ActionDisableAccount, u)

	_, err := f.engine.Approve(f.ctx, f.request("nope", d.ID, "a", false))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = f.engine.Approve(f.ctx, f.request(id, "nope", "a", false))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = f.engine.Approve(f.ctx, f.request(id, d.ID, " ", false))
	require.Error(t, err, "who decides is required")

	_, err = f.engine.Reject(f.ctx, f.request(id, d.ID, "a", false))
	require.NoError(t, err)
	_, err = f.engine.Reject(f.ctx, f.request(id, d.ID, "b", false))
	require.NoError(t, err, "rejecting twice changes nothing")
	assert.Equal(t, "a", f.action(id, incident.ActionDisableAccount, u).DecidedBy.Name)
	_, err = f.engine.Approve(f.ctx, f.request(id, d.ID, "c", false))
	require.ErrorIs(t, err, ErrConflict, "a rejected action cannot be approved")
	assert.Contains(t, err.Error(), "is rejected (by a)", "the conflict names who decided")
	assert.Equal(t, "", decidedBy(&incident.Action{}), "no decider, nothing said")
	assert.Zero(t, f.accountPatches(u, false))

	revoke := f.action(id, incident.ActionRevokeSessions, u)
	_, err = f.engine.Reject(f.ctx, f.request(id, revoke.ID, "c", false))
	require.ErrorIs(t, err, ErrConflict, "an executed action cannot be rejected")
}

func TestSafetyBrakeAtItsLimit(t *testing.T) {
	f := newFixture(t)
	f.storeIdentity()
	f.setSettings(func(s *settings.Tenant) { s.ResponsibilityModel, s.AutoActionsPerHour = settings.FullyManaged, 2 })
	// Only the disable is destructive and automatic here, so each incident
	// asks the brake for one slot.
	f.setSettings(func(s *settings.Tenant) {
		s.Actions = map[string]string{incident.ActionRequirePasswordChange: settings.Approval}
	})
	users := []string{f.user(10), f.user(11), f.user(12)}
	for i, u := range users {
		id := f.compromise("burst-"+string(rune('a'+i)), u)
		require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	}
	assert.Equal(t, 1, f.accountPatches(users[0], false))
	assert.Equal(t, 1, f.accountPatches(users[1], false))
	assert.Zero(t, f.accountPatches(users[2], false), "the third disable in the hour waits")
	held := f.action("burst-c", incident.ActionDisableAccount, users[2])
	assert.Equal(t, incident.ActionProposed, held.Status)
	assert.True(t, held.RequiresApproval)
	assert.Contains(t, held.Reason, "safety brake")
	assert.True(t, hasEntry(f.incident("burst-c"), EntryBrake), "the brake's reason is on the incident")
	assert.True(t, strings.Contains(lastMail(f).Subject, "Safety brake engaged"))

	// Planning the held incident again never takes a slot it was refused,
	// and the counted ones are not counted twice.
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, "burst-a"))
	// An hour later the window has room again.
	f.clock.add(time.Hour)
	id := f.compromise("burst-d", f.user(13))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Equal(t, 1, f.accountPatches(f.user(13), false))
}

func TestFiftyCompromisedUsersNeverDisableFiftyAccounts(t *testing.T) {
	f := newFixture(t)
	f.storeIdentity()
	f.setSettings(func(s *settings.Tenant) { s.ResponsibilityModel = settings.FullyManaged })
	var wg sync.WaitGroup
	for i := range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := f.compromise("storm-"+string(rune('A'+i)), f.user(i))
			assert.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
		}()
	}
	wg.Wait()
	destructive := 0 // disable and password change both PATCH the user
	for _, w := range f.sim.Writes() {
		if w.Method == "PATCH" && strings.HasPrefix(w.Path, "/v1.0/users/") {
			destructive++
		}
	}
	assert.Equal(t, settings.DefaultAutoActionsPerHour, destructive, "the brake holds across concurrent incidents")
}

func TestProtectedAccountsBecomeApprovals(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fixture, u string)
		reason string
	}{
		{"an active exception (break-glass) protects the account", func(f *fixture, u string) {
			f.storeIdentity()
			require.NoError(t, f.rec.Exceptions.Add(f.ctx, controls.Exception{ID: "ex1", TenantID: f.tenant.ID, ControlID: "MS.AAD.3.1v1",
				Scope: controls.Scope{Users: []string{u}}, Reason: "break-glass account", ApprovedBy: "ciso",
				CreatedAt: f.clock.now().Add(-time.Hour), ExpiresAt: f.clock.now().Add(24 * time.Hour)}))
		}, "covered by active exception ex1"},
		{"a Global Administrator is protected", func(f *fixture, u string) { f.storeIdentity(u) }, "holds the Global Administrator role"},
		{"without an identity snapshot the roles are unknown, so protected", func(*fixture, string) {}, "no identity snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.setSettings(func(s *settings.Tenant) { s.ResponsibilityModel = settings.FullyManaged })
			u := f.user(14)
			tt.setup(f, u)
			id := f.compromise("inc-p", u)
			require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
			d := f.action(id, incident.ActionDisableAccount, u)
			assert.Equal(t, incident.ActionProposed, d.Status)
			assert.Contains(t, d.Reason, "protected account")
			assert.Contains(t, d.Reason, tt.reason)
			assert.Zero(t, f.accountPatches(u, false))
			assert.Equal(t, 1, f.writesTo("POST", "/revokeSignInSessions"), "revoking sessions is not destructive and still runs")
		})
	}
}

func TestAnUnprotectedAccountIsDisabledAutomaticallyWhenFullyManaged(t *testing.T) {
	f := newFixture(t)
	f.storeIdentity(f.user(1)) // someone else is the admin
	f.setSettings(func(s *settings.Tenant) { s.ResponsibilityModel = settings.FullyManaged })
	u := f.user(15)
	id := f.compromise("inc-fm", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Equal(t, incident.ActionExecuted, f.action(id, incident.ActionDisableAccount, u).Status)
	assert.Equal(t, 1, f.accountPatches(u, false))
	assert.Equal(t, incident.StatusInProgress, f.incident(id).Status)
}

func TestGraphFailuresOnActions(t *testing.T) {
	tests := []struct {
		name      string
		fault     func(f *fixture, u string)
		noResp    bool
		status    string
		attempts  int
		errorText string
	}{
		{"a 403 fails the action and says which permission", func(f *fixture, u string) {
			f.sim.RefuseWrites("/users/"+u+"/revokeSignInSessions", graphsim.InsufficientPrivileges())
		}, false, incident.ActionFailed, 1, "User.RevokeSessions.All"},
		{"throttling is retried until Graph accepts", func(f *fixture, u string) {
			f.sim.FailWrites("/users/"+u+"/revokeSignInSessions", 2, graphsim.TooManyRequests(1))
		}, false, incident.ActionExecuted, 3, ""},
		{"a service that stays unavailable fails after the last attempt", func(f *fixture, u string) {
			f.sim.RefuseWrites("/users/"+u+"/revokeSignInSessions", graphsim.ServiceUnavailable(1))
		}, false, incident.ActionFailed, 5, "gave up after 5 attempts"},
		{"without a responder identity nothing is sent and the action says why", func(*fixture, string) {},
			true, incident.ActionFailed, 1, "RESPONDER_CLIENT_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*setup)
			if tt.noResp {
				mods = append(mods, withoutResponder)
			}
			f := newFixture(t, mods...)
			u := f.user(16)
			tt.fault(f, u)
			id := f.compromise("inc-f", u)
			require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
			a := f.action(id, incident.ActionRevokeSessions, u)
			assert.Equal(t, tt.status, a.Status)
			assert.Equal(t, tt.attempts, a.Attempts)
			assert.Nil(t, a.ClaimedAt)
			if tt.errorText != "" {
				assert.Contains(t, a.Error, tt.errorText)
				assert.True(t, hasEntry(f.incident(id), EntryActionFailed))
			} else {
				assert.Empty(t, a.Error)
				assert.NotNil(t, a.ExecutedAt)
			}
			if tt.noResp {
				assert.Empty(t, f.sim.Writes(), "no request leaves without the responder identity")
			}
		})
	}
}

func TestAFailedActionIsNotified(t *testing.T) {
	f := newFixture(t)
	u := f.user(17)
	f.sim.RefuseWrites("/users/"+u+"/revokeSignInSessions", graphsim.InsufficientPrivileges())
	id := f.compromise("inc-n", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	var failed bool
	for _, m := range f.sim.SentMail() {
		failed = failed || strings.Contains(m.Subject, "Action failed")
	}
	assert.True(t, failed, "a failed action is mailed")
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	n := len(f.sim.SentMail())
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Equal(t, n, len(f.sim.SentMail()), "told once")
}

func TestAnAttemptThatNeverRecordedItsResultIsNotRepeated(t *testing.T) {
	f := newFixture(t)
	u := f.user(18)
	id := f.compromise("inc-c", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	d := f.action(id, incident.ActionDisableAccount, u)
	// Simulate a process that claimed the attempt and stopped.
	_, err := f.rec.Incidents.Update(f.ctx, f.tenant.ID, id, func(in *incident.Incident) error {
		a := &in.Actions[in.ActionByID(d.ID)]
		now := f.clock.now()
		a.Status, a.ClaimedAt, a.Attempts = incident.ActionApproved, &now, 1
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, f.engine.Handle(f.ctx, Job{Kind: JobAction, TenantID: f.tenant.ID, IncidentID: id, ActionID: d.ID}))
	assert.Equal(t, incident.ActionApproved, f.action(id, incident.ActionDisableAccount, u).Status, "a live claim is left alone")
	f.clock.add(5*time.Minute - time.Nanosecond)
	require.NoError(t, f.engine.Handle(f.ctx, Job{Kind: JobAction, TenantID: f.tenant.ID, IncidentID: id, ActionID: d.ID}))
	assert.Equal(t, incident.ActionApproved, f.action(id, incident.ActionDisableAccount, u).Status, "still within the lease")
	f.clock.add(time.Nanosecond) // exactly the lease: stale
	require.NoError(t, f.engine.Handle(f.ctx, Job{Kind: JobAction, TenantID: f.tenant.ID, IncidentID: id, ActionID: d.ID}))
	got := f.action(id, incident.ActionDisableAccount, u)
	assert.Equal(t, incident.ActionFailed, got.Status)
	assert.Contains(t, got.Error, "outcome unknown")
	assert.Zero(t, f.accountPatches(u, false))
}

func TestNoticeFailuresAreRetriedAndVisibleWithoutHoldingTheResponse(t *testing.T) {
	f := newFixture(t)
	f.sim.FailWrites("/users/"+f.tenant.Users[0].UserPrincipalName+"/sendMail", 2, graphsim.ServiceUnavailable(1))
	u := f.user(19)
	id := f.compromise("inc-m", u)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Equal(t, incident.ActionExecuted, f.action(id, incident.ActionRevokeSessions, u).Status)
	assert.Len(t, f.sim.SentMail(), 1, "sent on the third try")
	in := f.incident(id)
	assert.True(t, hasEntry(in, EntryNoticeFailed))
	assert.True(t, hasEntry(in, EntryNotice))
	log := f.notice(id, playbook.EventNewIncident+"-"+playbook.ActionID(id)+"/"+ChannelMail)
	assert.Equal(t, NoticeSent, log.Status)
	assert.Equal(t, 3, log.Attempts)
}

func TestWithoutMailSenderTheSendLogSaysWhy(t *testing.T) {
	f := newFixture(t, func(s *setup) { s.opts.MailSender = "" })
	id := f.compromise("inc-s", f.user(20))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Empty(t, f.sim.SentMail())
	log := f.notice(id, playbook.EventNewIncident+"-"+playbook.ActionID(id)+"/"+ChannelMail)
	assert.Equal(t, NoticeSkipped, log.Status)
	assert.Contains(t, log.Result, "MAIL_SENDER")
}

func TestResolvedIncidentsGetNoActions(t *testing.T) {
	f := newFixture(t)
	id := f.compromise("inc-r", f.user(21))
	_, err := f.rec.Incidents.Update(f.ctx, f.tenant.ID, id, func(in *incident.Incident) error {
		in.Status = incident.StatusResolved
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Empty(t, f.incident(id).Actions)
	assert.Empty(t, f.sim.Writes())
	require.Error(t, f.engine.OnIncident(f.ctx, f.tenant.ID, "missing"))
	require.Error(t, f.engine.Handle(f.ctx, Job{Kind: "bogus"}))
}

func hasEntry(in incident.Incident, kind string) bool {
	for _, e := range in.Timeline {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

func lastMail(f *fixture) graphsim.SentMail {
	m := f.sim.SentMail()
	if len(m) == 0 {
		return graphsim.SentMail{}
	}
	return m[len(m)-1]
}

var _ = errors.Is

func TestAnIncidentAboutTooManyUsersIsCappedAndSaysSo(t *testing.T) {
	f := newFixture(t, func(s *setup) { s.opts.MailSender = "" })
	var users []string
	for i := range 70 {
		users = append(users, fmt.Sprintf("%08d-0000-4000-8000-000000000000", i))
	}
	id := f.compromise("inc-big", users...)
	// Everything waits, so the test plans without executing.
	f.setSettings(func(s *settings.Tenant) {
		s.Actions = map[string]string{incident.ActionRevokeSessions: settings.Approval, incident.ActionUpdateAlert: settings.Approval}
	})
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	in := f.incident(id)
	assert.Equal(t, MaxActions, len(in.Actions))
	n := 0
	for _, e := range in.Timeline {
		if e.Kind == EntryActionsCapped {
			n++
		}
	}
	assert.Equal(t, 1, n)
}

func TestANoticeThatKeepsFailingGivesUpAfterTheLastAttempt(t *testing.T) {
	f := newFixture(t)
	f.sim.RefuseWrites("/users/"+f.tenant.Users[0].UserPrincipalName+"/sendMail", graphsim.ServiceUnavailable(1))
	id := f.compromise("inc-g", f.user(26))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	log := f.notice(id, playbook.EventNewIncident+"-"+playbook.ActionID(id)+"/"+ChannelMail)
	assert.Equal(t, NoticeFailed, log.Status)
	assert.Equal(t, 5, log.Attempts)
	assert.Contains(t, log.Result, "503")
	assert.Equal(t, 5, f.writesTo("POST", "/sendMail"))
	var gaveUp bool
	for _, e := range f.incident(id).Timeline {
		gaveUp = gaveUp || (e.Kind == EntryNoticeFailed && strings.Contains(e.Message, "gave up"))
	}
	assert.True(t, gaveUp)
	assert.Equal(t, incident.ActionExecuted, f.action(id, incident.ActionRevokeSessions, f.user(26)).Status, "the response went ahead")
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Equal(t, 5, f.writesTo("POST", "/sendMail"), "a notice given up on is not tried again")
}
