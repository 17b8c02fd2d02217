package graphsim

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGenerateIsDeterministic(t *testing.T) {
	size := Size{Users: 400, Devices: 300, CAGroups: 20}
	a, err := json.Marshal(Generate(42, size))
	require.NoError(t, err)
	b, err := json.Marshal(Generate(42, size))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b), "same seed must give the same tenant")

	c, err := json.Marshal(Generate(43, size))
	require.NoError(t, err)
	require.NotEqual(t, string(a), string(c), "different seeds must differ")
}

func TestResponsesAreByteIdenticalForTheSameSeed(t *testing.T) {
	paths := []string{
		"/v1.0/users?$top=50&$select=id,displayName,accountEnabled,signInActivity",
		"/v1.0/identity/conditionalAccess/policies",
		"/v1.0/deviceManagement/managedDevices?$top=20&$expand=windowsProtectionState",
		"/v1.0/security/alerts_v2?$top=5",
	}
	render := func() []string {
		s := NewServer(Generate(9, DefaultSize()), Options{})
		var out []string
		for _, p := range paths {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
			b, _ := io.ReadAll(w.Body)
			out = append(out, string(b))
		}
		return out
	}
	require.Equal(t, render(), render())
}

func TestGeneratedTenantIsInterestingForASecurityReview(t *testing.T) {
	tn := Generate(3, Size{Users: 2000, Devices: 2000, CAGroups: 30})
	users := map[string]*User{}
	var disabled, guests, synced int
	for i := range tn.Users {
		u := &tn.Users[i]
		users[u.ID] = u
		if !u.AccountEnabled {
			disabled++
		}
		if u.UserType == "Guest" {
			guests++
		}
		if u.OnPremisesSyncEnabled {
			synced++
		}
	}
	gaCount, syncedGA := 0, 0
	for _, a := range tn.RoleAssignments {
		if a.RoleDefinitionID == RoleGlobalAdministrator {
			gaCount++
			if users[a.PrincipalID].OnPremisesSyncEnabled {
				syncedGA++
			}
		}
	}
	registered := 0
	for _, d := range tn.UserRegistrationDetails {
		if d.IsMfaRegistered {
			registered++
		}
	}
	compliant := 0
	var noRealtime, stale int
	for _, d := range tn.ManagedDevices {
		if d.ComplianceState == "compliant" {
			compliant++
		}
		if p := d.WindowsProtectionState; p != nil {
			if !p.RealTimeProtectionEnabled {
				noRealtime++
			}
			if tn.SecureScores[0].CreatedDateTime.Sub(p.LastReportedDateTime) > 7*24*time.Hour {
				stale++
			}
		}
	}
	hostile := 0
	for _, u := range tn.Users {
		if strings.ContainsAny(u.DisplayName, "<>\"&") {
			hostile++
		}
	}

	cases := []struct {
		name string
		ok   bool
	}{
		{"about five percent of users are disabled", disabled > 60 && disabled < 160},
		{"about five percent of users are guests", guests > 60 && guests < 160},
		{"some users are synced from on-premises", synced > 200},
		{"there are three to five global administrators", gaCount >= 3 && gaCount <= 5},
		{"one global administrator is synced from on-premises", syncedGA == 1},
		{"roughly 88 percent of users registered MFA", float64(registered)/float64(len(tn.Users)) > 0.82 && float64(registered)/float64(len(tn.Users)) < 0.93},
		{"a few users are missing from registration details", len(tn.Users)-len(tn.UserRegistrationDetails) >= 3},
		{"security defaults are disabled", !tn.SecurityDefaults.IsEnabled},
		{"about 80 percent of devices are compliant", compliant > 1500 && compliant < 1700},
		{"some Windows devices have real-time protection off", noRealtime > 10},
		{"some Windows devices stopped reporting protection state", stale > 10},
		{"there are 90 daily secure scores", len(tn.SecureScores) == 90},
		{"the latest secure score dropped from a week before", tn.SecureScores[0].CurrentScore < tn.SecureScores[7].CurrentScore},
		{"secure scores are newest first", tn.SecureScores[0].CreatedDateTime.After(tn.SecureScores[1].CreatedDateTime)},
		{"hostile display names are present", hostile >= 2},
		{"backup has protection policies", len(tn.ProtectionPolicies) >= 3 && tn.BackupRestore.ServiceStatus.Status == "enabled"},
		{"there are risky users and alerts", len(tn.RiskyUsers) >= 5 && len(tn.Alerts) >= 12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.True(t, tc.ok) })
	}
}

