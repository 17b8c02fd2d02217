package graphsim

import "time"

// Struct tags used by the model.
//
// json tags carry the Graph v1.0 property names. The simulator's encoder reads
// them with these extra meanings:
//   - ",omitzero": the zero value is written as JSON null (Graph returns null for
//     unset properties); encoding/json simply omits it.
//   - ",omitempty": an empty value is left out, as encoding/json does; used for
//     properties that only exist on some derived types of a polymorphic set.
//   - a nil slice is written as [] and a zero time.Time as null.
//
// graph tags:
//   - graph:"nodefault": not returned unless named in $select (Graph's default
//     property sets, e.g. users return only 11 properties by default).
//   - graph:"nav": a navigation property, never returned by the item itself; it
//     is served as its own path or through $expand.

// Tenant is one simulated Microsoft 365 organisation. Every field is plain data,
// so tests can build small tenants literally; Generate builds large ones.
// Order within each slice is the order the collection endpoints return.
type Tenant struct {
	ID                         string                                    `json:"id"`
	Organization               Organization                              `json:"organization"`
	Users                      []User                                    `json:"users"`
	Groups                     []Group                                   `json:"groups"`
	UserRegistrationDetails    []UserRegistrationDetails                 `json:"userRegistrationDetails"`
	SecurityDefaults           IdentitySecurityDefaultsEnforcementPolicy `json:"identitySecurityDefaultsEnforcementPolicy"`
	ConditionalAccessPolicies  []ConditionalAccessPolicy                 `json:"conditionalAccessPolicies"`
	NamedLocations             []NamedLocation                           `json:"namedLocations"`
	RoleDefinitions            []RoleDefinition                          `json:"roleDefinitions"`
	RoleAssignments            []RoleAssignment                          `json:"roleAssignments"`
	RoleEligibilitySchedules   []RoleEligibilitySchedule                 `json:"roleEligibilitySchedules"`
	AuthorizationPolicy        AuthorizationPolicy                       `json:"authorizationPolicy"`
	Domains                    []Domain                                  `json:"domains"`
	RiskyUsers                 []RiskyUser                               `json:"riskyUsers"`
	RiskDetections             []RiskDetection                           `json:"riskDetections"`
	ManagedDevices             []ManagedDevice                           `json:"managedDevices"`
	SecureScores               []SecureScore                             `json:"secureScores"`
	SecureScoreControlProfiles []SecureScoreControlProfile               `json:"secureScoreControlProfiles"`
	BackupRestore              BackupRestoreRoot                         `json:"backupRestore"`
	ProtectionPolicies         []ProtectionPolicy                        `json:"protectionPolicies"`
	Alerts                     []Alert                                   `json:"alerts"`
	// AuthenticationStrengthPolicies are served at
	// /policies/authenticationStrengthPolicies (built-in and custom).
	AuthenticationStrengthPolicies []AuthenticationStrengthPolicy `json:"authenticationStrengthPolicies"`
	ServicePrincipals              []ServicePrincipal             `json:"servicePrincipals"`
	// GroupEligibilityScheduleInstances are PIM for Groups eligibilities
	// (/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances).
	GroupEligibilityScheduleInstances []PrivilegedAccessGroupEligibilityScheduleInstance `json:"groupEligibilityScheduleInstances"`
	SubscribedSkus                    []SubscribedSku                                    `json:"subscribedSkus"`
	// DNS holds the records the organisation publishes for its domains
	// (zone-file lines), served by shared/dnssim in the demo and tests;
	// Graph does not serve them.
	DNS []string `json:"-"`
}

// ServicePrincipal is microsoft.graph.servicePrincipal (the properties the
// product reads and a few Graph always returns).
// DelegatedPermissionClassifications is the navigation served at
// /servicePrincipals/{id}/delegatedPermissionClassifications.
type ServicePrincipal struct {
	ID                                 string                              `json:"id"`
	AccountEnabled                     bool                                `json:"accountEnabled"`
	AppDisplayName                     string                              `json:"appDisplayName"`
	AppID                              string                              `json:"appId"`
	AppOwnerOrganizationID             string                              `json:"appOwnerOrganizationId,omitzero"`
	DisplayName                        string                              `json:"displayName"`
	ServicePrincipalNames              []string                            `json:"servicePrincipalNames"`
	ServicePrincipalType               string                              `json:"servicePrincipalType"`
	SignInAudience                     string                              `json:"signInAudience,omitzero"`
	Tags                               []string                            `json:"tags"`
	DelegatedPermissionClassifications []DelegatedPermissionClassification `json:"delegatedPermissionClassifications,omitempty" graph:"nav"`
}

// DelegatedPermissionClassification is
// microsoft.graph.delegatedPermissionClassification; classification is
// "low" (the only value Graph accepts today).
type DelegatedPermissionClassification struct {
	ID             string `json:"id"`
	Classification string `json:"classification"`
	PermissionID   string `json:"permissionId"`
	PermissionName string `json:"permissionName"`
}

// PrivilegedAccessGroupEligibilityScheduleInstance is
// microsoft.graph.privilegedAccessGroupEligibilityScheduleInstance; accessId
// is "member" or "owner", memberType "direct", "group" or "unknownFutureValue".
type PrivilegedAccessGroupEligibilityScheduleInstance struct {
	ID                    string    `json:"id"`
	AccessID              string    `json:"accessId"`
	EligibilityScheduleID string    `json:"eligibilityScheduleId"`
	GroupID               string    `json:"groupId"`
	MemberType            string    `json:"memberType"`
	PrincipalID           string    `json:"principalId"`
	StartDateTime         time.Time `json:"startDateTime"`
	EndDateTime           time.Time `json:"endDateTime"`
}

