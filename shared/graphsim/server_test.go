package graphsim

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPagingReturnsEveryUserExactlyOnce(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	cases := []struct {
		name  string
		query string
		pages int
	}{
		{"the default page size is 100", "", (len(tn.Users) + 99) / 100},
		{"a small page size gives many pages", "?$top=7", (len(tn.Users) + 6) / 7},
		{"a page size of 100 matches the minimum", "?$top=100", tn.MinimumRequests("/users", 100)},
		{"the maximum page size reads everything at once", "?$top=999", 1},
		{"paging keeps $select", "?$top=50&$select=id,accountEnabled", (len(tn.Users) + 49) / 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items, pages := mustGetAll(t, s, "/users"+tc.query)
			require.Equal(t, tc.pages, pages)
			seen := map[string]bool{}
			for _, it := range items {
				id := it["id"].(string)
				require.False(t, seen[id], "user %s returned twice", id)
				seen[id] = true
			}
			require.Len(t, seen, len(tn.Users))
		})
	}
}

func TestNextLinkIsAbsoluteOnTheServerAndKeepsQueryOptions(t *testing.T) {
	s := newTestServer(t, newTestTenant(t), Options{})
	r := mustGet(t, s, "/users?$top=5&$select=id,displayName&$filter=accountEnabled%20eq%20true")
	require.Equal(t, http.StatusOK, r.status)
	next := r.nextLink()
	require.True(t, strings.HasPrefix(next, s.BaseURL()+"/users?"), next)
	u, err := url.Parse(next)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "5", q.Get("$top"))
	require.Equal(t, "id,displayName", q.Get("$select"))
	require.Equal(t, "accountEnabled eq true", q.Get("$filter"))
	require.NotEmpty(t, q.Get("$skiptoken"))
	require.Equal(t, s.BaseURL()+"/$metadata#users(id,displayName)", r.body["@odata.context"])
}

func TestCountIsOnTheFirstPageOnly(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	r := mustGet(t, s, "/users?$count=true&$top=5")
	require.Equal(t, float64(len(tn.Users)), r.body["@odata.count"])
	next := mustGet(t, s, r.nextLink())
	require.Equal(t, 200, next.status)
	require.NotContains(t, next.body, "@odata.count")
}

func TestPageSizeLimits(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	cases := []struct {
		name   string
		path   string
		status int
		code   string
		count  int
	}{
		{"users reject $top above 999", "/users?$top=1000", 400, "Request_UnsupportedQuery", 0},
		{"group members reject $top above 999", "/groups/" + tn.Groups[0].ID + "/transitiveMembers?$top=1000", 400, "Request_UnsupportedQuery", 0},
		{"users reject $top of zero", "/users?$top=0", 400, "Request_UnsupportedQuery", 0},
		{"a non-numeric $top is rejected", "/users?$top=ten", 400, "Request_UnsupportedQuery", 0},
		{"risky users reject $top above 500", "/identityProtection/riskyUsers?$top=501", 400, "BadRequest", 0},
		{"managed devices clamp $top to 1000", "/deviceManagement/managedDevices?$top=5000", 200, "", len(tn.ManagedDevices)},
		{"alerts clamp $top to 1000", "/security/alerts_v2?$top=2000", 200, "", len(tn.Alerts)},
		{"managed devices default to 1000 per page", "/deviceManagement/managedDevices", 200, "", len(tn.ManagedDevices)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustGet(t, s, tc.path)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			if tc.status != 200 {
				require.Equal(t, tc.code, r.errorCode())
				return
			}
			require.Len(t, r.values(t), tc.count)
		})
	}
	r := mustGet(t, s, "/users?$top=1000")
	require.Equal(t, "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.", r.errorMessage())
}

