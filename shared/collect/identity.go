package collect

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/domains"
	"github.com/microsoftgraph/msgraph-sdk-go/identityprotection"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/policies"
	"github.com/microsoftgraph/msgraph-sdk-go/reports"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"m365security/shared/graph"
	"m365security/shared/posture"
)

// Page sizes. Graph pages can always come back smaller than $top, so every
// list follows @odata.nextLink whatever is sent.
const (
	// directoryPageSize is the documented maximum $top of directory
	// collections (users, group members): default 100, maximum 999.
	directoryPageSize = 999
	// registrationPageSize: the userRegistrationDetails docs name no
	// maximum, so the directory maximum is used.
	registrationPageSize = 999
	// riskyUsersPageSize is the documented maximum $top of riskyUsers.
	riskyUsersPageSize = 500
)

var (
	userSelect         = []string{"id", "displayName", "userPrincipalName", "accountEnabled", "userType", "onPremisesSyncEnabled", "onPremisesImmutableId"}
	registrationSelect = []string{"id", "isAdmin", "isMfaRegistered", "isMfaCapable", "isPasswordlessCapable", "methodsRegistered"}
	assignmentSelect   = []string{"principalId", "roleDefinitionId", "directoryScopeId"}
	definitionSelect   = []string{"id", "templateId", "displayName", "isBuiltIn"}
	authorizationSel   = []string{"allowInvitesFrom", "guestUserRoleId", "blockMsolPowerShell", "defaultUserRolePermissions"}
	domainSelect       = []string{"id", "isVerified", "authenticationType", "passwordValidityPeriodInDays", "isDefault", "isInitial", "supportedServices"}
	riskyUserSelect    = []string{"id", "userPrincipalName", "riskLevel", "riskState", "riskLastUpdatedDateTime"}
	riskyUserFilter    = "riskState eq 'atRisk'"
)

const (
	licenceP1 = "Microsoft Entra ID P1"
	licenceP2 = "Microsoft Entra ID P2"
)

// identityState is what the identity sources read, each into its own
// fields; Identity assembles the section from it once all are done.
type identityState struct {
	users     []posture.User
	signInErr error // why signInActivity could not be read with the users
	signedIn  int   // users with a sign-in date

	registrations map[string]*posture.Registration

	securityDefaults *bool
	policies         []posture.CAPolicy
	namedLocations   []posture.NamedLocation

	assignments    []posture.RoleAssignment
	assignedGroups []string // groups holding an active role
	definitions    []posture.RoleDefinition
	eligible       []posture.RoleAssignment
	eligibleGroups []string // groups eligible for a role (PIM)

	authorization *posture.Authorization
	domains       []posture.Domain
	risky         []posture.RiskyUser
	groups        []posture.Group

	strengths       []posture.AuthStrength
	classifications []posture.PermissionClassification
	skus            []posture.SubscribedSku
	// groupEligible maps a group holding a privileged role to the
	// principals eligible for its membership (PIM for Groups).
	groupEligible map[string][]eligiblePrincipal
}

// Identity reads the tenant's Entra ID posture: users with their MFA
// registration and last sign-in, the policies that decide MFA enforcement,
// role assignments, the groups those reference with their transitive
// members, and the directory settings the baseline checks. Every source is
// reported in the returned Sources; the data of a source that failed is nil,
// never empty.
func Identity(ctx context.Context, c *graph.Reader, log *slog.Logger) (*posture.Identity, posture.Sources) {
	var st identityState
	srcs := run(ctx, c, collectorLog(log, posture.AreaIdentity), identitySources(), &st)
	return st.identity(srcs), srcs
}

