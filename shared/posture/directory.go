package posture

import "strings"

// Directory indexes an Identity for membership questions asked once per user
// and policy: group membership is a bitset per group over a user index, so
// 100k users and 200 groups cost a few MB, not a map per user.
type Directory struct {
	userIdx map[string]int
	groups  map[string]*groupBits
	// roles maps a user id to the role template ids it holds actively.
	roles map[string][]string
	// groupRoles maps a group id to role template ids assigned to the group.
	groupRoles map[string][]string
	// rolesKnown is false when role assignments were not collected.
	rolesKnown bool
}

type groupBits struct {
	name     string
	bits     []uint64
	complete bool
}

// NewDirectory indexes id. Sources decide what is known: a failed source
// makes the answers that depend on it TriUnknown.
func NewDirectory(id *Identity, src Sources) *Directory {
	d := &Directory{userIdx: make(map[string]int, len(id.Users)), groups: map[string]*groupBits{},
		roles: map[string][]string{}, groupRoles: map[string][]string{}}
	for i, u := range id.Users {
		d.userIdx[strings.ToLower(u.ID)] = i
	}
	words := (len(id.Users) + 63) / 64
	for _, g := range id.Groups {
		gb := &groupBits{name: g.DisplayName, bits: make([]uint64, words), complete: g.Complete}
		for _, m := range g.MemberIDs {
			if i, ok := d.userIdx[strings.ToLower(m)]; ok {
				gb.bits[i/64] |= 1 << (i % 64)
			}
		}
		d.groups[strings.ToLower(g.ID)] = gb
	}
	ra, raOK := src.Get(SrcRoleAssignments)
	d.rolesKnown = raOK && ra.OK()
	template := map[string]string{}
	for _, rd := range id.RoleDefinitions {
		if rd.TemplateID != "" {
			template[strings.ToLower(rd.ID)] = strings.ToLower(rd.TemplateID)
		}
	}
	for _, a := range id.RoleAssignments {
		if a.Kind != AssignmentActive {
			continue
		}
		role := strings.ToLower(a.RoleDefinitionID)
		if t, ok := template[role]; ok {
			role = t
		}
		p := strings.ToLower(a.PrincipalID)
		if _, isUser := d.userIdx[p]; isUser {
			d.roles[p] = append(d.roles[p], role)
		} else {
			d.groupRoles[p] = append(d.groupRoles[p], role)
		}
	}
	return d
}

// InGroup answers whether the user is a transitive member of the group. A
// group that was not read (its source failed) or was read only in part
// answers TriUnknown for users not found in it.
func (d *Directory) InGroup(userID, groupID string) Tri {
	g, ok := d.groups[strings.ToLower(groupID)]
	if !ok {
		return TriUnknown
	}
	i, ok := d.userIdx[strings.ToLower(userID)]
	if ok && g.bits[i/64]&(1<<(i%64)) != 0 {
		return Yes
	}
	if !g.complete {
		return TriUnknown
	}
	return No
}

// GroupName returns a group's display name, or "" when unknown.
func (d *Directory) GroupName(groupID string) string {
	if g, ok := d.groups[strings.ToLower(groupID)]; ok {
		return g.name
	}
	return ""
}

// GroupsOf lists the indexed groups the user is a member of.
func (d *Directory) GroupsOf(userID string) []string {
	i, ok := d.userIdx[strings.ToLower(userID)]
	if !ok {
		return nil
	}
	var out []string
	for id, g := range d.groups {
		if g.bits[i/64]&(1<<(i%64)) != 0 {
			out = append(out, id)
		}
	}
	return out
}

// HasRole answers whether the user actively holds the directory role with the
// given template id, directly or through a role-assignable group.
func (d *Directory) HasRole(userID, templateID string) Tri {
	if !d.rolesKnown {
		return TriUnknown
	}
	templateID = strings.ToLower(templateID)
	for _, r := range d.roles[strings.ToLower(userID)] {
		if r == templateID {
			return Yes
		}
	}
	result := No
	for gid, rs := range d.groupRoles {
		for _, r := range rs {
			if r == templateID {
				result = result.Or(d.InGroup(userID, gid))
			}
		}
	}
	return result
}