// SubscribedSku is microsoft.graph.subscribedSku (GET /subscribedSkus);
// capabilityStatus is Enabled, Warning, Suspended, Deleted or LockedOut.
type SubscribedSku struct {
	ID               string             `json:"id"`
	AccountID        string             `json:"accountId"`
	AccountName      string             `json:"accountName"`
	AppliesTo        string             `json:"appliesTo"`
	CapabilityStatus string             `json:"capabilityStatus"`
	ConsumedUnits    int                `json:"consumedUnits"`
	SkuID            string             `json:"skuId"`
	SkuPartNumber    string             `json:"skuPartNumber"`
	SubscriptionIDs  []string           `json:"subscriptionIds"`
	PrepaidUnits     LicenseUnitsDetail `json:"prepaidUnits"`
	ServicePlans     []ServicePlanInfo  `json:"servicePlans"`
}

// LicenseUnitsDetail is microsoft.graph.licenseUnitsDetail.
type LicenseUnitsDetail struct {
	Enabled   int `json:"enabled"`
	LockedOut int `json:"lockedOut"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
}

// ServicePlanInfo is microsoft.graph.servicePlanInfo; provisioningStatus is
// Success, Disabled, Error, PendingInput, PendingActivation or PendingProvisioning.
type ServicePlanInfo struct {
	AppliesTo          string `json:"appliesTo"`
	ProvisioningStatus string `json:"provisioningStatus"`
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
}

// Organization is microsoft.graph.organization (GET /organization).
type Organization struct {
	ID                    string           `json:"id"`
	DisplayName           string           `json:"displayName"`
	CountryLetterCode     string           `json:"countryLetterCode,omitzero"`
	CreatedDateTime       time.Time        `json:"createdDateTime"`
	OnPremisesSyncEnabled bool             `json:"onPremisesSyncEnabled,omitzero"`
	TenantType            string           `json:"tenantType,omitzero"`
	VerifiedDomains       []VerifiedDomain `json:"verifiedDomains"`
}

// VerifiedDomain is microsoft.graph.verifiedDomain.
type VerifiedDomain struct {
	Capabilities string `json:"capabilities"`
	IsDefault    bool   `json:"isDefault"`
	IsInitial    bool   `json:"isInitial"`
	Name         string `json:"name"`
	Type         string `json:"type"`
}

// User is microsoft.graph.user. userType is "Member" or "Guest".
// onPremisesSyncEnabled false is served as null (cloud-only user).
type User struct {
	ID                    string          `json:"id"`
	BusinessPhones        []string        `json:"businessPhones"`
	DisplayName           string          `json:"displayName"`
	GivenName             string          `json:"givenName,omitzero"`
	JobTitle              string          `json:"jobTitle,omitzero"`
	Mail                  string          `json:"mail,omitzero"`
	MobilePhone           string          `json:"mobilePhone,omitzero"`
	OfficeLocation        string          `json:"officeLocation,omitzero"`
	PreferredLanguage     string          `json:"preferredLanguage,omitzero"`
	Surname               string          `json:"surname,omitzero"`
	UserPrincipalName     string          `json:"userPrincipalName"`
	AccountEnabled        bool            `json:"accountEnabled" graph:"nodefault"`
	UserType              string          `json:"userType" graph:"nodefault"`
	Department            string          `json:"department,omitzero" graph:"nodefault"`
	CreatedDateTime       time.Time       `json:"createdDateTime" graph:"nodefault"`
	OnPremisesSyncEnabled bool            `json:"onPremisesSyncEnabled,omitzero" graph:"nodefault"`
	OnPremisesImmutableID string          `json:"onPremisesImmutableId,omitzero" graph:"nodefault"`
	SignInActivity        *SignInActivity `json:"signInActivity,omitzero" graph:"nodefault"`
}

// SignInActivity is microsoft.graph.signInActivity; nil means never signed in.
type SignInActivity struct {
	LastSignInDateTime                time.Time `json:"lastSignInDateTime,omitzero"`
	LastSignInRequestID               string    `json:"lastSignInRequestId,omitzero"`
	LastNonInteractiveSignInDateTime  time.Time `json:"lastNonInteractiveSignInDateTime,omitzero"`
	LastNonInteractiveSignInRequestID string    `json:"lastNonInteractiveSignInRequestId,omitzero"`
	LastSuccessfulSignInDateTime      time.Time `json:"lastSuccessfulSignInDateTime,omitzero"`
	LastSuccessfulSignInRequestID     string    `json:"lastSuccessfulSignInRequestId,omitzero"`
}

// Group is microsoft.graph.group. Members holds the ids of direct members
// (users or groups) and is served only as /groups/{id}/members and
// /groups/{id}/transitiveMembers.
type Group struct {
	ID                    string    `json:"id"`
	CreatedDateTime       time.Time `json:"createdDateTime"`
	Description           string    `json:"description,omitzero"`
	DisplayName           string    `json:"displayName"`
	GroupTypes            []string  `json:"groupTypes"`
	IsAssignableToRole    bool      `json:"isAssignableToRole,omitzero"`
	Mail                  string    `json:"mail,omitzero"`
	MailEnabled           bool      `json:"mailEnabled"`
	MailNickname          string    `json:"mailNickname"`
	MembershipRule        string    `json:"membershipRule,omitzero"`
	OnPremisesSyncEnabled bool      `json:"onPremisesSyncEnabled,omitzero"`
	SecurityEnabled       bool      `json:"securityEnabled"`
	Visibility            string    `json:"visibility,omitzero"`
	Members               []string  `json:"members,omitempty" graph:"nav"`
}

// UserRegistrationDetails is microsoft.graph.userRegistrationDetails
// (/reports/authenticationMethods/userRegistrationDetails); userType is
// "member" or "guest" (lower case, unlike user.userType).
type UserRegistrationDetails struct {
	ID                                            string    `json:"id"`
	UserPrincipalName                             string    `json:"userPrincipalName"`
	UserDisplayName                               string    `json:"userDisplayName"`
	UserType                                      string    `json:"userType"`
	IsAdmin                                       bool      `json:"isAdmin"`
	IsSsprRegistered                              bool      `json:"isSsprRegistered"`
	IsSsprEnabled                                 bool      `json:"isSsprEnabled"`
	IsSsprCapable                                 bool      `json:"isSsprCapable"`
	IsMfaRegistered                               bool      `json:"isMfaRegistered"`
	IsMfaCapable                                  bool      `json:"isMfaCapable"`
	IsPasswordlessCapable                         bool      `json:"isPasswordlessCapable"`
	IsSystemPreferredAuthenticationMethodEnabled  bool      `json:"isSystemPreferredAuthenticationMethodEnabled"`
	LastUpdatedDateTime                           time.Time `json:"lastUpdatedDateTime"`
	MethodsRegistered                             []string  `json:"methodsRegistered"`
	SystemPreferredAuthenticationMethods          []string  `json:"systemPreferredAuthenticationMethods"`
	UserPreferredMethodForSecondaryAuthentication string    `json:"userPreferredMethodForSecondaryAuthentication"`
}

// IdentitySecurityDefaultsEnforcementPolicy is the security defaults singleton
// (/policies/identitySecurityDefaultsEnforcementPolicy).
type IdentitySecurityDefaultsEnforcementPolicy struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	DisplayName string `json:"displayName"`
	IsEnabled   bool   `json:"isEnabled"`
}

// ConditionalAccessPolicy is microsoft.graph.conditionalAccessPolicy. state is
// "enabled", "disabled" or "enabledForReportingButNotEnforced".
type ConditionalAccessPolicy struct {
	ID               string                            `json:"id"`
	TemplateID       string                            `json:"templateId,omitzero"`
	DisplayName      string                            `json:"displayName"`
	CreatedDateTime  time.Time                         `json:"createdDateTime"`
	ModifiedDateTime time.Time                         `json:"modifiedDateTime"`
	State            string                            `json:"state"`
	Conditions       ConditionalAccessConditionSet     `json:"conditions"`
	GrantControls    *ConditionalAccessGrantControls   `json:"grantControls"`
	SessionControls  *ConditionalAccessSessionControls `json:"sessionControls"`
}

// ConditionalAccessConditionSet is microsoft.graph.conditionalAccessConditionSet.
// Nil pointers are served as null ("no such condition").
type ConditionalAccessConditionSet struct {
	UserRiskLevels             []string                             `json:"userRiskLevels"`
	SignInRiskLevels           []string                             `json:"signInRiskLevels"`
	ClientAppTypes             []string                             `json:"clientAppTypes"`
	ServicePrincipalRiskLevels []string                             `json:"servicePrincipalRiskLevels"`
	Platforms                  *ConditionalAccessPlatforms          `json:"platforms"`
	Locations                  *ConditionalAccessLocations          `json:"locations"`
	Devices                    *ConditionalAccessDevices            `json:"devices"`
	ClientApplications         *ConditionalAccessClientApplications `json:"clientApplications"`
	Applications               ConditionalAccessApplications        `json:"applications"`
	Users                      ConditionalAccessUsers               `json:"users"`
}

// ConditionalAccessUsers is microsoft.graph.conditionalAccessUsers. Include
// lists may hold "All", "None" or "GuestsOrExternalUsers" besides ids.
type ConditionalAccessUsers struct {
	IncludeUsers                 []string                                `json:"includeUsers"`
	ExcludeUsers                 []string                                `json:"excludeUsers"`
	IncludeGroups                []string                                `json:"includeGroups"`
	ExcludeGroups                []string                                `json:"excludeGroups"`
	IncludeRoles                 []string                                `json:"includeRoles"`
	ExcludeRoles                 []string                                `json:"excludeRoles"`
	IncludeGuestsOrExternalUsers *ConditionalAccessGuestsOrExternalUsers `json:"includeGuestsOrExternalUsers"`
	ExcludeGuestsOrExternalUsers *ConditionalAccessGuestsOrExternalUsers `json:"excludeGuestsOrExternalUsers"`
}

// ConditionalAccessGuestsOrExternalUsers is
// microsoft.graph.conditionalAccessGuestsOrExternalUsers; guestOrExternalUserTypes
// is a comma-separated flags value such as "internalGuest,b2bCollaborationGuest".
type ConditionalAccessGuestsOrExternalUsers struct {
	GuestOrExternalUserTypes string                            `json:"guestOrExternalUserTypes"`
	ExternalTenants          *ConditionalAccessExternalTenants `json:"externalTenants"`
}

// ConditionalAccessExternalTenants is the polymorphic
// conditionalAccessAllExternalTenants / conditionalAccessEnumeratedExternalTenants.
type ConditionalAccessExternalTenants struct {
	ODataType      string   `json:"@odata.type"`
	MembershipKind string   `json:"membershipKind"`
	Members        []string `json:"members,omitempty"`
}

// ConditionalAccessApplications is microsoft.graph.conditionalAccessApplications.
type ConditionalAccessApplications struct {
	IncludeApplications                         []string `json:"includeApplications"`
	ExcludeApplications                         []string `json:"excludeApplications"`
	IncludeUserActions                          []string `json:"includeUserActions"`
	IncludeAuthenticationContextClassReferences []string `json:"includeAuthenticationContextClassReferences"`
}

// ConditionalAccessPlatforms is microsoft.graph.conditionalAccessPlatforms.
type ConditionalAccessPlatforms struct {
	IncludePlatforms []string `json:"includePlatforms"`
	ExcludePlatforms []string `json:"excludePlatforms"`
}

// ConditionalAccessLocations is microsoft.graph.conditionalAccessLocations;
// entries are named location ids, "All" or "AllTrusted".
type ConditionalAccessLocations struct {
	IncludeLocations []string `json:"includeLocations"`
	ExcludeLocations []string `json:"excludeLocations"`
}

// ConditionalAccessDevices is microsoft.graph.conditionalAccessDevices.
type ConditionalAccessDevices struct {
	DeviceFilter *ConditionalAccessFilter `json:"deviceFilter"`
}

// ConditionalAccessFilter is microsoft.graph.conditionalAccessFilter; mode is
// "include" or "exclude".
type ConditionalAccessFilter struct {
	Mode string `json:"mode"`
	Rule string `json:"rule"`
}

// ConditionalAccessClientApplications is
// microsoft.graph.conditionalAccessClientApplications (workload identities).
type ConditionalAccessClientApplications struct {
	IncludeServicePrincipals []string `json:"includeServicePrincipals"`
	ExcludeServicePrincipals []string `json:"excludeServicePrincipals"`
}

// ConditionalAccessGrantControls is microsoft.graph.conditionalAccessGrantControls;
// operator is "AND" or "OR".
type ConditionalAccessGrantControls struct {
	Operator                    string                        `json:"operator"`
	BuiltInControls             []string                      `json:"builtInControls"`
	CustomAuthenticationFactors []string                      `json:"customAuthenticationFactors"`
	TermsOfUse                  []string                      `json:"termsOfUse"`
	AuthenticationStrength      *AuthenticationStrengthPolicy `json:"authenticationStrength"`
}

// AuthenticationStrengthPolicy is microsoft.graph.authenticationStrengthPolicy
// as embedded in grant controls; policyType is "builtIn" or "custom".
type AuthenticationStrengthPolicy struct {
	ID                    string    `json:"id"`
	CreatedDateTime       time.Time `json:"createdDateTime"`
	ModifiedDateTime      time.Time `json:"modifiedDateTime"`
	DisplayName           string    `json:"displayName"`
	Description           string    `json:"description"`
	PolicyType            string    `json:"policyType"`
	RequirementsSatisfied string    `json:"requirementsSatisfied"`
	AllowedCombinations   []string  `json:"allowedCombinations"`
}

// ConditionalAccessSessionControls is microsoft.graph.conditionalAccessSessionControls.
type ConditionalAccessSessionControls struct {
	DisableResilienceDefaults bool               `json:"disableResilienceDefaults,omitzero"`
	SignInFrequency           *SignInFrequency   `json:"signInFrequency"`
	PersistentBrowser         *PersistentBrowser `json:"persistentBrowser"`
}

// SignInFrequency is microsoft.graph.signInFrequencySessionControl.
type SignInFrequency struct {
	IsEnabled          bool   `json:"isEnabled"`
	Type               string `json:"type,omitzero"`
	Value              int    `json:"value,omitzero"`
	AuthenticationType string `json:"authenticationType"`
	FrequencyInterval  string `json:"frequencyInterval"`
}

// PersistentBrowser is microsoft.graph.persistentBrowserSessionControl; mode is
// "always" or "never".
type PersistentBrowser struct {
	IsEnabled bool   `json:"isEnabled"`
	Mode      string `json:"mode"`
}

// NamedLocation is the polymorphic microsoft.graph.namedLocation. ODataType is
// ODataIPNamedLocation or ODataCountryNamedLocation; the fields of the other
// derived type are left empty and are then not served.
type NamedLocation struct {
	ODataType        string    `json:"@odata.type"`
	ID               string    `json:"id"`
	DisplayName      string    `json:"displayName"`
	CreatedDateTime  time.Time `json:"createdDateTime"`
	ModifiedDateTime time.Time `json:"modifiedDateTime"`
	// ipNamedLocation
	IsTrusted *bool     `json:"isTrusted,omitempty"`
	IPRanges  []IPRange `json:"ipRanges,omitempty"`
	// countryNamedLocation
	CountriesAndRegions               []string `json:"countriesAndRegions,omitempty"`
	CountryLookupMethod               string   `json:"countryLookupMethod,omitempty"`
	IncludeUnknownCountriesAndRegions *bool    `json:"includeUnknownCountriesAndRegions,omitempty"`
}

// IPRange is microsoft.graph.iPv4CidrRange or iPv6CidrRange.
type IPRange struct {
	ODataType   string `json:"@odata.type"`
	CIDRAddress string `json:"cidrAddress"`
}

// RoleDefinition is microsoft.graph.unifiedRoleDefinition. For built-in roles
// id equals templateId.
type RoleDefinition struct {
	ID              string           `json:"id"`
	Description     string           `json:"description"`
	DisplayName     string           `json:"displayName"`
	IsBuiltIn       bool             `json:"isBuiltIn"`
	IsEnabled       bool             `json:"isEnabled"`
	ResourceScopes  []string         `json:"resourceScopes"`
	TemplateID      string           `json:"templateId"`
	Version         string           `json:"version,omitzero"`
	RolePermissions []RolePermission `json:"rolePermissions"`
}

// RolePermission is microsoft.graph.unifiedRolePermission.
type RolePermission struct {
	AllowedResourceActions []string `json:"allowedResourceActions"`
	Condition              string   `json:"condition,omitzero"`
}

// RoleAssignment is microsoft.graph.unifiedRoleAssignment (active assignment).
type RoleAssignment struct {
	ID               string `json:"id"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	ResourceScope    string `json:"resourceScope,omitzero"`
	AppScopeID       string `json:"appScopeId,omitzero"`
}

