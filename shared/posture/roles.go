package posture

import "strings"

// Built-in directory role template ids the product refers to.
const (
	RoleGlobalAdmin            = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdmin    = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleUserAdmin              = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleSharePointAdmin        = "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"
	RoleExchangeAdmin          = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleHybridIdentityAdmin    = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
	RoleApplicationAdmin       = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleCloudApplicationAdmin  = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleSecurityAdmin          = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RolePrivilegedAuthAdmin    = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleConditionalAccessAdmin = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
	RoleAuthenticationAdmin    = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	RoleHelpdeskAdmin          = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	RoleBillingAdmin           = "b0f54661-2d74-4c50-afa3-1ec803f12efd"
	RoleGuestInviter           = "95e79109-95c0-4d8e-aee3-d01accf2d47b"
)

var roleNames = map[string]string{
	RoleGlobalAdmin:            "Global Administrator",
	RolePrivilegedRoleAdmin:    "Privileged Role Administrator",
	RoleUserAdmin:              "User Administrator",
	RoleSharePointAdmin:        "SharePoint Administrator",
	RoleExchangeAdmin:          "Exchange Administrator",
	RoleHybridIdentityAdmin:    "Hybrid Identity Administrator",
	RoleApplicationAdmin:       "Application Administrator",
	RoleCloudApplicationAdmin:  "Cloud Application Administrator",
	RoleSecurityAdmin:          "Security Administrator",
	RolePrivilegedAuthAdmin:    "Privileged Authentication Administrator",
	RoleConditionalAccessAdmin: "Conditional Access Administrator",
	RoleAuthenticationAdmin:    "Authentication Administrator",
	RoleHelpdeskAdmin:          "Helpdesk Administrator",
	RoleBillingAdmin:           "Billing Administrator",
	RoleGuestInviter:           "Guest Inviter",
}

// PrivilegedRoles are the roles the SCuBA Entra ID baseline treats as highly
// privileged (MS.AAD.7 and 3.6).
var PrivilegedRoles = []string{
	RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleUserAdmin, RoleSharePointAdmin,
	RoleExchangeAdmin, RoleHybridIdentityAdmin, RoleApplicationAdmin, RoleCloudApplicationAdmin,
}

// RoleName names a built-in role by template id, falling back to the id.
func RoleName(templateID string) string {
	if n, ok := roleNames[strings.ToLower(templateID)]; ok {
		return n
	}
	return templateID
}

// IsPrivileged reports whether the template id is in PrivilegedRoles.
func IsPrivileged(templateID string) bool {
	templateID = strings.ToLower(templateID)
	for _, r := range PrivilegedRoles {
		if r == templateID {
			return true
		}
	}
	return false
}