func identitySources() []source[identityState] {
	area := posture.AreaIdentity
	return append(append([]source[identityState]{
		{SourceInfo{
			Name: posture.SrcUsers, Area: area, Path: "/users",
			Query:    "$select=" + strings.Join(userSelect, ",") + ",signInActivity&$top=999",
			PageSize: directoryPageSize, PageSizeSource: "List users: default 100, maximum 999 (120 per page when signInActivity is selected)",
			Permission: "User.Read.All",
		}, fetchUsers},
		{SourceInfo{
			Name: posture.SrcSignInActivity, Area: area, Path: "/users",
			Query:      "$select=signInActivity (read with users)",
			Permission: "AuditLog.Read.All", Licence: licenceP1,
			DependsOn: []string{posture.SrcUsers},
		}, fetchSignInActivity},
		{SourceInfo{
			Name: posture.SrcRegistrationDetails, Area: area, Path: "/reports/authenticationMethods/userRegistrationDetails",
			Query:    "$select=" + strings.Join(registrationSelect, ",") + "&$top=999",
			PageSize: registrationPageSize, PageSizeSource: "not documented; 999, the directory maximum",
			Permission: "AuditLog.Read.All", Licence: licenceP1,
		}, fetchRegistrations},
		{SourceInfo{
			Name: posture.SrcSecurityDefaults, Area: area, Path: "/policies/identitySecurityDefaultsEnforcementPolicy",
			Query: "$select=isEnabled", Permission: "Policy.Read.All",
		}, fetchSecurityDefaults},
		{SourceInfo{
			Name: posture.SrcConditionalAccess, Area: area, Path: "/identity/conditionalAccess/policies",
			PageSizeSource: "takes no $top; nextLinks followed",
			Permission:     "Policy.Read.All", Licence: licenceP1,
		}, fetchPolicies},
		{SourceInfo{
			Name: posture.SrcNamedLocations, Area: area, Path: "/identity/conditionalAccess/namedLocations",
			PageSizeSource: "small collection; no $top sent, nextLinks followed",
			Permission:     "Policy.Read.All",
		}, fetchNamedLocations},
		{SourceInfo{
			Name: posture.SrcRoleAssignments, Area: area, Path: "/roleManagement/directory/roleAssignments",
			Query:          "$select=" + strings.Join(assignmentSelect, ",") + "&$expand=principal",
			PageSizeSource: "takes $filter, $expand and $select only; nextLinks followed",
			Permission:     "RoleManagement.Read.Directory",
		}, fetchAssignments},
		{SourceInfo{
			Name: posture.SrcRoleDefinitions, Area: area, Path: "/roleManagement/directory/roleDefinitions",
			Query:          "$select=" + strings.Join(definitionSelect, ","),
			PageSizeSource: "takes $filter and $select only; nextLinks followed",
			Permission:     "RoleManagement.Read.Directory",
		}, fetchDefinitions},
		{SourceInfo{
			Name: posture.SrcRoleEligibility, Area: area, Path: "/roleManagement/directory/roleEligibilitySchedules",
			Query:          "$select=" + strings.Join(assignmentSelect, ",") + "&$expand=principal",
			PageSizeSource: "takes $filter, $expand and $select only; nextLinks followed",
			Permission:     "RoleEligibilitySchedule.Read.Directory", Licence: licenceP2,
		}, fetchEligibility},
		{SourceInfo{
			Name: posture.SrcAuthorizationPolicy, Area: area, Path: "/policies/authorizationPolicy",
			Query: "$select=" + strings.Join(authorizationSel, ","), Permission: "Policy.Read.All",
		}, fetchAuthorization},
		{SourceInfo{
			Name: posture.SrcDomains, Area: area, Path: "/domains",
			Query:          "$select=" + strings.Join(domainSelect, ","),
			PageSizeSource: "small collection; no $top sent, nextLinks followed",
			Permission:     "Domain.Read.All",
		}, fetchDomains},
		{SourceInfo{
			Name: posture.SrcRiskyUsers, Area: area, Path: "/identityProtection/riskyUsers",
			Query:    "$filter=" + riskyUserFilter + "&$select=" + strings.Join(riskyUserSelect, ",") + "&$top=500",
			PageSize: riskyUsersPageSize, PageSizeSource: "List riskyUsers: maximum $top 500",
			Permission: "IdentityRiskyUser.Read.All", Licence: licenceP2,
		}, fetchRiskyUsers},
	}, baselineSources()...), []source[identityState]{
		{SourceInfo{
			Name: posture.SrcGroupMembers, Area: area, Path: "/groups/{id}/transitiveMembers",
			Query:    "$select=id&$top=999 per group, in $batch; names via /groups?$filter=id eq … or … (15 per request)",
			PageSize: directoryPageSize, PageSizeSource: "List group transitive members: directory maximum 999",
			Permission: "GroupMember.Read.All",
			DependsOn:  []string{posture.SrcConditionalAccess, posture.SrcRoleAssignments},
			After:      []string{posture.SrcRoleEligibility, posture.SrcGroupEligibility},
		}, fetchGroupMembers},
	}...)
}

