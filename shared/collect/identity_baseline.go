package collect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"

	"m365security/shared/posture"
)

// Sources only the SCuBA baseline controls read: what an authentication
// strength admits, which delegated permissions users may consent to, who is
// eligible for a privileged role group, and which licences the tenant has.

var (
	servicePrincipalSelect = []string{"id", "appId", "displayName"}
	skuSelect              = []string{"skuId", "skuPartNumber", "capabilityStatus", "servicePlans"}
	groupEligibilitySelect = []string{"groupId", "principalId", "accessId"}
)

// consentResourceFilter selects the resource service principals whose
// classifications decide low-impact consent, by appId.
func consentResourceFilter() string {
	terms := make([]string, len(posture.ConsentResourceApps))
	for i, app := range posture.ConsentResourceApps {
		terms[i] = "appId eq '" + app + "'"
	}
	return strings.Join(terms, " or ")
}

func baselineSources() []source[identityState] {
	area := posture.AreaIdentity
	return []source[identityState]{
		{SourceInfo{
			Name: posture.SrcAuthStrengths, Area: area, Path: "/policies/authenticationStrengthPolicies",
			PageSizeSource: "small collection; no $top sent, nextLinks followed",
			Permission:     "Policy.Read.AuthenticationMethod", Licence: licenceP1,
		}, fetchAuthStrengths},
		{SourceInfo{
			Name: posture.SrcPermissionClasses, Area: area, Path: "/servicePrincipals/{id}/delegatedPermissionClassifications",
			Query:          "resources found by /servicePrincipals?$filter=" + consentResourceFilter() + "&$select=" + strings.Join(servicePrincipalSelect, ","),
			PageSizeSource: "small collections; no $top sent, nextLinks followed",
			Permission:     "Application.Read.All",
		}, fetchPermissionClassifications},
		{SourceInfo{
			Name: posture.SrcGroupEligibility, Area: area, Path: "/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances",
			Query:          "$filter=groupId eq '{id}'&$select=" + strings.Join(groupEligibilitySelect, ",") + "&$expand=principal, per group holding a privileged role",
			PageSizeSource: "not documented; no $top sent, nextLinks followed",
			Permission:     "PrivilegedEligibilitySchedule.Read.AzureADGroup", Licence: licenceP2,
			DependsOn: []string{posture.SrcRoleAssignments},
			After:     []string{posture.SrcRoleEligibility},
		}, fetchGroupEligibility},
		{SourceInfo{
			Name: posture.SrcSubscribedSkus, Area: area, Path: "/subscribedSkus",
			Query:          "$select=" + strings.Join(skuSelect, ","),
			PageSizeSource: "takes no $top; nextLinks followed",
			Permission:     "LicenseAssignment.Read.All",
		}, fetchSubscribedSkus},
	}
}

