package controls

import (
	"fmt"
	"sort"
	"strings"

	"m365security/shared/posture"
)

// PhishingResistantStrength is the built-in "Phishing-resistant MFA"
// authentication strength.
const PhishingResistantStrength = posture.StrengthPhishingResistant

var has = posture.ContainsFold

// allApps: every cloud app with none excluded; a policy that skips apps
// leaves them open.
func allApps(p posture.CAPolicy) bool {
	return has(p.IncludeApplications, "All") && len(p.ExcludeApplications) == 0
}

func blocks(p posture.CAPolicy) bool { return has(p.BuiltInControls, "block") }

func allUsers(p posture.CAPolicy) bool { return has(p.IncludeUsers, "All") }

// noRisk: the policy applies whatever the user or sign-in risk.
func noRisk(p posture.CAPolicy) bool {
	return len(p.SignInRiskLevels) == 0 && len(p.UserRiskLevels) == 0
}

// policyRule evaluates a SCuBA control that a Conditional Access policy
// satisfies. match answers whether a policy does what the control asks
// (ignoring state and exclusions); TriUnknown when that depends on data that
// could not be read (an authentication strength's combinations). coverRoles,
// when set, requires the matching policies together to include these roles
// instead of all users. A control passes when enabled matching policies
// cover it without exclusions; the exclusions of the policies that provide
// the coverage become findings, which exceptions may cover. Report-only
// matches are evidence, never a pass.
type policyRule struct {
	match      func(p posture.CAPolicy, id *posture.Identity) posture.Tri
	coverRoles []string
	what       string // "blocks legacy authentication" — for findings text
}

func (r policyRule) eval(in Input) Outcome {
	o := r.evalAccepting(in, false)
	if o.Status == Pass {
		return o
	}
	// Undecided policies are counted only to ask whether they could make
	// the control pass: if they could, the verdict is unknown, not a fail
	// (and then at least one policy is undecided).
	if r.evalAccepting(in, true).Status == Pass {
		o.Status, o.Findings = Unknown, posture.FindingList{}
		o.Reason = fmt.Sprintf("whether %s %s depends on %s, whose allowed combinations could not be read or hold a method this product does not know",
			strings.Join(r.undecided(in), ", "), r.what, "its authentication strength")
		if missing := in.Snapshot(posture.AreaIdentity).Sources.Missing(posture.SrcAuthStrengths); len(missing) > 0 {
			o.Reason += ": " + strings.Join(missing, "; ")
		}
	}
	return o
}

// qualifies: a policy of the right shape for the control (all apps, no
// narrowing condition, all users unless roles are the target).
func (r policyRule) qualifies(p posture.CAPolicy) bool {
	return allApps(p) && p.Unconditioned() && (r.coverRoles != nil || allUsers(p))
}

// undecided names the enabled policies whose match is TriUnknown.
func (r policyRule) undecided(in Input) []string {
	id := in.Snapshot(posture.AreaIdentity).Identity
	var out []string
	for _, p := range id.Policies {
		if p.State == posture.PolicyEnabled && r.qualifies(p) && r.match(p, id) == posture.TriUnknown {
			label := fmt.Sprintf("policy %q", p.DisplayName)
			if p.AuthStrengthID != "" {
				label += fmt.Sprintf(" (authentication strength %q)", strengthLabel(p))
			}
			out = append(out, label)
		}
	}
	return out
}

func strengthLabel(p posture.CAPolicy) string {
	if p.AuthStrengthName != "" {
		return p.AuthStrengthName
	}
	return p.AuthStrengthID
}

// evalAccepting evaluates the control counting matches that are Yes, and
// TriUnknown ones too when acceptMaybe is set.
func (r policyRule) evalAccepting(in Input, acceptMaybe bool) Outcome {
	id := in.Snapshot(posture.AreaIdentity).Identity
	var enabled, reportOnly, disabled []posture.CAPolicy
	for _, p := range id.Policies {
		m := r.match(p, id)
		if !(m == posture.Yes || (acceptMaybe && m == posture.TriUnknown)) || !r.qualifies(p) {
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
	var providers []posture.CAPolicy
	if r.coverRoles != nil {
		providers = r.roleProviders(enabled, &out)
		ev["coveringPolicies"] = policyNames(providers)
	} else {
		// The policy with the fewest exclusions is the one that best
		// satisfies the control; its exclusions are what remains to accept
		// or fix.
		best := fewestExclusions(enabled)
		providers = []posture.CAPolicy{best}
		ev["bestPolicy"] = best.DisplayName
	}
	names := principalNames(id)
	for _, p := range providers {
		addExclusions(&out.Findings, p, id, names)
	}
	if out.Findings.Total == 0 {
		out.Status = Pass
	} else {
		out.Status = Fail
	}
	return out
}

// roleProviders picks, for each role, the enabled policy with the fewest
// exclusions among those that include it: these policies provide the
// coverage, so their exclusions (and only theirs) are what leaves a role
// holder unprotected. A role no policy includes is a finding.
func (r policyRule) roleProviders(enabled []posture.CAPolicy, out *Outcome) []posture.CAPolicy {
	var providers []posture.CAPolicy
	chosen := map[string]bool{}
	for _, role := range r.coverRoles {
		var covering []posture.CAPolicy
		for _, p := range enabled {
			if has(p.IncludeRoles, role) || allUsers(p) {
				covering = append(covering, p)
			}
		}
		if len(covering) == 0 {
			out.Findings.Add(posture.Finding{Kind: posture.FindingRole, ID: role, Name: posture.RoleName(role),
				Detail: fmt.Sprintf("role %s is not included in any enabled policy that %s", posture.RoleName(role), r.what)})
			continue
		}
		best := fewestExclusions(covering)
		if !chosen[best.ID] {
			chosen[best.ID] = true
			providers = append(providers, best)
		}
	}
	return providers
}

// fewestExclusions returns the first policy with the fewest exclusions.
func fewestExclusions(ps []posture.CAPolicy) posture.CAPolicy {
	best := ps[0]
	for _, p := range ps[1:] {
		if exclusionCount(p) < exclusionCount(best) {
			best = p
		}
	}
	return best
}

// addExclusions lists a providing policy's exclusions as findings. Excluding
// guests and external users is a finding for role-targeted policies too: a
// guest can hold a privileged role.
func addExclusions(l *posture.FindingList, p posture.CAPolicy, id *posture.Identity, names map[string]string) {
	for _, u := range p.ExcludeUsers {
		if strings.EqualFold(u, "GuestsOrExternalUsers") {
			continue
		}
		l.Add(posture.Finding{Kind: posture.FindingUser, ID: u, UserID: u, Name: names[strings.ToLower(u)],
			Detail: fmt.Sprintf("user excluded from %q", p.DisplayName)})
	}
	for _, g := range p.ExcludeGroups {
		l.Add(posture.Finding{Kind: posture.FindingGroup, ID: g, Name: groupName(id, g),
			Detail: fmt.Sprintf("group excluded from %q", p.DisplayName), Groups: []string{strings.ToLower(g)}})
	}
	for _, role := range p.ExcludeRoles {
		l.Add(posture.Finding{Kind: posture.FindingRole, ID: role, Name: posture.RoleName(role),
			Detail: fmt.Sprintf("role holders excluded from %q", p.DisplayName)})
	}
	if p.ExcludeGuests {
		l.Add(posture.Finding{Kind: posture.FindingTenant, Detail: fmt.Sprintf("guests and external users excluded from %q", p.DisplayName)})
	}
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
