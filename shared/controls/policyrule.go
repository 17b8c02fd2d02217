package controls

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"m365security/shared/posture"
)

// PhishingResistantStrength is the built-in "Phishing-resistant MFA"
// authentication strength.
const PhishingResistantStrength = "00000000-0000-0000-0000-000000000004"

var phishingResistantMethods = []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}

// isPhishingResistant: the built-in strength, or a custom strength whose
// every allowed combination is phishing-resistant.
func isPhishingResistant(p posture.CAPolicy) bool {
	if strings.EqualFold(p.AuthStrengthID, PhishingResistantStrength) {
		return true
	}
	if p.AuthStrengthID == "" || len(p.AuthStrengthCombo) == 0 {
		return false
	}
	for _, c := range p.AuthStrengthCombo {
		if !slices.Contains(phishingResistantMethods, c) {
			return false
		}
	}
	return true
}

var has = posture.ContainsFold

// allApps: every cloud app with none excluded; a policy that skips apps
// leaves them open.
func allApps(p posture.CAPolicy) bool {
	return has(p.IncludeApplications, "All") && len(p.ExcludeApplications) == 0
}

// unconditioned: no location, platform or device condition narrows it.
func unconditioned(p posture.CAPolicy) bool {
	return len(p.IncludeLocations) == 0 && len(p.ExcludeLocations) == 0 &&
		len(p.IncludePlatforms) == 0 && len(p.ExcludePlatforms) == 0 && !p.HasDeviceFilter
}

func blocks(p posture.CAPolicy) bool { return has(p.BuiltInControls, "block") }

func allUsers(p posture.CAPolicy) bool { return has(p.IncludeUsers, "All") }

// policyRule evaluates a SCuBA control that a Conditional Access policy
// satisfies. match selects policies that do what the control asks (ignoring
// state and exclusions); coverRoles, when set, requires the matching policies
// together to include these roles instead of all users. A control passes when
// an enabled matching policy has no exclusions; exclusions become findings,
// which exceptions may cover. Report-only matches are evidence, never a pass.
type policyRule struct {
	match      func(posture.CAPolicy) bool
	coverRoles []string
	what       string // "blocks legacy authentication" — for findings text
}

func (r policyRule) eval(in Input) Outcome {
	id := in.Snapshot(posture.AreaIdentity).Identity
	names := principalNames(id)
	var enabled, reportOnly, disabled []posture.CAPolicy
	for _, p := range id.Policies {
		if !r.match(p) || !allApps(p) || !unconditioned(p) {
			continue
		}
		if r.coverRoles == nil && !allUsers(p) {
			continue
		}
		switch p.State {
		case posture.PolicyEnabled:
			enabled = append(enabled, p)
		case posture.PolicyReportOnly:
			reportOnly = append(reportOnly, p)
		default:
			disabled = append(disabled, p)
		}
	}
	ev := map[string]any{
		"enabledPolicies":    policyNames(enabled),
		"reportOnlyPolicies": policyNames(reportOnly),
		"disabledPolicies":   policyNames(disabled),
	}
	out := Outcome{Evidence: ev}
	if len(enabled) == 0 {
		detail := "no enabled Conditional Access policy " + r.what
		if len(reportOnly) > 0 {
			detail += fmt.Sprintf("; %d matching policy is report-only and enforces nothing", len(reportOnly))
		}
		out.Status = Fail
		out.Findings.Add(posture.Finding{Kind: posture.FindingTenant, Detail: detail})
		return out
	}
	if r.coverRoles != nil {
		var missing []string
		for _, role := range r.coverRoles {
			covered := false
			for _, p := range enabled {
				if has(p.IncludeRoles, role) || allUsers(p) {
					covered = true
				}
			}
			if !covered {
				missing = append(missing, role)
			}
		}
		for _, role := range missing {
			out.Findings.Add(posture.Finding{Kind: posture.FindingRole, ID: role, Name: posture.RoleName(role),
				Detail: fmt.Sprintf("role %s is not included in any enabled policy that %s", posture.RoleName(role), r.what)})
		}
	}
	// The policy with the fewest exclusions is the one that best satisfies
	// the control; its exclusions are what remains to accept or fix.
	best := enabled[0]
	for _, p := range enabled[1:] {
		if exclusionCount(p) < exclusionCount(best) {
			best = p
		}
	}
	ev["bestPolicy"] = best.DisplayName
	for _, u := range best.ExcludeUsers {
		if strings.EqualFold(u, "GuestsOrExternalUsers") {
			continue
		}
		out.Findings.Add(posture.Finding{Kind: posture.FindingUser, ID: u, UserID: u, Name: names[strings.ToLower(u)],
			Detail: fmt.Sprintf("user excluded from %q", best.DisplayName)})
	}
	for _, g := range best.ExcludeGroups {
		out.Findings.Add(posture.Finding{Kind: posture.FindingGroup, ID: g, Name: groupName(id, g),
			Detail: fmt.Sprintf("group excluded from %q", best.DisplayName), Groups: []string{strings.ToLower(g)}})
	}
	for _, role := range best.ExcludeRoles {
		out.Findings.Add(posture.Finding{Kind: posture.FindingRole, ID: role, Name: posture.RoleName(role),
			Detail: fmt.Sprintf("role holders excluded from %q", best.DisplayName)})
	}
	if best.ExcludeGuests && r.coverRoles == nil {
		out.Findings.Add(posture.Finding{Kind: posture.FindingTenant, Detail: fmt.Sprintf("guests and external users excluded from %q", best.DisplayName)})
	}
	if out.Findings.Total == 0 {
		out.Status = Pass
	} else {
		out.Status = Fail
	}
	return out
}

func exclusionCount(p posture.CAPolicy) int {
	n := len(p.ExcludeUsers) + len(p.ExcludeGroups) + len(p.ExcludeRoles)
	if p.ExcludeGuests {
		n++
	}
	return n
}

func policyNames(ps []posture.CAPolicy) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.DisplayName)
	}
	sort.Strings(out)
	return out
}

// principalNames maps the stored (reduced) users' ids to a display label.
func principalNames(id *posture.Identity) map[string]string {
	m := make(map[string]string, len(id.Users))
	for _, u := range id.Users {
		label := u.UserPrincipalName
		if label == "" {
			label = u.DisplayName
		}
		m[strings.ToLower(u.ID)] = label
	}
	return m
}

func groupName(id *posture.Identity, gid string) string {
	for _, g := range id.Groups {
		if strings.EqualFold(g.ID, gid) {
			return g.DisplayName
		}
	}
	return ""
}
