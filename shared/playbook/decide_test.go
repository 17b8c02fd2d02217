package playbook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/settings"
)

var at = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func identity(admins ...string) Protection {
	id := &posture.Identity{Users: []posture.User{{ID: uid1, UserPrincipalName: "a@x.example"}, {ID: uid2, UserPrincipalName: "b@x.example"}},
		Groups: []posture.Group{{ID: "g1", MemberIDs: []string{uid2}, Complete: true}}}
	for _, a := range admins {
		id.RoleAssignments = append(id.RoleAssignments, posture.RoleAssignment{PrincipalID: a, RoleDefinitionID: posture.RoleGlobalAdmin, Kind: posture.AssignmentActive})
	}
	return Protection{Identity: id, At: at, Sources: posture.Sources{{Name: posture.SrcRoleAssignments, Status: posture.SourceOK}}}
}

func TestDecide(t *testing.T) {
	co, full := settings.Default(), settings.Default()
	full.ResponsibilityModel = settings.FullyManaged
	override := full
	override.Actions = map[string]string{incident.ActionRevokeSessions: settings.Approval}
	groupException := identity()
	groupException.Exceptions = []controls.Exception{{ID: "e1", Scope: controls.Scope{Groups: []string{"g1"}}, Reason: "break-glass",
		CreatedAt: at.Add(-time.Hour), ExpiresAt: at.Add(time.Hour)}}
	expired := identity()
	expired.Exceptions = []controls.Exception{{ID: "e2", Scope: controls.Scope{Users: []string{uid1}}, CreatedAt: at.Add(-2 * time.Hour), ExpiresAt: at.Add(-time.Hour)}}
	unknownRoles := identity()
	unknownRoles.Sources = posture.Sources{{Name: posture.SrcRoleAssignments, Status: posture.SourceFailed}}
	tests := []struct {
		name    string
		t       settings.Tenant
		p       Proposal
		protect Protection
		auto    bool
		brake   bool
		reason  string
	}{
		{"co-managed proposes a disable for approval", co, Proposal{Type: incident.ActionDisableAccount, Target: uid1}, identity(), false, false, "responsibility model: disableAccount waits for approval (co-managed)"},
		{"co-managed revokes sessions at once", co, Proposal{Type: incident.ActionRevokeSessions, Target: uid1}, identity(), true, false, ""},
		{"fully-managed disables an unprotected account under the brake", full, Proposal{Type: incident.ActionDisableAccount, Target: uid1}, identity(uid2), true, true, ""},
		{"fully-managed still asks before a wipe", full, Proposal{Type: incident.ActionWipeDevice, Target: "d"}, identity(), false, false, "wipeDevice waits"},
		{"a tenant override asks for approval", override, Proposal{Type: incident.ActionRevokeSessions, Target: uid1}, identity(), false, false, "tenant setting"},
		{"a Global Administrator is protected", full, Proposal{Type: incident.ActionDisableAccount, Target: "A@x.example"}, identity(uid1), false, false, "protected account: A@x.example holds the Global Administrator role"},
		{"an exception on a group protects its member", full, Proposal{Type: incident.ActionRequirePasswordChange, Target: uid2}, groupException, false, false, "covered by active exception e1 (break-glass)"},
		{"an expired exception protects no one", full, Proposal{Type: incident.ActionDisableAccount, Target: uid1}, expired, true, true, ""},
		{"unreadable role assignments protect", full, Proposal{Type: incident.ActionDisableAccount, Target: uid1}, unknownRoles, false, false, "could not be read"},
		{"no snapshot protects", full, Proposal{Type: incident.ActionConfirmCompromised, Target: uid1}, Protection{At: at}, false, false, "no identity snapshot"},
		{"a device retire has no account to protect", full, Proposal{Type: incident.ActionRetireDevice, Target: "d"}, Protection{At: at}, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.t, tt.p, tt.protect)
			assert.Equal(t, tt.auto, d.Auto)
			assert.Equal(t, tt.brake, d.Brake)
			if tt.reason == "" {
				assert.Empty(t, d.Reason)
			} else {
				assert.Contains(t, d.Reason, tt.reason)
			}
		})
	}
}

func TestNewActionRecordsTheDecision(t *testing.T) {
	in := incident.Incident{ID: "i"}
	p := Proposal{Playbook: "pb", Type: incident.ActionDisableAccount, Target: uid1}
	auto := NewAction(in, p, Decision{Auto: true}, at)
	assert.Equal(t, incident.ActionApproved, auto.Status)
	assert.False(t, auto.RequiresApproval)
	assert.Equal(t, &incident.Decider{Kind: incident.DeciderRule, Name: "playbook pb: disableAccount is automatic"}, auto.DecidedBy)
	assert.Equal(t, at, *auto.DecidedAt)
	assert.True(t, auto.Reversible)
	assert.Equal(t, ActionID(p.Key("i")), auto.ID)
	assert.Equal(t, p.Key("i"), auto.IdempotencyKey)
	assert.Equal(t, at, auto.ProposedAt)
	wait := NewAction(in, Proposal{Type: incident.ActionRevokeSessions, Target: uid1}, Decision{Reason: "why"}, at)
	assert.Equal(t, incident.ActionProposed, wait.Status)
	assert.True(t, wait.RequiresApproval)
	assert.Equal(t, "why", wait.Reason)
	assert.Nil(t, wait.DecidedBy)
	assert.False(t, wait.Reversible)
}

