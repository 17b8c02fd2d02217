package posture

import (
	"strings"
	"time"
)

// Identity is what the identity collector reads from Entra ID: the tenant's
// users with their MFA registration, the policies that decide enforcement,
// and the directory settings the SCuBA baseline checks. Slices and pointers
// that are nil mean "not collected"; see Sources for why.
type Identity struct {
	Users []User `json:"users"`
	// SecurityDefaultsEnabled is nil when the policy could not be read.
	SecurityDefaultsEnabled *bool            `json:"securityDefaultsEnabled"`
	Policies                []CAPolicy       `json:"policies"`
	NamedLocations          []NamedLocation  `json:"namedLocations"`
	Groups                  []Group          `json:"groups"`
	RoleAssignments         []RoleAssignment `json:"roleAssignments"`
	RoleDefinitions         []RoleDefinition `json:"roleDefinitions"`
	Authorization           *Authorization   `json:"authorization"`
	Domains                 []Domain         `json:"domains"`
	RiskyUsers              []RiskyUser      `json:"riskyUsers"`
	// AuthStrengths are the tenant's authentication strength policies,
	// built-in and custom; policies name them by id.
	AuthStrengths []AuthStrength `json:"authStrengths"`
	// PermissionClassifications are the delegated permissions classified
	// (low impact) on the resource service principals the baseline checks.
	PermissionClassifications []PermissionClassification `json:"permissionClassifications"`
	// SubscribedSkus are the tenant's licences with their service plans.
	SubscribedSkus []SubscribedSku `json:"subscribedSkus"`
}

// User is a directory user with the fields posture needs.
type User struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	AccountEnabled    bool   `json:"accountEnabled"`
	UserType          string `json:"userType"` // Member or Guest
	OnPremisesSynced  bool   `json:"onPremisesSynced"`
	// OnPremisesImmutableID is set for users whose identity comes from an
	// on-premises directory or a federated identity provider, synced or not.
	OnPremisesImmutableID string     `json:"onPremisesImmutableId,omitempty"`
	LastSignIn            *time.Time `json:"lastSignIn,omitempty"`
	// Registration is nil when the user is absent from
	// userRegistrationDetails (or that source failed; see Sources).
	Registration *Registration `json:"registration,omitempty"`
}

// IsMember reports whether the user is an enabled member: the population
// every MFA metric is computed over.
func (u User) IsMember() bool { return u.AccountEnabled && u.UserType == "Member" }

// Registration is a user's row in userRegistrationDetails.
type Registration struct {
	IsAdmin               bool     `json:"isAdmin"`
	IsMfaRegistered       bool     `json:"isMfaRegistered"`
	IsMfaCapable          bool     `json:"isMfaCapable"`
	IsPasswordlessCapable bool     `json:"isPasswordlessCapable"`
	MethodsRegistered     []string `json:"methodsRegistered"`
}

// Policy states as Graph spells them.
const (
	PolicyEnabled    = "enabled"
	PolicyDisabled   = "disabled"
	PolicyReportOnly = "enabledForReportingButNotEnforced"
)

// CAPolicy is a Conditional Access policy, flattened from Graph's
// conditionalAccessPolicy. Empty slices mean the condition is not set.
type CAPolicy struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	State       string `json:"state"`

	IncludeUsers  []string `json:"includeUsers,omitempty"`
	ExcludeUsers  []string `json:"excludeUsers,omitempty"`
	IncludeGroups []string `json:"includeGroups,omitempty"`
	ExcludeGroups []string `json:"excludeGroups,omitempty"`
	IncludeRoles  []string `json:"includeRoles,omitempty"`
	ExcludeRoles  []string `json:"excludeRoles,omitempty"`
	// IncludeGuests and ExcludeGuests are set when the policy targets guests
	// or external users (includeGuestsOrExternalUsers).
	IncludeGuests bool `json:"includeGuests,omitempty"`
	ExcludeGuests bool `json:"excludeGuests,omitempty"`

	IncludeApplications []string `json:"includeApplications,omitempty"`
	ExcludeApplications []string `json:"excludeApplications,omitempty"`
	IncludeUserActions  []string `json:"includeUserActions,omitempty"`

	ClientAppTypes    []string `json:"clientAppTypes,omitempty"`
	IncludePlatforms  []string `json:"includePlatforms,omitempty"`
	ExcludePlatforms  []string `json:"excludePlatforms,omitempty"`
	IncludeLocations  []string `json:"includeLocations,omitempty"`
	ExcludeLocations  []string `json:"excludeLocations,omitempty"`
	HasDeviceFilter   bool     `json:"hasDeviceFilter,omitempty"`
	SignInRiskLevels  []string `json:"signInRiskLevels,omitempty"`
	UserRiskLevels    []string `json:"userRiskLevels,omitempty"`
	GrantOperator     string   `json:"grantOperator,omitempty"`
	BuiltInControls   []string `json:"builtInControls,omitempty"`
	AuthStrengthID    string   `json:"authStrengthId,omitempty"`
	AuthStrengthName  string   `json:"authStrengthName,omitempty"`
	AuthStrengthCombo []string `json:"authStrengthCombinations,omitempty"`
}

