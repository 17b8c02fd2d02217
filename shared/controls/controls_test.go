package controls

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

var now = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)

const (
	u1        = "aaaaaaaa-0000-4000-8000-000000000001"
	u2        = "aaaaaaaa-0000-4000-8000-000000000002"
	u3        = "aaaaaaaa-0000-4000-8000-000000000003"
	glassUser = "aaaaaaaa-0000-4000-8000-0000000000bb"
	glassGrp  = "bbbbbbbb-0000-4000-8000-000000000001"
)

var identitySources = posture.Sources{
	{Name: posture.SrcUsers, Status: posture.SourceOK}, {Name: posture.SrcConditionalAccess, Status: posture.SourceOK},
	{Name: posture.SrcAuthorizationPolicy, Status: posture.SourceOK}, {Name: posture.SrcDomains, Status: posture.SourceOK},
	{Name: posture.SrcRoleAssignments, Status: posture.SourceOK}, {Name: posture.SrcRegistrationDetails, Status: posture.SourceOK},
	{Name: posture.SrcRoleEligibility, Status: posture.SourceOK}, {Name: posture.SrcAuthStrengths, Status: posture.SourceOK},
	{Name: posture.SrcPermissionClasses, Status: posture.SourceOK}, {Name: posture.SrcGroupEligibility, Status: posture.SourceOK},
	{Name: posture.SrcSubscribedSkus, Status: posture.SourceOK},
}

func identityInput(id posture.Identity) Input {
	if id.Authorization == nil {
		id.Authorization = &posture.Authorization{}
	}
	if id.SubscribedSkus == nil {
		id.SubscribedSkus = []posture.SubscribedSku{e5}
	}
	return NewInput(now, DefaultTargets(),
		&posture.Snapshot{Area: posture.AreaIdentity, TakenAt: now, Sources: identitySources, Identity: &id, Metrics: map[string]posture.Metric{}})
}

func policy(mods ...func(*posture.CAPolicy)) posture.CAPolicy {
	p := posture.CAPolicy{ID: "p", DisplayName: "Policy", State: posture.PolicyEnabled, IncludeUsers: []string{"All"},
		IncludeApplications: []string{"All"}}
	for _, m := range mods {
		m(&p)
	}
	return p
}

var (
	legacyBlock = func(p *posture.CAPolicy) {
		p.ClientAppTypes = []string{"exchangeActiveSync", "other"}
		p.BuiltInControls = []string{"block"}
	}
	reportOnly   = func(p *posture.CAPolicy) { p.State = posture.PolicyReportOnly }
	excludeGlass = func(p *posture.CAPolicy) { p.ExcludeGroups = []string{glassGrp} }
	requireMFA   = func(p *posture.CAPolicy) { p.BuiltInControls = []string{"mfa"} }
	phishRes     = func(p *posture.CAPolicy) { p.AuthStrengthID = PhishingResistantStrength }
	onlyTrusted  = func(p *posture.CAPolicy) {
		p.IncludeLocations = []string{"All"}
		p.ExcludeLocations = []string{"AllTrusted"}
	}
)

func eval(t *testing.T, id string, in Input, exceptions ...Exception) Result {
	t.Helper()
	c, ok := ByID(id)
	require.True(t, ok, "control %s in catalogue", id)
	return EvaluateOne(c, in, exceptions)
}