func TestSelect(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})

	t.Run("only the selected properties are returned", func(t *testing.T) {
		for _, u := range mustGet(t, s, "/users?$select=id,displayName").values(t) {
			require.Len(t, u, 2)
			require.Contains(t, u, "id")
			require.Contains(t, u, "displayName")
		}
	})
	t.Run("users return Graph's default property set without $select", func(t *testing.T) {
		u := mustGet(t, s, "/users?$top=1").values(t)[0]
		require.Contains(t, u, "userPrincipalName")
		require.NotContains(t, u, "accountEnabled")
		require.NotContains(t, u, "signInActivity")
		require.NotContains(t, u, "userType")
	})
	t.Run("signInActivity is returned only when selected", func(t *testing.T) {
		u := mustGet(t, s, "/users?$top=1&$select=id,signInActivity").values(t)[0]
		act, ok := u["signInActivity"].(map[string]any)
		require.True(t, ok, "signInActivity: %v", u)
		require.Contains(t, act, "lastSignInDateTime")
		require.Contains(t, act, "lastSuccessfulSignInDateTime")
	})
	t.Run("an unknown property is a 400 naming the type", func(t *testing.T) {
		r := mustGet(t, s, "/users?$select=id,x")
		require.Equal(t, 400, r.status)
		require.Equal(t, "BadRequest", r.errorCode())
		require.Equal(t, "Parsing OData Select and Expand failed: Could not find a property named 'x' on type 'microsoft.graph.user'.", r.errorMessage())
	})
	t.Run("polymorphic items keep @odata.type under $select", func(t *testing.T) {
		for _, l := range mustGet(t, s, "/identity/conditionalAccess/namedLocations?$select=displayName").values(t) {
			require.Len(t, l, 2)
			require.Contains(t, l["@odata.type"], "NamedLocation")
		}
	})
	t.Run("directory object members carry @odata.type", func(t *testing.T) {
		for _, m := range mustGet(t, s, "/groups/"+tn.Groups[0].ID+"/members?$select=id").values(t) {
			require.Equal(t, "#microsoft.graph.user", m["@odata.type"])
			require.Len(t, m, 2)
		}
	})
	t.Run("$select works on a single object", func(t *testing.T) {
		r := mustGet(t, s, "/users/"+tn.Users[5].ID+"?$select=id,accountEnabled")
		require.Equal(t, 200, r.status)
		require.Len(t, r.body, 3) // with @odata.context
		require.Equal(t, s.BaseURL()+"/$metadata#users(id,accountEnabled)/$entity", r.body["@odata.context"])
	})
}

