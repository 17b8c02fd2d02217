package controls

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

// Tests of the defect classes found comparing our verdicts with CISA's
// reference reading of the SCuBA Entra ID baseline. Each row is the minimal
// change from a compliant tenant and the verdict the baseline gives it.

// e5 is a Microsoft 365 E5 subscription as /subscribedSkus lists it (two of
// its many service plans).
var e5 = posture.SubscribedSku{SkuID: "06ebc4ee-1bb5-47dd-8120-11324bc54e06", SkuPartNumber: "SPE_E5", CapabilityStatus: "Enabled",
	ServicePlans: []posture.ServicePlan{{ServicePlanName: "AAD_PREMIUM", ProvisioningStatus: "Success", AppliesTo: "User"},
		{ServicePlanName: "AAD_PREMIUM_P2", ProvisioningStatus: "Success", AppliesTo: "User"}}}

var (
	allPlatforms = func(p *posture.CAPolicy) { p.IncludePlatforms, p.ExcludePlatforms = []string{"all"}, []string{} }
	allLocations = func(p *posture.CAPolicy) { p.IncludeLocations, p.ExcludeLocations = []string{"All"}, []string{} }
	privRoles    = func(p *posture.CAPolicy) { p.IncludeUsers, p.IncludeRoles = nil, posture.PrivilegedRoles }
	managedOnly  = func(p *posture.CAPolicy) {
		p.BuiltInControls, p.GrantOperator = []string{"compliantDevice", "domainJoinedDevice"}, "OR"
	}
	customStrength = func(combos ...string) func(*posture.CAPolicy) {
		return func(p *posture.CAPolicy) {
			p.BuiltInControls = nil
			p.AuthStrengthID, p.AuthStrengthName, p.AuthStrengthCombo = "cccccccc-0000-4000-8000-000000000001", "Custom strength", combos
		}
	}
)

func TestConditionsThatNarrowNothing(t *testing.T) {
	cases := []struct {
		name    string
		control string
		policy  posture.CAPolicy
		want    Status
	}{
		{"a legacy block on all platforms with none excluded passes 1.1", "MS.AAD.1.1v1", policy(legacyBlock, allPlatforms), Pass},
		{"a legacy block in all locations with none excluded passes 1.1", "MS.AAD.1.1v1", policy(legacyBlock, allLocations), Pass},
		{"phishing-resistant MFA on all platforms passes 3.1", "MS.AAD.3.1v1", policy(phishRes, allPlatforms), Pass},
		{"MFA in all locations passes 3.2", "MS.AAD.3.2v2", policy(requireMFA, allLocations), Pass},
		{"MFA on all platforms in all locations passes 3.2", "MS.AAD.3.2v2", policy(requireMFA, allPlatforms, allLocations), Pass},
		{"phishing-resistant MFA for privileged roles in all locations passes 3.6", "MS.AAD.3.6v1", policy(phishRes, privRoles, allLocations), Pass},
		{"managed devices on all platforms pass 3.7", "MS.AAD.3.7v1", policy(managedOnly, allPlatforms), Pass},
		{"MFA outside trusted locations still fails 3.2", "MS.AAD.3.2v2", policy(requireMFA, onlyTrusted), Fail},
		{"MFA in trusted locations only still fails 3.2", "MS.AAD.3.2v2", policy(requireMFA, func(p *posture.CAPolicy) { p.IncludeLocations = []string{"AllTrusted"} }), Fail},
		{"MFA on all platforms but iOS still fails 3.2", "MS.AAD.3.2v2", policy(requireMFA, allPlatforms, func(p *posture.CAPolicy) { p.ExcludePlatforms = []string{"iOS"} }), Fail},
		{"a legacy block for Android only still fails 1.1", "MS.AAD.1.1v1", policy(legacyBlock, func(p *posture.CAPolicy) { p.IncludePlatforms = []string{"android"} }), Fail},
		{"a device filter still narrows 3.7", "MS.AAD.3.7v1", policy(managedOnly, func(p *posture.CAPolicy) { p.HasDeviceFilter = true }), Fail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, tc.control, identityInput(posture.Identity{Policies: []posture.CAPolicy{tc.policy}}))
			require.Equal(t, tc.want, r.Status, "findings: %+v", r.Findings.Items)
		})
	}
}

