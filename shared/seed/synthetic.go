package seed

import (
	"fmt"
	"time"

	"m365security/shared/posture"
)

// Synthetic is a base collection of a tenant with users members (one in
// fifty an administrator, one in eight not registered for MFA, the first
// excluded from the MFA policy) and devices devices (Windows with
// protection state, one in five an iPhone Graph cannot measure, one in ten
// non-compliant), as collectors would return it at now. displayName, when
// set, names the first user (tests pass a hostile one). Tests and
// benchmarks use it where no simulator runs.
func Synthetic(users, devices int, now time.Time, displayName string) map[posture.Area]posture.Collected {
	off := false
	id := &posture.Identity{SecurityDefaultsEnabled: &off, Authorization: &posture.Authorization{AllowInvitesFrom: "adminsAndGuestInviters"},
		Domains: []posture.Domain{{ID: "contoso.onmicrosoft.com", IsVerified: true, AuthenticationType: "Managed"},
			{ID: "contoso.example", IsVerified: true, AuthenticationType: "Managed"}},
		Policies: []posture.CAPolicy{{ID: "ca-mfa", DisplayName: "Require MFA for everyone", State: posture.PolicyEnabled,
			IncludeUsers: []string{"All"}, ExcludeUsers: []string{userID(0)}, IncludeApplications: []string{"All"}, BuiltInControls: []string{"mfa"}}}}
	for i := 0; i < users; i++ {
		name := fmt.Sprintf("User %05d", i)
		if i == 0 && displayName != "" {
			name = displayName
		}
		id.Users = append(id.Users, posture.User{ID: userID(i), UserPrincipalName: fmt.Sprintf("user%05d@contoso.example", i), DisplayName: name,
			AccountEnabled: true, UserType: "Member", Registration: &posture.Registration{IsAdmin: i%50 == 1, IsMfaRegistered: i%8 != 3, IsMfaCapable: i%8 != 3}})
	}
	var dl posture.Devices
	for i := 0; i < devices; i++ {
		d := posture.Device{ID: fmt.Sprintf("dev-%05d", i), DeviceName: fmt.Sprintf("PC-%05d", i), OperatingSystem: "Windows",
			ComplianceState: "compliant", LastSync: now.Add(-time.Hour), UserPrincipalName: fmt.Sprintf("user%05d@contoso.example", i%max(users, 1))}
		if i%10 == 7 {
			d.ComplianceState = "noncompliant"
		}
		if i%5 == 4 {
			d.OperatingSystem, d.DeviceName = "iOS", fmt.Sprintf("iPhone-%05d", i)
		} else {
			t := now.Add(-2 * time.Hour)
			d.Protection = &posture.Protection{MalwareProtectionEnabled: true, RealTimeProtectionEnabled: i%12 != 5, LastReported: &t}
		}
		dl.Devices = append(dl.Devices, d)
	}
	ok := func(names ...string) posture.Sources {
		var s posture.Sources
		for _, n := range names {
			s = append(s, posture.Source{Name: n, Status: posture.SourceOK})
		}
		return s
	}
	return map[posture.Area]posture.Collected{
		posture.AreaIdentity: {Identity: id, Sources: ok(posture.SrcUsers, posture.SrcSignInActivity, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults,
			posture.SrcConditionalAccess, posture.SrcNamedLocations, posture.SrcRoleAssignments, posture.SrcRoleDefinitions, posture.SrcAuthorizationPolicy,
			posture.SrcDomains, posture.SrcGroupMembers)},
		posture.AreaDevices: {Devices: &dl, Sources: ok(posture.SrcManagedDevices, posture.SrcProtectionStates)},
		posture.AreaSecureScore: {SecureScore: &posture.SecureScore{Scores: []posture.Score{{CreatedAt: now.Add(-time.Hour), CurrentScore: 62, MaxScore: 100}}},
			Sources: ok(posture.SrcSecureScores, posture.SrcControlProfiles)},
		posture.AreaBackup: {Backup: &posture.Backup{ServiceStatus: "enabled", Policies: []posture.ProtectionPolicy{{ID: "pp1", DisplayName: "Mailboxes",
			Workload: "exchange", Status: "active", LastModified: now.AddDate(0, -6, 0)}}}, Sources: ok(posture.SrcBackupService, posture.SrcBackupPolicies)},
	}
}

func userID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
