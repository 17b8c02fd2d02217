package metrics

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"m365security/shared/posture"
)

// MFA is the outcome of evaluating MFA for a tenant: the per-user states and
// the four identity metrics.
type MFA struct {
	Users   []posture.UserMFA
	Metrics map[string]posture.Metric
}

// EnforcesMFA answers whether a Conditional Access policy counts as
// enforcing MFA under CONTRACT section 5: enabled (report-only does not
// enforce), all applications, a grant requiring MFA (an authentication
// strength only when every combination it admits is multifactor), all client
// app types, and no condition that narrows when it applies. TriUnknown when the
// policy's authentication strength could not be read.
func EnforcesMFA(p posture.CAPolicy, id *posture.Identity) posture.Tri {
	if p.State != posture.PolicyEnabled || !posture.ContainsFold(p.IncludeApplications, "All") ||
		!p.AllClientApps() || !p.Unconditioned() || len(p.SignInRiskLevels) > 0 || len(p.UserRiskLevels) > 0 {
		return posture.No
	}
	return id.RequiresMFA(p)
}

// Scope answers whether a policy applies to a user, with the exclusions that
// matched. Population users are members, so guest targeting never matches.
func Scope(p posture.CAPolicy, userID string, dir *posture.Directory) (applies posture.Tri, excluded []posture.Exclusion) {
	include := posture.TriOf(posture.ContainsFold(p.IncludeUsers, "All") || posture.ContainsFold(p.IncludeUsers, userID))
	for _, g := range p.IncludeGroups {
		include = include.Or(dir.InGroup(userID, g))
	}
	for _, r := range p.IncludeRoles {
		include = include.Or(dir.HasRole(userID, r))
	}
	if include == posture.No {
		return posture.No, nil
	}
	exclude := posture.TriOf(posture.ContainsFold(p.ExcludeUsers, userID))
	if exclude == posture.Yes {
		excluded = append(excluded, posture.Exclusion{PolicyID: p.ID, PolicyName: p.DisplayName, Via: "user"})
	}
	for _, g := range p.ExcludeGroups {
		in := dir.InGroup(userID, g)
		if in == posture.Yes {
			excluded = append(excluded, posture.Exclusion{PolicyID: p.ID, PolicyName: p.DisplayName, Via: "group:" + strings.ToLower(g)})
		}
		exclude = exclude.Or(in)
	}
	for _, r := range p.ExcludeRoles {
		in := dir.HasRole(userID, r)
		if in == posture.Yes {
			excluded = append(excluded, posture.Exclusion{PolicyID: p.ID, PolicyName: p.DisplayName, Via: "role:" + strings.ToLower(r)})
		}
		exclude = exclude.Or(in)
	}
	return include.And(exclude.Not()), excluded
}

// EvaluateMFA computes every population user's MFA state and the identity
// metrics. Unknown inputs propagate: a user whose enforcement cannot be
// decided makes mfaEnforcement and mfaCoverage unknown.
func EvaluateMFA(id *posture.Identity, src posture.Sources, dir *posture.Directory, asOf time.Time) MFA {
	out := MFA{Metrics: map[string]posture.Metric{}}
	if missing := src.Missing(posture.SrcUsers); len(missing) > 0 {
		reason := "users could not be read: " + strings.Join(missing, "; ")
		for _, m := range posture.AreaMetrics[posture.AreaIdentity] {
			out.Metrics[m] = posture.UnknownMetric(posture.UnitRatio, reason, asOf)
		}
		return out
	}
	regMissing := src.Missing(posture.SrcRegistrationDetails)
	caMissing := src.Missing(posture.SrcConditionalAccess)

	sd := posture.TriUnknown
	if id.SecurityDefaultsEnabled != nil {
		sd = posture.TriOf(*id.SecurityDefaultsEnabled)
	}
	var enforcing []posture.CAPolicy
	var enforces []posture.Tri
	var unreadStrengths []string
	for _, p := range id.Policies {
		if e := EnforcesMFA(p, id); e != posture.No {
			enforcing, enforces = append(enforcing, p), append(enforces, e)
			if e == posture.TriUnknown {
				unreadStrengths = append(unreadStrengths, fmt.Sprintf("authentication strength %q of policy %q could not be read", strengthLabel(p), p.DisplayName))
			}
		}
	}

	var undecidedEnforcement []string
	for _, u := range id.Users {
		if !u.IsMember() {
			continue
		}
		s := posture.UserMFA{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName}
		switch {
		case len(regMissing) > 0:
			s.Registered = posture.TriUnknown
		case u.Registration == nil:
			s.Registered, s.MissingFromReport = posture.No, true
		default:
			s.Registered = posture.TriOf(u.Registration.IsMfaRegistered)
			s.IsAdmin = u.Registration.IsAdmin
		}
		s.Enforced = sd
		if sd == posture.Yes {
			s.EnforcedBy = append(s.EnforcedBy, posture.SecurityDefaults)
		}
		if len(caMissing) > 0 {
			s.Enforced = s.Enforced.Or(posture.TriUnknown)
		} else {
			for i, p := range enforcing {
				applies, excl := Scope(p, u.ID, dir)
				applies = applies.And(enforces[i])
				if applies == posture.Yes {
					s.EnforcedBy = append(s.EnforcedBy, p.ID)
				}
				s.ExcludedBy = append(s.ExcludedBy, excl...)
				s.Enforced = s.Enforced.Or(applies)
			}
		}
		s.Protected = s.Registered.And(s.Enforced)
		s.Reason = reasonFor(s, sd, len(enforcing), dir)
		if s.Enforced == posture.TriUnknown {
			undecidedEnforcement = append(undecidedEnforcement, u.ID)
		}
		s.Groups = dir.GroupsOf(u.ID)
		sort.Strings(s.Groups)
		out.Users = append(out.Users, s)
	}

	var registered, enforced, protected, admins, adminsProtected int
	for _, s := range out.Users {
		registered += count(s.Registered)
		enforced += count(s.Enforced)
		protected += count(s.Protected)
		if s.IsAdmin {
			admins++
			adminsProtected += count(s.Protected)
		}
	}
	pop := len(out.Users)
	const noPop = "no enabled member users"
	enfReason := enforcementReason(sd, caMissing, undecidedEnforcement, src, unreadStrengths)

	if len(regMissing) > 0 {
		out.Metrics[posture.MetricMFARegistration] = posture.UnknownMetric(posture.UnitRatio, "registration details could not be read: "+strings.Join(regMissing, "; "), asOf)
	} else {
		out.Metrics[posture.MetricMFARegistration] = posture.Ratio(registered, pop, asOf, noPop)
	}
	if enfReason != "" {
		out.Metrics[posture.MetricMFAEnforcement] = posture.UnknownMetric(posture.UnitRatio, enfReason, asOf)
	} else {
		out.Metrics[posture.MetricMFAEnforcement] = posture.Ratio(enforced, pop, asOf, noPop)
	}
	switch {
	case len(regMissing) > 0:
		out.Metrics[posture.MetricMFACoverage] = posture.UnknownMetric(posture.UnitRatio, "registration details could not be read: "+strings.Join(regMissing, "; "), asOf)
		out.Metrics[posture.MetricAdminMFACoverage] = out.Metrics[posture.MetricMFACoverage]
	case enfReason != "":
		out.Metrics[posture.MetricMFACoverage] = posture.UnknownMetric(posture.UnitRatio, enfReason, asOf)
		out.Metrics[posture.MetricAdminMFACoverage] = posture.UnknownMetric(posture.UnitRatio, enfReason, asOf)
	default:
		out.Metrics[posture.MetricMFACoverage] = posture.Ratio(protected, pop, asOf, noPop)
		out.Metrics[posture.MetricAdminMFACoverage] = posture.Ratio(adminsProtected, admins, asOf, "no enabled member users are admins in the registration report")
	}
	return out
}