// identity assembles the section. Data of failed sources stays nil.
func (st *identityState) identity(srcs posture.Sources) *posture.Identity {
	id := &posture.Identity{
		Users:                     st.users,
		SecurityDefaultsEnabled:   st.securityDefaults,
		Policies:                  st.policies,
		NamedLocations:            st.namedLocations,
		Groups:                    st.groups,
		RoleDefinitions:           st.definitions,
		Authorization:             st.authorization,
		Domains:                   st.domains,
		RiskyUsers:                st.risky,
		AuthStrengths:             st.strengths,
		SubscribedSkus:            st.skus,
		PermissionClassifications: st.classifications,
	}
	st.attachEligibility(id.Groups)
	if st.registrations != nil {
		for i := range id.Users {
			if r, ok := st.registrations[id.Users[i].ID]; ok {
				id.Users[i].Registration = r
			}
		}
	}
	// Eligible assignments only complete the list: without the active ones
	// the list would read as "these are all the admins", so it stays nil.
	if st.assignments != nil {
		id.RoleAssignments = append(make([]posture.RoleAssignment, 0, len(st.assignments)+len(st.eligible)), st.assignments...)
		id.RoleAssignments = append(id.RoleAssignments, st.eligible...)
	}
	return id
}

func userListConfig(withSignIn bool) *users.UsersRequestBuilderGetRequestConfiguration {
	sel := slices.Clone(userSelect)
	if withSignIn {
		sel = append(sel, "signInActivity")
	}
	return &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: sel, Top: ptr(int32(directoryPageSize))},
	}
}

// fetchUsers reads all users in one listing that also selects
// signInActivity. Graph refuses the whole listing when the tenant lacks P1
// or the app lacks AuditLog.Read.All; the users are then read again without
// it and signInActivity alone is recorded as failed.
func fetchUsers(ctx context.Context, r *reader, st *identityState) (int, error) {
	out, pages, err := readUsers(ctx, r, true)
	if err != nil && pages == 0 && (errors.Is(err, graph.ErrNotLicensed) || errors.Is(err, graph.ErrForbidden)) {
		st.signInErr = err
		out, _, err = readUsers(ctx, r, false)
	}
	if err != nil {
		return 0, err
	}
	st.users = out
	return len(out), nil
}

func readUsers(ctx context.Context, r *reader, withSignIn bool) ([]posture.User, int, error) {
	op := "list users"
	if withSignIn {
		op = "list users with signInActivity"
	}
	cfg := userListConfig(withSignIn)
	out := []posture.User{}
	pages := 0
	err := listPages(ctx, r, op,
		func(ctx context.Context) (models.UserCollectionResponseable, error) {
			return r.c.SDK().Users().Get(ctx, cfg)
		},
		func(ctx context.Context, link string) (models.UserCollectionResponseable, error) {
			return r.c.SDK().Users().WithUrl(link).Get(ctx, nil)
		},
		func(p models.UserCollectionResponseable) error {
			pages++
			out = slices.Grow(out, len(p.GetValue()))
			for _, u := range p.GetValue() {
				out = append(out, convertUser(u))
			}
			return nil
		})
	return out, pages, err
}

