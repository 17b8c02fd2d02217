package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

var asOf = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)

const (
	alice = "aaaaaaaa-0000-4000-8000-000000000001"
	bob   = "aaaaaaaa-0000-4000-8000-000000000002"
	carol = "aaaaaaaa-0000-4000-8000-000000000003"
	dave  = "aaaaaaaa-0000-4000-8000-000000000004"
	glass = "aaaaaaaa-0000-4000-8000-0000000000bb"
	guest = "aaaaaaaa-0000-4000-8000-0000000000ee"
	off   = "aaaaaaaa-0000-4000-8000-0000000000ff"

	breakGlassGroup = "bbbbbbbb-0000-4000-8000-000000000001"
	staffGroup      = "bbbbbbbb-0000-4000-8000-000000000002"
	nestedGroup     = "bbbbbbbb-0000-4000-8000-000000000003"
)

func user(id string, registered bool) posture.User {
	return posture.User{ID: id, UserPrincipalName: id + "@contoso.test", AccountEnabled: true, UserType: "Member",
		Registration: &posture.Registration{IsMfaRegistered: registered}}
}

func okSources(names ...string) posture.Sources {
	var s posture.Sources
	for _, n := range names {
		s = append(s, posture.Source{Name: n, Status: posture.SourceOK})
	}
	return s
}

var allSources = okSources(posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults,
	posture.SrcConditionalAccess, posture.SrcGroupMembers, posture.SrcRoleAssignments)

func mfaAll(id string, mods ...func(*posture.CAPolicy)) posture.CAPolicy {
	p := posture.CAPolicy{ID: id, DisplayName: "MFA " + id, State: posture.PolicyEnabled, IncludeUsers: []string{"All"},
		IncludeApplications: []string{"All"}, BuiltInControls: []string{"mfa"}, GrantOperator: "OR"}
	for _, m := range mods {
		m(&p)
	}
	return p
}

func no() *bool  { f := false; return &f }
func yes() *bool { t := true; return &t }

func ratio(t *testing.T, m posture.Metric) (num, den float64) {
	t.Helper()
	require.Equal(t, posture.Measured, m.Status, "metric should be measured, reason: %s", m.Reason)
	require.NotNil(t, m.Numerator)
	require.NotNil(t, m.Denominator)
	return *m.Numerator, *m.Denominator
}

