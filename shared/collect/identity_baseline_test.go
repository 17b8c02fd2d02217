package collect

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

const (
	gTier0     = "22222222-0000-0000-0000-0000000071e0"
	spGraph    = "55555555-0000-0000-0000-00000000ea01"
	spExchange = "55555555-0000-0000-0000-00000000ea02"
	spOther    = "55555555-0000-0000-0000-00000000ea03"
	strCustom  = "66666666-0000-0000-0000-000000000001"
)

// baselineTenant is smallTenant with what the SCuBA baseline controls read
// beyond it, in Graph's shapes: a custom authentication strength, consent
// classifications on Microsoft Graph and Exchange Online, a role-assignable
// Global Administrator group with PIM for Groups eligibilities (a user, a
// group, an owner), federated and synchronised immutable ids, and E5.
func baselineTenant() *graphsim.Tenant {
	t := smallTenant()
	for i := range t.Users {
		switch t.Users[i].ID {
		case uDave:
			t.Users[i].OnPremisesImmutableID = "qS4cT1eWEUK2bq1mN1w3pA=="
		case uErin:
			t.Users[i].OnPremisesImmutableID = "partner-idp|erin"
		}
	}
	tier0 := graphsim.Group{ID: gTier0, DisplayName: "Tier0 Global Admins", GroupTypes: []string{}, SecurityEnabled: true, MailNickname: "tier0",
		IsAssignableToRole: true, Members: []string{uAlice}, CreatedDateTime: testNow.AddDate(-1, 0, 0)}
	t.Groups = append(t.Groups, tier0)
	t.RoleAssignments = append(t.RoleAssignments, graphsim.RoleAssignment{ID: "ga-tier0", PrincipalID: gTier0,
		RoleDefinitionID: graphsim.RoleGlobalAdministrator, DirectoryScopeID: "/"})
	eligible := func(id, principal, access string) graphsim.PrivilegedAccessGroupEligibilityScheduleInstance {
		return graphsim.PrivilegedAccessGroupEligibilityScheduleInstance{ID: id, AccessID: access, EligibilityScheduleID: "s-" + id,
			GroupID: gTier0, MemberType: "direct", PrincipalID: principal, StartDateTime: testNow.AddDate(0, -1, 0), EndDateTime: testNow.AddDate(1, 0, 0)}
	}
	t.GroupEligibilityScheduleInstances = []graphsim.PrivilegedAccessGroupEligibilityScheduleInstance{
		eligible("e1", uErin, "member"), eligible("e2", gStaff, "member"), eligible("e3", uCarol, "owner"),
		// Eligibility for a group holding no privileged role is never asked for.
		{ID: "e4", AccessID: "member", GroupID: gAdmins, MemberType: "direct", PrincipalID: uBob, StartDateTime: testNow, EndDateTime: testNow.AddDate(1, 0, 0)},
	}
	t.AuthenticationStrengthPolicies = []graphsim.AuthenticationStrengthPolicy{
		{ID: strengthPhishing, DisplayName: "Phishing-resistant MFA", PolicyType: "builtIn", RequirementsSatisfied: "mfa",
			AllowedCombinations: []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}, CreatedDateTime: testNow, ModifiedDateTime: testNow},
		{ID: strCustom, DisplayName: "Password and SMS", PolicyType: "custom", RequirementsSatisfied: "mfa",
			AllowedCombinations: []string{"password,sms", "password"}, CreatedDateTime: testNow, ModifiedDateTime: testNow},
	}
	sp := func(id, appID, name string, classes ...graphsim.DelegatedPermissionClassification) graphsim.ServicePrincipal {
		return graphsim.ServicePrincipal{ID: id, AccountEnabled: true, AppID: appID, AppDisplayName: name, DisplayName: name,
			ServicePrincipalNames: []string{appID}, ServicePrincipalType: "Application", Tags: []string{}, DelegatedPermissionClassifications: classes}
	}
	low := func(id, name string) graphsim.DelegatedPermissionClassification {
		return graphsim.DelegatedPermissionClassification{ID: "c-" + id, Classification: "low", PermissionID: id, PermissionName: name}
	}
	t.ServicePrincipals = []graphsim.ServicePrincipal{
		sp(spGraph, posture.AppMicrosoftGraph, "Microsoft Graph", low("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read"), low("570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "Mail.Read")),
		sp(spExchange, posture.AppExchangeOnline, "Office 365 Exchange Online"),
		// Another application's classifications do not decide consent to these resources.
		sp(spOther, "99999999-0000-0000-0000-000000000001", "Line-of-business API", low("x", "Everything.ReadWrite")),
	}
	t.SubscribedSkus = []graphsim.SubscribedSku{{ID: "tenant-small_e5", AccountID: "tenant-small", AccountName: "Contoso", AppliesTo: "User",
		CapabilityStatus: "Enabled", ConsumedUnits: 7, SkuID: "06ebc4ee-1bb5-47dd-8120-11324bc54e06", SkuPartNumber: "SPE_E5", SubscriptionIDs: []string{"sub-1"},
		PrepaidUnits: graphsim.LicenseUnitsDetail{Enabled: 10},
		ServicePlans: []graphsim.ServicePlanInfo{{AppliesTo: "User", ProvisioningStatus: "Success", ServicePlanID: "eec0eb4f-6444-4f95-aba0-50c24d67f998", ServicePlanName: "AAD_PREMIUM_P2"}}}}
	return t
}

func TestIdentityReadsTheBaselineSources(t *testing.T) {
	srv, c := newTestServer(t, baselineTenant(), graphsim.Options{})
	id, srcs := Identity(context.Background(), c, discardLogger())
	requireStatuses(t, srcs, nil)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"authentication strengths keep their type and combinations", func(t *testing.T) {
			require.Contains(t, id.AuthStrengths, posture.AuthStrength{ID: strCustom, DisplayName: "Password and SMS", PolicyType: "custom",
				AllowedCombinations: []string{"password,sms", "password"}})
			require.Len(t, id.AuthStrengths, 2)
		}},
		{"classifications are read from the consent resources only, with the resource named", func(t *testing.T) {
			require.ElementsMatch(t, []posture.PermissionClassification{
				{ResourceAppID: posture.AppMicrosoftGraph, ResourceName: "Microsoft Graph", PermissionID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", PermissionName: "User.Read", Classification: "low"},
				{ResourceAppID: posture.AppMicrosoftGraph, ResourceName: "Microsoft Graph", PermissionID: "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", PermissionName: "Mail.Read", Classification: "low"},
			}, id.PermissionClassifications)
		}},
		{"eligible members of a privileged role group are its eligible users and the members of its eligible groups, owners not", func(t *testing.T) {
			g, ok := groupByID(id, gTier0)
			require.True(t, ok)
			require.Equal(t, []string{uAlice}, g.MemberIDs)
			want := []string{uErin, uBob, uAlice}
			slices.Sort(want)
			require.Equal(t, want, g.EligibleMemberIDs)
		}},
		{"an eligible group's members are read with the referenced groups", func(t *testing.T) {
			g, ok := groupByID(id, gStaff)
			require.True(t, ok)
			require.ElementsMatch(t, []string{uBob, uAlice}, g.MemberIDs)
		}},
		{"eligibility is asked only for groups holding a privileged role, filtered by group", func(t *testing.T) {
			var queries []string
			for _, e := range srv.Log() {
				if strings.Contains(e.Path, "/privilegedAccess/group/eligibilityScheduleInstances") {
					queries = append(queries, e.Query)
				}
			}
			require.Len(t, queries, 1)
			require.Contains(t, queries[0], gTier0)
			require.Equal(t, 2, mustSource(t, srcs, posture.SrcGroupEligibility).Items, "the two member eligibilities count; the owner is dropped")
		}},
		{"subscriptions keep their service plans", func(t *testing.T) {
			require.Len(t, id.SubscribedSkus, 1)
			require.Equal(t, "SPE_E5", id.SubscribedSkus[0].SkuPartNumber)
			require.True(t, posture.HasServicePlan(id.SubscribedSkus, posture.PlanEntraIDP2))
		}},
		{"immutable ids are read for synchronised and federated users", func(t *testing.T) {
			require.Equal(t, "qS4cT1eWEUK2bq1mN1w3pA==", userByID(t, id, uDave).OnPremisesImmutableID)
			require.Equal(t, "partner-idp|erin", userByID(t, id, uErin).OnPremisesImmutableID)
			require.False(t, userByID(t, id, uErin).OnPremisesSynced)
			require.Empty(t, userByID(t, id, uAlice).OnPremisesImmutableID)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}
}

// TestBaselineSourceFailuresMakeTheirControlsUnknown reads the tenant with
// one baseline source failing and evaluates the controls over what was read:
// the controls that need the source are unknown with its reason, never a
// pass, and the others are unaffected.
func TestBaselineSourceFailuresMakeTheirControlsUnknown(t *testing.T) {
	cases := []struct {
		name     string
		fault    func(s *graphsim.Server)
		source   string
		status   posture.SourceStatus
		controls []string
	}{
		{"a tenant without P2 leaves PIM for Groups unread and the privileged-user controls unknown",
			func(s *graphsim.Server) { s.SetLicensing(graphsim.Licensing{WithoutP2: true}) },
			posture.SrcGroupEligibility, posture.SourceNotLicensed, []string{"MS.AAD.7.1v1", "MS.AAD.7.3v1"}},
		{"a 403 on PIM for Groups leaves the privileged-user controls unknown",
			func(s *graphsim.Server) {
				s.ForceError("/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances", graphsim.InsufficientPrivileges())
			},
			posture.SrcGroupEligibility, posture.SourceForbidden, []string{"MS.AAD.7.1v1", "MS.AAD.7.3v1"}},
		{"a 403 on subscriptions leaves the risk-based controls unknown",
			func(s *graphsim.Server) { s.ForceError("/subscribedSkus", graphsim.InsufficientPrivileges()) },
			posture.SrcSubscribedSkus, posture.SourceForbidden, []string{"MS.AAD.2.1v1", "MS.AAD.2.3v1"}},
		{"a 403 on service principals leaves low-impact consent unknown",
			func(s *graphsim.Server) { s.ForceError("/servicePrincipals", graphsim.InsufficientPrivileges()) },
			posture.SrcPermissionClasses, posture.SourceForbidden, []string{"MS.AAD.5.2v1"}},
		{"a 403 on authentication strengths leaves an MFA policy with an unexpanded custom strength unknown",
			func(s *graphsim.Server) {
				s.ForceError("/policies/authenticationStrengthPolicies", graphsim.InsufficientPrivileges())
			},
			posture.SrcAuthStrengths, posture.SourceForbidden, []string{"MS.AAD.3.2v2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tenant := baselineTenant()
			// Low-impact consent, a Global Administrator count that passes,
			// and one all-users MFA policy naming the custom strength
			// without expanding it: each depends only on its own source.
			tenant.AuthorizationPolicy.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = []string{"ManagePermissionGrantsForSelf.microsoft-user-default-low"}
			tenant.ServicePrincipals[0].DelegatedPermissionClassifications = tenant.ServicePrincipals[0].DelegatedPermissionClassifications[:1]
			tenant.ConditionalAccessPolicies[0].Conditions.Users.ExcludeGroups = nil
			tenant.ConditionalAccessPolicies[0].GrantControls = &graphsim.ConditionalAccessGrantControls{Operator: "OR",
				AuthenticationStrength: &graphsim.AuthenticationStrengthPolicy{ID: strCustom, DisplayName: "Password and SMS", PolicyType: "custom"}}
			tenant.AuthenticationStrengthPolicies[1].AllowedCombinations = []string{"password,sms"}
			tenant.ConditionalAccessPolicies = append(tenant.ConditionalAccessPolicies, graphsim.ConditionalAccessPolicy{
				ID: "33333333-0000-0000-0000-0000000000b1", DisplayName: "Block high user risk", State: "enabled",
				Conditions:    graphsim.ConditionalAccessConditionSet{UserRiskLevels: []string{"high"}, Applications: graphsim.ConditionalAccessApplications{IncludeApplications: []string{"All"}}, Users: graphsim.ConditionalAccessUsers{IncludeUsers: []string{"All"}}},
				GrantControls: &graphsim.ConditionalAccessGrantControls{Operator: "OR", BuiltInControls: []string{"block"}}})
			srv, c := newTestServer(t, tenant, graphsim.Options{})
			healthy := evaluateIdentity(t, c)
			for _, id := range tc.controls {
				require.NotEqual(t, controls.Unknown, healthy[id].Status, "%s is decided when every source is read: %s", id, healthy[id].Reason)
			}
			tc.fault(srv)
			got := evaluateIdentity(t, c)
			for _, id := range tc.controls {
				require.Equal(t, controls.Unknown, got[id].Status, "%s: %s", id, got[id].Reason)
				require.Contains(t, got[id].Reason, tc.source)
			}
			src := mustSource(t, got["_sources"].Evidence["sources"].(posture.Sources), tc.source)
			require.Equal(t, tc.status, src.Status, src.Reason)
		})
	}
}

// evaluateIdentity collects identity and evaluates the catalogue over it,
// keyed by control id; "_sources" carries the sources as evidence.
func evaluateIdentity(t *testing.T, c *graph.Reader) map[string]controls.Result {
	t.Helper()
	id, srcs := Identity(context.Background(), c, discardLogger())
	in := controls.NewInput(testNow, controls.DefaultTargets(),
		&posture.Snapshot{Area: posture.AreaIdentity, TakenAt: testNow, Sources: srcs, Identity: id, Metrics: map[string]posture.Metric{}})
	out := map[string]controls.Result{"_sources": {Evidence: map[string]any{"sources": srcs}}}
	for _, r := range controls.Evaluate(in, nil) {
		out[r.ID] = r
	}
	return out
}