// NamedLocation is a Conditional Access named location.
type NamedLocation struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Kind        string `json:"kind"` // ip or country
	IsTrusted   bool   `json:"isTrusted,omitempty"`
}

// Group is a group the identity evaluation needs (referenced by a policy or
// holding a role), with its transitive user members.
type Group struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// MemberIDs are the ids of transitive members that are users.
	MemberIDs []string `json:"memberIds"`
	// Complete is false when reading the members failed part-way.
	Complete bool `json:"complete"`
	// EligibleMemberIDs are users eligible (PIM for Groups) to activate
	// membership; read only for groups that hold a privileged role.
	EligibleMemberIDs []string `json:"eligibleMemberIds,omitempty"`
}

// Role assignment kinds.
const (
	AssignmentActive   = "active"
	AssignmentEligible = "eligible"
)

// RoleAssignment binds a principal (user or group) to a directory role.
type RoleAssignment struct {
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	Kind             string `json:"kind"` // active or eligible (PIM)
}

// RoleDefinition names a directory role. For built-in roles ID equals
// TemplateID, which is what Conditional Access includeRoles holds.
type RoleDefinition struct {
	ID          string `json:"id"`
	TemplateID  string `json:"templateId"`
	DisplayName string `json:"displayName"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
}

// Authorization is the tenant's authorizationPolicy.
type Authorization struct {
	AllowInvitesFrom                string   `json:"allowInvitesFrom"`
	GuestUserRoleID                 string   `json:"guestUserRoleId"`
	AllowedToCreateApps             bool     `json:"allowedToCreateApps"`
	PermissionGrantPoliciesAssigned []string `json:"permissionGrantPoliciesAssigned"`
	BlockMsolPowerShell             bool     `json:"blockMsolPowerShell"`
}

// Domain is a tenant domain with its password-expiry setting.
type Domain struct {
	ID                           string `json:"id"`
	IsVerified                   bool   `json:"isVerified"`
	AuthenticationType           string `json:"authenticationType"` // Managed or Federated
	PasswordValidityPeriodInDays *int   `json:"passwordValidityPeriodInDays,omitempty"`
	IsDefault                    bool   `json:"isDefault,omitempty"`
	IsInitial                    bool   `json:"isInitial,omitempty"`
	// SupportedServices are the services the domain is set up for
	// ("Email", "OfficeCommunicationsOnline", ...).
	SupportedServices []string `json:"supportedServices,omitempty"`
}

// SupportsEmail reports whether the domain is verified and set up for
// email: a mail domain.
func (d Domain) SupportsEmail() bool {
	if !d.IsVerified {
		return false
	}
	for _, s := range d.SupportedServices {
		if strings.EqualFold(s, "Email") {
			return true
		}
	}
	return false
}

// RiskyUser is a user Identity Protection considers at risk.
type RiskyUser struct {
	ID                string    `json:"id"`
	UserPrincipalName string    `json:"userPrincipalName"`
	RiskLevel         string    `json:"riskLevel"`
	RiskState         string    `json:"riskState"`
	RiskLastUpdated   time.Time `json:"riskLastUpdated"`
}

// Source names of the identity collector; metric and control requirements
// refer to these.
const (
	SrcUsers               = "users"
	SrcSignInActivity      = "signInActivity"
	SrcRegistrationDetails = "userRegistrationDetails"
	SrcSecurityDefaults    = "securityDefaults"
	SrcConditionalAccess   = "conditionalAccessPolicies"
	SrcNamedLocations      = "namedLocations"
	SrcGroupMembers        = "groupTransitiveMembers"
	SrcRoleAssignments     = "roleAssignments"
	SrcRoleDefinitions     = "roleDefinitions"
	SrcRoleEligibility     = "roleEligibilitySchedules"
	SrcAuthorizationPolicy = "authorizationPolicy"
	SrcDomains             = "domains"
	SrcRiskyUsers          = "riskyUsers"
	SrcAuthStrengths       = "authenticationStrengthPolicies"
	SrcPermissionClasses   = "delegatedPermissionClassifications"
	SrcGroupEligibility    = "privilegedAccessGroupEligibility"
	SrcSubscribedSkus      = "subscribedSkus"
	SrcManagedDevices      = "managedDevices"
	SrcProtectionStates    = "windowsProtectionStates"
	SrcSecureScores        = "secureScores"
	SrcControlProfiles     = "secureScoreControlProfiles"
	SrcBackupService       = "backupRestore"
	SrcBackupPolicies      = "protectionPolicies"
)

// ContainsFold reports whether list holds s, ignoring case: Graph returns
// ids and enumeration values in whatever case they were written.
func ContainsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// AllClientApps reports whether the policy applies to every client app type
// that can do MFA: no condition, "all", or both modern client types (legacy
// clients cannot do MFA, so leaving them out does not narrow an MFA grant).
func (p CAPolicy) AllClientApps() bool {
	t := p.ClientAppTypes
	return len(t) == 0 || ContainsFold(t, "all") ||
		(ContainsFold(t, "browser") && ContainsFold(t, "mobileAppsAndDesktopClients"))
}