func TestAuthenticationStrengths(t *testing.T) {
	cases := []struct {
		name      string
		control   string
		policies  []posture.CAPolicy
		strengths []posture.AuthStrength
		sources   posture.Sources // nil: all ok
		want      Status
		reason    string
	}{
		{"a custom strength admitting password alone fails 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength("password,microsoftAuthenticatorPush", "password"))}, nil, nil, Fail, ""},
		{"a custom strength admitting SMS sign-in fails 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength("fido2", "sms"))}, nil, nil, Fail, ""},
		{"a custom strength admitting single-factor certificates fails 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength("x509CertificateSingleFactor"))}, nil, nil, Fail, ""},
		{"a custom strength admitting federated single-factor sign-in fails 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength("federatedSingleFactor", "federatedMultiFactor"))}, nil, nil, Fail, ""},
		{"a custom strength admitting a one-time Temporary Access Pass alone fails 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength("windowsHelloForBusiness", "temporaryAccessPassOneTime"))}, nil, nil, Fail, ""},
		{"a custom strength whose every combination is multifactor passes 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength("password,microsoftAuthenticatorPush", "password,hardwareOath", "fido2", "federatedMultiFactor"))}, nil, nil, Pass, ""},
		{"the built-in MFA strength passes 3.2 by its id", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(func(p *posture.CAPolicy) { p.AuthStrengthID = posture.StrengthMFA })}, nil, nil, Pass, ""},
		{"an unexpanded custom strength is judged by the strength policies read", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength())},
			[]posture.AuthStrength{{ID: "cccccccc-0000-4000-8000-000000000001", PolicyType: "custom", AllowedCombinations: []string{"password,sms"}}}, nil, Pass, ""},
		{"an unexpanded single-factor strength fails 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength())},
			[]posture.AuthStrength{{ID: "cccccccc-0000-4000-8000-000000000001", PolicyType: "custom", AllowedCombinations: []string{"password"}}}, nil, Fail, ""},
		{"a custom strength whose combinations could not be read makes 3.2 unknown", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength())}, nil,
			posture.Sources{{Name: posture.SrcAuthStrengths, Status: posture.SourceForbidden, Reason: "HTTP 403"}}, Unknown, `(authentication strength "Custom strength") requires MFA depends on its authentication strength, whose allowed combinations could not be read or hold a method this product does not know: authenticationStrengthPolicies: forbidden: HTTP 403`},
		{"a custom strength with a method mode unknown to us makes 3.2 unknown", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength("fido2", "someFutureMethod"))}, nil, nil, Unknown, "could not be read or hold a method this product does not know"},
		{"an unreadable strength does not matter when a plain MFA policy passes 3.2", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength()), policy(requireMFA)}, nil, nil, Pass, ""},
		{"an unreadable strength on a policy with exclusions cannot pass, so 3.2 fails", "MS.AAD.3.2v2",
			[]posture.CAPolicy{policy(customStrength(), excludeGlass)}, nil, nil, Fail, ""},
		{"a custom strength whose combinations could not be read makes 3.1 unknown", "MS.AAD.3.1v1",
			[]posture.CAPolicy{policy(customStrength())}, nil, nil, Unknown, "could not be read"},
		{"an unexpanded custom strength of FIDO2 only passes 3.1", "MS.AAD.3.1v1",
			[]posture.CAPolicy{policy(customStrength())},
			[]posture.AuthStrength{{ID: "cccccccc-0000-4000-8000-000000000001", AllowedCombinations: []string{"fido2", "windowsHelloForBusiness"}}}, nil, Pass, ""},
		{"the built-in passwordless strength is not phishing-resistant", "MS.AAD.3.1v1",
			[]posture.CAPolicy{policy(func(p *posture.CAPolicy) { p.AuthStrengthID = posture.StrengthPasswordlessMFA })}, nil, nil, Fail, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := identityInput(posture.Identity{Policies: tc.policies, AuthStrengths: tc.strengths, Groups: []posture.Group{{ID: glassGrp, Complete: true}}})
			if tc.sources != nil {
				in.Snapshot(posture.AreaIdentity).Sources = withSources(tc.sources...)
			}
			r := eval(t, tc.control, in)
			require.Equal(t, tc.want, r.Status, "findings: %+v, reason: %s", r.Findings.Items, r.Reason)
			require.Contains(t, r.Reason, tc.reason)
			if tc.want == Unknown && tc.sources == nil {
				require.True(t, strings.HasSuffix(r.Reason, "does not know"), "no source failed, so none is named: %s", r.Reason)
			}
		})
	}
}