func TestFilter(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	cutoff := tn.Alerts[len(tn.Alerts)/2].LastUpdateDateTime
	count := func(pred func(i int) bool, n int) int {
		c := 0
		for i := range n {
			if pred(i) {
				c++
			}
		}
		return c
	}
	cases := []struct {
		name   string
		path   string
		filter string
		want   int
	}{
		{"risky users at risk", "/identityProtection/riskyUsers", "riskState eq 'atRisk'",
			count(func(i int) bool { return tn.RiskyUsers[i].RiskState == "atRisk" }, len(tn.RiskyUsers))},
		{"Windows devices that are compliant", "/deviceManagement/managedDevices", "operatingSystem eq 'Windows' and complianceState eq 'compliant'",
			count(func(i int) bool {
				return tn.ManagedDevices[i].OperatingSystem == "Windows" && tn.ManagedDevices[i].ComplianceState == "compliant"
			}, len(tn.ManagedDevices))},
		{"alerts updated since a time", "/security/alerts_v2", "lastUpdateDateTime ge " + cutoff.Format(time.RFC3339),
			count(func(i int) bool { return !tn.Alerts[i].LastUpdateDateTime.Before(cutoff) }, len(tn.Alerts))},
		{"alerts within a time window", "/security/alerts_v2", "createdDateTime ge 2025-05-20T00:00:00Z and createdDateTime le 2025-05-27T00:00:00Z",
			count(func(i int) bool {
				c := tn.Alerts[i].CreatedDateTime
				return !c.Before(time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC)) && !c.After(time.Date(2025, 5, 27, 0, 0, 0, 0, time.UTC))
			}, len(tn.Alerts))},
		{"open alerts with or and parentheses", "/security/alerts_v2", "(status eq 'new' or status eq 'inProgress') and severity ne 'informational'",
			count(func(i int) bool {
				a := tn.Alerts[i]
				return (a.Status == "new" || a.Status == "inProgress") && a.Severity != "informational"
			}, len(tn.Alerts))},
		{"disabled users", "/users", "accountEnabled eq false",
			count(func(i int) bool { return !tn.Users[i].AccountEnabled }, len(tn.Users))},
		{"users by nested signInActivity property", "/users", "signInActivity/lastSignInDateTime le 2025-03-01T00:00:00Z",
			count(func(i int) bool {
				a := tn.Users[i].SignInActivity
				return a != nil && !a.LastSignInDateTime.IsZero() && !a.LastSignInDateTime.After(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
			}, len(tn.Users))},
		{"registration details not MFA registered", "/reports/authenticationMethods/userRegistrationDetails", "isMfaRegistered eq false",
			count(func(i int) bool { return !tn.UserRegistrationDetails[i].IsMfaRegistered }, len(tn.UserRegistrationDetails))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Positive(t, tc.want, "the tenant should have matches")
			items, _ := mustGetAll(t, s, tc.path+"?$top=17&$filter="+url.QueryEscape(tc.filter))
			require.Len(t, items, tc.want)
		})
	}

	unsupported := []struct {
		name   string
		path   string
		filter string
		code   string
	}{
		{"functions are not supported", "/users", "startswith(displayName,'A')", "Request_UnsupportedQuery"},
		{"lambda operators are not supported", "/reports/authenticationMethods/userRegistrationDetails", "methodsRegistered/any(m:m eq 'fido2')", "BadRequest"},
		{"an unknown property is rejected", "/identityProtection/riskyUsers", "riskColour eq 'red'", "BadRequest"},
		{"ordering comparisons on strings are rejected", "/identityProtection/riskyUsers", "riskLevel gt 'low'", "BadRequest"},
		{"an incomplete expression is rejected", "/identityProtection/riskyUsers", "riskState eq", "BadRequest"},
		{"a bad date literal is rejected", "/security/alerts_v2", "createdDateTime ge yesterday", "BadRequest"},
		{"filtering group members is rejected", "/groups/" + tn.Groups[0].ID + "/members", "id eq 'x'", "Request_UnsupportedQuery"},
	}
	for _, tc := range unsupported {
		t.Run(tc.name, func(t *testing.T) {
			r := mustGet(t, s, tc.path+"?$filter="+url.QueryEscape(tc.filter))
			require.Equal(t, 400, r.status, "%s", r.raw)
			require.Equal(t, tc.code, r.errorCode())
		})
	}
	t.Run("other query options are rejected, not ignored", func(t *testing.T) {
		r := mustGet(t, s, "/users?$orderby=displayName")
		require.Equal(t, 400, r.status)
	})
}

func TestSkipTokensAreValidated(t *testing.T) {
	s := newTestServer(t, newTestTenant(t), Options{})
	next := mustGet(t, s, "/users?$top=10").nextLink()
	u, err := url.Parse(next)
	require.NoError(t, err)
	token := u.Query().Get("$skiptoken")
	cases := []struct {
		name string
		path string
	}{
		{"a malformed token", "/users?$top=10&$skiptoken=not-a-token"},
		{"a truncated token", "/users?$top=10&$skiptoken=" + token[:len(token)-3]},
		{"a token from another collection", "/groups?$top=10&$skiptoken=" + token},
		{"a token reused with another filter", "/users?$top=10&$filter=accountEnabled%20eq%20true&$skiptoken=" + token},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustGet(t, s, tc.path)
			require.Equal(t, 400, r.status, "%s", r.raw)
		})
	}
}

func cycleTenant() *Tenant {
	users := []User{{ID: "u1", DisplayName: "One", UserPrincipalName: "one@x.test", AccountEnabled: true, UserType: "Member"},
		{ID: "u2", DisplayName: "Two", UserPrincipalName: "two@x.test", UserType: "Member"},
		{ID: "u3", DisplayName: "Three", UserPrincipalName: "three@x.test", UserType: "Guest"}}
	return &Tenant{
		ID:    "t",
		Users: users,
		Groups: []Group{
			{ID: "g1", DisplayName: "Outer", SecurityEnabled: true, Members: []string{"u1", "g2", "missing"}},
			{ID: "g2", DisplayName: "Middle", SecurityEnabled: true, Members: []string{"u2", "g3"}},
			{ID: "g3", DisplayName: "Inner", SecurityEnabled: true, Members: []string{"u3", "u1", "g1"}}, // cycle back to g1
		},
	}
}