// RoleEligibilitySchedule is microsoft.graph.unifiedRoleEligibilitySchedule (PIM).
type RoleEligibilitySchedule struct {
	ID               string          `json:"id"`
	PrincipalID      string          `json:"principalId"`
	RoleDefinitionID string          `json:"roleDefinitionId"`
	DirectoryScopeID string          `json:"directoryScopeId"`
	AppScopeID       string          `json:"appScopeId,omitzero"`
	CreatedUsing     string          `json:"createdUsing,omitzero"`
	CreatedDateTime  time.Time       `json:"createdDateTime"`
	ModifiedDateTime time.Time       `json:"modifiedDateTime"`
	Status           string          `json:"status"`
	MemberType       string          `json:"memberType"`
	ScheduleInfo     RequestSchedule `json:"scheduleInfo"`
}

// RequestSchedule is microsoft.graph.requestSchedule.
type RequestSchedule struct {
	StartDateTime time.Time         `json:"startDateTime"`
	Recurrence    *struct{}         `json:"recurrence"`
	Expiration    ExpirationPattern `json:"expiration"`
}

// ExpirationPattern is microsoft.graph.expirationPattern; type is
// "noExpiration", "afterDateTime" or "afterDuration".
type ExpirationPattern struct {
	Type        string    `json:"type"`
	EndDateTime time.Time `json:"endDateTime"`
	Duration    string    `json:"duration,omitzero"`
}