func TestSecurityDefaultsDoNotSatisfyMFAForAllUsers(t *testing.T) {
	on, off := true, false
	cases := []struct {
		name     string
		defaults *bool
		policies []posture.CAPolicy
		want     Status
		detail   string
	}{
		{"security defaults without a Conditional Access policy fail 3.2", &on, nil, Fail, "security defaults"},
		{"an MFA policy for all users passes 3.2 with security defaults off", &off, []posture.CAPolicy{policy(requireMFA)}, Pass, ""},
		{"neither security defaults nor a policy fails 3.2", &off, nil, Fail, "no enabled Conditional Access policy requires MFA"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, "MS.AAD.3.2v2", identityInput(posture.Identity{SecurityDefaultsEnabled: tc.defaults, Policies: tc.policies}))
			require.Equal(t, tc.want, r.Status)
			require.Equal(t, tc.defaults, r.Evidence["securityDefaultsEnabled"])
			if tc.detail != "" {
				require.Equal(t, 1, r.Findings.Total)
				require.Contains(t, r.Findings.Items[0].Detail, tc.detail)
			}
		})
	}
}

func TestPrivilegedRoleCoverageJudgesTheCoveringPolicies(t *testing.T) {
	named := func(name string) func(*posture.CAPolicy) {
		return func(p *posture.CAPolicy) { p.ID, p.DisplayName = name, name }
	}
	roles := func(r ...string) func(*posture.CAPolicy) {
		return func(p *posture.CAPolicy) { p.IncludeUsers, p.IncludeRoles = nil, r }
	}
	excludeUser := func(p *posture.CAPolicy) { p.ExcludeUsers = []string{glassUser} }
	excludeGuests := func(p *posture.CAPolicy) { p.ExcludeGuests = true }
	cases := []struct {
		name     string
		policies []posture.CAPolicy
		want     Status
		details  []string
	}{
		{"one clean policy for all eight roles passes", []posture.CAPolicy{policy(phishRes, privRoles)}, Pass, nil},
		{"exclusions on the policy covering the roles are findings even when a clean policy covers another role",
			[]posture.CAPolicy{policy(phishRes, named("Global admins"), roles(posture.RoleGlobalAdmin)), policy(phishRes, named("All admins"), privRoles, excludeUser)},
			Fail, []string{`user excluded from "All admins"`}},
		{"a clean policy for an unrelated role does not hide the covering policy's exclusions",
			[]posture.CAPolicy{policy(phishRes, named("Helpdesk"), roles(posture.RoleHelpdeskAdmin)), policy(phishRes, named("All admins"), privRoles, excludeUser)},
			Fail, []string{`user excluded from "All admins"`}},
		{"a role covered by a clean policy needs no other policy's exclusions accepted",
			[]posture.CAPolicy{policy(phishRes, named("All admins"), privRoles), policy(phishRes, named("Global admins"), roles(posture.RoleGlobalAdmin), excludeUser)},
			Pass, nil},
		{"two clean policies that together cover every role pass",
			[]posture.CAPolicy{policy(phishRes, named("A"), roles(posture.PrivilegedRoles[:4]...)), policy(phishRes, named("B"), roles(posture.PrivilegedRoles[4:]...))},
			Pass, nil},
		{"excluding guests and external users from the privileged-role policy is a finding",
			[]posture.CAPolicy{policy(phishRes, named("All admins"), privRoles, excludeGuests)},
			Fail, []string{`guests and external users excluded from "All admins"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, "MS.AAD.3.6v1", identityInput(posture.Identity{Policies: tc.policies}))
			require.Equal(t, tc.want, r.Status, "findings: %+v", r.Findings.Items)
			var details []string
			for _, f := range r.Findings.Items {
				details = append(details, f.Detail)
			}
			require.Equal(t, tc.details, details)
		})
	}
}

func TestUserConsentToLowImpactPermissions(t *testing.T) {
	const graphApp = "00000003-0000-0000-c000-000000000000"
	low := func(app, name string) posture.PermissionClassification {
		return posture.PermissionClassification{ResourceAppID: app, ResourceName: "Microsoft Graph", PermissionID: "id-" + name, PermissionName: name, Classification: "low"}
	}
	benign := []posture.PermissionClassification{low(graphApp, "User.Read"), low(graphApp, "openid"), low(graphApp, "profile"), low(graphApp, "email"), low(graphApp, "offline_access")}
	grants := func(p ...string) *posture.Authorization {
		return &posture.Authorization{PermissionGrantPoliciesAssigned: p}
	}
	lowPolicy := "ManagePermissionGrantsForSelf.microsoft-user-default-low"
	cases := []struct {
		name    string
		auth    *posture.Authorization
		classes []posture.PermissionClassification
		failed  bool // classifications source failed
		want    Status
		detail  string
	}{
		{"no user consent passes", grants("ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat"), nil, false, Pass, ""},
		{"consent to low-impact permissions with none risky classified low passes", grants(lowPolicy), benign, false, Pass, ""},
		{"consent to low-impact permissions with nothing classified passes", grants(lowPolicy), []posture.PermissionClassification{}, false, Pass, ""},
		{"a risky Graph permission classified low fails", grants(lowPolicy), append(benign, low(graphApp, "Mail.Read")), false, Fail, "Mail.Read"},
		{"a risky Graph permission classified low is matched whatever its case", grants(lowPolicy), []posture.PermissionClassification{low(graphApp, "files.readwrite.all")}, false, Fail, "files.readwrite.all"},
		{"a risky Exchange permission classified low fails", grants(lowPolicy), []posture.PermissionClassification{low("00000002-0000-0ff1-ce00-000000000000", "Mail.Send")}, false, Fail, "Mail.Send"},
		{"classifications that could not be read make low-impact consent unknown", grants(lowPolicy), nil, true, Unknown, ""},
		{"consent to any app still fails", grants("ManagePermissionGrantsForSelf.microsoft-user-default-legacy"), benign, false, Fail, "microsoft-user-default-legacy"},
		{"Microsoft-managed consent fails as in the baseline", grants("ManagePermissionGrantsForSelf.microsoft-user-default-recommended"), benign, false, Fail, "recommended"},
		{"legacy consent fails even when classifications could not be read", grants("ManagePermissionGrantsForSelf.microsoft-user-default-legacy"), nil, true, Fail, "legacy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := identityInput(posture.Identity{Authorization: tc.auth, PermissionClassifications: tc.classes})
			if tc.failed {
				in.Snapshot(posture.AreaIdentity).Sources = withSources(posture.Source{Name: posture.SrcPermissionClasses, Status: posture.SourceForbidden, Reason: "HTTP 403 Authorization_RequestDenied"})
			}
			r := eval(t, "MS.AAD.5.2v1", in)
			require.Equal(t, tc.want, r.Status, "findings %+v reason %s", r.Findings.Items, r.Reason)
			if tc.want == Unknown {
				require.Contains(t, r.Reason, "delegatedPermissionClassifications: forbidden")
			}
			if tc.detail != "" {
				require.Contains(t, r.Findings.Items[0].Detail, tc.detail)
			}
		})
	}
}

func TestPrivilegedUsersIncludeFederatedAndPIMForGroups(t *testing.T) {
	const roleGroup = "bbbbbbbb-0000-4000-8000-0000000000ad"
	ga := func(p, kind string) posture.RoleAssignment {
		return posture.RoleAssignment{PrincipalID: p, RoleDefinitionID: posture.RoleGlobalAdmin, DirectoryScopeID: "/", Kind: kind}
	}
	cloud := func(id string) posture.User {
		return posture.User{ID: id, UserPrincipalName: id[len(id)-1:] + "@contoso.test"}
	}
	federated := cloud(u2)
	federated.OnPremisesImmutableID = "f3Qx1yZ7uU2cK9c9bM8qZg=="
	synced := cloud(u3)
	synced.OnPremisesSynced, synced.OnPremisesImmutableID = true, "b2Zm0mXf1UeC4o4v9Qk2Rw=="
	group := func(active []string, eligible []string) posture.Group {
		return posture.Group{ID: roleGroup, DisplayName: "Tier 0", MemberIDs: active, EligibleMemberIDs: eligible, Complete: true}
	}
	cases := []struct {
		name    string
		control string
		id      posture.Identity
		sources posture.Sources
		want    Status
		detail  string
	}{
		{"a federated Global Administrator that is not synced fails 7.3", "MS.AAD.7.3v1", posture.Identity{Users: []posture.User{cloud(u1), federated},
			RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive), ga(u2, posture.AssignmentActive)}}, nil, Fail, "onPremisesImmutableId"},
		{"a synced Global Administrator names the sync flag", "MS.AAD.7.3v1", posture.Identity{Users: []posture.User{cloud(u1), synced},
			RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive), ga(u3, posture.AssignmentActive)}}, nil, Fail, "onPremisesSyncEnabled"},
		{"a synced Global Administrator holding the role directly is described exactly", "MS.AAD.7.3v1", posture.Identity{Users: []posture.User{cloud(u1), synced},
			RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive), ga(u3, posture.AssignmentEligible), ga(u3, posture.AssignmentActive)}}, nil, Fail,
			"Global Administrator (active) is synchronised from on-premises (onPremisesSyncEnabled is true)"},
		{"an active holding through a group outranks an eligible direct one", "MS.AAD.7.3v1", posture.Identity{Users: []posture.User{cloud(u1), synced},
			Groups:          []posture.Group{group([]string{u3}, nil)},
			RoleAssignments: []posture.RoleAssignment{ga(u3, posture.AssignmentEligible), ga(roleGroup, posture.AssignmentActive), ga(u3, posture.AssignmentEligible)}}, nil, Fail,
			`Global Administrator (active, member of group "Tier 0")`},
		{"cloud-only Global Administrators pass 7.3", "MS.AAD.7.3v1", posture.Identity{Users: []posture.User{cloud(u1), cloud(u2)},
			RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive), ga(u2, posture.AssignmentActive)}}, nil, Pass, ""},
		{"a user eligible for membership of a Global Administrator group counts toward 7.1", "MS.AAD.7.1v1", posture.Identity{Users: []posture.User{cloud(u1), cloud(u2)},
			Groups: []posture.Group{group([]string{u1}, []string{u2})}, RoleAssignments: []posture.RoleAssignment{ga(roleGroup, posture.AssignmentActive)}}, nil, Pass, ""},
		{"nine Global Administrators counting PIM group eligibility fail 7.1", "MS.AAD.7.1v1", func() posture.Identity {
			id := posture.Identity{RoleAssignments: []posture.RoleAssignment{ga(roleGroup, posture.AssignmentEligible)}}
			var eligible []string
			for i := range 9 {
				uid := "cccccccc-0000-4000-8000-00000000000" + string(rune('0'+i))
				id.Users = append(id.Users, cloud(uid))
				eligible = append(eligible, uid)
			}
			id.Groups = []posture.Group{group(nil, eligible)}
			return id
		}(), nil, Fail, "9 Global Administrators"},
		{"a federated user eligible for membership of a privileged role group fails 7.3", "MS.AAD.7.3v1", posture.Identity{Users: []posture.User{cloud(u1), federated},
			Groups: []posture.Group{group([]string{u1}, []string{u2})}, RoleAssignments: []posture.RoleAssignment{ga(roleGroup, posture.AssignmentActive)}}, nil, Fail, "eligible"},
		{"PIM for Groups eligibility that could not be read makes 7.1 unknown", "MS.AAD.7.1v1", posture.Identity{Users: []posture.User{cloud(u1), cloud(u2)},
			RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive), ga(u2, posture.AssignmentActive)}},
			posture.Sources{{Name: posture.SrcGroupEligibility, Status: posture.SourceNotLicensed, Reason: "requires Entra ID P2"}}, Unknown, ""},
		{"PIM for Groups eligibility that could not be read makes 7.3 unknown", "MS.AAD.7.3v1", posture.Identity{Users: []posture.User{cloud(u1)},
			RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive)}},
			posture.Sources{{Name: posture.SrcGroupEligibility, Status: posture.SourceForbidden, Reason: "HTTP 403"}}, Unknown, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := identityInput(tc.id)
			if tc.sources != nil {
				in.Snapshot(posture.AreaIdentity).Sources = withSources(tc.sources...)
			}
			r := eval(t, tc.control, in)
			require.Equal(t, tc.want, r.Status, "findings %+v reason %s", r.Findings.Items, r.Reason)
			if tc.want == Unknown {
				require.Contains(t, r.Reason, posture.SrcGroupEligibility)
			}
			if tc.detail != "" {
				require.Contains(t, r.Findings.Items[0].Detail, tc.detail)
			}
		})
	}
}

func TestRiskPoliciesRequireEntraIDP2(t *testing.T) {
	userRisk := func(p *posture.CAPolicy) { p.UserRiskLevels, p.BuiltInControls = []string{"high"}, []string{"block"} }
	signInRisk := func(p *posture.CAPolicy) { p.SignInRiskLevels, p.BuiltInControls = []string{"high"}, []string{"block"} }
	p1Only := posture.SubscribedSku{SkuPartNumber: "SPE_E3", CapabilityStatus: "Enabled",
		ServicePlans: []posture.ServicePlan{{ServicePlanName: "AAD_PREMIUM", ProvisioningStatus: "Success"}}}
	p2Disabled := posture.SubscribedSku{SkuPartNumber: "SPE_E5", CapabilityStatus: "Enabled",
		ServicePlans: []posture.ServicePlan{{ServicePlanName: "AAD_PREMIUM_P2", ProvisioningStatus: "Disabled"}}}
	suspended := e5
	suspended.CapabilityStatus = "Suspended"
	grace := e5
	grace.CapabilityStatus = "Warning"
	cases := []struct {
		name    string
		control string
		policy  func(*posture.CAPolicy)
		skus    []posture.SubscribedSku
		failed  bool
		want    Status
	}{
		{"a high user risk block with P2 passes 2.1", "MS.AAD.2.1v1", userRisk, []posture.SubscribedSku{p1Only, e5}, false, Pass},
		{"a high user risk block without P2 fails 2.1", "MS.AAD.2.1v1", userRisk, []posture.SubscribedSku{p1Only}, false, Fail},
		{"a high sign-in risk block without P2 fails 2.3", "MS.AAD.2.3v1", signInRisk, []posture.SubscribedSku{p1Only}, false, Fail},
		{"a P2 plan that is not provisioned does not count", "MS.AAD.2.3v1", signInRisk, []posture.SubscribedSku{p2Disabled}, false, Fail},
		{"a suspended subscription does not count", "MS.AAD.2.1v1", userRisk, []posture.SubscribedSku{suspended}, false, Fail},
		{"a subscription in its grace period still counts", "MS.AAD.2.1v1", userRisk, []posture.SubscribedSku{grace}, false, Pass},
		{"licences that could not be read make 2.1 unknown", "MS.AAD.2.1v1", userRisk, nil, true, Unknown},
		{"licences that could not be read make 2.3 unknown", "MS.AAD.2.3v1", signInRisk, nil, true, Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			skus := tc.skus
			if skus == nil {
				skus = []posture.SubscribedSku{}
			}
			in := identityInput(posture.Identity{Policies: []posture.CAPolicy{policy(tc.policy)}, SubscribedSkus: skus})
			if tc.failed {
				in.Snapshot(posture.AreaIdentity).Sources = withSources(posture.Source{Name: posture.SrcSubscribedSkus, Status: posture.SourceForbidden, Reason: "HTTP 403"})
			}
			r := eval(t, tc.control, in)
			require.Equal(t, tc.want, r.Status, "findings %+v reason %s", r.Findings.Items, r.Reason)
			switch tc.want {
			case Fail:
				require.Equal(t, 1, r.Findings.Total)
				require.Contains(t, r.Findings.Items[0].Detail, "requires Entra ID P2")
				require.Equal(t, false, r.Evidence["entraIdP2"])
			case Unknown:
				require.Contains(t, r.Reason, "subscribedSkus: forbidden")
			}
		})
	}
}

// withSources returns the identity sources with the given ones replaced.
func withSources(changed ...posture.Source) posture.Sources {
	out := append(posture.Sources{}, identitySources...)
	for _, c := range changed {
		for i := range out {
			if out[i].Name == c.Name {
				out[i] = c
			}
		}
	}
	return out
}

func TestTheCleanestPolicyDecides(t *testing.T) {
	named := func(name string) func(*posture.CAPolicy) {
		return func(p *posture.CAPolicy) { p.ID, p.DisplayName = name, name }
	}
	cases := []struct {
		name     string
		policies []posture.CAPolicy
		best     string
		details  []string
	}{
		{"of two policies with as many exclusions the first decides", []posture.CAPolicy{
			policy(requireMFA, named("A"), func(p *posture.CAPolicy) { p.ExcludeUsers = []string{glassUser} }),
			policy(requireMFA, named("B"), excludeGlass)}, "A", []string{`user excluded from "A"`}},
		{"two excluded roles weigh more than one excluded user", []posture.CAPolicy{
			policy(requireMFA, named("Roles"), func(p *posture.CAPolicy) { p.ExcludeRoles = []string{posture.RoleGlobalAdmin, posture.RoleUserAdmin} }),
			policy(requireMFA, named("User"), func(p *posture.CAPolicy) { p.ExcludeUsers = []string{glassUser} })}, "User", []string{`user excluded from "User"`}},
		{"excluding guests counts as an exclusion", []posture.CAPolicy{
			policy(requireMFA, named("Guests"), func(p *posture.CAPolicy) { p.ExcludeGuests, p.ExcludeUsers = true, []string{glassUser} }),
			policy(requireMFA, named("User"), func(p *posture.CAPolicy) { p.ExcludeUsers = []string{glassUser} })}, "User", []string{`user excluded from "User"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, "MS.AAD.3.2v2", identityInput(posture.Identity{Policies: tc.policies}))
			require.Equal(t, tc.best, r.Evidence["bestPolicy"])
			var details []string
			for _, f := range r.Findings.Items {
				details = append(details, f.Detail)
			}
			require.Equal(t, tc.details, details)
		})
	}
}