func TestGroupMembership(t *testing.T) {
	s := newTestServer(t, cycleTenant(), Options{})
	ids := func(items []map[string]any) []string {
		var out []string
		for _, it := range items {
			out = append(out, it["id"].(string))
		}
		sort.Strings(out)
		return out
	}
	cases := []struct {
		name string
		path string
		want []string
	}{
		{"direct members include nested groups but not their members", "/groups/g1/members", []string{"g2", "u1"}},
		{"transitive members resolve nested groups and stop at cycles", "/groups/g1/transitiveMembers", []string{"g2", "g3", "u1", "u2", "u3"}},
		{"transitive members of an inner group reach the outer group", "/groups/g3/transitiveMembers", []string{"g1", "g2", "u1", "u2", "u3"}},
		{"a cast to users keeps only users", "/groups/g1/transitiveMembers/microsoft.graph.user", []string{"u1", "u2", "u3"}},
		{"the short cast works too", "/groups/g2/transitiveMembers/graph.user", []string{"u1", "u2", "u3"}},
		{"a cast to groups keeps only groups", "/groups/g1/transitiveMembers/microsoft.graph.group", []string{"g2", "g3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items, _ := mustGetAll(t, s, tc.path+"?$top=2")
			require.Equal(t, tc.want, ids(items))
		})
	}
	t.Run("items carry their directory object type", func(t *testing.T) {
		for _, it := range mustGet(t, s, "/groups/g1/transitiveMembers").values(t) {
			want := "#microsoft.graph.user"
			if strings.HasPrefix(it["id"].(string), "g") {
				want = "#microsoft.graph.group"
			}
			require.Equal(t, want, it["@odata.type"])
		}
	})
	t.Run("an unknown group is a 404", func(t *testing.T) {
		r := mustGet(t, s, "/groups/nope/transitiveMembers")
		require.Equal(t, 404, r.status)
		require.Equal(t, "Request_ResourceNotFound", r.errorCode())
	})
}

func TestTransitiveMembersOfGeneratedNestedGroups(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	var allStaff *Group
	for i := range tn.Groups {
		if tn.Groups[i].DisplayName == "CA-All-Staff" {
			allStaff = &tn.Groups[i]
		}
	}
	require.NotNil(t, allStaff)
	users, pages := mustGetAll(t, s, "/groups/"+allStaff.ID+"/transitiveMembers/microsoft.graph.user?$top=999&$select=id")
	require.Equal(t, 1, pages)
	members := 0
	for i := uSpecialCount; i < len(tn.Users); i++ {
		if tn.Users[i].UserType == "Member" {
			members++
		}
	}
	require.Len(t, users, members)
	require.Equal(t, tn.MinimumRequests("/groups/"+allStaff.ID+"/transitiveMembers/microsoft.graph.user", 999), pages)
}

