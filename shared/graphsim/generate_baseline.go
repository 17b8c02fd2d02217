package graphsim

import (
	"encoding/base64"
	"time"
)

// Built-in authentication strength ids (the same in every tenant).
const (
	mfaStrength          = "00000000-0000-0000-0000-000000000002"
	passwordlessStrength = "00000000-0000-0000-0000-000000000003"
)

// Well-known first-party application ids (Exchange Online's is declared
// with the policies that target it).
const (
	appMicrosoftGraph   = "00000003-0000-0000-c000-000000000000"
	appSharePointOnline = "00000003-0000-0ff1-ce00-000000000000"
)

// baseline adds what the SCuBA baseline controls read beyond the rest of
// the tenant: immutable ids of synchronised and federated users,
// authentication strengths, consent classifications, a PIM for Groups
// eligibility and the subscriptions. It runs last so the identifiers drawn
// for everything else stay what they were.
func (g *gen) baseline(t *Tenant) {
	for i := range t.Users {
		u := &t.Users[i]
		// Synchronised users carry their on-premises objectGUID; the cloud
		// application administrator comes from a partner's federation (no
		// sync, immutable id set), which only that attribute reveals.
		if u.OnPremisesSyncEnabled || i == uCloudAppAdmin {
			u.OnPremisesImmutableID = base64.StdEncoding.EncodeToString(guidBytes(g.uuid()))
		}
	}
	t.AuthenticationStrengthPolicies = g.strengthPolicies()
	t.ServicePrincipals = g.servicePrincipals()
	g.pimForGroups(t)
	t.SubscribedSkus = g.subscribedSkus(t)
}

func (g *gen) strengthPolicies() []AuthenticationStrengthPolicy {
	built := time.Date(2022, 12, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id, name, desc, typ string, combos ...string) AuthenticationStrengthPolicy {
		return AuthenticationStrengthPolicy{ID: id, DisplayName: name, Description: desc, PolicyType: typ, RequirementsSatisfied: "mfa",
			CreatedDateTime: built, ModifiedDateTime: built, AllowedCombinations: combos}
	}
	custom := mk(g.uuid(), "Contractor sign-in", "Authenticator or hardware token, never SMS", "custom",
		"password,microsoftAuthenticatorPush", "password,hardwareOath", "fido2")
	custom.CreatedDateTime, custom.ModifiedDateTime = g.ago(60, 400), g.ago(1, 59)
	return []AuthenticationStrengthPolicy{
		mk(mfaStrength, "Multifactor authentication", "Combinations of methods that satisfy strong authentication, such as a password + SMS", "builtIn",
			"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
			"password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath", "password,sms", "password,voice",
			"federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
			"hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor"),
		mk(passwordlessStrength, "Passwordless MFA", "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator", "builtIn",
			"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"),
		mk(phishingResistantStrength, "Phishing-resistant MFA", "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key", "builtIn",
			"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"),
		custom,
	}
}

// servicePrincipals are the first-party resources whose delegated permission
// classifications decide low-impact consent. Graph classifies the usual
// sign-in scopes low; nothing risky is.
func (g *gen) servicePrincipals() []ServicePrincipal {
	mk := func(appID, name string, names ...string) ServicePrincipal {
		return ServicePrincipal{ID: g.uuid(), AccountEnabled: true, AppDisplayName: name, AppID: appID, DisplayName: name,
			AppOwnerOrganizationID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a", ServicePrincipalNames: append([]string{appID}, names...),
			ServicePrincipalType: "Application", SignInAudience: "AzureADMultipleOrgs", Tags: []string{}}
	}
	graph := mk(appMicrosoftGraph, "Microsoft Graph", "https://graph.microsoft.com")
	for _, p := range []struct{ id, name string }{
		{"e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read"}, {"37f7f235-527c-4136-accd-4a02d197296e", "openid"},
		{"14dad69e-099b-42c9-810b-d002981feec1", "profile"}, {"64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email"},
		{"7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access"},
	} {
		graph.DelegatedPermissionClassifications = append(graph.DelegatedPermissionClassifications,
			DelegatedPermissionClassification{ID: g.hex(16), Classification: "low", PermissionID: p.id, PermissionName: p.name})
	}
	return []ServicePrincipal{graph,
		mk(appExchangeOnline, "Office 365 Exchange Online", "https://outlook.office365.com"),
		mk(appSharePointOnline, "Office 365 SharePoint Online", "https://microsoft.sharepoint-df.com")}
}

