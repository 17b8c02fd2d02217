package playbook

import (
	"fmt"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/settings"
)

// Decision is how one proposal starts: automatically (approved by a rule)
// or waiting for a person, and why.
type Decision struct {
	Auto   bool
	Reason string
	// Brake marks an automatic destructive action that still needs a slot
	// under the safety brake before it may run.
	Brake bool
}

// Decide applies the tenant's settings and protections to one proposal.
// The safety brake is applied after, by the engine, to decisions marked
// Brake: it needs the tenant's shared count.
func Decide(t settings.Tenant, p Proposal, protect Protection) Decision {
	if t.Mode(p.Type) == settings.Approval {
		return Decision{Reason: fmt.Sprintf("%s: %s waits for approval (%s)", modeSource(t, p.Type), p.Type, t.ResponsibilityModel)}
	}
	if !settings.IsDestructive(p.Type) {
		return Decision{Auto: true}
	}
	if k, _ := TraitOf(p.Type); k.OnAccount {
		if ok, why := protect.Protected(p.Target); ok {
			return Decision{Reason: "protected account: " + why}
		}
	}
	return Decision{Auto: true, Brake: true}
}

func modeSource(t settings.Tenant, actionType string) string {
	if _, ok := t.Actions[actionType]; ok {
		return "tenant setting"
	}
	return "responsibility model"
}

// Protection answers whether a user account is protected from automatic
// destructive actions: covered by an active exception (a break-glass
// account) or holding the Global Administrator role. An account whose
// roles cannot be read counts as protected: an unknown is never acted on
// automatically.
type Protection struct {
	Exceptions []controls.Exception
	// Identity is the latest identity snapshot's reduced directory; nil
	// when none was collected.
	Identity *posture.Identity
	Sources  posture.Sources
	At       time.Time
}

// Protected reports whether the user (object id or UPN) is protected, and why.
func (p Protection) Protected(user string) (bool, string) {
	id := user
	var dir *posture.Directory
	if p.Identity != nil {
		dir = posture.NewDirectory(p.Identity, p.Sources)
		for _, u := range p.Identity.Users {
			if equalFold(u.UserPrincipalName, user) || equalFold(u.ID, user) {
				id = u.ID
				break
			}
		}
	}
	f := posture.Finding{Kind: posture.FindingUser, ID: id, UserID: id}
	if dir != nil && IsObjectID(id) {
		f.Groups = dir.GroupsOf(id)
	}
	for _, e := range p.Exceptions {
		if e.StatusAt(p.At) == controls.ExceptionActive && e.Covers(f) {
			return true, fmt.Sprintf("%s is covered by active exception %s (%s), so it is never changed automatically", user, e.ID, Clip(e.Reason, 120))
		}
	}
	if dir == nil {
		return true, fmt.Sprintf("no identity snapshot yet, so whether %s holds the Global Administrator role is unknown", user)
	}
	switch dir.HasRole(id, posture.RoleGlobalAdmin) {
	case posture.Yes:
		return true, user + " holds the Global Administrator role; disabling an admin automatically could lock the tenant out"
	case posture.TriUnknown:
		return true, fmt.Sprintf("role assignments could not be read, so whether %s holds the Global Administrator role is unknown", user)
	}
	return false, ""
}

// NewAction builds the action a decided proposal becomes.
func NewAction(in incident.Incident, p Proposal, d Decision, now time.Time) incident.Action {
	key := p.Key(in.ID)
	k, _ := TraitOf(p.Type)
	a := incident.Action{ID: ActionID(key), Type: p.Type, Target: p.Target, TargetUser: p.TargetUser,
		IdempotencyKey: key, Playbook: p.Playbook, ProposedAt: now, Reversible: k.UndoType != ""}
	if d.Auto {
		at := now
		a.Status, a.DecidedAt = incident.ActionApproved, &at
		a.DecidedBy = &incident.Decider{Kind: incident.DeciderRule, Name: "playbook " + p.Playbook + ": " + p.Type + " is automatic"}
		return a
	}
	a.Status, a.RequiresApproval, a.Reason = incident.ActionProposed, true, d.Reason
	return a
}

// Clip shortens s to n bytes for messages.
func Clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func equalFold(a, b string) bool { return a != "" && strings.EqualFold(a, b) }