func TestSingleObjectEndpoints(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	var windows, other string
	for _, d := range tn.ManagedDevices {
		if d.WindowsProtectionState != nil && windows == "" {
			windows = d.ID
		}
		if d.OperatingSystem != "Windows" && other == "" {
			other = d.ID
		}
	}
	cases := []struct {
		name    string
		path    string
		context string
		id      string
	}{
		{"the authorization policy", "/policies/authorizationPolicy", "policies/authorizationPolicy/$entity", "authorizationPolicy"},
		{"the security defaults policy", "/policies/identitySecurityDefaultsEnforcementPolicy", "policies/identitySecurityDefaultsEnforcementPolicy/$entity", securityDefaultsID},
		{"the backup service", "/solutions/backupRestore", "solutions/backupRestore/$entity", tn.BackupRestore.ID},
		{"a user by id", "/users/" + tn.Users[3].ID, "users/$entity", tn.Users[3].ID},
		{"a user by UPN", "/users/" + strings.ToUpper(tn.Users[3].UserPrincipalName), "users/$entity", tn.Users[3].ID},
		{"a group", "/groups/" + tn.Groups[1].ID, "groups/$entity", tn.Groups[1].ID},
		{"a conditional access policy", "/identity/conditionalAccess/policies/" + tn.ConditionalAccessPolicies[0].ID, "identity/conditionalAccess/policies/$entity", tn.ConditionalAccessPolicies[0].ID},
		{"a Windows protection state", "/deviceManagement/managedDevices/" + windows + "/windowsProtectionState",
			"deviceManagement/managedDevices('" + windows + "')/windowsProtectionState/$entity", windows},
		{"a secure score", "/security/secureScores/" + tn.SecureScores[0].ID, "security/secureScores/$entity", tn.SecureScores[0].ID},
		{"an alert", "/security/alerts_v2/" + tn.Alerts[0].ID, "security/alerts_v2/$entity", tn.Alerts[0].ID},
		{"a role assignment", "/roleManagement/directory/roleAssignments/" + tn.RoleAssignments[0].ID, "roleManagement/directory/roleAssignments/$entity", tn.RoleAssignments[0].ID},
		{"a domain", "/domains/" + tn.Domains[1].ID, "domains/$entity", tn.Domains[1].ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustGet(t, s, tc.path)
			require.Equal(t, 200, r.status, "%s", r.raw)
			require.Equal(t, s.BaseURL()+"/$metadata#"+tc.context, r.body["@odata.context"])
			require.Equal(t, tc.id, r.body["id"])
		})
	}
	t.Run("a device that is not Windows has no protection state", func(t *testing.T) {
		r := mustGet(t, s, "/deviceManagement/managedDevices/"+other+"/windowsProtectionState")
		require.Equal(t, 404, r.status)
	})
	t.Run("the protection state can be expanded on the device list", func(t *testing.T) {
		r := mustGet(t, s, "/deviceManagement/managedDevices?$top=50&$expand=windowsProtectionState&$select=id,operatingSystem")
		for _, d := range r.values(t) {
			require.Contains(t, d, "windowsProtectionState")
		}
	})
	t.Run("a role assignment principal can be expanded", func(t *testing.T) {
		for _, a := range mustGet(t, s, "/roleManagement/directory/roleAssignments?$expand=principal&$top=999").values(t) {
			p, ok := a["principal"].(map[string]any)
			require.True(t, ok, "principal of %v", a)
			require.Equal(t, a["principalId"], p["id"])
			require.Contains(t, []any{"#microsoft.graph.user", "#microsoft.graph.group"}, p["@odata.type"])
		}
	})
}

func TestErrorsHaveGraphsShape(t *testing.T) {
	s := newTestServer(t, newTestTenant(t), Options{Clock: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }})
	cases := []struct {
		name    string
		path    string
		status  int
		code    string
		message string
	}{
		{"an unknown user is a 404", "/users/00000000-0000-0000-0000-000000000001", 404, "Request_ResourceNotFound",
			"Resource '00000000-0000-0000-0000-000000000001' does not exist or one of its queried reference-property objects are not present."},
		{"an unknown policy is a 404", "/identity/conditionalAccess/policies/nope", 404, "ResourceNotFound", "Resource 'nope' does not exist."},
		{"an unknown segment is a 400 as in Graph", "/usres", 400, "BadRequest", "Resource not found for the segment 'usres'."},
		{"an unknown nested segment names that segment", "/users/x/nothing", 400, "BadRequest", "Resource not found for the segment 'nothing'."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustGet(t, s, tc.path)
			require.Equal(t, tc.status, r.status)
			require.Equal(t, tc.code, r.errorCode())
			require.Equal(t, tc.message, r.errorMessage())
			inner := r.body["error"].(map[string]any)["innerError"].(map[string]any)
			require.Equal(t, "2025-01-02T03:04:05", inner["date"])
			require.Equal(t, r.header.Get("request-id"), inner["request-id"])
			require.Equal(t, r.header.Get("client-request-id"), inner["client-request-id"])
			require.NotEmpty(t, r.header.Get("request-id"))
		})
	}
	t.Run("the client-request-id is echoed", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.BaseURL()+"/users/nope", nil)
		req.Header.Set("client-request-id", "abc-123")
		req.Header.Set("Authorization", "Bearer ignored")
		req.Header.Set("ConsistencyLevel", "eventual")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		r := readResult(t, resp)
		require.Equal(t, "abc-123", r.header.Get("client-request-id"))
		require.Equal(t, "abc-123", r.body["error"].(map[string]any)["innerError"].(map[string]any)["client-request-id"])
	})
	t.Run("writes are not allowed", func(t *testing.T) {
		r := mustPost(t, s, "/users", map[string]any{"displayName": "x"})
		require.Equal(t, 405, r.status)
	})
	t.Run("an unknown version is a 400", func(t *testing.T) {
		r := mustGet(t, s, strings.Replace(s.BaseURL(), "/v1.0", "/beta", 1)+"/users")
		require.Equal(t, 400, r.status)
	})
}