func convertUser(u models.Userable) posture.User {
	out := posture.User{
		ID:                    deref(u.GetId()),
		UserPrincipalName:     deref(u.GetUserPrincipalName()),
		DisplayName:           deref(u.GetDisplayName()),
		AccountEnabled:        deref(u.GetAccountEnabled()),
		UserType:              deref(u.GetUserType()),
		OnPremisesSynced:      deref(u.GetOnPremisesSyncEnabled()),
		OnPremisesImmutableID: deref(u.GetOnPremisesImmutableId()),
	}
	if a := u.GetSignInActivity(); a != nil {
		// The latest attempt, interactive or not: a service account that
		// only signs in non-interactively is not stale.
		var last time.Time
		for _, t := range []*time.Time{a.GetLastSignInDateTime(), a.GetLastNonInteractiveSignInDateTime()} {
			if t != nil && t.After(last) {
				last = t.UTC()
			}
		}
		if !last.IsZero() {
			out.LastSignIn = &last
		}
	}
	return out
}

// fetchSignInActivity reports what fetchUsers found out about
// signInActivity; it makes no request of its own.
func fetchSignInActivity(_ context.Context, _ *reader, st *identityState) (int, error) {
	if st.signInErr != nil {
		return 0, st.signInErr
	}
	n := 0
	for i := range st.users {
		if st.users[i].LastSignIn != nil {
			n++
		}
	}
	return n, nil
}

