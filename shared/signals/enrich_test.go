package signals

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
)

func TestEnrich(t *testing.T) {
	id := identitySnap("id-1", []posture.RoleAssignment{
		{PrincipalID: "u1", RoleDefinitionID: posture.RoleGlobalAdmin, Kind: "active"},
		{PrincipalID: "u1", RoleDefinitionID: privRole, Kind: "eligible"},
	}, nil)
	id.Identity.RiskyUsers = []posture.RiskyUser{{ID: "u1", RiskLevel: "high", RiskState: "atRisk"}}
	id.Identity.Policies = []posture.CAPolicy{{ID: "p1", DisplayName: "Require MFA for admins"}}
	users := []posture.UserMFA{
		{ID: "u1", UserPrincipalName: "ann@contoso.com", DisplayName: "Ann", Registered: posture.Yes, Enforced: posture.Yes,
			EnforcedBy: []string{"p1", posture.SecurityDefaults}, Protected: posture.Yes},
		{ID: "u2", UserPrincipalName: "bob@contoso.com", Registered: posture.No, Enforced: posture.No, Protected: posture.No,
			Reason: "not registered and excluded", ExcludedBy: []posture.Exclusion{{PolicyID: "p1", PolicyName: "Require MFA for admins", Via: "user"}}},
	}
	devs := &posture.Snapshot{ID: "dev-1", TakenAt: t0, Findings: map[string]posture.FindingList{
		posture.ListNoncompliantDevice: {Total: 1, Items: []posture.Finding{{ID: "d1", Name: "LAPTOP-7", Detail: "noncompliant: BitLocker off"}}},
		posture.ListUnprotectedDevices: {Total: 0},
		posture.ListUnmeasuredDevices:  {Total: 0},
	}}
	x := controls.Exception{ControlID: "MS.AAD.3.2v1", Reason: "break-glass", Scope: controls.Scope{Users: []string{"u1"}},
		CreatedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(24 * time.Hour)}
	expired := x
	expired.ExpiresAt = t0.Add(-time.Minute)
	k := Known{Identity: id, Users: users, Devices: devs, Exceptions: []controls.Exception{x, expired}, At: t0}

	got := Enrich(incident.Entities{Users: []string{"ann@contoso.com", "u1", "u2", "u3"}, Devices: []string{"laptop-7.contoso.local", "desk-1"}}, k)
	require.Len(t, got, 5, "ann by UPN and id is one subject")
	ann, bob, ghost, laptop, desk := got[0], got[1], got[2], got[3], got[4]
	assert.True(t, ann.Found)
	assert.Equal(t, "u1", ann.ObjectID)
	assert.Equal(t, "yes", ann.MFARegistered)
	assert.Equal(t, []string{"Require MFA for admins", "security defaults"}, ann.EnforcedBy)
	assert.Equal(t, []string{"Global Administrator", "Privileged Role Administrator (eligible)"}, ann.AdminRoles)
	assert.True(t, ann.HoldsRole("Global Administrator"))
	assert.False(t, ann.HoldsRole("Directory Readers"))
	assert.Equal(t, "high", ann.RiskLevel)
	require.Len(t, ann.Exceptions, 1, "only the active exception counts")
	assert.Contains(t, ann.Exceptions[0], "break-glass")
	assert.Equal(t, "id-1", ann.SnapshotID)
	assert.Empty(t, ann.Reason)

	assert.Equal(t, "no", bob.MFARegistered)
	assert.Equal(t, "not registered and excluded", bob.Reason)
	assert.Equal(t, []string{"Require MFA for admins (via user)"}, bob.ExcludedBy)

	assert.False(t, ghost.Found)
	assert.Equal(t, "unknown", ghost.MFARegistered)
	assert.Contains(t, ghost.Reason, "not in the identity snapshot")

	assert.True(t, laptop.Found, "the DNS name's host matches the device name")
	assert.Equal(t, "noncompliant", laptop.Compliance)
	assert.Equal(t, "protected or not managed", laptop.Protection)
	assert.Contains(t, laptop.Reason, "BitLocker")
	assert.Equal(t, "compliant or not managed", desk.Compliance)

	capped := &posture.Snapshot{ID: "dev-2", Findings: map[string]posture.FindingList{
		posture.ListNoncompliantDevice: {Total: 600, Items: []posture.Finding{{ID: "other"}}},
		posture.ListUnprotectedDevices: {Total: 600, Items: []posture.Finding{{ID: "other"}}},
	}}
	got = Enrich(incident.Entities{Devices: []string{"desk-1"}}, Known{Devices: capped})
	assert.Equal(t, "unknown", got[0].Compliance, "a capped list cannot clear a device")
	assert.Equal(t, "unknown", got[0].Protection)

	none := Enrich(incident.Entities{Users: []string{"u1"}, Devices: []string{"d"}}, Known{})
	assert.Contains(t, none[0].Reason, "no identity snapshot")
	assert.Contains(t, none[1].Reason, "no devices snapshot")
}
