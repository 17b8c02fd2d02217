package collect

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

func pages(n, size int) int { return max(1, (n+size-1)/size) }

// minIdentityRequests is, per identity source, the fewest Graph requests
// (plain requests and $batch items) that can read tenant with the query
// each source must send: the largest $top where the endpoint takes one,
// the endpoint's own page size where it takes none.
func minIdentityRequests(t testing.TB, tenant *graphsim.Tenant) map[string]int {
	t.Helper()
	mustMin := func(path string, top int) int {
		n := tenant.MinimumRequests(path, top)
		require.Positive(t, n, path)
		return n
	}
	atRisk := 0
	for _, u := range tenant.RiskyUsers {
		if u.RiskState == "atRisk" {
			atRisk++
		}
	}
	groups := referencedTenantGroups(tenant)
	classifications, eligibility := minBaselineRequests(t, tenant)
	members := 0
	for _, g := range groups {
		// A referenced group that does not exist still costs its 404.
		members += max(1, tenant.MinimumRequests("/groups/"+g+"/transitiveMembers", directoryPageSize))
	}
	return map[string]int{
		posture.SrcUsers:               mustMin("/users", directoryPageSize),
		posture.SrcSignInActivity:      0,
		posture.SrcRegistrationDetails: mustMin("/reports/authenticationMethods/userRegistrationDetails", registrationPageSize),
		posture.SrcSecurityDefaults:    1,
		posture.SrcConditionalAccess:   mustMin("/identity/conditionalAccess/policies", 0),
		posture.SrcNamedLocations:      mustMin("/identity/conditionalAccess/namedLocations", 0),
		posture.SrcRoleAssignments:     mustMin("/roleManagement/directory/roleAssignments", 0),
		posture.SrcRoleDefinitions:     mustMin("/roleManagement/directory/roleDefinitions", 0),
		posture.SrcRoleEligibility:     mustMin("/roleManagement/directory/roleEligibilitySchedules", 0),
		posture.SrcAuthorizationPolicy: 1,
		posture.SrcDomains:             mustMin("/domains", 0),
		posture.SrcRiskyUsers:          pages(atRisk, riskyUsersPageSize),
		posture.SrcGroupMembers:        members + pages(len(groups), nameLookupChunk),
		posture.SrcAuthStrengths:       mustMin("/policies/authenticationStrengthPolicies", 0),
		posture.SrcPermissionClasses:   classifications,
		posture.SrcGroupEligibility:    eligibility,
		posture.SrcSubscribedSkus:      mustMin("/subscribedSkus", 0),
	}
}

// minBaselineRequests counts the requests of the consent classifications
// (one service principal lookup, then each resource's classifications) and
// of PIM for Groups (one filtered listing per group holding a privileged
// role, paged at the simulator's default).
func minBaselineRequests(t testing.TB, tenant *graphsim.Tenant) (classifications, eligibility int) {
	t.Helper()
	classifications = 1
	for _, sp := range tenant.ServicePrincipals {
		if slices.Contains(posture.ConsentResourceApps, sp.AppID) {
			classifications += tenant.MinimumRequests("/servicePrincipals/"+sp.ID+"/delegatedPermissionClassifications", 0)
		}
	}
	isGroup := map[string]bool{}
	for _, g := range tenant.Groups {
		isGroup[g.ID] = true
	}
	roleGroups := map[string]bool{}
	for _, a := range tenant.RoleAssignments {
		if isGroup[a.PrincipalID] && posture.IsPrivileged(a.RoleDefinitionID) {
			roleGroups[a.PrincipalID] = true
		}
	}
	for _, a := range tenant.RoleEligibilitySchedules {
		if isGroup[a.PrincipalID] && posture.IsPrivileged(a.RoleDefinitionID) {
			roleGroups[a.PrincipalID] = true
		}
	}
	for g := range roleGroups {
		n := 0
		for _, e := range tenant.GroupEligibilityScheduleInstances {
			if e.GroupID == g {
				n++
			}
		}
		eligibility += pages(n, 100)
	}
	return classifications, eligibility
}