// AuthorizationPolicy is the v1.0 authorizationPolicy singleton
// (/policies/authorizationPolicy; id "authorizationPolicy").
type AuthorizationPolicy struct {
	ID                                        string                     `json:"id"`
	AllowInvitesFrom                          string                     `json:"allowInvitesFrom"`
	AllowedToSignUpEmailBasedSubscriptions    bool                       `json:"allowedToSignUpEmailBasedSubscriptions"`
	AllowedToUseSSPR                          bool                       `json:"allowedToUseSSPR"`
	AllowEmailVerifiedUsersToJoinOrganization bool                       `json:"allowEmailVerifiedUsersToJoinOrganization"`
	AllowUserConsentForRiskyApps              *bool                      `json:"allowUserConsentForRiskyApps"`
	BlockMsolPowerShell                       bool                       `json:"blockMsolPowerShell"`
	Description                               string                     `json:"description"`
	DisplayName                               string                     `json:"displayName"`
	GuestUserRoleID                           string                     `json:"guestUserRoleId"`
	DefaultUserRolePermissions                DefaultUserRolePermissions `json:"defaultUserRolePermissions"`
}

// DefaultUserRolePermissions is microsoft.graph.defaultUserRolePermissions.
type DefaultUserRolePermissions struct {
	AllowedToCreateApps                      bool     `json:"allowedToCreateApps"`
	AllowedToCreateSecurityGroups            bool     `json:"allowedToCreateSecurityGroups"`
	AllowedToCreateTenants                   bool     `json:"allowedToCreateTenants"`
	AllowedToReadBitlockerKeysForOwnedDevice bool     `json:"allowedToReadBitlockerKeysForOwnedDevice"`
	AllowedToReadOtherUsers                  bool     `json:"allowedToReadOtherUsers"`
	PermissionGrantPoliciesAssigned          []string `json:"permissionGrantPoliciesAssigned"`
}