func fetchRegistrations(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().Reports().AuthenticationMethods().UserRegistrationDetails()
	cfg := &reports.AuthenticationMethodsUserRegistrationDetailsRequestBuilderGetRequestConfiguration{
		QueryParameters: &reports.AuthenticationMethodsUserRegistrationDetailsRequestBuilderGetQueryParameters{
			Select: registrationSelect, Top: ptr(int32(registrationPageSize)),
		},
	}
	out := map[string]*posture.Registration{}
	err := listPages(ctx, r, "list userRegistrationDetails",
		func(ctx context.Context) (models.UserRegistrationDetailsCollectionResponseable, error) {
			return b.Get(ctx, cfg)
		},
		func(ctx context.Context, link string) (models.UserRegistrationDetailsCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.UserRegistrationDetailsCollectionResponseable) error {
			for _, d := range p.GetValue() {
				out[deref(d.GetId())] = &posture.Registration{
					IsAdmin:               deref(d.GetIsAdmin()),
					IsMfaRegistered:       deref(d.GetIsMfaRegistered()),
					IsMfaCapable:          deref(d.GetIsMfaCapable()),
					IsPasswordlessCapable: deref(d.GetIsPasswordlessCapable()),
					MethodsRegistered:     d.GetMethodsRegistered(),
				}
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.registrations = out
	return len(out), nil
}

func fetchSecurityDefaults(ctx context.Context, r *reader, st *identityState) (int, error) {
	p, err := r.c.SDK().Policies().IdentitySecurityDefaultsEnforcementPolicy().Get(ctx,
		&policies.IdentitySecurityDefaultsEnforcementPolicyRequestBuilderGetRequestConfiguration{
			QueryParameters: &policies.IdentitySecurityDefaultsEnforcementPolicyRequestBuilderGetQueryParameters{Select: []string{"isEnabled"}},
		})
	r.sent(1, 1)
	if err != nil {
		return 0, wrap("get security defaults policy", err)
	}
	if p == nil || p.GetIsEnabled() == nil {
		return 0, errors.New("get security defaults policy: isEnabled missing from the answer")
	}
	st.securityDefaults = ptr(*p.GetIsEnabled())
	return 1, nil
}

func fetchPolicies(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().Identity().ConditionalAccess().Policies()
	out := []posture.CAPolicy{}
	err := listPages(ctx, r, "list conditional access policies",
		func(ctx context.Context) (models.ConditionalAccessPolicyCollectionResponseable, error) {
			return b.Get(ctx, nil)
		},
		func(ctx context.Context, link string) (models.ConditionalAccessPolicyCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.ConditionalAccessPolicyCollectionResponseable) error {
			for _, cp := range p.GetValue() {
				out = append(out, convertPolicy(cp))
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.policies = out
	return len(out), nil
}

// convertPolicy flattens a Conditional Access policy. A policy without
// grant controls (session controls only) has no grant operator and no
// controls.
func convertPolicy(p models.ConditionalAccessPolicyable) posture.CAPolicy {
	out := posture.CAPolicy{
		ID:          deref(p.GetId()),
		DisplayName: deref(p.GetDisplayName()),
		State:       enumString(p.GetState()),
	}
	if c := p.GetConditions(); c != nil {
		if u := c.GetUsers(); u != nil {
			out.IncludeUsers = u.GetIncludeUsers()
			out.ExcludeUsers = u.GetExcludeUsers()
			out.IncludeGroups = u.GetIncludeGroups()
			out.ExcludeGroups = u.GetExcludeGroups()
			out.IncludeRoles = u.GetIncludeRoles()
			out.ExcludeRoles = u.GetExcludeRoles()
			// The legacy "GuestsOrExternalUsers" value in the user lists
			// means the same as the structured property.
			out.IncludeGuests = u.GetIncludeGuestsOrExternalUsers() != nil || slices.Contains(out.IncludeUsers, "GuestsOrExternalUsers")
			out.ExcludeGuests = u.GetExcludeGuestsOrExternalUsers() != nil || slices.Contains(out.ExcludeUsers, "GuestsOrExternalUsers")
		}
		if a := c.GetApplications(); a != nil {
			out.IncludeApplications = a.GetIncludeApplications()
			out.ExcludeApplications = a.GetExcludeApplications()
			out.IncludeUserActions = a.GetIncludeUserActions()
		}
		out.ClientAppTypes = enumStrings(c.GetClientAppTypes())
		if pl := c.GetPlatforms(); pl != nil {
			out.IncludePlatforms = enumStrings(pl.GetIncludePlatforms())
			out.ExcludePlatforms = enumStrings(pl.GetExcludePlatforms())
		}
		if l := c.GetLocations(); l != nil {
			out.IncludeLocations = l.GetIncludeLocations()
			out.ExcludeLocations = l.GetExcludeLocations()
		}
		if d := c.GetDevices(); d != nil {
			out.HasDeviceFilter = d.GetDeviceFilter() != nil
		}
		out.SignInRiskLevels = enumStrings(c.GetSignInRiskLevels())
		out.UserRiskLevels = enumStrings(c.GetUserRiskLevels())
	}
	if g := p.GetGrantControls(); g != nil {
		out.GrantOperator = deref(g.GetOperator())
		out.BuiltInControls = enumStrings(g.GetBuiltInControls())
		if s := g.GetAuthenticationStrength(); s != nil {
			out.AuthStrengthID = deref(s.GetId())
			out.AuthStrengthName = deref(s.GetDisplayName())
			out.AuthStrengthCombo = enumStrings(s.GetAllowedCombinations())
		}
	}
	return out
}

func fetchNamedLocations(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().Identity().ConditionalAccess().NamedLocations()
	out := []posture.NamedLocation{}
	err := listPages(ctx, r, "list named locations",
		func(ctx context.Context) (models.NamedLocationCollectionResponseable, error) { return b.Get(ctx, nil) },
		func(ctx context.Context, link string) (models.NamedLocationCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.NamedLocationCollectionResponseable) error {
			for _, l := range p.GetValue() {
				out = append(out, convertNamedLocation(l))
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.namedLocations = out
	return len(out), nil
}

func convertNamedLocation(l models.NamedLocationable) posture.NamedLocation {
	out := posture.NamedLocation{ID: deref(l.GetId()), DisplayName: deref(l.GetDisplayName())}
	switch v := l.(type) {
	case models.IpNamedLocationable:
		out.Kind, out.IsTrusted = "ip", deref(v.GetIsTrusted())
	case models.CountryNamedLocationable:
		out.Kind = "country"
	default:
		// A location type newer than the SDK: keep Graph's name for it.
		out.Kind = strings.TrimSuffix(strings.TrimPrefix(deref(l.GetOdataType()), "#microsoft.graph."), "NamedLocation")
	}
	return out
}

// roleList is what the active and eligible role sources read. The
// principal is expanded only to tell groups from users and service
// principals: a group holding a role needs its members read.
type roleList struct {
	items  []posture.RoleAssignment
	groups []string // principals that are groups, each once
	seen   map[string]bool
}

func (rl *roleList) add(kind string, principalID, roleID, scope *string, principal models.DirectoryObjectable) {
	id := deref(principalID)
	rl.items = append(rl.items, posture.RoleAssignment{
		PrincipalID:      id,
		RoleDefinitionID: deref(roleID),
		DirectoryScopeID: deref(scope),
		Kind:             kind,
	})
	if isGroup(principal) && !rl.seen[id] {
		if rl.seen == nil {
			rl.seen = map[string]bool{}
		}
		rl.seen[id] = true
		rl.groups = append(rl.groups, id)
	}
}

func isGroup(o models.DirectoryObjectable) bool {
	if o == nil {
		return false
	}
	if _, ok := o.(models.Groupable); ok {
		return true
	}
	return deref(o.GetOdataType()) == "#microsoft.graph.group"
}

func fetchAssignments(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().RoleManagement().Directory().RoleAssignments()
	cfg := &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{
			Select: assignmentSelect, Expand: []string{"principal"},
		},
	}
	rl := roleList{items: []posture.RoleAssignment{}}
	err := listPages(ctx, r, "list role assignments",
		func(ctx context.Context) (models.UnifiedRoleAssignmentCollectionResponseable, error) {
			return b.Get(ctx, cfg)
		},
		func(ctx context.Context, link string) (models.UnifiedRoleAssignmentCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.UnifiedRoleAssignmentCollectionResponseable) error {
			for _, a := range p.GetValue() {
				rl.add(posture.AssignmentActive, a.GetPrincipalId(), a.GetRoleDefinitionId(), a.GetDirectoryScopeId(), a.GetPrincipal())
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.assignments, st.assignedGroups = rl.items, rl.groups
	return len(rl.items), nil
}

func fetchEligibility(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().RoleManagement().Directory().RoleEligibilitySchedules()
	cfg := &rolemanagement.DirectoryRoleEligibilitySchedulesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleEligibilitySchedulesRequestBuilderGetQueryParameters{
			Select: assignmentSelect, Expand: []string{"principal"},
		},
	}
	rl := roleList{items: []posture.RoleAssignment{}}
	err := listPages(ctx, r, "list role eligibility schedules",
		func(ctx context.Context) (models.UnifiedRoleEligibilityScheduleCollectionResponseable, error) {
			return b.Get(ctx, cfg)
		},
		func(ctx context.Context, link string) (models.UnifiedRoleEligibilityScheduleCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.UnifiedRoleEligibilityScheduleCollectionResponseable) error {
			for _, a := range p.GetValue() {
				rl.add(posture.AssignmentEligible, a.GetPrincipalId(), a.GetRoleDefinitionId(), a.GetDirectoryScopeId(), a.GetPrincipal())
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.eligible, st.eligibleGroups = rl.items, rl.groups
	return len(rl.items), nil
}

func fetchDefinitions(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().RoleManagement().Directory().RoleDefinitions()
	cfg := &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleDefinitionsRequestBuilderGetQueryParameters{Select: definitionSelect},
	}
	out := []posture.RoleDefinition{}
	err := listPages(ctx, r, "list role definitions",
		func(ctx context.Context) (models.UnifiedRoleDefinitionCollectionResponseable, error) {
			return b.Get(ctx, cfg)
		},
		func(ctx context.Context, link string) (models.UnifiedRoleDefinitionCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.UnifiedRoleDefinitionCollectionResponseable) error {
			for _, d := range p.GetValue() {
				out = append(out, posture.RoleDefinition{
					ID:          deref(d.GetId()),
					TemplateID:  deref(d.GetTemplateId()),
					DisplayName: deref(d.GetDisplayName()),
					IsBuiltIn:   deref(d.GetIsBuiltIn()),
				})
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.definitions = out
	return len(out), nil
}

func fetchAuthorization(ctx context.Context, r *reader, st *identityState) (int, error) {
	p, err := r.c.SDK().Policies().AuthorizationPolicy().Get(ctx, &policies.AuthorizationPolicyRequestBuilderGetRequestConfiguration{
		QueryParameters: &policies.AuthorizationPolicyRequestBuilderGetQueryParameters{Select: authorizationSel},
	})
	r.sent(1, 1)
	if err != nil {
		return 0, wrap("get authorization policy", err)
	}
	if p == nil {
		return 0, errors.New("get authorization policy: empty answer")
	}
	out := &posture.Authorization{
		AllowInvitesFrom:    enumString(p.GetAllowInvitesFrom()),
		BlockMsolPowerShell: deref(p.GetBlockMsolPowerShell()),
	}
	if id := p.GetGuestUserRoleId(); id != nil {
		out.GuestUserRoleID = id.String()
	}
	if d := p.GetDefaultUserRolePermissions(); d != nil {
		out.AllowedToCreateApps = deref(d.GetAllowedToCreateApps())
		out.PermissionGrantPoliciesAssigned = d.GetPermissionGrantPoliciesAssigned()
	}
	st.authorization = out
	return 1, nil
}

func fetchDomains(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().Domains()
	cfg := &domains.DomainsRequestBuilderGetRequestConfiguration{
		QueryParameters: &domains.DomainsRequestBuilderGetQueryParameters{Select: domainSelect},
	}
	out := []posture.Domain{}
	err := listPages(ctx, r, "list domains",
		func(ctx context.Context) (models.DomainCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (models.DomainCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.DomainCollectionResponseable) error {
			for _, d := range p.GetValue() {
				dom := posture.Domain{
					ID:                 deref(d.GetId()),
					IsVerified:         deref(d.GetIsVerified()),
					AuthenticationType: deref(d.GetAuthenticationType()),
					IsDefault:          deref(d.GetIsDefault()),
					IsInitial:          deref(d.GetIsInitial()),
					SupportedServices:  d.GetSupportedServices(),
				}
				if v := d.GetPasswordValidityPeriodInDays(); v != nil {
					dom.PasswordValidityPeriodInDays = ptr(int(*v))
				}
				out = append(out, dom)
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.domains = out
	return len(out), nil
}

func fetchRiskyUsers(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().IdentityProtection().RiskyUsers()
	cfg := &identityprotection.RiskyUsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &identityprotection.RiskyUsersRequestBuilderGetQueryParameters{
			Filter: ptr(riskyUserFilter), Select: riskyUserSelect, Top: ptr(int32(riskyUsersPageSize)),
		},
	}
	out := []posture.RiskyUser{}
	err := listPages(ctx, r, "list risky users",
		func(ctx context.Context) (models.RiskyUserCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (models.RiskyUserCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.RiskyUserCollectionResponseable) error {
			for _, u := range p.GetValue() {
				out = append(out, posture.RiskyUser{
					ID:                deref(u.GetId()),
					UserPrincipalName: deref(u.GetUserPrincipalName()),
					RiskLevel:         enumString(u.GetRiskLevel()),
					RiskState:         enumString(u.GetRiskState()),
					RiskLastUpdated:   timeOf(u.GetRiskLastUpdatedDateTime()),
				})
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.risky = out
	return len(out), nil
}