func TestPolicyControls(t *testing.T) {
	glass := posture.Group{ID: glassGrp, DisplayName: "Break glass", Complete: true}
	cases := []struct {
		name     string
		control  string
		policies []posture.CAPolicy
		want     Status
		findings int
	}{
		{"legacy auth blocked by an enabled all-users policy passes", "MS.AAD.1.1v1", []posture.CAPolicy{policy(legacyBlock)}, Pass, 0},
		{"a report-only legacy block fails", "MS.AAD.1.1v1", []posture.CAPolicy{policy(legacyBlock, reportOnly)}, Fail, 1},
		{"a legacy block with a break-glass exclusion fails until excepted", "MS.AAD.1.1v1", []posture.CAPolicy{policy(legacyBlock, excludeGlass)}, Fail, 1},
		{"a legacy block for Exchange ActiveSync only fails", "MS.AAD.1.1v1", []posture.CAPolicy{policy(legacyBlock, func(p *posture.CAPolicy) { p.ClientAppTypes = []string{"exchangeActiveSync"} })}, Fail, 1},
		{"a legacy block limited to untrusted locations fails", "MS.AAD.1.1v1", []posture.CAPolicy{policy(legacyBlock, onlyTrusted)}, Fail, 1},
		{"no policies at all fails", "MS.AAD.1.1v1", nil, Fail, 1},
		{"high user risk blocked passes", "MS.AAD.2.1v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) { p.UserRiskLevels = []string{"high"}; p.BuiltInControls = []string{"block"} })}, Pass, 0},
		{"high user risk requiring password change is not a block", "MS.AAD.2.1v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) {
			p.UserRiskLevels = []string{"high"}
			p.BuiltInControls = []string{"passwordChange"}
		})}, Fail, 1},
		{"high sign-in risk blocked passes", "MS.AAD.2.3v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) {
			p.SignInRiskLevels = []string{"high", "medium"}
			p.BuiltInControls = []string{"block"}
		})}, Pass, 0},
		{"phishing-resistant strength for all users passes 3.1", "MS.AAD.3.1v1", []posture.CAPolicy{policy(phishRes)}, Pass, 0},
		{"plain MFA does not pass 3.1", "MS.AAD.3.1v1", []posture.CAPolicy{policy(requireMFA)}, Fail, 1},
		{"a custom strength of FIDO2 only passes 3.1", "MS.AAD.3.1v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) { p.AuthStrengthID = "custom"; p.AuthStrengthCombo = []string{"fido2"} })}, Pass, 0},
		{"a custom strength allowing SMS fails 3.1", "MS.AAD.3.1v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) {
			p.AuthStrengthID = "custom"
			p.AuthStrengthCombo = []string{"fido2", "sms,password"}
		})}, Fail, 1},
		{"MFA for all users passes 3.2", "MS.AAD.3.2v2", []posture.CAPolicy{policy(requireMFA)}, Pass, 0},
		{"phishing-resistant MFA also satisfies 3.2", "MS.AAD.3.2v2", []posture.CAPolicy{policy(phishRes)}, Pass, 0},
		{"MFA for one app fails 3.2", "MS.AAD.3.2v2", []posture.CAPolicy{policy(requireMFA, func(p *posture.CAPolicy) { p.IncludeApplications = []string{"Office365"} })}, Fail, 1},
		{"MFA with an excluded app fails 3.2", "MS.AAD.3.2v2", []posture.CAPolicy{policy(requireMFA, func(p *posture.CAPolicy) { p.ExcludeApplications = []string{"some-app"} })}, Fail, 1},
		{"MFA for all users with a group exclusion fails 3.2", "MS.AAD.3.2v2", []posture.CAPolicy{policy(requireMFA, excludeGlass)}, Fail, 1},
		{"the cleaner of two MFA policies decides 3.2", "MS.AAD.3.2v2", []posture.CAPolicy{policy(requireMFA, excludeGlass), policy(requireMFA)}, Pass, 0},
		{"privileged roles with phishing-resistant MFA pass 3.6", "MS.AAD.3.6v1", []posture.CAPolicy{policy(phishRes, func(p *posture.CAPolicy) { p.IncludeUsers = nil; p.IncludeRoles = posture.PrivilegedRoles })}, Pass, 0},
		{"a policy covering only Global Administrator leaves seven roles uncovered", "MS.AAD.3.6v1", []posture.CAPolicy{policy(phishRes, func(p *posture.CAPolicy) { p.IncludeUsers = nil; p.IncludeRoles = []string{posture.RoleGlobalAdmin} })}, Fail, 7},
		{"compliant device required passes 3.7", "MS.AAD.3.7v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) {
			p.BuiltInControls = []string{"compliantDevice", "domainJoinedDevice"}
			p.GrantOperator = "OR"
		})}, Pass, 0},
		{"compliant device OR mfa does not require a managed device", "MS.AAD.3.7v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) {
			p.BuiltInControls = []string{"compliantDevice", "mfa"}
			p.GrantOperator = "OR"
		})}, Fail, 1},
		{"compliant device AND mfa requires a managed device", "MS.AAD.3.7v1", []posture.CAPolicy{policy(func(p *posture.CAPolicy) {
			p.BuiltInControls = []string{"compliantDevice", "mfa"}
			p.GrantOperator = "AND"
		})}, Pass, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, tc.control, identityInput(posture.Identity{Policies: tc.policies, Groups: []posture.Group{glass}}))
			require.Equal(t, tc.want, r.Status, "findings: %+v", r.Findings.Items)
			require.Equal(t, tc.findings, r.Findings.Total)
		})
	}
}