// Domain is microsoft.graph.domain; authenticationType is "Managed" or "Federated".
type Domain struct {
	ID                               string   `json:"id"`
	AuthenticationType               string   `json:"authenticationType"`
	AvailabilityStatus               string   `json:"availabilityStatus,omitzero"`
	IsAdminManaged                   bool     `json:"isAdminManaged"`
	IsDefault                        bool     `json:"isDefault"`
	IsInitial                        bool     `json:"isInitial"`
	IsRoot                           bool     `json:"isRoot"`
	IsVerified                       bool     `json:"isVerified"`
	PasswordNotificationWindowInDays int      `json:"passwordNotificationWindowInDays,omitzero"`
	PasswordValidityPeriodInDays     int      `json:"passwordValidityPeriodInDays,omitzero"`
	SupportedServices                []string `json:"supportedServices"`
}

// RiskyUser is microsoft.graph.riskyUser. riskLevel: low, medium, high, hidden,
// none; riskState: none, confirmedSafe, remediated, dismissed, atRisk,
// confirmedCompromised.
type RiskyUser struct {
	ID                      string    `json:"id"`
	IsDeleted               bool      `json:"isDeleted"`
	IsProcessing            bool      `json:"isProcessing"`
	RiskLastUpdatedDateTime time.Time `json:"riskLastUpdatedDateTime"`
	RiskLevel               string    `json:"riskLevel"`
	RiskState               string    `json:"riskState"`
	RiskDetail              string    `json:"riskDetail"`
	UserDisplayName         string    `json:"userDisplayName"`
	UserPrincipalName       string    `json:"userPrincipalName"`
}