func TestFindingsNameWhatTheyFound(t *testing.T) {
	t.Run("an excluded user without a user principal name is named by display name", func(t *testing.T) {
		r := eval(t, "MS.AAD.1.1v1", identityInput(posture.Identity{Users: []posture.User{{ID: glassUser, DisplayName: "Break Glass"}},
			Policies: []posture.CAPolicy{policy(legacyBlock, func(p *posture.CAPolicy) { p.ExcludeUsers = []string{glassUser} })}}))
		require.Equal(t, "Break Glass", r.Findings.Items[0].Name)
	})
	t.Run("a tenant with no matching policy at all mentions no report-only policy", func(t *testing.T) {
		r := eval(t, "MS.AAD.1.1v1", identityInput(posture.Identity{}))
		require.Equal(t, "no enabled Conditional Access policy blocks legacy authentication", r.Findings.Items[0].Detail)
	})
	t.Run("an undecided strength is named in the reason", func(t *testing.T) {
		r := eval(t, "MS.AAD.3.2v2", identityInput(posture.Identity{Policies: []posture.CAPolicy{policy(customStrength(), func(p *posture.CAPolicy) {
			p.DisplayName, p.AuthStrengthName = "Custom MFA", ""
		})}}))
		require.Equal(t, Unknown, r.Status)
		require.Contains(t, r.Reason, `policy "Custom MFA" (authentication strength "cccccccc-0000-4000-8000-000000000001")`)
		require.Empty(t, r.Findings.Items)
	})
}