// pimForGroups adds a role-assignable group that holds Exchange
// Administrator with no permanent members: one synchronised user is
// eligible (PIM for Groups) to activate membership.
func (g *gen) pimForGroups(t *Tenant) {
	eligible := -1
	for i := uSpecialCount; i < len(t.Users); i++ {
		if u := t.Users[i]; u.OnPremisesSyncEnabled && u.AccountEnabled && u.UserType == "Member" {
			eligible = i
			break
		}
	}
	if eligible < 0 {
		return
	}
	grp := Group{ID: g.uuid(), DisplayName: "PIM-Exchange-Admins", Description: "Role-assignable group holding Exchange Administrator; membership through PIM only",
		CreatedDateTime: g.ago(100, 600), GroupTypes: []string{}, MailNickname: "pimexchangeadmins", SecurityEnabled: true, IsAssignableToRole: true}
	t.Groups = append(t.Groups, grp)
	t.RoleAssignments = append(t.RoleAssignments, RoleAssignment{ID: roleAssignmentID(RoleExchangeAdministrator, grp.ID), PrincipalID: grp.ID,
		RoleDefinitionID: RoleExchangeAdministrator, DirectoryScopeID: "/", ResourceScope: "/"})
	start := g.ago(10, 200)
	t.GroupEligibilityScheduleInstances = append(t.GroupEligibilityScheduleInstances, PrivilegedAccessGroupEligibilityScheduleInstance{
		ID: g.uuid(), AccessID: "member", EligibilityScheduleID: g.uuid(), GroupID: grp.ID, MemberType: "direct",
		PrincipalID: t.Users[eligible].ID, StartDateTime: start, EndDateTime: start.AddDate(1, 0, 0),
	})
}

func (g *gen) subscribedSkus(t *Tenant) []SubscribedSku {
	members := 0
	for _, u := range t.Users {
		if u.UserType == "Member" && u.AccountEnabled {
			members++
		}
	}
	plan := func(id, name string) ServicePlanInfo {
		return ServicePlanInfo{AppliesTo: "User", ProvisioningStatus: "Success", ServicePlanID: id, ServicePlanName: name}
	}
	return []SubscribedSku{
		{ID: t.ID + "_06ebc4ee-1bb5-47dd-8120-11324bc54e06", AccountID: t.ID, AccountName: g.name, AppliesTo: "User", CapabilityStatus: "Enabled",
			ConsumedUnits: members, SkuID: "06ebc4ee-1bb5-47dd-8120-11324bc54e06", SkuPartNumber: "SPE_E5", SubscriptionIDs: []string{g.uuid()},
			PrepaidUnits: LicenseUnitsDetail{Enabled: members + 25},
			ServicePlans: []ServicePlanInfo{plan("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"), plan("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
				plan("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"), plan("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
				plan("f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "ATP_ENTERPRISE"), plan("8e0c0a52-6a6c-4d40-8370-dd62790dcd70", "THREAT_INTELLIGENCE")}},
		{ID: t.ID + "_a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", AccountID: t.ID, AccountName: g.name, AppliesTo: "User", CapabilityStatus: "Enabled",
			ConsumedUnits: 3, SkuID: "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", SkuPartNumber: "POWER_BI_STANDARD", SubscriptionIDs: []string{g.uuid()},
			PrepaidUnits: LicenseUnitsDetail{Enabled: 1000000},
			ServicePlans: []ServicePlanInfo{plan("2049e525-b859-401b-b2a0-e0a31c4b1fe4", "BI_AZURE_P0")}},
	}
}