// RiskDetection is microsoft.graph.riskDetection (Identity Protection).
type RiskDetection struct {
	ID                  string    `json:"id"`
	RequestID           string    `json:"requestId"`
	CorrelationID       string    `json:"correlationId"`
	RiskEventType       string    `json:"riskEventType"`
	RiskState           string    `json:"riskState"`
	RiskLevel           string    `json:"riskLevel"`
	RiskDetail          string    `json:"riskDetail"`
	Source              string    `json:"source"`
	DetectionTimingType string    `json:"detectionTimingType"`
	Activity            string    `json:"activity"`
	IPAddress           string    `json:"ipAddress"`
	ActivityDateTime    time.Time `json:"activityDateTime"`
	DetectedDateTime    time.Time `json:"detectedDateTime"`
	LastUpdatedDateTime time.Time `json:"lastUpdatedDateTime"`
	UserID              string    `json:"userId"`
	UserDisplayName     string    `json:"userDisplayName"`
	UserPrincipalName   string    `json:"userPrincipalName"`
}

// ManagedDevice is microsoft.graph.managedDevice (Intune). jailBroken is a
// string in Graph ("True", "False", "Unknown"). WindowsProtectionState is the
// navigation served at .../managedDevices/{id}/windowsProtectionState; nil
// means the device has none (non-Windows, or never reported).
type ManagedDevice struct {
	ID                      string                  `json:"id"`
	UserID                  string                  `json:"userId,omitzero"`
	DeviceName              string                  `json:"deviceName"`
	ManagedDeviceOwnerType  string                  `json:"managedDeviceOwnerType"`
	EnrolledDateTime        time.Time               `json:"enrolledDateTime"`
	LastSyncDateTime        time.Time               `json:"lastSyncDateTime"`
	OperatingSystem         string                  `json:"operatingSystem"`
	ComplianceState         string                  `json:"complianceState"`
	JailBroken              string                  `json:"jailBroken"`
	ManagementAgent         string                  `json:"managementAgent"`
	OSVersion               string                  `json:"osVersion"`
	AzureADRegistered       bool                    `json:"azureADRegistered"`
	DeviceEnrollmentType    string                  `json:"deviceEnrollmentType,omitzero"`
	EmailAddress            string                  `json:"emailAddress,omitzero"`
	AzureADDeviceID         string                  `json:"azureADDeviceId,omitzero"`
	DeviceRegistrationState string                  `json:"deviceRegistrationState,omitzero"`
	IsEncrypted             bool                    `json:"isEncrypted"`
	UserPrincipalName       string                  `json:"userPrincipalName,omitzero"`
	Model                   string                  `json:"model,omitzero"`
	Manufacturer            string                  `json:"manufacturer,omitzero"`
	SerialNumber            string                  `json:"serialNumber,omitzero"`
	UserDisplayName         string                  `json:"userDisplayName,omitzero"`
	WindowsProtectionState  *WindowsProtectionState `json:"windowsProtectionState,omitempty" graph:"nav"`
}

// WindowsProtectionState is microsoft.graph.windowsProtectionState (the v1.0
// property list). deviceState: clean, fullScanPending, rebootPending,
// manualStepsPending, offlineScanPending, critical. productStatus is a flags
// value such as "noStatus" or "serviceNotRunning,avSignaturesOutOfDate".
type WindowsProtectionState struct {
	ID                             string    `json:"id"`
	MalwareProtectionEnabled       bool      `json:"malwareProtectionEnabled"`
	DeviceState                    string    `json:"deviceState"`
	RealTimeProtectionEnabled      bool      `json:"realTimeProtectionEnabled"`
	NetworkInspectionSystemEnabled bool      `json:"networkInspectionSystemEnabled"`
	QuickScanOverdue               bool      `json:"quickScanOverdue"`
	FullScanOverdue                bool      `json:"fullScanOverdue"`
	SignatureUpdateOverdue         bool      `json:"signatureUpdateOverdue"`
	RebootRequired                 bool      `json:"rebootRequired"`
	FullScanRequired               bool      `json:"fullScanRequired"`
	EngineVersion                  string    `json:"engineVersion"`
	SignatureVersion               string    `json:"signatureVersion"`
	AntiMalwareVersion             string    `json:"antiMalwareVersion"`
	LastQuickScanDateTime          time.Time `json:"lastQuickScanDateTime"`
	LastFullScanDateTime           time.Time `json:"lastFullScanDateTime"`
	LastQuickScanSignatureVersion  string    `json:"lastQuickScanSignatureVersion,omitzero"`
	LastFullScanSignatureVersion   string    `json:"lastFullScanSignatureVersion,omitzero"`
	LastReportedDateTime           time.Time `json:"lastReportedDateTime"`
	ProductStatus                  string    `json:"productStatus"`
	IsVirtualMachine               bool      `json:"isVirtualMachine"`
	TamperProtectionEnabled        bool      `json:"tamperProtectionEnabled"`
}