func TestReportOnlyMatchIsEvidenceNotPass(t *testing.T) {
	r := eval(t, "MS.AAD.2.3v1", identityInput(posture.Identity{Policies: []posture.CAPolicy{
		policy(reportOnly, func(p *posture.CAPolicy) {
			p.DisplayName = "Block risky"
			p.SignInRiskLevels = []string{"high"}
			p.BuiltInControls = []string{"block"}
		}),
	}}))
	require.Equal(t, Fail, r.Status)
	require.Equal(t, []string{"Block risky"}, r.Evidence["reportOnlyPolicies"])
	require.Contains(t, r.Findings.Items[0].Detail, "report-only")
}

func TestDirectorySettingControls(t *testing.T) {
	days := func(n int) *int { return &n }
	cases := []struct {
		name    string
		control string
		id      posture.Identity
		want    Status
	}{
		{"users cannot register apps passes", "MS.AAD.5.1v1", posture.Identity{Authorization: &posture.Authorization{AllowedToCreateApps: false}}, Pass},
		{"users can register apps fails", "MS.AAD.5.1v1", posture.Identity{Authorization: &posture.Authorization{AllowedToCreateApps: true}}, Fail},
		{"no self-consent policy passes", "MS.AAD.5.2v1", posture.Identity{Authorization: &posture.Authorization{PermissionGrantPoliciesAssigned: []string{"ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"}}}, Pass},
		{"legacy user consent fails", "MS.AAD.5.2v1", posture.Identity{Authorization: &posture.Authorization{PermissionGrantPoliciesAssigned: []string{"ManagePermissionGrantsForSelf.microsoft-user-default-legacy"}}}, Fail},
		{"never-expiring managed domains pass", "MS.AAD.6.1v1", posture.Identity{Domains: []posture.Domain{{ID: "contoso.com", IsVerified: true, AuthenticationType: "Managed", PasswordValidityPeriodInDays: days(2147483647)}}}, Pass},
		{"a 90-day managed domain fails", "MS.AAD.6.1v1", posture.Identity{Domains: []posture.Domain{{ID: "contoso.com", IsVerified: true, AuthenticationType: "Managed", PasswordValidityPeriodInDays: days(90)}}}, Fail},
		{"a federated domain is not judged", "MS.AAD.6.1v1", posture.Identity{Domains: []posture.Domain{{ID: "fed.contoso.com", IsVerified: true, AuthenticationType: "Federated", PasswordValidityPeriodInDays: days(90)}}}, Pass},
		{"limited guest access passes", "MS.AAD.8.1v1", posture.Identity{Authorization: &posture.Authorization{GuestUserRoleID: GuestRoleLimited}}, Pass},
		{"restricted guest access passes", "MS.AAD.8.1v1", posture.Identity{Authorization: &posture.Authorization{GuestUserRoleID: GuestRoleRestricted}}, Pass},
		{"member-level guest access fails", "MS.AAD.8.1v1", posture.Identity{Authorization: &posture.Authorization{GuestUserRoleID: GuestRoleSameAsMember}}, Fail},
		{"admins and guest inviters only passes", "MS.AAD.8.2v1", posture.Identity{Authorization: &posture.Authorization{AllowInvitesFrom: "adminsAndGuestInviters"}}, Pass},
		{"everyone may invite fails", "MS.AAD.8.2v1", posture.Identity{Authorization: &posture.Authorization{AllowInvitesFrom: "everyone"}}, Fail},
		{"members may invite fails", "MS.AAD.8.2v1", posture.Identity{Authorization: &posture.Authorization{AllowInvitesFrom: "adminsGuestInvitersAndAllMembers"}}, Fail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, eval(t, tc.control, identityInput(tc.id)).Status)
		})
	}
}