func TestLicensing(t *testing.T) {
	s := newTestServer(t, newTestTenant(t), Options{Licensing: Licensing{WithoutP1: true}})
	cases := []struct {
		name string
		path string
		code string
	}{
		{"signInActivity needs Entra ID P1", "/users?$select=id,signInActivity", "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
		{"filtering on signInActivity needs Entra ID P1", "/users?$filter=" + url.QueryEscape("signInActivity/lastSignInDateTime le 2025-01-01T00:00:00Z"), "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
		{"registration details need Entra ID P1", "/reports/authenticationMethods/userRegistrationDetails", "Authentication_RequestFromNonPremiumTenantOrB2CTenant"},
		{"risky users need Entra ID P2", "/identityProtection/riskyUsers", "Forbidden"},
		{"users without signInActivity still work", "/users?$select=id,accountEnabled", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustGet(t, s, tc.path)
			if tc.code == "" {
				require.Equal(t, 200, r.status)
				return
			}
			require.Equal(t, 403, r.status)
			require.Equal(t, tc.code, r.errorCode())
		})
	}
	s.SetLicensing(Licensing{WithoutP2: true})
	require.Equal(t, 200, mustGet(t, s, "/users?$select=id,signInActivity").status)
	require.Equal(t, 403, mustGet(t, s, "/identityProtection/riskyUsers").status)
	s.SetLicensing(Licensing{})
	require.Equal(t, 200, mustGet(t, s, "/identityProtection/riskyUsers").status)
}

func TestForcedErrorsOnAPathPrefix(t *testing.T) {
	s := newTestServer(t, newTestTenant(t), Options{})
	s.ForceError("/identity/conditionalAccess", InsufficientPrivileges())
	r := mustGet(t, s, "/identity/conditionalAccess/policies")
	require.Equal(t, 403, r.status)
	require.Equal(t, "Authorization_RequestDenied", r.errorCode())
	require.Equal(t, "Insufficient privileges to complete the operation.", r.errorMessage())
	require.Equal(t, 403, mustGet(t, s, "/identity/conditionalAccess/namedLocations").status)
	require.Equal(t, 200, mustGet(t, s, "/users?$top=1").status, "other paths are unaffected")
	s.ClearFaults()
	require.Equal(t, 200, mustGet(t, s, "/identity/conditionalAccess/policies").status)
}

func TestThrottling(t *testing.T) {
	t.Run("every Nth request gets 429 with Retry-After and is logged", func(t *testing.T) {
		s := newTestServer(t, newTestTenant(t), Options{Throttle: Throttle{EveryN: 3, RetryAfter: 2}})
		var statuses []int
		for range 6 {
			r := mustGet(t, s, "/users?$top=1")
			statuses = append(statuses, r.status)
			if r.status == 429 {
				require.Equal(t, "2", r.header.Get("Retry-After"))
				require.Equal(t, "TooManyRequests", r.errorCode())
			}
		}
		require.Equal(t, []int{200, 200, 429, 200, 200, 429}, statuses)
		log := s.Log()
		require.Len(t, log, 6)
		require.Equal(t, 429, log[2].Status)
		require.Equal(t, "/v1.0/users", log[2].Route)
		require.Equal(t, 2, s.Stats().ByStatus[429])
	})
	t.Run("the next K requests to a prefix fail, then requests succeed", func(t *testing.T) {
		s := newTestServer(t, newTestTenant(t), Options{})
		s.FailNext("/v1.0/security", 2, TooManyRequests(0))
		r := mustGet(t, s, "/security/secureScores?$top=1")
		require.Equal(t, 429, r.status)
		require.Equal(t, "0", r.header.Get("Retry-After"))
		require.Equal(t, 200, mustGet(t, s, "/users?$top=1").status, "other prefixes are not consumed")
		require.Equal(t, 429, mustGet(t, s, "/security/alerts_v2").status)
		require.Equal(t, 200, mustGet(t, s, "/security/alerts_v2").status)
	})
	t.Run("503 carries Retry-After too", func(t *testing.T) {
		s := newTestServer(t, newTestTenant(t), Options{})
		s.FailNext("/users", 1, ServiceUnavailable(5))
		r := mustGet(t, s, "/users")
		require.Equal(t, 503, r.status)
		require.Equal(t, "5", r.header.Get("Retry-After"))
	})
	t.Run("probabilistic throttling is reproducible for a seed", func(t *testing.T) {
		run := func() []int {
			s := newTestServer(t, newTestTenant(t), Options{Seed: 11, Throttle: Throttle{Probability: 0.3, RetryAfter: 1}})
			var out []int
			for range 20 {
				out = append(out, mustGet(t, s, "/domains").status)
			}
			return out
		}
		a := run()
		require.Equal(t, a, run())
		require.Contains(t, a, 429)
		require.Contains(t, a, 200)
	})
	t.Run("a paging client that retries gets every user once", func(t *testing.T) {
		tn := newTestTenant(t)
		s := newTestServer(t, tn, Options{Throttle: Throttle{EveryN: 2, RetryAfter: 0}})
		next, seen, throttled := "/users?$top=40", map[string]bool{}, 0
		for next != "" {
			r := mustGet(t, s, next)
			if r.status == 429 {
				throttled++
				continue
			}
			require.Equal(t, 200, r.status)
			for _, u := range r.values(t) {
				seen[u["id"].(string)] = true
			}
			next = r.nextLink()
		}
		require.Len(t, seen, len(tn.Users))
		require.Positive(t, throttled)
	})
}

func TestRequestLog(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{LogLimit: 3})
	for _, p := range []string{"/users?$top=1", "/groups", "/groups/" + tn.Groups[0].ID + "/members", "/domains", "/nothing"} {
		mustGet(t, s, p)
	}
	log := s.Log()
	require.Len(t, log, 3, "only the most recent entries are kept")
	require.Equal(t, "/v1.0/groups/{id}/members", log[0].Route)
	require.Equal(t, "/v1.0/domains", log[1].Route)
	require.Equal(t, "unknown", log[2].Route)
	require.Equal(t, 400, log[2].Status)
	st := s.Stats()
	require.Equal(t, 5, st.Requests)
	require.Equal(t, 5, st.HTTPRequests)
	require.Equal(t, 1, st.ByRoute["/v1.0/users"])
	s.ResetLog()
	require.Empty(t, s.Log())
	require.Zero(t, s.Stats().Requests)
}

