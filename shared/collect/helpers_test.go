package collect

import (
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

// newTestServer serves tenant from a graphsim on loopback and returns a real
// msgraph-sdk-go client pointed at it.
func newTestServer(t testing.TB, tenant *graphsim.Tenant, opts graphsim.Options) (*graphsim.Server, *graph.Reader) {
	t.Helper()
	srv := graphsim.NewServer(tenant, opts)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	clients, err := graph.NewClients(graph.Options{Endpoint: srv.URL()})
	require.NoError(t, err)
	c, err := clients.For(tenant.ID)
	require.NoError(t, err)
	return srv, c
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// mustSource returns the named source or fails the test.
func mustSource(t testing.TB, srcs posture.Sources, name string) posture.Source {
	t.Helper()
	s, ok := srcs.Get(name)
	require.True(t, ok, "source %s not reported", name)
	return s
}

// requireStatuses checks the status of the named sources and that every
// other source is ok.
func requireStatuses(t testing.TB, srcs posture.Sources, want map[string]posture.SourceStatus) {
	t.Helper()
	for _, s := range srcs {
		w, ok := want[s.Name]
		if !ok {
			w = posture.SourceOK
		}
		require.Equal(t, w, s.Status, "source %s: %s", s.Name, s.Reason)
	}
}

func userByID(t testing.TB, id *posture.Identity, userID string) posture.User {
	t.Helper()
	for _, u := range id.Users {
		if u.ID == userID {
			return u
		}
	}
	t.Fatalf("user %s not collected", userID)
	return posture.User{}
}

func groupByID(id *posture.Identity, groupID string) (posture.Group, bool) {
	for _, g := range id.Groups {
		if g.ID == groupID {
			return g, true
		}
	}
	return posture.Group{}, false
}

func policyByID(t testing.TB, id *posture.Identity, policyID string) posture.CAPolicy {
	t.Helper()
	for _, p := range id.Policies {
		if p.ID == policyID {
			return p
		}
	}
	t.Fatalf("policy %s not collected", policyID)
	return posture.CAPolicy{}
}

var testNow = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

func bptr(b bool) *bool { return &b }

// Ids of the hand-built tenant.
const (
	uAlice, uBob, uCarol, uGina = "11111111-0000-0000-0000-00000000a11c", "11111111-0000-0000-0000-000000000b0b", "11111111-0000-0000-0000-0000000ca401", "11111111-0000-0000-0000-00000000913a"
	uBreak1, uBreak2            = "11111111-0000-0000-0000-0000000b9ea1", "11111111-0000-0000-0000-0000000b9ea2"
	uDave, uErin                = "11111111-0000-0000-0000-000000000da7", "11111111-0000-0000-0000-0000000e9140"

	gBreakGlass, gStaff, gAll = "22222222-0000-0000-0000-0000000b9ea0", "22222222-0000-0000-0000-00000057aff0", "22222222-0000-0000-0000-0000000a1100"
	gAdmins, gPIM, gUnused    = "22222222-0000-0000-0000-0000000ad310", "22222222-0000-0000-0000-000000091300", "22222222-0000-0000-0000-00000000a5ed"
	gDeleted                  = "22222222-0000-0000-0000-0000000de1e7"

	pMFAAll, pLegacy, pLocation = "33333333-0000-0000-0000-000000000001", "33333333-0000-0000-0000-000000000002", "33333333-0000-0000-0000-000000000003"
	pAdmins, pGuests, pSession  = "33333333-0000-0000-0000-000000000004", "33333333-0000-0000-0000-000000000005", "33333333-0000-0000-0000-000000000006"

	locOffice, locCountries = "44444444-0000-0000-0000-000000000001", "44444444-0000-0000-0000-000000000002"
	strengthPhishing        = "00000000-0000-0000-0000-000000000004"
)

// smallTenant is a hand-built tenant with one of each case the identity
// collector must get right.
func smallTenant() *graphsim.Tenant {
	user := func(id, name, typ string, enabled bool) graphsim.User {
		return graphsim.User{
			ID: id, DisplayName: name, UserPrincipalName: name + "@contoso.example", UserType: typ,
			AccountEnabled: enabled, BusinessPhones: []string{}, CreatedDateTime: testNow.AddDate(-1, 0, 0),
		}
	}
	alice := user(uAlice, "alice", "Member", true)
	alice.SignInActivity = &graphsim.SignInActivity{
		LastSignInDateTime:               testNow.Add(-48 * time.Hour),
		LastNonInteractiveSignInDateTime: testNow.Add(-2 * time.Hour),
	}
	carol := user(uCarol, "carol", "Member", false)
	carol.SignInActivity = &graphsim.SignInActivity{LastSignInDateTime: testNow.AddDate(0, -5, 0)}
	dave := user(uDave, "dave", "Member", true)
	dave.OnPremisesSyncEnabled = true
	gina := user(uGina, "gina_partner.example#EXT#", "Guest", true)

	reg := func(id string, admin, mfa bool, methods ...string) graphsim.UserRegistrationDetails {
		return graphsim.UserRegistrationDetails{
			ID: id, UserPrincipalName: id + "@contoso.example", UserType: "member", IsAdmin: admin,
			IsMfaRegistered: mfa, IsMfaCapable: mfa, MethodsRegistered: append([]string{}, methods...),
			LastUpdatedDateTime: testNow,
		}
	}
	all := []string{"All"}
	policy := func(id, name, state string) graphsim.ConditionalAccessPolicy {
		return graphsim.ConditionalAccessPolicy{
			ID: id, DisplayName: name, State: state, CreatedDateTime: testNow.AddDate(0, -3, 0), ModifiedDateTime: testNow.AddDate(0, -1, 0),
			Conditions: graphsim.ConditionalAccessConditionSet{
				Applications: graphsim.ConditionalAccessApplications{IncludeApplications: all},
				Users:        graphsim.ConditionalAccessUsers{IncludeUsers: all},
			},
			GrantControls: &graphsim.ConditionalAccessGrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}},
		}
	}
	mfaAll := policy(pMFAAll, "Require MFA for all users", "enabled")
	mfaAll.Conditions.Users.ExcludeGroups = []string{gBreakGlass}
	legacy := policy(pLegacy, "Block legacy authentication", "enabledForReportingButNotEnforced")
	legacy.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"}
	legacy.GrantControls.BuiltInControls = []string{"block"}
	location := policy(pLocation, "MFA outside the office", "enabled")
	location.Conditions.Users = graphsim.ConditionalAccessUsers{IncludeGroups: []string{gAll}}
	location.Conditions.Locations = &graphsim.ConditionalAccessLocations{IncludeLocations: all, ExcludeLocations: []string{locOffice}}
	admins := policy(pAdmins, "Phishing-resistant MFA for admins", "enabled")
	admins.Conditions.Users = graphsim.ConditionalAccessUsers{IncludeRoles: []string{graphsim.RoleGlobalAdministrator}, ExcludeUsers: []string{uBreak1}}
	admins.GrantControls = &graphsim.ConditionalAccessGrantControls{Operator: "OR", AuthenticationStrength: &graphsim.AuthenticationStrengthPolicy{
		ID: strengthPhishing, DisplayName: "Phishing-resistant MFA", PolicyType: "builtIn", RequirementsSatisfied: "mfa",
		AllowedCombinations: []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"},
	}}
	guests := policy(pGuests, "MFA for guests", "enabled")
	guests.Conditions.Users = graphsim.ConditionalAccessUsers{IncludeGuestsOrExternalUsers: &graphsim.ConditionalAccessGuestsOrExternalUsers{
		GuestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest",
		ExternalTenants:          &graphsim.ConditionalAccessExternalTenants{ODataType: "#microsoft.graph.conditionalAccessAllExternalTenants", MembershipKind: "all"},
	}}
	session := policy(pSession, "Sign-in frequency on mobile", "disabled")
	session.Conditions.Users = graphsim.ConditionalAccessUsers{IncludeGroups: []string{gDeleted}}
	session.Conditions.Platforms = &graphsim.ConditionalAccessPlatforms{IncludePlatforms: []string{"android", "iOS"}}
	session.Conditions.Devices = &graphsim.ConditionalAccessDevices{DeviceFilter: &graphsim.ConditionalAccessFilter{Mode: "exclude", Rule: `device.isCompliant -eq True`}}
	session.GrantControls = nil
	session.SessionControls = &graphsim.ConditionalAccessSessionControls{SignInFrequency: &graphsim.SignInFrequency{IsEnabled: true, Type: "hours", Value: 4, AuthenticationType: "primaryAndSecondaryAuthentication", FrequencyInterval: "timeBased"}}

	group := func(id, name string, members ...string) graphsim.Group {
		return graphsim.Group{ID: id, DisplayName: name, GroupTypes: []string{}, SecurityEnabled: true, MailNickname: name, Members: members, CreatedDateTime: testNow.AddDate(-1, 0, 0)}
	}
	adminGroup := group(gAdmins, "Tier0 admins", uDave)
	adminGroup.IsAssignableToRole = true

	role := func(id, name string) graphsim.RoleDefinition {
		return graphsim.RoleDefinition{ID: id, TemplateID: id, DisplayName: name, IsBuiltIn: true, IsEnabled: true, ResourceScopes: []string{"/"}, RolePermissions: []graphsim.RolePermission{}}
	}
	assign := func(principal, roleID string) graphsim.RoleAssignment {
		return graphsim.RoleAssignment{ID: roleID + "-" + principal, PrincipalID: principal, RoleDefinitionID: roleID, DirectoryScopeID: "/"}
	}
	eligible := func(principal, roleID string) graphsim.RoleEligibilitySchedule {
		return graphsim.RoleEligibilitySchedule{
			ID: "e-" + roleID + "-" + principal, PrincipalID: principal, RoleDefinitionID: roleID, DirectoryScopeID: "/",
			Status: "Provisioned", MemberType: "Direct", CreatedDateTime: testNow.AddDate(0, -2, 0),
			ScheduleInfo: graphsim.RequestSchedule{StartDateTime: testNow.AddDate(0, -2, 0), Expiration: graphsim.ExpirationPattern{Type: "noExpiration"}},
		}
	}
	protection := &graphsim.WindowsProtectionState{
		ID: "d-win1", MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, SignatureUpdateOverdue: true,
		DeviceState: "clean", ProductStatus: "noStatus", TamperProtectionEnabled: true, LastReportedDateTime: testNow.Add(-time.Hour),
	}
	device := func(id, os string, state string) graphsim.ManagedDevice {
		return graphsim.ManagedDevice{
			ID: id, DeviceName: "dev-" + id, UserID: uBob, UserPrincipalName: "bob@contoso.example", OperatingSystem: os, OSVersion: "10.0",
			ComplianceState: state, JailBroken: "Unknown", ManagementAgent: "mdm", ManagedDeviceOwnerType: "company",
			LastSyncDateTime: testNow.Add(-3 * time.Hour), EnrolledDateTime: testNow.AddDate(0, -6, 0), IsEncrypted: os == "Windows",
		}
	}
	win1 := device("d-win1", "Windows", "compliant")
	win1.WindowsProtectionState = protection
	score := func(daysAgo int, current float64) graphsim.SecureScore {
		return graphsim.SecureScore{
			ID: "score-" + strconv.Itoa(daysAgo), AzureTenantID: "tenant-small", CreatedDateTime: testNow.AddDate(0, 0, -daysAgo),
			CurrentScore: current, MaxScore: 200, EnabledServices: []string{"HasExchange"},
			VendorInformation:        graphsim.SecurityVendorInformation{Provider: "SecureScore", Vendor: "Microsoft"},
			AverageComparativeScores: []graphsim.AverageComparativeScore{{Basis: "AllTenants", AverageScore: 55.5}},
			ControlScores:            []graphsim.ControlScore{{ControlCategory: "Identity", ControlName: "MFARegistrationV2", Description: "d", Score: 9}},
		}
	}
	return &graphsim.Tenant{
		ID:           "tenant-small",
		Organization: graphsim.Organization{ID: "tenant-small", DisplayName: "Contoso", VerifiedDomains: []graphsim.VerifiedDomain{}},
		Users: []graphsim.User{
			alice, user(uBob, "bob", "Member", true), carol, gina,
			user(uBreak1, "breakglass1", "Member", true), user(uBreak2, "breakglass2", "Member", true), dave,
			user(uErin, "erin", "Member", true),
		},
		Groups: []graphsim.Group{
			group(gBreakGlass, "CA-Exclude-BreakGlass", uBreak1, uBreak2),
			group(gStaff, "Staff", uBob, uAlice),
			group(gAll, "All staff (nested)", gStaff, uCarol),
			adminGroup,
			group(gPIM, "PIM security admins", uErin),
			group(gUnused, "Not referenced", uGina),
		},
		UserRegistrationDetails: []graphsim.UserRegistrationDetails{
			reg(uAlice, true, true, "microsoftAuthenticatorPush", "fido2"), reg(uBob, false, false), reg(uCarol, false, true, "mobilePhone"),
			reg(uGina, false, false), reg(uBreak1, true, true, "fido2"), reg(uBreak2, true, true, "fido2"), reg(uErin, false, true, "microsoftAuthenticatorPush"),
		},
		SecurityDefaults:          graphsim.IdentitySecurityDefaultsEnforcementPolicy{ID: "00000000-0000-0000-0000-000000000005", DisplayName: "Security Defaults", IsEnabled: false},
		ConditionalAccessPolicies: []graphsim.ConditionalAccessPolicy{mfaAll, legacy, location, admins, guests, session},
		NamedLocations: []graphsim.NamedLocation{
			{ODataType: graphsim.ODataIPNamedLocation, ID: locOffice, DisplayName: "Office", IsTrusted: bptr(true),
				IPRanges: []graphsim.IPRange{{ODataType: graphsim.ODataIPv4CidrRange, CIDRAddress: "203.0.113.0/24"}}, CreatedDateTime: testNow, ModifiedDateTime: testNow},
			{ODataType: graphsim.ODataCountryNamedLocation, ID: locCountries, DisplayName: "Blocked countries", CountriesAndRegions: []string{"KP"},
				CountryLookupMethod: "clientIpAddress", IncludeUnknownCountriesAndRegions: bptr(false), CreatedDateTime: testNow, ModifiedDateTime: testNow},
		},
		RoleDefinitions: []graphsim.RoleDefinition{role(graphsim.RoleGlobalAdministrator, "Global Administrator"), role(graphsim.RoleSecurityAdministrator, "Security Administrator")},
		RoleAssignments: []graphsim.RoleAssignment{
			assign(uAlice, graphsim.RoleGlobalAdministrator), assign(uBreak1, graphsim.RoleGlobalAdministrator), assign(gAdmins, graphsim.RoleSecurityAdministrator),
		},
		RoleEligibilitySchedules: []graphsim.RoleEligibilitySchedule{eligible(uErin, graphsim.RoleGlobalAdministrator), eligible(gPIM, graphsim.RoleSecurityAdministrator)},
		AuthorizationPolicy: graphsim.AuthorizationPolicy{
			ID: "authorizationPolicy", AllowInvitesFrom: "everyone", BlockMsolPowerShell: true, GuestUserRoleID: "10dae51f-b6af-4016-8d66-8c2a99b929b3",
			DisplayName: "Authorization Policy", DefaultUserRolePermissions: graphsim.DefaultUserRolePermissions{AllowedToCreateApps: true, PermissionGrantPoliciesAssigned: []string{"ManagePermissionGrantsForSelf.microsoft-user-default-legacy"}},
		},
		Domains: []graphsim.Domain{
			{ID: "contoso.example", AuthenticationType: "Managed", IsVerified: true, IsDefault: true, PasswordValidityPeriodInDays: 2147483647, SupportedServices: []string{"Email"}},
			{ID: "corp.contoso.example", AuthenticationType: "Federated", IsVerified: true, SupportedServices: []string{}},
		},
		RiskyUsers: []graphsim.RiskyUser{
			{ID: uBob, RiskLevel: "high", RiskState: "atRisk", RiskDetail: "none", UserPrincipalName: "bob@contoso.example", RiskLastUpdatedDateTime: testNow.Add(-time.Hour)},
			{ID: uCarol, RiskLevel: "none", RiskState: "remediated", RiskDetail: "userPerformedSecuredPasswordReset", UserPrincipalName: "carol@contoso.example", RiskLastUpdatedDateTime: testNow.AddDate(0, 0, -9)},
		},
		ManagedDevices: []graphsim.ManagedDevice{win1, device("d-win2", "Windows", "noncompliant"), device("d-mac1", "macOS", "compliant"), device("d-ios1", "iOS", "inGracePeriod")},
		// Oldest first, to show the collector sorts.
		SecureScores: []graphsim.SecureScore{score(2, 100), score(0, 120), score(1, 110)},
		SecureScoreControlProfiles: []graphsim.SecureScoreControlProfile{
			{ID: "MFARegistrationV2", AzureTenantID: "tenant-small", Title: "Ensure all users can complete MFA", ControlCategory: "Identity", MaxScore: 9, Rank: 1, UserImpact: "Moderate", ActionURL: "https://security.microsoft.com", Threats: []string{}},
			{ID: "OldControl", AzureTenantID: "tenant-small", Title: "Retired", ControlCategory: "Apps", MaxScore: 1, Rank: 99, Deprecated: true, Threats: []string{}},
		},
		BackupRestore: graphsim.BackupRestoreRoot{ID: "backupRestore", ServiceStatus: graphsim.ServiceStatus{Status: "enabled", DisableReason: "none", LastModifiedDateTime: testNow}},
		ProtectionPolicies: []graphsim.ProtectionPolicy{
			{ODataType: graphsim.ODataExchangeProtectionPolicy, ID: "pp-ex", DisplayName: "Mailboxes", Status: "active", LastModifiedDateTime: testNow, RetentionSettings: []graphsim.RetentionSetting{}},
			{ODataType: graphsim.ODataSharePointProtectionPolicy, ID: "pp-sp", DisplayName: "Sites", Status: "activeWithErrors", LastModifiedDateTime: testNow, RetentionSettings: []graphsim.RetentionSetting{}},
			{ODataType: graphsim.ODataOneDriveProtectionPolicy, ID: "pp-od", DisplayName: "OneDrive", Status: "inactive", LastModifiedDateTime: testNow, RetentionSettings: []graphsim.RetentionSetting{}},
		},
	}
}