func TestEvaluateMFA(t *testing.T) {
	type want struct {
		registration, enforcement, coverage [2]float64 // numerator, denominator
		unknown                             []string   // metrics expected unknown
		protected                           map[string]posture.Tri
	}
	cases := []struct {
		name    string
		id      posture.Identity
		sources posture.Sources
		want    want
	}{
		{
			name: "an all-users MFA policy protects every registered member",
			id: posture.Identity{Users: []posture.User{user(alice, true), user(bob, true), user(carol, false)},
				SecurityDefaultsEnabled: no(), Policies: []posture.CAPolicy{mfaAll("p1")}},
			sources: allSources,
			want: want{registration: [2]float64{2, 3}, enforcement: [2]float64{3, 3}, coverage: [2]float64{2, 3},
				protected: map[string]posture.Tri{alice: posture.Yes, carol: posture.No}},
		},
		{
			name: "guests and disabled users are outside the population",
			id: posture.Identity{Users: []posture.User{user(alice, true),
				{ID: guest, AccountEnabled: true, UserType: "Guest"},
				{ID: off, AccountEnabled: false, UserType: "Member"}},
				SecurityDefaultsEnabled: no(), Policies: []posture.CAPolicy{mfaAll("p1")}},
			sources: allSources,
			want:    want{registration: [2]float64{1, 1}, enforcement: [2]float64{1, 1}, coverage: [2]float64{1, 1}},
		},
		{
			name: "a report-only policy enforces nothing",
			id: posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) { p.State = posture.PolicyReportOnly })}},
			sources: allSources,
			want: want{registration: [2]float64{1, 1}, enforcement: [2]float64{0, 1}, coverage: [2]float64{0, 1},
				protected: map[string]posture.Tri{alice: posture.No}},
		},
		{
			name: "a location-conditioned policy does not count as enforcement",
			id: posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) {
					p.IncludeLocations, p.ExcludeLocations = []string{"All"}, []string{"AllTrusted"}
				})}},
			sources: allSources,
			want:    want{registration: [2]float64{1, 1}, enforcement: [2]float64{0, 1}, coverage: [2]float64{0, 1}},
		},
		{
			name: "a policy for some apps only does not count",
			id: posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) {
					p.IncludeApplications = []string{"00000002-0000-0ff1-ce00-000000000000"}
				})}},
			sources: allSources,
			want:    want{registration: [2]float64{1, 1}, enforcement: [2]float64{0, 1}, coverage: [2]float64{0, 1}},
		},
		{
			name: "browser-only client apps do not count but browser plus mobile and desktop does",
			id: posture.Identity{Users: []posture.User{user(alice, true), user(bob, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{
					mfaAll("browser", func(p *posture.CAPolicy) { p.IncludeUsers = []string{alice}; p.ClientAppTypes = []string{"browser"} }),
					mfaAll("both", func(p *posture.CAPolicy) {
						p.IncludeUsers = []string{bob}
						p.ClientAppTypes = []string{"browser", "mobileAppsAndDesktopClients"}
					}),
				}},
			sources: allSources,
			want: want{registration: [2]float64{2, 2}, enforcement: [2]float64{1, 2}, coverage: [2]float64{1, 2},
				protected: map[string]posture.Tri{alice: posture.No, bob: posture.Yes}},
		},
		{
			name: "an authentication strength counts as requiring MFA",
			id: posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) {
					p.BuiltInControls = nil
					p.AuthStrengthID = "00000000-0000-0000-0000-000000000004"
				})}},
			sources: allSources,
			want:    want{registration: [2]float64{1, 1}, enforcement: [2]float64{1, 1}, coverage: [2]float64{1, 1}},
		},
		{
			name: "a break-glass account excluded through a group is not enforced",
			id: posture.Identity{Users: []posture.User{user(alice, true), user(glass, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) { p.ExcludeGroups = []string{breakGlassGroup} })},
				Groups:   []posture.Group{{ID: breakGlassGroup, DisplayName: "Break glass", MemberIDs: []string{glass}, Complete: true}}},
			sources: allSources,
			want: want{registration: [2]float64{2, 2}, enforcement: [2]float64{1, 2}, coverage: [2]float64{1, 2},
				protected: map[string]posture.Tri{alice: posture.Yes, glass: posture.No}},
		},
		{
			name: "members of a nested group are in scope of a group-included policy",
			id: posture.Identity{Users: []posture.User{user(alice, true), user(bob, true), user(carol, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) { p.IncludeUsers = nil; p.IncludeGroups = []string{staffGroup} })},
				// transitive members: the collector flattens nested groups, so bob (via nestedGroup) is a member of staffGroup.
				Groups: []posture.Group{{ID: staffGroup, MemberIDs: []string{alice, bob}, Complete: true},
					{ID: nestedGroup, MemberIDs: []string{bob}, Complete: true}}},
			sources: allSources,
			want: want{registration: [2]float64{3, 3}, enforcement: [2]float64{2, 3}, coverage: [2]float64{2, 3},
				protected: map[string]posture.Tri{bob: posture.Yes, carol: posture.No}},
		},
		{
			name: "a role-included policy covers holders of the role only",
			id: posture.Identity{Users: []posture.User{user(alice, true), user(bob, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("admins", func(p *posture.CAPolicy) {
					p.IncludeUsers = nil
					p.IncludeRoles = []string{posture.RoleGlobalAdmin}
				})},
				RoleAssignments: []posture.RoleAssignment{{PrincipalID: alice, RoleDefinitionID: posture.RoleGlobalAdmin, DirectoryScopeID: "/", Kind: posture.AssignmentActive},
					{PrincipalID: bob, RoleDefinitionID: posture.RoleGlobalAdmin, DirectoryScopeID: "/", Kind: posture.AssignmentEligible}}},
			sources: allSources,
			want: want{registration: [2]float64{2, 2}, enforcement: [2]float64{1, 2}, coverage: [2]float64{1, 2},
				protected: map[string]posture.Tri{alice: posture.Yes, bob: posture.No}},
		},
		{
			name: "a role excluded from an all-users policy escapes it",
			id: posture.Identity{Users: []posture.User{user(alice, true), user(bob, true)}, SecurityDefaultsEnabled: no(),
				Policies:        []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) { p.ExcludeRoles = []string{posture.RoleGlobalAdmin} })},
				RoleAssignments: []posture.RoleAssignment{{PrincipalID: alice, RoleDefinitionID: posture.RoleGlobalAdmin, Kind: posture.AssignmentActive}}},
			sources: allSources,
			want: want{registration: [2]float64{2, 2}, enforcement: [2]float64{1, 2}, coverage: [2]float64{1, 2},
				protected: map[string]posture.Tri{alice: posture.No, bob: posture.Yes}},
		},
		{
			name: "security defaults enforce MFA with no policies",
			id: posture.Identity{Users: []posture.User{user(alice, true), user(bob, false)}, SecurityDefaultsEnabled: yes(),
				Policies: []posture.CAPolicy{}},
			sources: allSources,
			want:    want{registration: [2]float64{1, 2}, enforcement: [2]float64{2, 2}, coverage: [2]float64{1, 2}},
		},
		{
			name: "an empty policy list with security defaults off enforces nothing",
			id: posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{}},
			sources: allSources,
			want:    want{registration: [2]float64{1, 1}, enforcement: [2]float64{0, 1}, coverage: [2]float64{0, 1}},
		},
		{
			name: "a user missing from registration details counts as not registered",
			id: posture.Identity{Users: []posture.User{user(alice, true), {ID: dave, AccountEnabled: true, UserType: "Member"}},
				SecurityDefaultsEnabled: no(), Policies: []posture.CAPolicy{mfaAll("p1")}},
			sources: allSources,
			want: want{registration: [2]float64{1, 2}, enforcement: [2]float64{2, 2}, coverage: [2]float64{1, 2},
				protected: map[string]posture.Tri{dave: posture.No}},
		},
		{
			name: "a 403 on registration details makes registration and coverage unknown, not zero",
			id: posture.Identity{Users: []posture.User{{ID: alice, AccountEnabled: true, UserType: "Member"}},
				SecurityDefaultsEnabled: no(), Policies: []posture.CAPolicy{mfaAll("p1")}},
			sources: append(okSources(posture.SrcUsers, posture.SrcSecurityDefaults, posture.SrcConditionalAccess, posture.SrcGroupMembers, posture.SrcRoleAssignments),
				posture.Source{Name: posture.SrcRegistrationDetails, Status: posture.SourceForbidden, Reason: "HTTP 403 Authorization_RequestDenied"}),
			want: want{enforcement: [2]float64{1, 1},
				unknown: []string{posture.MetricMFARegistration, posture.MetricMFACoverage, posture.MetricAdminMFACoverage}},
		},
		{
			name: "a 403 on Conditional Access makes enforcement unknown when security defaults are off",
			id:   posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no()},
			sources: append(okSources(posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults),
				posture.Source{Name: posture.SrcConditionalAccess, Status: posture.SourceForbidden, Reason: "HTTP 403"}),
			want: want{registration: [2]float64{1, 1},
				unknown: []string{posture.MetricMFAEnforcement, posture.MetricMFACoverage}},
		},
		{
			name: "security defaults on decide enforcement even when Conditional Access is unreadable",
			id:   posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: yes()},
			sources: append(okSources(posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults),
				posture.Source{Name: posture.SrcConditionalAccess, Status: posture.SourceForbidden}),
			want: want{registration: [2]float64{1, 1}, enforcement: [2]float64{1, 1}, coverage: [2]float64{1, 1}},
		},
		{
			name: "an incomplete excluded group leaves enforcement unknown for users not listed in it",
			id: posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) { p.ExcludeGroups = []string{breakGlassGroup} })},
				Groups:   []posture.Group{{ID: breakGlassGroup, Complete: false}}},
			sources: append(okSources(posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults, posture.SrcConditionalAccess, posture.SrcRoleAssignments),
				posture.Source{Name: posture.SrcGroupMembers, Status: posture.SourceThrottled, Reason: "429 after retries"}),
			want: want{registration: [2]float64{1, 1}, unknown: []string{posture.MetricMFAEnforcement, posture.MetricMFACoverage}},
		},
		{
			name:    "no enabled members makes every ratio unknown instead of 0/0",
			id:      posture.Identity{Users: []posture.User{{ID: guest, AccountEnabled: true, UserType: "Guest"}}, SecurityDefaultsEnabled: no()},
			sources: allSources,
			want:    want{unknown: []string{posture.MetricMFARegistration, posture.MetricMFAEnforcement, posture.MetricMFACoverage, posture.MetricAdminMFACoverage}},
		},
		{
			name:    "users unreadable makes all identity metrics unknown",
			id:      posture.Identity{},
			sources: posture.Sources{{Name: posture.SrcUsers, Status: posture.SourceForbidden, Reason: "HTTP 403"}},
			want:    want{unknown: []string{posture.MetricMFARegistration, posture.MetricMFAEnforcement, posture.MetricMFACoverage, posture.MetricAdminMFACoverage}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.id
			got := EvaluateMFA(&id, tc.sources, posture.NewDirectory(&id, tc.sources), asOf)
			unknown := map[string]bool{}
			for _, m := range tc.want.unknown {
				unknown[m] = true
				require.Equal(t, posture.Unknown, got.Metrics[m].Status, "%s should be unknown", m)
				require.Nil(t, got.Metrics[m].Value, "%s must carry no value", m)
				require.NotEmpty(t, got.Metrics[m].Reason, "%s needs a reason", m)
			}
			check := func(name string, w [2]float64) {
				if unknown[name] || w == [2]float64{} {
					return
				}
				n, d := ratio(t, got.Metrics[name])
				require.Equal(t, w, [2]float64{n, d}, name)
				require.InDelta(t, w[0]/w[1], *got.Metrics[name].Value, 1e-9, name)
			}
			check(posture.MetricMFARegistration, tc.want.registration)
			check(posture.MetricMFAEnforcement, tc.want.enforcement)
			check(posture.MetricMFACoverage, tc.want.coverage)
			states := map[string]posture.UserMFA{}
			for _, u := range got.Users {
				states[u.ID] = u
			}
			for id, p := range tc.want.protected {
				require.Equal(t, p, states[id].Protected, "user %s", id)
				if p != posture.Yes {
					require.NotEmpty(t, states[id].Reason, "an unprotected user needs a reason")
				}
			}
		})
	}
}

