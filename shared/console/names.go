package console

import (
	"sort"
	"strings"

	"m365security/shared/posture"
)

// Names resolves the ids in findings, policies and exceptions to the names
// people know them by, from the latest identity snapshot and user states.
// An id it cannot resolve is shown as it is, marked so.
type Names struct {
	users    map[string]string
	groups   map[string]string
	policies map[string]string
}

// NamesFrom indexes an identity snapshot (nil when never collected) and the
// per-user MFA states.
func NamesFrom(id *posture.Identity, users []posture.UserMFA) Names {
	n := Names{users: map[string]string{}, groups: map[string]string{}, policies: map[string]string{}}
	if id != nil {
		for _, u := range id.Users {
			n.users[strings.ToLower(u.ID)] = userLabel(u.DisplayName, u.UserPrincipalName)
		}
		for _, g := range id.Groups {
			n.groups[strings.ToLower(g.ID)] = g.DisplayName
		}
		for _, p := range id.Policies {
			n.policies[strings.ToLower(p.ID)] = p.DisplayName
		}
	}
	for _, u := range users {
		n.users[strings.ToLower(u.ID)] = userLabel(u.DisplayName, u.UserPrincipalName)
	}
	return n
}

func userLabel(display, upn string) string {
	if upn == "" {
		return display
	}
	if display == "" {
		return upn
	}
	return display + " (" + upn + ")"
}

func lookup(m map[string]string, id string) string {
	if v := m[strings.ToLower(id)]; v != "" {
		return v
	}
	return "unresolved id " + id
}

// User names a user id.
func (n Names) User(id string) string { return lookup(n.users, id) }

// Group names a group id.
func (n Names) Group(id string) string { return lookup(n.groups, id) }

// Policy names a Conditional Access policy id, or security defaults.
func (n Names) Policy(id string) string {
	if id == posture.SecurityDefaults {
		return "Security defaults"
	}
	return lookup(n.policies, id)
}

// Via words how an exclusion reaches a user ("user", "group:<id>",
// "role:<templateId>", "guests").
func (n Names) Via(via string) string {
	kind, id, _ := strings.Cut(via, ":")
	switch kind {
	case "user":
		return "excluded by name"
	case "group":
		return "excluded as a member of group " + n.Group(id)
	case "role":
		return "excluded as holder of role " + posture.RoleName(id)
	case "guests":
		return "excluded as a guest or external user"
	}
	return via
}

// Finding names a finding's subject: its own name when the rule gave one,
// else the id resolved by kind.
func (n Names) Finding(f posture.Finding) string {
	if f.Name != "" {
		return f.Name
	}
	switch f.Kind {
	case posture.FindingUser:
		return n.User(f.ID)
	case posture.FindingGroup:
		return n.Group(f.ID)
	case posture.FindingPolicy:
		return n.Policy(f.ID)
	case posture.FindingRole:
		return posture.RoleName(f.ID)
	}
	return f.ID
}

// Option is one entry of a pick list: the id sent, the name shown.
type Option struct {
	ID   string
	Name string
}

// UserOptions lists the known users by name, for the exception form.
func (n Names) UserOptions() []Option { return options(n.users) }

// GroupOptions lists the known groups by name, for the exception form.
func (n Names) GroupOptions() []Option { return options(n.groups) }

func options(m map[string]string) []Option {
	out := make([]Option, 0, len(m))
	for id, name := range m {
		if name == "" {
			name = id
		}
		out = append(out, Option{ID: id, Name: name})
	}
	sortOptions(out)
	return out
}

func sortOptions(o []Option) {
	sort.Slice(o, func(i, j int) bool {
		if o[i].Name != o[j].Name {
			return o[i].Name < o[j].Name
		}
		return o[i].ID < o[j].ID
	})
}