func TestPrivilegedRoleControls(t *testing.T) {
	ga := func(p string, kind string) posture.RoleAssignment {
		return posture.RoleAssignment{PrincipalID: p, RoleDefinitionID: posture.RoleGlobalAdmin, DirectoryScopeID: "/", Kind: kind}
	}
	users := []posture.User{{ID: u1, UserPrincipalName: "a@c"}, {ID: u2, UserPrincipalName: "b@c", OnPremisesSynced: true}, {ID: u3, UserPrincipalName: "c@c"}}
	cases := []struct {
		name     string
		control  string
		id       posture.Identity
		want     Status
		findings int
	}{
		{"one Global Administrator fails", "MS.AAD.7.1v1", posture.Identity{Users: users, RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive)}}, Fail, 1},
		{"an eligible second Global Administrator counts", "MS.AAD.7.1v1", posture.Identity{Users: users, RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive), ga(u3, posture.AssignmentEligible)}}, Pass, 0},
		{"Global Administrators through a role group count per member", "MS.AAD.7.1v1", posture.Identity{Users: users,
			Groups:          []posture.Group{{ID: glassGrp, MemberIDs: []string{u1, u3}, Complete: true}},
			RoleAssignments: []posture.RoleAssignment{ga(glassGrp, posture.AssignmentActive)}}, Pass, 0},
		{"nine Global Administrators fail", "MS.AAD.7.1v1", func() posture.Identity {
			var id posture.Identity
			for i := 0; i < 9; i++ {
				uid := "cccccccc-0000-4000-8000-00000000000" + string(rune('0'+i))
				id.Users = append(id.Users, posture.User{ID: uid})
				id.RoleAssignments = append(id.RoleAssignments, ga(uid, posture.AssignmentActive))
			}
			return id
		}(), Fail, 1},
		{"a synced Global Administrator fails 7.3", "MS.AAD.7.3v1", posture.Identity{Users: users, RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive), ga(u2, posture.AssignmentActive)}}, Fail, 1},
		{"a synced user without privileged roles passes 7.3", "MS.AAD.7.3v1", posture.Identity{Users: users, RoleAssignments: []posture.RoleAssignment{ga(u1, posture.AssignmentActive),
			{PrincipalID: u2, RoleDefinitionID: posture.RoleHelpdeskAdmin, Kind: posture.AssignmentActive}}}, Pass, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, tc.control, identityInput(tc.id))
			require.Equal(t, tc.want, r.Status, "%+v", r.Findings.Items)
			require.Equal(t, tc.findings, r.Findings.Total)
		})
	}
}

func TestUnknownWhenRequiredSourceFailed(t *testing.T) {
	in := identityInput(posture.Identity{})
	in.Snapshot(posture.AreaIdentity).Sources = posture.Sources{{Name: posture.SrcConditionalAccess, Status: posture.SourceForbidden, Reason: "HTTP 403 Authorization_RequestDenied"}}
	r := eval(t, "MS.AAD.3.2v2", in)
	require.Equal(t, Unknown, r.Status)
	require.Contains(t, r.Reason, "conditionalAccessPolicies: forbidden")

	never := eval(t, "M365SEC.DEV.1", Input{AsOf: now, Targets: DefaultTargets()})
	require.Equal(t, Unknown, never.Status)
	require.Contains(t, never.Reason, "devices data has not been collected")
}