func TestBrakeClaim(t *testing.T) {
	old := records.BrakeEntry{Key: "old", At: at.Add(-BrakeWindow)}
	recent := records.BrakeEntry{Key: "k1", At: at.Add(-time.Minute)}
	other := records.BrakeEntry{Key: "k2", At: at.Add(-59 * time.Minute)}
	tests := []struct {
		name    string
		log     []records.BrakeEntry
		key     string
		limit   int
		allowed bool
		kept    []string
	}{
		{"an empty window has room", nil, "k", 1, true, []string{"k"}},
		{"a full window refuses", []records.BrakeEntry{recent, other}, "k", 2, false, []string{"k1", "k2"}},
		{"entries an hour old no longer count", []records.BrakeEntry{old, recent}, "k", 2, true, []string{"k1", "k"}},
		{"an action already counted passes without a second slot", []records.BrakeEntry{recent, other}, "k1", 2, true, []string{"k1", "k2"}},
		{"one below the limit takes the last slot", []records.BrakeEntry{recent}, "k", 2, true, []string{"k1", "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, ok := BrakeClaim(records.BrakeLog{Entries: tt.log}, tt.key, at, tt.limit)
			assert.Equal(t, tt.allowed, ok)
			var keys []string
			for _, e := range log.Entries {
				keys = append(keys, e.Key)
			}
			assert.Equal(t, tt.kept, keys)
		})
	}
	assert.True(t, IsBrakeReason(BrakeReason(3)))
	assert.Contains(t, BrakeReason(3), "limit autoActionsPerHour 3")
}

func TestSetStatusFollowsTheActions(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		actions []incident.Action
		want    string
	}{
		{"a waiting action makes it awaiting approval", incident.StatusNew, []incident.Action{{Status: incident.ActionProposed, RequiresApproval: true}}, incident.StatusAwaitingApproval},
		{"once nothing waits it is in progress", incident.StatusAwaitingApproval, []incident.Action{{Status: incident.ActionRejected, RequiresApproval: true}}, incident.StatusInProgress},
		{"a new incident with only automatic actions is in progress", incident.StatusNew, []incident.Action{{Status: incident.ActionExecuted}}, incident.StatusInProgress},
		{"a new incident without actions stays new", incident.StatusNew, nil, incident.StatusNew},
		{"a resolved incident stays resolved", incident.StatusResolved, []incident.Action{{Status: incident.ActionProposed, RequiresApproval: true}}, incident.StatusResolved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := incident.Incident{Status: tt.status, Actions: tt.actions}
			SetStatus(&in)
			assert.Equal(t, tt.want, in.Status)
		})
	}
}

func TestEventsAreDerivedFromTheIncidentState(t *testing.T) {
	in := eventful()
	var kinds []string
	for _, ev := range Events(in) {
		kinds = append(kinds, ev.Kind)
	}
	assert.Equal(t, []string{EventAwaiting, EventFailed}, kinds, "severity with junk is not high")
	in.Severity = "High"
	in.Actions[1].Reason = BrakeReason(5)
	kinds = nil
	for _, ev := range Events(in) {
		kinds = append(kinds, ev.Kind+":"+ev.Key[:len(ev.Kind)])
	}
	assert.Equal(t, []string{EventNewIncident + ":" + EventNewIncident, EventAwaiting + ":" + EventAwaiting, EventBrake + ":" + EventBrake, EventFailed + ":" + EventFailed}, kinds)
	assert.Equal(t, Events(in)[2].Key, EventBrake+"-2026113009", "once per tenant and hour")
	assert.Empty(t, Events(incident.Incident{Severity: "low"}))
}

func eventful() incident.Incident {
	return incident.Incident{ID: "i", TenantID: "t1", Severity: "high\r\nBcc: x", Actions: []incident.Action{
		{ID: "a1", Status: incident.ActionExecuted, ProposedAt: at},
		{ID: "a2", Status: incident.ActionProposed, RequiresApproval: true, ProposedAt: at},
		{ID: "a3", Status: incident.ActionFailed, ProposedAt: at},
		{ID: "a4", Status: incident.ActionProposed, ProposedAt: at},
	}}
}

func TestClip(t *testing.T) {
	assert.Equal(t, "abc", Clip("abc", 3))
	assert.Equal(t, "ab…", Clip("abc", 2))
}
