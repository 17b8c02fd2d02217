package posture

import "strings"

// SubscribedSku is one of the tenant's subscriptions (/subscribedSkus).
type SubscribedSku struct {
	SkuID            string        `json:"skuId"`
	SkuPartNumber    string        `json:"skuPartNumber"`
	CapabilityStatus string        `json:"capabilityStatus"` // Enabled, Warning, Suspended, Deleted, LockedOut
	ServicePlans     []ServicePlan `json:"servicePlans"`
}

// ServicePlan is a service plan inside a subscription.
type ServicePlan struct {
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"` // Success, Disabled, Error, PendingInput, PendingActivation, PendingProvisioning
	AppliesTo          string `json:"appliesTo,omitempty"`
}

// PlanEntraIDP2 is the service plan that brings Entra ID P2 (Identity
// Protection, PIM), alone or inside E5/EMS E5.
const PlanEntraIDP2 = "AAD_PREMIUM_P2"

// HasServicePlan reports whether a usable subscription provisions the plan.
// A subscription in Warning is in its grace period and still works;
// Suspended, Deleted and LockedOut ones no longer do.
func HasServicePlan(skus []SubscribedSku, plan string) bool {
	for _, s := range skus {
		if !strings.EqualFold(s.CapabilityStatus, "Enabled") && !strings.EqualFold(s.CapabilityStatus, "Warning") {
			continue
		}
		for _, p := range s.ServicePlans {
			if strings.EqualFold(p.ServicePlanName, plan) && strings.EqualFold(p.ProvisioningStatus, "Success") {
				return true
			}
		}
	}
	return false
}

// PermissionClassification is a delegated permission a resource service
// principal classifies (/servicePrincipals/{id}/delegatedPermissionClassifications):
// users may consent to "low" ones under microsoft-user-default-low.
type PermissionClassification struct {
	ResourceAppID  string `json:"resourceAppId"`
	ResourceName   string `json:"resourceName"`
	PermissionID   string `json:"permissionId"`
	PermissionName string `json:"permissionName"`
	Classification string `json:"classification"`
}