// SecureScore is microsoft.graph.secureScore (one per day).
type SecureScore struct {
	ID                       string                    `json:"id"`
	AzureTenantID            string                    `json:"azureTenantId"`
	ActiveUserCount          int                       `json:"activeUserCount"`
	CreatedDateTime          time.Time                 `json:"createdDateTime"`
	CurrentScore             float64                   `json:"currentScore"`
	EnabledServices          []string                  `json:"enabledServices"`
	LicensedUserCount        int                       `json:"licensedUserCount"`
	MaxScore                 float64                   `json:"maxScore"`
	VendorInformation        SecurityVendorInformation `json:"vendorInformation"`
	AverageComparativeScores []AverageComparativeScore `json:"averageComparativeScores"`
	ControlScores            []ControlScore            `json:"controlScores"`
}

// SecurityVendorInformation is microsoft.graph.securityVendorInformation.
type SecurityVendorInformation struct {
	Provider        string `json:"provider"`
	ProviderVersion string `json:"providerVersion,omitzero"`
	SubProvider     string `json:"subProvider,omitzero"`
	Vendor          string `json:"vendor"`
}

// AverageComparativeScore is microsoft.graph.averageComparativeScore; basis is
// "AllTenants", "TotalSeats" or "IndustryTypes".
type AverageComparativeScore struct {
	Basis        string  `json:"basis"`
	AverageScore float64 `json:"averageScore"`
}

// ControlScore is microsoft.graph.controlScore, with the open-type extras real
// tenants return.
type ControlScore struct {
	ControlCategory      string    `json:"controlCategory"`
	ControlName          string    `json:"controlName"`
	Description          string    `json:"description"`
	Score                float64   `json:"score"`
	ScoreInPercentage    float64   `json:"scoreInPercentage"`
	ImplementationStatus string    `json:"implementationStatus,omitzero"`
	LastSynced           time.Time `json:"lastSynced,omitzero"`
}

// SecureScoreControlProfile is microsoft.graph.secureScoreControlProfile; id
// equals the controlName used in ControlScore.
type SecureScoreControlProfile struct {
	ID                   string                    `json:"id"`
	AzureTenantID        string                    `json:"azureTenantId"`
	ActionType           string                    `json:"actionType"`
	ActionURL            string                    `json:"actionUrl"`
	ControlCategory      string                    `json:"controlCategory"`
	Title                string                    `json:"title"`
	Deprecated           bool                      `json:"deprecated"`
	ImplementationCost   string                    `json:"implementationCost"`
	LastModifiedDateTime time.Time                 `json:"lastModifiedDateTime"`
	MaxScore             float64                   `json:"maxScore"`
	Rank                 int                       `json:"rank"`
	Remediation          string                    `json:"remediation"`
	RemediationImpact    string                    `json:"remediationImpact"`
	Service              string                    `json:"service"`
	Threats              []string                  `json:"threats"`
	Tier                 string                    `json:"tier"`
	UserImpact           string                    `json:"userImpact"`
	VendorInformation    SecurityVendorInformation `json:"vendorInformation"`
}

// BackupRestoreRoot is the Microsoft 365 Backup singleton (/solutions/backupRestore).
type BackupRestoreRoot struct {
	ID            string        `json:"id"`
	ServiceStatus ServiceStatus `json:"serviceStatus"`
}

// ServiceStatus is microsoft.graph.serviceStatus. status: disabled, enabled,
// protectionChangeLocked, restoreLocked; disableReason: none,
// controllerServiceAppDeleted, invalidBillingProfile, userRequested.
type ServiceStatus struct {
	BackupServiceConsumer      string       `json:"backupServiceConsumer,omitzero"`
	DisableReason              string       `json:"disableReason"`
	GracePeriodDateTime        time.Time    `json:"gracePeriodDateTime"`
	LastModifiedBy             *IdentitySet `json:"lastModifiedBy"`
	LastModifiedDateTime       time.Time    `json:"lastModifiedDateTime"`
	RestoreAllowedTillDateTime time.Time    `json:"restoreAllowedTillDateTime"`
	Status                     string       `json:"status"`
}

// IdentitySet is microsoft.graph.identitySet (only the user and application
// identities are modelled).
type IdentitySet struct {
	Application *Identity `json:"application"`
	User        *Identity `json:"user"`
}

// Identity is microsoft.graph.identity.
type Identity struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// ProtectionPolicy is the polymorphic microsoft.graph.protectionPolicyBase;
// ODataType is one of ODataExchangeProtectionPolicy,
// ODataSharePointProtectionPolicy, ODataOneDriveProtectionPolicy. status:
// inactive, activeWithErrors, updating, active.
type ProtectionPolicy struct {
	ODataType            string             `json:"@odata.type"`
	ID                   string             `json:"id"`
	DisplayName          string             `json:"displayName"`
	Status               string             `json:"status"`
	CreatedBy            *IdentitySet       `json:"createdBy"`
	CreatedDateTime      time.Time          `json:"createdDateTime"`
	LastModifiedBy       *IdentitySet       `json:"lastModifiedBy"`
	LastModifiedDateTime time.Time          `json:"lastModifiedDateTime"`
	RetentionSettings    []RetentionSetting `json:"retentionSettings"`
}

// RetentionSetting is microsoft.graph.retentionSetting (ISO 8601 durations).
type RetentionSetting struct {
	Interval string `json:"interval"`
	Period   string `json:"period"`
}