func TestExceptions(t *testing.T) {
	base := identityInput(posture.Identity{Policies: []posture.CAPolicy{policy(legacyBlock, excludeGlass, func(p *posture.CAPolicy) { p.ExcludeUsers = []string{glassUser} })},
		Groups: []posture.Group{{ID: glassGrp, DisplayName: "Break glass"}}})
	exc := func(id string, users, groups []string, mods ...func(*Exception)) Exception {
		e := Exception{ID: id, ControlID: "MS.AAD.1.1v1", Scope: Scope{Users: users, Groups: groups}, Reason: "break glass",
			ApprovedBy: "ciso@contoso.com", CreatedAt: now.AddDate(0, -1, 0), ExpiresAt: now.AddDate(0, 1, 0)}
		for _, m := range mods {
			m(&e)
		}
		return e
	}
	cases := []struct {
		name       string
		exceptions []Exception
		want       Status
		used       []string
		expired    []string
	}{
		{"no exception leaves the control failing", nil, Fail, nil, nil},
		{"an exception covering the user and the group excepts the control", []Exception{exc("e1", []string{glassUser}, []string{glassGrp})}, Excepted, []string{"e1"}, nil},
		{"two exceptions together can cover every finding", []Exception{exc("e1", []string{glassUser}, nil), exc("e2", nil, []string{glassGrp})}, Excepted, []string{"e1", "e2"}, nil},
		{"covering only the user leaves it failing", []Exception{exc("e1", []string{glassUser}, nil)}, Fail, []string{"e1"}, nil},
		{"an expired exception no longer counts and is listed", []Exception{exc("e1", []string{glassUser}, []string{glassGrp}, func(e *Exception) { e.ExpiresAt = now.Add(-time.Hour) })}, Fail, nil, []string{"e1"}},
		{"a revoked exception no longer counts", []Exception{exc("e1", []string{glassUser}, []string{glassGrp}, func(e *Exception) { r := now.Add(-time.Hour); e.RevokedAt = &r })}, Fail, nil, nil},
		{"an exception for another control does not apply", []Exception{exc("e1", []string{glassUser}, []string{glassGrp}, func(e *Exception) { e.ControlID = "MS.AAD.3.2v2" })}, Fail, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, "MS.AAD.1.1v1", base, tc.exceptions...)
			require.Equal(t, tc.want, r.Status)
			require.ElementsMatch(t, tc.used, r.Exceptions)
			require.ElementsMatch(t, tc.expired, r.ExpiredExceptions)
		})
	}
}