func TestLatency(t *testing.T) {
	s := newTestServer(t, newTestTenant(t), Options{Latency: 40 * time.Millisecond})
	start := time.Now()
	mustGet(t, s, "/domains")
	require.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
	s.SetLatency(0)
	start = time.Now()
	mustGet(t, s, "/domains")
	require.Less(t, time.Since(start), 40*time.Millisecond)
}

func TestMinimumRequests(t *testing.T) {
	tn := newTestTenant(t)
	cases := []struct {
		name     string
		path     string
		pageSize int
		want     int
	}{
		{"users at the default page size", "/users", 0, (len(tn.Users) + 99) / 100},
		{"users at the maximum page size", "/v1.0/users", 999, 1},
		{"a page size above the maximum counts as the maximum", "/users", 5000, 1},
		{"users ten at a time", "/users", 10, (len(tn.Users) + 9) / 10},
		{"devices at Intune's default page size", "/deviceManagement/managedDevices", 0, 1},
		{"a single object", "/policies/authorizationPolicy", 0, 1},
		{"members of the break-glass group", "/groups/" + tn.Groups[0].ID + "/members", 1, 2},
		{"an unknown path", "/nothing", 0, -1},
		{"an unknown group", "/groups/nope/members", 0, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tn.MinimumRequests(tc.path, tc.pageSize))
		})
	}
}

func TestConcurrentUseIsSafe(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				switch (i + j) % 4 {
				case 0:
					s.SetThrottle(Throttle{EveryN: 5})
				case 1:
					s.FailNext("/groups", 1, TooManyRequests(1))
				case 2:
					_ = s.Stats()
					_ = s.Log()
				}
				r := mustGet(t, s, fmt.Sprintf("/groups/%s/transitiveMembers?$top=%d", tn.Groups[2+i%3].ID, 5+j))
				require.Contains(t, []int{200, 429}, r.status)
			}
		}()
	}
	wg.Wait()
}