func enforcementReason(sd posture.Tri, caMissing, undecided []string, src posture.Sources, unreadStrengths []string) string {
	if len(undecided) == 0 {
		return ""
	}
	var why []string
	if sd == posture.TriUnknown {
		why = append(why, src.Missing(posture.SrcSecurityDefaults)...)
	}
	why = append(why, caMissing...)
	why = append(why, unreadStrengths...)
	if len(unreadStrengths) > 0 {
		why = append(why, src.Missing(posture.SrcAuthStrengths)...)
	}
	why = append(why, src.Missing(posture.SrcGroupMembers, posture.SrcRoleAssignments)...)
	if len(why) == 0 {
		why = append(why, "group membership or role data incomplete")
	}
	return fmt.Sprintf("MFA enforcement unknown for %d users: %s", len(undecided), strings.Join(why, "; "))
}

// strengthLabel names a policy's authentication strength for people.
func strengthLabel(p posture.CAPolicy) string {
	if p.AuthStrengthName != "" {
		return p.AuthStrengthName
	}
	return p.AuthStrengthID
}

func reasonFor(s posture.UserMFA, sd posture.Tri, enforcing int, dir *posture.Directory) string {
	if s.Protected == posture.Yes {
		return ""
	}
	var parts []string
	switch {
	case s.MissingFromReport:
		parts = append(parts, "absent from the MFA registration report")
	case s.Registered == posture.No:
		parts = append(parts, "not registered for MFA")
	case s.Registered == posture.TriUnknown:
		parts = append(parts, "MFA registration unknown")
	}
	switch s.Enforced {
	case posture.No:
		if len(s.ExcludedBy) > 0 {
			for _, e := range s.ExcludedBy {
				parts = append(parts, fmt.Sprintf("excluded from %q %s", e.PolicyName, describeVia(e.Via, dir)))
			}
		} else if enforcing == 0 {
			parts = append(parts, "no enabled Conditional Access policy requires MFA for all apps and security defaults are off")
		} else {
			parts = append(parts, "not in scope of any enabled policy that requires MFA")
		}
	case posture.TriUnknown:
		parts = append(parts, "MFA enforcement unknown")
	}
	return strings.Join(parts, "; ")
}

func describeVia(via string, dir *posture.Directory) string {
	switch {
	case via == "user":
		return "directly"
	case strings.HasPrefix(via, "group:"):
		id := strings.TrimPrefix(via, "group:")
		if n := dir.GroupName(id); n != "" {
			return fmt.Sprintf("through group %q", n)
		}
		return "through group " + id
	case strings.HasPrefix(via, "role:"):
		return "through role " + posture.RoleName(strings.TrimPrefix(via, "role:"))
	}
	return via
}

func count(t posture.Tri) int {
	if t == posture.Yes {
		return 1
	}
	return 0
}