// Alert is microsoft.graph.security.alert (/security/alerts_v2).
type Alert struct {
	ID                    string          `json:"id"`
	ProviderAlertID       string          `json:"providerAlertId"`
	IncidentID            string          `json:"incidentId"`
	Status                string          `json:"status"`
	Severity              string          `json:"severity"`
	Classification        string          `json:"classification,omitzero"`
	Determination         string          `json:"determination,omitzero"`
	ServiceSource         string          `json:"serviceSource"`
	DetectionSource       string          `json:"detectionSource"`
	ProductName           string          `json:"productName,omitzero"`
	DetectorID            string          `json:"detectorId,omitzero"`
	TenantID              string          `json:"tenantId"`
	Title                 string          `json:"title"`
	Description           string          `json:"description"`
	RecommendedActions    string          `json:"recommendedActions,omitzero"`
	Category              string          `json:"category"`
	AssignedTo            string          `json:"assignedTo,omitzero"`
	AlertWebURL           string          `json:"alertWebUrl"`
	IncidentWebURL        string          `json:"incidentWebUrl"`
	MitreTechniques       []string        `json:"mitreTechniques"`
	CreatedDateTime       time.Time       `json:"createdDateTime"`
	LastUpdateDateTime    time.Time       `json:"lastUpdateDateTime"`
	ResolvedDateTime      time.Time       `json:"resolvedDateTime"`
	FirstActivityDateTime time.Time       `json:"firstActivityDateTime"`
	LastActivityDateTime  time.Time       `json:"lastActivityDateTime"`
	Comments              []AlertComment  `json:"comments"`
	Evidence              []AlertEvidence `json:"evidence"`
}

// AlertComment is microsoft.graph.security.alertComment.
type AlertComment struct {
	Comment              string    `json:"comment"`
	CreatedByDisplayName string    `json:"createdByDisplayName"`
	CreatedDateTime      time.Time `json:"createdDateTime"`
}

// AlertEvidence is the polymorphic microsoft.graph.security.alertEvidence.
// ODataType selects the derived type (ODataUserEvidence, ODataDeviceEvidence,
// ODataMailboxEvidence, ODataURLEvidence); fields of other derived types stay
// empty and are then not served.
type AlertEvidence struct {
	ODataType                string    `json:"@odata.type"`
	CreatedDateTime          time.Time `json:"createdDateTime"`
	Verdict                  string    `json:"verdict"`
	RemediationStatus        string    `json:"remediationStatus"`
	RemediationStatusDetails string    `json:"remediationStatusDetails,omitzero"`
	Roles                    []string  `json:"roles"`
	DetailedRoles            []string  `json:"detailedRoles"`
	Tags                     []string  `json:"tags"`
	// userEvidence, mailboxEvidence
	UserAccount *UserAccount `json:"userAccount,omitempty"`
	// deviceEvidence
	MdeDeviceID     string `json:"mdeDeviceId,omitempty"`
	AzureAdDeviceID string `json:"azureAdDeviceId,omitempty"`
	DeviceDNSName   string `json:"deviceDnsName,omitempty"`
	OSPlatform      string `json:"osPlatform,omitempty"`
	HealthStatus    string `json:"healthStatus,omitempty"`
	RiskScore       string `json:"riskScore,omitempty"`
	// mailboxEvidence
	PrimaryAddress string `json:"primaryAddress,omitempty"`
	DisplayName    string `json:"displayName,omitempty"`
	// urlEvidence
	URL string `json:"url,omitempty"`
}

// UserAccount is microsoft.graph.security.userAccount.
type UserAccount struct {
	AccountName       string `json:"accountName"`
	AzureAdUserID     string `json:"azureAdUserId"`
	DisplayName       string `json:"displayName"`
	DomainName        string `json:"domainName,omitzero"`
	UserPrincipalName string `json:"userPrincipalName"`
	UserSid           string `json:"userSid,omitzero"`
}

// OData type names used in the model's polymorphic ODataType fields.
const (
	ODataIPNamedLocation            = "#microsoft.graph.ipNamedLocation"
	ODataCountryNamedLocation       = "#microsoft.graph.countryNamedLocation"
	ODataIPv4CidrRange              = "#microsoft.graph.iPv4CidrRange"
	ODataIPv6CidrRange              = "#microsoft.graph.iPv6CidrRange"
	ODataExchangeProtectionPolicy   = "#microsoft.graph.exchangeProtectionPolicy"
	ODataSharePointProtectionPolicy = "#microsoft.graph.sharePointProtectionPolicy"
	ODataOneDriveProtectionPolicy   = "#microsoft.graph.oneDriveForBusinessProtectionPolicy"
	ODataUserEvidence               = "#microsoft.graph.security.userEvidence"
	ODataDeviceEvidence             = "#microsoft.graph.security.deviceEvidence"
	ODataMailboxEvidence            = "#microsoft.graph.security.mailboxEvidence"
	ODataURLEvidence                = "#microsoft.graph.security.urlEvidence"
)

// Built-in Entra role template ids (for built-in roles the roleDefinition id
// equals the template id).
const (
	RoleGlobalAdministrator                   = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdministrator           = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleSecurityAdministrator                 = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RoleExchangeAdministrator                 = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleSharePointAdministrator               = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"
	RoleUserAdministrator                     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleHelpdeskAdministrator                 = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	RoleBillingAdministrator                  = "b0f54661-2d74-4c50-afa3-1ec803f12efd"
	RoleConditionalAccessAdministrator        = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	RoleApplicationAdministrator              = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleCloudApplicationAdministrator         = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleHybridIdentityAdministrator           = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
	RolePrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleAuthenticationAdministrator           = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
)