func TestGeneratedConditionalAccessSet(t *testing.T) {
	tn := Generate(5, Size{Users: 500, Devices: 100, CAGroups: 40})
	byName := map[string]ConditionalAccessPolicy{}
	referenced := map[string]bool{}
	for _, p := range tn.ConditionalAccessPolicies {
		byName[p.DisplayName] = p
		for _, id := range append(p.Conditions.Users.IncludeGroups, p.Conditions.Users.ExcludeGroups...) {
			referenced[id] = true
		}
	}
	breakGlass := tn.Groups[0]
	require.Equal(t, "CA-Exclude-BreakGlass", breakGlass.DisplayName)
	require.Len(t, breakGlass.Members, 2)

	mfa := byName["Require MFA for all users"]
	require.Equal(t, "enabled", mfa.State)
	require.Equal(t, []string{"All"}, mfa.Conditions.Users.IncludeUsers)
	require.Equal(t, []string{"All"}, mfa.Conditions.Applications.IncludeApplications)
	require.Contains(t, mfa.Conditions.Users.ExcludeGroups, breakGlass.ID)
	require.Contains(t, mfa.GrantControls.BuiltInControls, "mfa")

	legacy := byName["Block legacy authentication"]
	require.ElementsMatch(t, []string{"exchangeActiveSync", "other"}, legacy.Conditions.ClientAppTypes)
	require.Equal(t, []string{"block"}, legacy.GrantControls.BuiltInControls)

	require.Equal(t, "enabledForReportingButNotEnforced", byName["Block high-risk sign-ins"].State)

	admins := byName["Require phishing-resistant MFA for admins"]
	require.Contains(t, admins.Conditions.Users.IncludeRoles, RoleGlobalAdministrator)
	require.NotNil(t, admins.GrantControls.AuthenticationStrength)

	require.NotNil(t, byName["Require MFA outside trusted locations"].Conditions.Locations)
	states := map[string]bool{}
	for _, p := range tn.ConditionalAccessPolicies {
		states[p.State] = true
	}
	require.True(t, states["disabled"])

	caGroups := 0
	for _, g := range tn.Groups {
		if strings.HasPrefix(g.DisplayName, "CA-") {
			caGroups++
			require.True(t, referenced[g.ID], "CA group %s is referenced by a policy", g.DisplayName)
		}
	}
	require.Equal(t, 40, caGroups)
}

func TestSmallSizesAreRaisedToAWorkingMinimum(t *testing.T) {
	cases := []struct {
		name string
		size Size
	}{
		{"a zero size takes the defaults", Size{}},
		{"a tiny size still holds every special account", Size{Users: 1, Devices: 1, CAGroups: 1, Alerts: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tn := Generate(1, tc.size)
			require.GreaterOrEqual(t, len(tn.Users), 60)
			require.NotEmpty(t, tn.ManagedDevices)
			require.NotEmpty(t, tn.Alerts)
			require.Equal(t, DefaultNow.Format("2006-01-02"), tn.SecureScores[0].CreatedDateTime.Format("2006-01-02"))
			s := NewServer(tn, Options{})
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", "/v1.0/identity/conditionalAccess/policies", nil))
			require.Equal(t, 200, w.Code)
		})
	}
}