func TestEvaluateMFANamesWhyUsersAreUnprotected(t *testing.T) {
	id := posture.Identity{
		Users:                   []posture.User{user(glass, true), {ID: dave, AccountEnabled: true, UserType: "Member"}},
		SecurityDefaultsEnabled: no(),
		Policies:                []posture.CAPolicy{mfaAll("p1", func(p *posture.CAPolicy) { p.DisplayName = "Require MFA"; p.ExcludeGroups = []string{breakGlassGroup} })},
		Groups:                  []posture.Group{{ID: breakGlassGroup, DisplayName: "Break glass", MemberIDs: []string{glass}, Complete: true}},
	}
	got := EvaluateMFA(&id, allSources, posture.NewDirectory(&id, allSources), asOf)
	byID := map[string]posture.UserMFA{}
	for _, u := range got.Users {
		byID[u.ID] = u
	}
	require.Equal(t, []posture.Exclusion{{PolicyID: "p1", PolicyName: "Require MFA", Via: "group:" + breakGlassGroup}}, byID[glass].ExcludedBy)
	require.Contains(t, byID[glass].Reason, `excluded from "Require MFA" through group "Break glass"`)
	require.Equal(t, []string{breakGlassGroup}, byID[glass].Groups)
	require.True(t, byID[dave].MissingFromReport)
	require.Contains(t, byID[dave].Reason, "absent from the MFA registration report")
	require.Equal(t, []string{"p1"}, byID[dave].EnforcedBy)
}

func TestAdminMFACoverageCountsRegistrationAdmins(t *testing.T) {
	admin := user(alice, true)
	admin.Registration.IsAdmin = true
	unregisteredAdmin := user(bob, false)
	unregisteredAdmin.Registration.IsAdmin = true
	id := posture.Identity{Users: []posture.User{admin, unregisteredAdmin, user(carol, true)}, SecurityDefaultsEnabled: no(),
		Policies: []posture.CAPolicy{mfaAll("p1")}}
	got := EvaluateMFA(&id, allSources, posture.NewDirectory(&id, allSources), asOf)
	n, d := ratio(t, got.Metrics[posture.MetricAdminMFACoverage])
	require.Equal(t, [2]float64{1, 2}, [2]float64{n, d})
}