func TestTenantWideFindingsCannotBeExcepted(t *testing.T) {
	in := identityInput(posture.Identity{})
	e := Exception{ID: "e", ControlID: "MS.AAD.1.1v1", Scope: Scope{Users: []string{u1}}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
	require.Equal(t, Fail, eval(t, "MS.AAD.1.1v1", in, e).Status)
}

func TestMetricControlsUseTargetsAndFindings(t *testing.T) {
	v, n, d := 0.9, 90.0, 100.0
	unprotected := posture.FindingList{}
	unprotected.Add(posture.Finding{Kind: posture.FindingUser, ID: u1, UserID: u1, Groups: []string{glassGrp}, Detail: "excluded"})
	snap := &posture.Snapshot{Area: posture.AreaIdentity, TakenAt: now, Sources: identitySources,
		Metrics:  map[string]posture.Metric{posture.MetricMFACoverage: {Status: posture.Measured, Value: &v, Numerator: &n, Denominator: &d}},
		Findings: map[string]posture.FindingList{posture.ListUnprotectedUsers: unprotected}}
	in := NewInput(now, DefaultTargets(), snap)
	r := eval(t, "M365SEC.MFA.1", in)
	require.Equal(t, Fail, r.Status, "90%% is below the default 95%% target")
	require.Equal(t, 1, r.Findings.Total)

	in.Targets.MFACoverage = 0.9
	require.Equal(t, Pass, eval(t, "M365SEC.MFA.1", in).Status, "a lowered target passes")

	in.Targets.MFACoverage = 0.95
	e := Exception{ID: "bg", ControlID: "M365SEC.MFA.1", Scope: Scope{Groups: []string{glassGrp}}, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
	require.Equal(t, Excepted, eval(t, "M365SEC.MFA.1", in, e).Status, "a group exception covers its members")

	unknown := *snap
	unknown.Metrics = map[string]posture.Metric{posture.MetricMFACoverage: posture.UnknownMetric(posture.UnitRatio, "registration details forbidden", now)}
	in.Snapshots[posture.AreaIdentity] = &unknown
	r = eval(t, "M365SEC.MFA.1", in)
	require.Equal(t, Unknown, r.Status)
	require.Equal(t, "registration details forbidden", r.Reason)
}

func TestSecureScoreDrop(t *testing.T) {
	scores := func(vals ...float64) *posture.Snapshot {
		ss := &posture.SecureScore{}
		for i, v := range vals {
			ss.Scores = append(ss.Scores, posture.Score{CreatedAt: now.AddDate(0, 0, -i), CurrentScore: v, MaxScore: 100})
		}
		return &posture.Snapshot{Area: posture.AreaSecureScore, TakenAt: now, SecureScore: ss,
			Sources: posture.Sources{{Name: posture.SrcSecureScores, Status: posture.SourceOK}}}
	}
	in := NewInput(now, DefaultTargets())
	in.Snapshots[posture.AreaSecureScore] = scores(60, 62, 64, 66) // newest first: fell 6 points
	require.Equal(t, Fail, eval(t, "M365SEC.SCORE.1", in).Status)
	in.Snapshots[posture.AreaSecureScore] = scores(64, 62, 60) // rising
	require.Equal(t, Pass, eval(t, "M365SEC.SCORE.1", in).Status)
	older := make([]float64, 40)
	for i := range older {
		older[i] = 60
	}
	older[35] = 90 // a peak older than 30 days does not count
	in.Snapshots[posture.AreaSecureScore] = scores(older...)
	require.Equal(t, Pass, eval(t, "M365SEC.SCORE.1", in).Status)
}

func TestRestoreTestFreshness(t *testing.T) {
	in := Input{AsOf: now, Targets: DefaultTargets()}
	require.Equal(t, Fail, eval(t, "M365SEC.BACKUP.1", in).Status, "no test recorded")
	in.RestoreTests = []posture.RestoreTest{{PerformedAt: now.AddDate(0, 0, -10), Succeeded: false, Workload: "exchange"}}
	require.Equal(t, Fail, eval(t, "M365SEC.BACKUP.1", in).Status, "a failed test is not evidence")
	in.RestoreTests = append(in.RestoreTests, posture.RestoreTest{PerformedAt: now.AddDate(0, 0, -100), Succeeded: true, Workload: "exchange"})
	require.Equal(t, Fail, eval(t, "M365SEC.BACKUP.1", in).Status, "the successful test is older than 90 days")
	in.RestoreTests = append(in.RestoreTests, posture.RestoreTest{PerformedAt: now.AddDate(0, 0, -20), Succeeded: true, Workload: "sharePoint"})
	require.Equal(t, Pass, eval(t, "M365SEC.BACKUP.1", in).Status)
}

func TestAlertsUnknownUntilCollected(t *testing.T) {
	r := eval(t, "M365SEC.ALERT.1", Input{AsOf: now, Targets: DefaultTargets()})
	require.Equal(t, Unknown, r.Status)
}

func TestCatalogueIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Catalogue {
		require.False(t, seen[c.ID], "duplicate id %s", c.ID)
		seen[c.ID] = true
		require.Regexp(t, `^(MS\.(AAD|EXO)\.\d+\.\d+v\d+|M365SEC\.[A-Z]+\.\d+)$`, c.ID)
		require.NotEmpty(t, c.Title, c.ID)
		require.NotEmpty(t, c.Remediation, c.ID)
		require.NotNil(t, c.Rule, c.ID)
		require.Contains(t, []Severity{Critical, High, Medium, Low}, c.Severity, c.ID)
	}
	for _, id := range []string{"MS.AAD.1.1v1", "MS.AAD.2.1v1", "MS.AAD.2.3v1", "MS.AAD.3.1v1", "MS.AAD.3.2v2", "MS.AAD.3.6v1",
		"MS.AAD.3.7v1", "MS.AAD.5.1v1", "MS.AAD.5.2v1", "MS.AAD.6.1v1", "MS.AAD.7.1v1", "MS.AAD.7.3v1", "MS.AAD.8.1v1", "MS.AAD.8.2v1",
		"MS.EXO.2.2v3", "MS.EXO.3.1v1", "MS.EXO.4.1v1", "MS.EXO.4.2v1", "MS.EXO.4.3v1", "MS.EXO.4.4v1"} {
		require.True(t, seen[id], "SCuBA control %s missing", id)
	}
}

func TestExceptionValidation(t *testing.T) {
	valid := Exception{ControlID: "MS.AAD.1.1v1", Scope: Scope{Users: []string{u1}}, Reason: "break glass", ApprovedBy: "ciso@contoso.com", ExpiresAt: now.AddDate(0, 3, 0)}
	require.NoError(t, valid.Validate(now))
	cases := []struct {
		name string
		mod  func(*Exception)
		want string
	}{
		{"unknown control", func(e *Exception) { e.ControlID = "MS.AAD.99.1v1" }, "not a control"},
		{"empty scope", func(e *Exception) { e.Scope = Scope{} }, "at least one user or group"},
		{"scope id not a GUID", func(e *Exception) { e.Scope.Users = []string{"alice@contoso.com"} }, "not an object id"},
		{"missing reason", func(e *Exception) { e.Reason = " " }, "reason is required"},
		{"missing approver", func(e *Exception) { e.ApprovedBy = "" }, "approvedBy is required"},
		{"expiry in the past", func(e *Exception) { e.ExpiresAt = now.Add(-time.Minute) }, "in the future"},
		{"expiry beyond a year", func(e *Exception) { e.ExpiresAt = now.AddDate(2, 0, 0) }, "within 366 days"},
		{"no expiry", func(e *Exception) { e.ExpiresAt = time.Time{} }, "expiresAt is required"},
		{"an expiry of exactly now is refused", func(e *Exception) { e.ExpiresAt = now }, "in the future"},
		{"an expiry a second beyond 366 days is refused", func(e *Exception) { e.ExpiresAt = now.Add(MaxExceptionLifetime + time.Second) }, "within 366 days"},
		{"a reason beyond 2000 bytes", func(e *Exception) { e.Reason = strings.Repeat("r", MaxReasonLength+1) }, "reason is longer than 2000"},
		{"an approver beyond 256 bytes", func(e *Exception) { e.ApprovedBy = strings.Repeat("a", MaxApprovedByLength+1) }, "approvedBy is longer than 256"},
		{"a scope of 101 ids", func(e *Exception) { e.Scope = Scope{Users: guids(51), Groups: guids(50)} }, "scope names 101 ids; at most 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := valid
			tc.mod(&e)
			err := e.Validate(now)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func guids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	return out
}

func TestExceptionLimitsAdmitARealRiskAcceptance(t *testing.T) {
	e := Exception{ControlID: "MS.AAD.1.1v1", Scope: Scope{Users: guids(60), Groups: guids(40)}, Reason: strings.Repeat("r", MaxReasonLength),
		ApprovedBy: strings.Repeat("a", MaxApprovedByLength), ExpiresAt: now.Add(MaxExceptionLifetime)}
	require.NoError(t, e.Validate(now), "every limit reached exactly is still valid")
}

func TestExceptionValidationIsBoundedWhateverTheScope(t *testing.T) {
	tests := []struct {
		name     string
		ids      int
		problems int    // problems reported
		want     string // in the message
	}{
		{"five bad ids are each named", 5, 5, `scope id "bad-4"`},
		{"a sixth bad id is counted, not named", 6, 6, "and 1 more scope ids are not object ids"},
		{"a hundred bad ids name five and count the rest", 100, 6, "and 95 more scope ids"},
		{"200k bad ids are refused as one problem without checking each", 200_000, 1, "scope names 200000 ids; at most 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := make([]string, tc.ids)
			for i := range ids {
				ids[i] = fmt.Sprintf("bad-%d", i)
			}
			e := Exception{ControlID: "MS.AAD.1.1v1", Scope: Scope{Users: ids}, Reason: "r", ApprovedBy: "a", ExpiresAt: now.Add(time.Hour)}
			start := time.Now()
			err := e.Validate(now)
			require.Less(t, time.Since(start), time.Second)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, tc.problems)
			require.Contains(t, err.Error(), tc.want)
			require.Less(t, len(err.Error()), 2048, "the message stays short")
		})
	}
}

func TestValidationErrorIsBuiltLinearly(t *testing.T) {
	problems := func(n int) []string {
		p := make([]string, n)
		for i := range p {
			p[i] = fmt.Sprintf("problem %d", i)
		}
		return p
	}
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"one problem is the message", 1, "problem 0"},
		{"twenty problems are all spelled out", MaxReportedProblems, "problem 0; problem 1; problem 2; problem 3; problem 4; problem 5; problem 6; problem 7; problem 8; problem 9; " +
			"problem 10; problem 11; problem 12; problem 13; problem 14; problem 15; problem 16; problem 17; problem 18; problem 19"},
		{"beyond twenty the rest are counted", MaxReportedProblems + 1, "problem 18; problem 19; and 1 more problems"},
		{"a hundred thousand problems are counted too", 100_000, "problem 19; and 99980 more problems"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &ValidationError{Problems: problems(tc.n)}
			if tc.n <= MaxReportedProblems {
				require.Equal(t, tc.want, e.Error())
			} else {
				require.True(t, strings.HasSuffix(e.Error(), tc.want), e.Error())
				require.Equal(t, MaxReportedProblems, strings.Count(e.Error(), "problem "))
			}
			allocs := testing.AllocsPerRun(3, func() { _ = e.Error() })
			require.LessOrEqual(t, allocs, 4.0, "a constant number of allocations, not one per problem")
		})
	}
}

