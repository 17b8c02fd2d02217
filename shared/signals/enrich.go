package signals

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
)

// Known is what the latest snapshots at a moment say about an incident's
// subjects: the reading Enrich turns into each subject's posture. Any part
// may be missing (never collected, or not yet); the subjects then say
// unknown with the reason.
type Known struct {
	// Identity is the latest identity snapshot (roles, risky users,
	// policies); nil when none.
	Identity *posture.Snapshot
	// Users are the per-user MFA states of the identity snapshot for the
	// incident's users.
	Users []posture.UserMFA
	// Devices is the latest devices snapshot; nil when none.
	Devices *posture.Snapshot
	// Exceptions are the tenant's exceptions; those active at At count.
	Exceptions []controls.Exception
	At         time.Time
}

// Enrich returns the posture of each of the entities' users and devices.
// A user named by both id and UPN is one subject.
func Enrich(e incident.Entities, k Known) []incident.SubjectPosture {
	var out []incident.SubjectPosture
	seen := map[string]bool{}
	add := func(ids []string, read func(string, Known) incident.SubjectPosture) {
		for _, id := range ids {
			p := read(id, k)
			key := p.Kind + ":" + strings.ToLower(firstNonEmpty(p.ObjectID, id))
			if !seen[key] {
				seen[key] = true
				out = append(out, p)
			}
		}
	}
	add(e.Users, userPosture)
	add(e.Devices, devicePosture)
	return out
}

func userPosture(id string, k Known) incident.SubjectPosture {
	p := incident.SubjectPosture{Kind: "user", ID: id}
	if k.Identity == nil {
		p.MFARegistered, p.MFAEnforced = unknown, unknown
		p.Reason = "no identity snapshot had been taken when the incident opened"
		return p
	}
	p.SnapshotID, p.AsOf = k.Identity.ID, k.Identity.TakenAt
	i := slices.IndexFunc(k.Users, func(u posture.UserMFA) bool {
		return strings.EqualFold(u.ID, id) || strings.EqualFold(u.UserPrincipalName, id)
	})
	if i < 0 {
		p.MFARegistered, p.MFAEnforced = unknown, unknown
		p.Reason = "the user is not in the identity snapshot (outside the member population, or created since)"
		p.AdminRoles = roles(k.Identity.Identity, id)
		return p
	}
	u := k.Users[i]
	p.Found, p.ObjectID, p.DisplayName = true, u.ID, u.DisplayName
	if p.ID == "" || strings.EqualFold(p.ID, u.ID) {
		p.ID = firstNonEmpty(u.UserPrincipalName, u.ID)
	}
	p.MFARegistered, p.MFAEnforced = string(u.Registered), string(u.Enforced)
	p.EnforcedBy = policyNames(k.Identity.Identity, u.EnforcedBy)
	for _, x := range u.ExcludedBy {
		p.ExcludedBy = append(p.ExcludedBy, firstNonEmpty(x.PolicyName, x.PolicyID)+" (via "+x.Via+")")
	}
	if u.Protected != posture.Yes {
		p.Reason = u.Reason
	}
	p.AdminRoles = roles(k.Identity.Identity, u.ID)
	if id := k.Identity.Identity; id != nil {
		for _, r := range id.RiskyUsers {
			if strings.EqualFold(r.ID, u.ID) {
				p.RiskLevel, p.RiskState = r.RiskLevel, r.RiskState
			}
		}
	}
	f := posture.Finding{Kind: posture.FindingUser, ID: u.ID, UserID: u.ID, Groups: u.Groups}
	for _, x := range k.Exceptions {
		if x.StatusAt(k.At) == controls.ExceptionActive && x.Covers(f) {
			p.Exceptions = append(p.Exceptions, fmt.Sprintf("%s: %s (until %s)", x.ControlID, x.Reason, x.ExpiresAt.UTC().Format("2006-01-02")))
		}
	}
	return p
}

const unknown = string(posture.TriUnknown)

// roles names the directory roles a principal holds, eligible ones marked.
func roles(id *posture.Identity, principal string) []string {
	if id == nil {
		return nil
	}
	names := map[string]string{}
	for _, d := range id.RoleDefinitions {
		names[strings.ToLower(d.ID)] = d.DisplayName
		names[strings.ToLower(d.TemplateID)] = d.DisplayName
	}
	var out []string
	for _, a := range id.RoleAssignments {
		if !strings.EqualFold(a.PrincipalID, principal) {
			continue
		}
		n := firstNonEmpty(names[strings.ToLower(a.RoleDefinitionID)], a.RoleDefinitionID)
		if a.Kind == "eligible" {
			n += " (eligible)"
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func policyNames(id *posture.Identity, ids []string) []string {
	var out []string
	for _, pid := range ids {
		name := pid
		if pid == posture.SecurityDefaults {
			name = "security defaults"
		} else if id != nil {
			for _, p := range id.Policies {
				if p.ID == pid && p.DisplayName != "" {
					name = p.DisplayName
				}
			}
		}
		out = append(out, name)
	}
	return out
}

// devicePosture reads the device snapshot's finding lists: a device in the
// non-compliant or unprotected list is that; one in none of them is
// compliant and protected only when the lists are complete (not capped).
func devicePosture(id string, k Known) incident.SubjectPosture {
	p := incident.SubjectPosture{Kind: "device", ID: id}
	if k.Devices == nil {
		p.Compliance, p.Protection = unknown, unknown
		p.Reason = "no devices snapshot had been taken when the incident opened"
		return p
	}
	p.SnapshotID, p.AsOf = k.Devices.ID, k.Devices.TakenAt
	match := func(list string) (posture.Finding, bool, bool) {
		l, ok := k.Devices.Findings[list]
		if !ok {
			return posture.Finding{}, false, false
		}
		for _, f := range l.Items {
			if sameDevice(f, id) {
				return f, true, true
			}
		}
		return posture.Finding{}, false, l.Total == len(l.Items)
	}
	var reasons []string
	if f, in, complete := match(posture.ListNoncompliantDevice); in {
		p.Found, p.ObjectID, p.DisplayName, p.Compliance = true, f.ID, f.Name, "noncompliant"
		reasons = append(reasons, f.Detail)
	} else if complete {
		p.Compliance = "compliant or not managed"
	} else {
		p.Compliance = unknown
		reasons = append(reasons, "the non-compliant list is capped and does not name the device")
	}
	if f, in, _ := match(posture.ListUnmeasuredDevices); in {
		p.Found, p.ObjectID, p.DisplayName, p.Protection = true, f.ID, f.Name, unknown
		reasons = append(reasons, f.Detail)
	} else if f, in, complete := match(posture.ListUnprotectedDevices); in {
		p.Found, p.ObjectID, p.DisplayName, p.Protection = true, f.ID, f.Name, "not protected"
		reasons = append(reasons, f.Detail)
	} else if complete {
		p.Protection = "protected or not managed"
	} else {
		p.Protection = unknown
		reasons = append(reasons, "the unprotected list is capped and does not name the device")
	}
	p.Reason = strings.Join(slices.DeleteFunc(reasons, func(s string) bool { return s == "" }), "; ")
	return p
}

// sameDevice matches a finding to an alert's device: by id, by name, or by
// the first label of a DNS name (alerts name devices by DNS name, Intune by
// device name).
func sameDevice(f posture.Finding, id string) bool {
	host, _, _ := strings.Cut(id, ".")
	return strings.EqualFold(f.ID, id) || strings.EqualFold(f.Name, id) || (host != "" && strings.EqualFold(f.Name, host))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