// referencedTenantGroups mirrors referencedGroups on the simulator's data.
func referencedTenantGroups(tenant *graphsim.Tenant) []string {
	isGroup := map[string]bool{}
	for _, g := range tenant.Groups {
		isGroup[g.ID] = true
	}
	st := &identityState{}
	for _, p := range tenant.ConditionalAccessPolicies {
		st.policies = append(st.policies, posture.CAPolicy{IncludeGroups: p.Conditions.Users.IncludeGroups, ExcludeGroups: p.Conditions.Users.ExcludeGroups})
	}
	for _, a := range tenant.RoleAssignments {
		if isGroup[a.PrincipalID] {
			st.assignedGroups = append(st.assignedGroups, a.PrincipalID)
		}
	}
	for _, a := range tenant.RoleEligibilitySchedules {
		if isGroup[a.PrincipalID] {
			st.eligibleGroups = append(st.eligibleGroups, a.PrincipalID)
		}
	}
	return referencedGroups(st)
}

func minDeviceRequests(tenant *graphsim.Tenant) map[string]int {
	windows := 0
	for _, d := range tenant.ManagedDevices {
		if d.OperatingSystem == "Windows" {
			windows++
		}
	}
	return map[string]int{
		posture.SrcManagedDevices:   tenant.MinimumRequests("/deviceManagement/managedDevices", intunePageSize),
		posture.SrcProtectionStates: windows,
	}
}

// within5 is the most requests allowed for a minimum of min.
func within5(min int) int { return int(math.Floor(float64(min) * 1.05)) }

func TestRequestCountsAreNearMinimal(t *testing.T) {
	tenant := graphsim.Generate(7, graphsim.Size{Users: 5000, Devices: 3000, CAGroups: 200})
	srv, c := newTestServer(t, tenant, graphsim.Options{})

	_, ids := Identity(context.Background(), c, discardLogger())
	requireStatuses(t, ids, nil)
	identityStats := srv.Stats()
	srv.ResetLog()
	_, devs := Devices(context.Background(), c, discardLogger())
	requireStatuses(t, devs, nil)
	deviceStats := srv.Stats()

	type row struct {
		name   string
		srcs   posture.Sources
		min    map[string]int
		source string
	}
	idMin, devMin := minIdentityRequests(t, tenant), minDeviceRequests(tenant)
	var rows []row
	for _, s := range ids {
		rows = append(rows, row{name: "identity source " + s.Name + " stays within 5% of its minimum", srcs: ids, min: idMin, source: s.Name})
	}
	for _, s := range devs {
		rows = append(rows, row{name: "device source " + s.Name + " stays within 5% of its minimum", srcs: devs, min: devMin, source: s.Name})
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			got := mustSource(t, tc.srcs, tc.source).Requests
			want := tc.min[tc.source]
			require.GreaterOrEqual(t, got, want, "fewer requests than the minimum means data was missed")
			require.LessOrEqual(t, got, within5(want))
		})
	}

	totals := []struct {
		name  string
		srcs  posture.Sources
		stats graphsim.Stats
		min   map[string]int
	}{
		{"identity requests seen by Graph match the sources' counts and the minimum", ids, identityStats, idMin},
		{"device requests seen by Graph match the sources' counts and the minimum", devs, deviceStats, devMin},
	}
	for _, tc := range totals {
		t.Run(tc.name, func(t *testing.T) {
			counted, minimum := 0, 0
			for _, s := range tc.srcs {
				counted += s.Requests
				minimum += tc.min[s.Name]
			}
			require.Equal(t, tc.stats.Requests, counted)
			require.LessOrEqual(t, tc.stats.Requests, within5(minimum))
			t.Logf("requests %d (minimum %d), HTTP round trips %d, of which $batch items %d",
				tc.stats.Requests, minimum, tc.stats.HTTPRequests, tc.stats.BatchItems)
		})
	}
}