func TestTargetsValidation(t *testing.T) {
	require.NoError(t, DefaultTargets().Validate())
	tests := []struct {
		name string
		mod  func(*Targets)
		want string // "" when valid
	}{
		{"a ratio of 0 is valid", func(x *Targets) { x.MFACoverage = 0 }, ""},
		{"a ratio of 1 is valid", func(x *Targets) { x.DeviceCompliance = 1 }, ""},
		{"a negative ratio is refused", func(x *Targets) { x.AdminMFACoverage = -0.01 }, "adminMfaCoverage must be a ratio"},
		{"a ratio above 1 is refused", func(x *Targets) { x.EndpointProtection = 1.01 }, "endpointProtectionCoverage must be a ratio"},
		{"a drop of 0 points is valid", func(x *Targets) { x.SecureScoreMaxDrop = 0 }, ""},
		{"a negative drop is refused", func(x *Targets) { x.SecureScoreMaxDrop = -1 }, "secureScoreMaxDropPoints must not be negative"},
		{"a restore age of 1 day is valid", func(x *Targets) { x.RestoreTestMaxAgeDays = 1 }, ""},
		{"a restore age of 3650 days is valid", func(x *Targets) { x.RestoreTestMaxAgeDays = 3650 }, ""},
		{"a restore age of 0 days is refused", func(x *Targets) { x.RestoreTestMaxAgeDays = 0 }, "restoreTestMaxAgeDays must be between 1 and 3650"},
		{"a restore age of 3651 days is refused", func(x *Targets) { x.RestoreTestMaxAgeDays = 3651 }, "restoreTestMaxAgeDays"},
		{"a review of 1 hour is valid", func(x *Targets) { x.AlertReviewHours = 1 }, ""},
		{"a review of 2160 hours is valid", func(x *Targets) { x.AlertReviewHours = 2160 }, ""},
		{"a review of 0 hours is refused", func(x *Targets) { x.AlertReviewHours = 0 }, "alertReviewHours must be between 1 and 2160"},
		{"a review of 2161 hours is refused", func(x *Targets) { x.AlertReviewHours = 2161 }, "alertReviewHours"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := DefaultTargets()
			tc.mod(&x)
			err := x.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Problems, 1)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestUnknownControlIDsAreQuotedShort(t *testing.T) {
	tests := []struct {
		name, id, want string
	}{
		{"an id of 80 bytes is quoted whole", strings.Repeat("x", 80), `"` + strings.Repeat("x", 80) + `" is not`},
		{"an id of 81 bytes is cut at 80", strings.Repeat("x", 81), `"` + strings.Repeat("x", 80) + `..." is not`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := Exception{ControlID: tc.id, Scope: Scope{Users: []string{u1}}, Reason: "r", ApprovedBy: "a", ExpiresAt: now.Add(time.Hour)}
			require.ErrorContains(t, e.Validate(now), tc.want)
		})
	}
}
