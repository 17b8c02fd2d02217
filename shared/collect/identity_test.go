package collect

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

func TestIdentityReadsEverySource(t *testing.T) {
	_, c := newTestServer(t, smallTenant(), graphsim.Options{})
	id, srcs := Identity(context.Background(), c, discardLogger())
	requireStatuses(t, srcs, nil)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"every identity source is reported once, in declaration order", func(t *testing.T) {
			var names []string
			for _, s := range srcs {
				names = append(names, s.Name)
			}
			var want []string
			for _, s := range identitySources() {
				want = append(want, s.Name)
			}
			require.Equal(t, want, names)
		}},
		{"users keep type, state and sync flag", func(t *testing.T) {
			require.Len(t, id.Users, 8)
			require.Equal(t, posture.User{ID: uCarol, UserPrincipalName: "carol@contoso.example", DisplayName: "carol", AccountEnabled: false, UserType: "Member",
				LastSignIn: ptr(testNow.AddDate(0, -5, 0)), Registration: &posture.Registration{IsMfaRegistered: true, IsMfaCapable: true, MethodsRegistered: []string{"mobilePhone"}}},
				userByID(t, id, uCarol))
			require.Equal(t, "Guest", userByID(t, id, uGina).UserType)
			require.True(t, userByID(t, id, uDave).OnPremisesSynced)
			require.False(t, userByID(t, id, uAlice).OnPremisesSynced)
		}},
		{"last sign-in is the latest interactive or non-interactive one", func(t *testing.T) {
			require.Equal(t, testNow.Add(-2*time.Hour), *userByID(t, id, uAlice).LastSignIn)
			require.Nil(t, userByID(t, id, uBob).LastSignIn, "bob never signed in")
			require.Equal(t, 2, mustSource(t, srcs, posture.SrcSignInActivity).Items)
		}},
		{"registration is joined on user id", func(t *testing.T) {
			require.Equal(t, &posture.Registration{IsAdmin: true, IsMfaRegistered: true, IsMfaCapable: true, MethodsRegistered: []string{"microsoftAuthenticatorPush", "fido2"}},
				userByID(t, id, uAlice).Registration)
			require.Equal(t, &posture.Registration{MethodsRegistered: []string{}}, userByID(t, id, uBob).Registration)
		}},
		{"a user missing from registration details has no registration", func(t *testing.T) {
			require.Nil(t, userByID(t, id, uDave).Registration)
		}},
		{"security defaults are read as disabled, not unknown", func(t *testing.T) {
			require.NotNil(t, id.SecurityDefaultsEnabled)
			require.False(t, *id.SecurityDefaultsEnabled)
		}},
		{"an all-users MFA policy excludes the break-glass group", func(t *testing.T) {
			p := policyByID(t, id, pMFAAll)
			require.Equal(t, posture.PolicyEnabled, p.State)
			require.Equal(t, []string{"All"}, p.IncludeUsers)
			require.Equal(t, []string{gBreakGlass}, p.ExcludeGroups)
			require.Equal(t, []string{"All"}, p.IncludeApplications)
			require.Equal(t, "OR", p.GrantOperator)
			require.Equal(t, []string{"mfa"}, p.BuiltInControls)
			require.Empty(t, p.ClientAppTypes)
			require.False(t, p.IncludeGuests)
		}},
		{"a report-only policy keeps its state and client app types", func(t *testing.T) {
			p := policyByID(t, id, pLegacy)
			require.Equal(t, posture.PolicyReportOnly, p.State)
			require.Equal(t, []string{"exchangeActiveSync", "other"}, p.ClientAppTypes)
			require.Equal(t, []string{"block"}, p.BuiltInControls)
		}},
		{"a location-conditioned policy keeps its locations and groups", func(t *testing.T) {
			p := policyByID(t, id, pLocation)
			require.Equal(t, []string{"All"}, p.IncludeLocations)
			require.Equal(t, []string{locOffice}, p.ExcludeLocations)
			require.Equal(t, []string{gAll}, p.IncludeGroups)
			require.Empty(t, p.IncludeUsers)
		}},
		{"a role-targeted policy carries its authentication strength", func(t *testing.T) {
			p := policyByID(t, id, pAdmins)
			require.Equal(t, []string{graphsim.RoleGlobalAdministrator}, p.IncludeRoles)
			require.Equal(t, []string{uBreak1}, p.ExcludeUsers)
			require.Equal(t, strengthPhishing, p.AuthStrengthID)
			require.Equal(t, "Phishing-resistant MFA", p.AuthStrengthName)
			require.ElementsMatch(t, []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}, p.AuthStrengthCombo)
			require.Empty(t, p.BuiltInControls)
		}},
		{"a guest policy sets IncludeGuests", func(t *testing.T) {
			p := policyByID(t, id, pGuests)
			require.True(t, p.IncludeGuests)
			require.False(t, p.ExcludeGuests)
		}},
		{"a policy without grant controls has no grant, and its device filter and platforms are kept", func(t *testing.T) {
			p := policyByID(t, id, pSession)
			require.Equal(t, posture.PolicyDisabled, p.State)
			require.Empty(t, p.GrantOperator)
			require.Nil(t, p.BuiltInControls)
			require.Empty(t, p.AuthStrengthID)
			require.True(t, p.HasDeviceFilter)
			require.Equal(t, []string{"android", "iOS"}, p.IncludePlatforms)
		}},
		{"named locations keep their kind and trust", func(t *testing.T) {
			require.ElementsMatch(t, []posture.NamedLocation{
				{ID: locOffice, DisplayName: "Office", Kind: "ip", IsTrusted: true},
				{ID: locCountries, DisplayName: "Blocked countries", Kind: "country"},
			}, id.NamedLocations)
		}},
		{"a nested group lists its transitive users, not the nested group", func(t *testing.T) {
			g, ok := groupByID(id, gAll)
			require.True(t, ok)
			require.True(t, g.Complete)
			require.Equal(t, "All staff (nested)", g.DisplayName)
			require.ElementsMatch(t, []string{uBob, uAlice, uCarol}, g.MemberIDs)
		}},
		{"the break-glass exclusion group is read", func(t *testing.T) {
			g, ok := groupByID(id, gBreakGlass)
			require.True(t, ok)
			require.ElementsMatch(t, []string{uBreak1, uBreak2}, g.MemberIDs)
		}},
		{"groups holding a role, actively or through PIM, are read", func(t *testing.T) {
			g, ok := groupByID(id, gAdmins)
			require.True(t, ok)
			require.Equal(t, []string{uDave}, g.MemberIDs)
			g, ok = groupByID(id, gPIM)
			require.True(t, ok)
			require.Equal(t, []string{uErin}, g.MemberIDs)
		}},
		{"a group a policy names that no longer exists is complete and empty", func(t *testing.T) {
			g, ok := groupByID(id, gDeleted)
			require.True(t, ok)
			require.True(t, g.Complete)
			require.Empty(t, g.MemberIDs)
			require.Contains(t, mustSource(t, srcs, posture.SrcGroupMembers).Reason, "1 referenced groups no longer exist")
		}},
		{"unreferenced groups and the nested group itself are not read", func(t *testing.T) {
			_, ok := groupByID(id, gUnused)
			require.False(t, ok)
			require.Len(t, id.Groups, 5)
		}},
		{"active and eligible role assignments are both listed", func(t *testing.T) {
			require.ElementsMatch(t, []posture.RoleAssignment{
				{PrincipalID: uAlice, RoleDefinitionID: graphsim.RoleGlobalAdministrator, DirectoryScopeID: "/", Kind: posture.AssignmentActive},
				{PrincipalID: uBreak1, RoleDefinitionID: graphsim.RoleGlobalAdministrator, DirectoryScopeID: "/", Kind: posture.AssignmentActive},
				{PrincipalID: gAdmins, RoleDefinitionID: graphsim.RoleSecurityAdministrator, DirectoryScopeID: "/", Kind: posture.AssignmentActive},
				{PrincipalID: uErin, RoleDefinitionID: graphsim.RoleGlobalAdministrator, DirectoryScopeID: "/", Kind: posture.AssignmentEligible},
				{PrincipalID: gPIM, RoleDefinitionID: graphsim.RoleSecurityAdministrator, DirectoryScopeID: "/", Kind: posture.AssignmentEligible},
			}, id.RoleAssignments)
		}},
		{"role definitions keep their template ids", func(t *testing.T) {
			require.Contains(t, id.RoleDefinitions, posture.RoleDefinition{ID: graphsim.RoleGlobalAdministrator, TemplateID: graphsim.RoleGlobalAdministrator, DisplayName: "Global Administrator", IsBuiltIn: true})
		}},
		{"the authorization policy is flattened", func(t *testing.T) {
			require.Equal(t, &posture.Authorization{
				AllowInvitesFrom: "everyone", GuestUserRoleID: "10dae51f-b6af-4016-8d66-8c2a99b929b3", AllowedToCreateApps: true,
				PermissionGrantPoliciesAssigned: []string{"ManagePermissionGrantsForSelf.microsoft-user-default-legacy"}, BlockMsolPowerShell: true,
			}, id.Authorization)
		}},
		{"domains keep their authentication type, password expiry and services", func(t *testing.T) {
			require.ElementsMatch(t, []posture.Domain{
				{ID: "contoso.example", IsVerified: true, AuthenticationType: "Managed", PasswordValidityPeriodInDays: ptr(2147483647),
					IsDefault: true, SupportedServices: []string{"Email"}},
				{ID: "corp.contoso.example", IsVerified: true, AuthenticationType: "Federated", SupportedServices: []string{}},
			}, id.Domains)
		}},
		{"only users at risk are listed", func(t *testing.T) {
			require.Equal(t, []posture.RiskyUser{{ID: uBob, UserPrincipalName: "bob@contoso.example", RiskLevel: "high", RiskState: "atRisk", RiskLastUpdated: testNow.Add(-time.Hour)}}, id.RiskyUsers)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}
}

func TestIdentityEmptyCollectionsAreEmptyNotNil(t *testing.T) {
	tenant := smallTenant()
	tenant.ConditionalAccessPolicies = nil
	tenant.RoleAssignments = nil
	tenant.RoleEligibilitySchedules = nil
	tenant.RiskyUsers = nil
	tenant.NamedLocations = nil
	_, c := newTestServer(t, tenant, graphsim.Options{})
	id, srcs := Identity(context.Background(), c, discardLogger())
	requireStatuses(t, srcs, nil)

	tests := []struct {
		name string
		got  any
	}{
		{"an empty policy list", id.Policies},
		{"no role assignments", id.RoleAssignments},
		{"no referenced groups", id.Groups},
		{"no risky users", id.RiskyUsers},
		{"no named locations", id.NamedLocations},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is empty, not nil", func(t *testing.T) {
			require.NotNil(t, tc.got)
			require.Empty(t, tc.got)
		})
	}
}