func fetchAuthStrengths(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().Policies().AuthenticationStrengthPolicies()
	out := []posture.AuthStrength{}
	err := listPages(ctx, r, "list authentication strength policies",
		func(ctx context.Context) (models.AuthenticationStrengthPolicyCollectionResponseable, error) {
			return b.Get(ctx, nil)
		},
		func(ctx context.Context, link string) (models.AuthenticationStrengthPolicyCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.AuthenticationStrengthPolicyCollectionResponseable) error {
			for _, s := range p.GetValue() {
				out = append(out, posture.AuthStrength{
					ID:                  deref(s.GetId()),
					DisplayName:         deref(s.GetDisplayName()),
					PolicyType:          enumString(s.GetPolicyType()),
					AllowedCombinations: enumStrings(s.GetAllowedCombinations()),
				})
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.strengths = out
	return len(out), nil
}

// fetchPermissionClassifications reads the delegated permission
// classifications of Microsoft Graph, Exchange Online and SharePoint Online.
// A resource the tenant has no service principal for classifies nothing.
func fetchPermissionClassifications(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().ServicePrincipals()
	cfg := &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
		QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
			Filter: ptr(consentResourceFilter()), Select: servicePrincipalSelect,
		},
	}
	type resource struct{ id, appID, name string }
	var resources []resource
	err := listPages(ctx, r, "list consent resource service principals",
		func(ctx context.Context) (models.ServicePrincipalCollectionResponseable, error) {
			return b.Get(ctx, cfg)
		},
		func(ctx context.Context, link string) (models.ServicePrincipalCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.ServicePrincipalCollectionResponseable) error {
			for _, sp := range p.GetValue() {
				resources = append(resources, resource{id: deref(sp.GetId()), appID: deref(sp.GetAppId()), name: deref(sp.GetDisplayName())})
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	out := []posture.PermissionClassification{}
	for _, res := range resources {
		cb := b.ByServicePrincipalId(res.id).DelegatedPermissionClassifications()
		err := listPages(ctx, r, "list delegated permission classifications of "+res.name,
			func(ctx context.Context) (models.DelegatedPermissionClassificationCollectionResponseable, error) {
				return cb.Get(ctx, nil)
			},
			func(ctx context.Context, link string) (models.DelegatedPermissionClassificationCollectionResponseable, error) {
				return cb.WithUrl(link).Get(ctx, nil)
			},
			func(p models.DelegatedPermissionClassificationCollectionResponseable) error {
				for _, c := range p.GetValue() {
					out = append(out, posture.PermissionClassification{
						ResourceAppID: res.appID, ResourceName: res.name,
						PermissionID: deref(c.GetPermissionId()), PermissionName: deref(c.GetPermissionName()),
						Classification: enumString(c.GetClassification()),
					})
				}
				return nil
			})
		if err != nil {
			return 0, err
		}
	}
	st.classifications = out
	return len(out), nil
}

// privilegedRoleGroups returns, sorted, the groups that hold a privileged
// role actively or eligibly: their eligible members are privileged users.
func privilegedRoleGroups(st *identityState) []string {
	isGroup := map[string]bool{}
	for _, g := range slices.Concat(st.assignedGroups, st.eligibleGroups) {
		isGroup[g] = true
	}
	set := map[string]bool{}
	for _, a := range slices.Concat(st.assignments, st.eligible) {
		if isGroup[a.PrincipalID] && posture.IsPrivileged(a.RoleDefinitionID) {
			set[a.PrincipalID] = true
		}
	}
	out := make([]string, 0, len(set))
	for g := range set {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// fetchGroupEligibility reads the PIM for Groups member eligibilities of each
// group holding a privileged role. Graph lists them only filtered by group
// (or principal), so each group is one listing; a tenant whose role groups
// hold no privileged role makes no request. Eligible principals that are
// groups are read with the other referenced groups and expanded to their
// members when the section is assembled.
func fetchGroupEligibility(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().IdentityGovernance().PrivilegedAccess().Group().EligibilityScheduleInstances()
	out := map[string][]eligiblePrincipal{}
	n := 0
	for _, gid := range privilegedRoleGroups(st) {
		cfg := &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetQueryParameters{
				Filter: ptr("groupId eq '" + strings.ReplaceAll(gid, "'", "''") + "'"), Select: groupEligibilitySelect, Expand: []string{"principal"},
			},
		}
		err := listPages(ctx, r, "list PIM for Groups eligibilities of group "+gid,
			func(ctx context.Context) (models.PrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseable, error) {
				return b.Get(ctx, cfg)
			},
			func(ctx context.Context, link string) (models.PrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseable, error) {
				return b.WithUrl(link).Get(ctx, nil)
			},
			func(p models.PrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseable) error {
				for _, e := range p.GetValue() {
					// Owners manage the group but are not members: the role
					// applies to members only.
					if enumString(e.GetAccessId()) != "member" {
						continue
					}
					n++
					out[gid] = append(out[gid], eligiblePrincipal{id: deref(e.GetPrincipalId()), group: isGroup(e.GetPrincipal())})
				}
				return nil
			})
		if err != nil {
			return 0, fmt.Errorf("read eligibilities of %d groups holding privileged roles: %w", len(out), err)
		}
	}
	st.groupEligible = out
	return n, nil
}

// eligiblePrincipal is a principal eligible for membership of a role group.
type eligiblePrincipal struct {
	id    string
	group bool
}

// eligibleGroupPrincipals lists the groups eligible for membership of a role
// group, whose members must be read.
func eligibleGroupPrincipals(st *identityState) []string {
	var out []string
	for _, ps := range st.groupEligible {
		for _, p := range ps {
			if p.group {
				out = append(out, p.id)
			}
		}
	}
	return out
}

// attachEligibility fills each role group's EligibleMemberIDs: eligible
// users, and the members of eligible groups. A role group whose members
// were not read has no entry to attach to; its source already says so.
func (st *identityState) attachEligibility(groups []posture.Group) {
	if st.groupEligible == nil {
		return
	}
	byID := make(map[string]int, len(groups))
	for i, g := range groups {
		byID[g.ID] = i
	}
	for gid, ps := range st.groupEligible {
		i, ok := byID[gid]
		if !ok {
			continue
		}
		var ids []string
		for _, p := range ps {
			if !p.group {
				ids = append(ids, p.id)
				continue
			}
			if j, ok := byID[p.id]; ok {
				ids = append(ids, groups[j].MemberIDs...)
			}
		}
		slices.Sort(ids)
		groups[i].EligibleMemberIDs = slices.Compact(ids)
	}
}

func fetchSubscribedSkus(ctx context.Context, r *reader, st *identityState) (int, error) {
	b := r.c.SDK().SubscribedSkus()
	cfg := &subscribedskus.SubscribedSkusRequestBuilderGetRequestConfiguration{
		QueryParameters: &subscribedskus.SubscribedSkusRequestBuilderGetQueryParameters{Select: skuSelect},
	}
	out := []posture.SubscribedSku{}
	err := listPages(ctx, r, "list subscribed SKUs",
		func(ctx context.Context) (models.SubscribedSkuCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (models.SubscribedSkuCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.SubscribedSkuCollectionResponseable) error {
			for _, s := range p.GetValue() {
				sku := posture.SubscribedSku{
					SkuPartNumber:    deref(s.GetSkuPartNumber()),
					CapabilityStatus: deref(s.GetCapabilityStatus()),
					ServicePlans:     []posture.ServicePlan{},
				}
				if id := s.GetSkuId(); id != nil {
					sku.SkuID = id.String()
				}
				for _, sp := range s.GetServicePlans() {
					sku.ServicePlans = append(sku.ServicePlans, posture.ServicePlan{
						ServicePlanName:    deref(sp.GetServicePlanName()),
						ProvisioningStatus: deref(sp.GetProvisioningStatus()),
						AppliesTo:          deref(sp.GetAppliesTo()),
					})
				}
				out = append(out, sku)
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.skus = out
	return len(out), nil
}
