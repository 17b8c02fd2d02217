package collect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"m365security/shared/posture"
)

// nameLookupChunk is how many group ids one /groups?$filter=... request
// names: Graph limits a filter clause to 15 expressions.
const nameLookupChunk = 15

// referencedGroups returns the sorted ids of every group a Conditional
// Access policy includes or excludes, every group that holds a directory
// role (active, or eligible when that was read) and every group eligible for
// membership of a privileged role group (PIM for Groups).
func referencedGroups(st *identityState) []string {
	set := map[string]bool{}
	for _, p := range st.policies {
		for _, id := range slices.Concat(p.IncludeGroups, p.ExcludeGroups) {
			set[id] = true
		}
	}
	for _, id := range slices.Concat(st.assignedGroups, st.eligibleGroups, eligibleGroupPrincipals(st)) {
		set[id] = true
	}
	delete(set, "")
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// memberRead tracks one group's transitive members across pages.
type memberRead struct {
	group   posture.Group
	missing bool  // Graph answered 404: the group no longer exists
	err     error // why its members could not be read fully
}

// fetchGroupMembers reads the transitive user members of every referenced
// group. First pages of 20 groups go into one $batch; nextLinks follow in
// later batches (made relative), mixed with other groups' first pages. Only
// users count as members: transitiveMembers also lists nested groups,
// devices and service principals, told apart by @odata.type (the
// /microsoft.graph.user cast would filter server-side but needs
// ConsistencyLevel: eventual and $count, i.e. a lagging index).
//
// A group whose members could not all be read has Complete false and makes
// the source fail. A group Graph no longer knows (404: a policy still
// naming a deleted group) has no members and is complete. Display names
// come from /groups?$filter=id eq ... or ..., filling the batches; a name that
// could not be read is left empty and noted in the reason of an otherwise
// ok source.
func fetchGroupMembers(ctx context.Context, r *reader, st *identityState) (int, error) {
	ids := referencedGroups(st)
	reads := make(map[string]*memberRead, len(ids))
	b := newBatcher(r, "read group members")
	for _, id := range ids {
		m := &memberRead{group: posture.Group{ID: id, MemberIDs: []string{}}}
		reads[id] = m
		b.add("/groups/"+url.PathEscape(id)+"/transitiveMembers?$select=id&$top=999", m.handler(b, r.c.BaseURL()))
	}
	var nameErr error
	for chunk := range slices.Chunk(ids, nameLookupChunk) {
		b.fill(groupNamesURL(chunk), namesHandler(b, r.c.BaseURL(), reads, &nameErr))
	}
	// A batch that failed as a whole has handed its error to every call
	// still waiting, so the per-group state below already says what is
	// missing.
	_ = b.run(ctx)

	out := make([]posture.Group, 0, len(ids))
	var firstErr error
	failed, missing := 0, 0
	for _, id := range ids {
		m := reads[id]
		switch {
		case m.err != nil:
			failed++
			if firstErr == nil {
				firstErr = m.err
			}
		case m.missing:
			missing++
		}
		out = append(out, m.group)
	}
	// Groups whose members were read completely stay usable; Complete tells
	// them apart.
	st.groups = out
	if firstErr != nil {
		return len(out) - failed, fmt.Errorf("members of %d of %d groups not read completely: %w", failed, len(ids), firstErr)
	}
	var notes []string
	if missing > 0 {
		notes = append(notes, fmt.Sprintf("%d referenced groups no longer exist", missing))
	}
	if nameErr != nil {
		notes = append(notes, "display names not read: "+nameErr.Error())
	}
	if len(notes) > 0 {
		return len(out), &okWithNote{note: strings.Join(notes, "; ")}
	}
	return len(out), nil
}

// handler handles one page of the group's transitive members and queues the
// next page.
func (m *memberRead) handler(b *batcher, base string) func(batchResult) {
	var h func(batchResult)
	prev := ""
	h = func(res batchResult) {
		switch {
		case res.Err != nil && res.Status == 404:
			m.missing, m.group.Complete = true, true
			return
		case res.Err != nil:
			m.err = res.Err
			return
		}
		values, _ := res.Body["value"].([]any)
		for _, v := range values {
			o, _ := v.(map[string]any)
			if str(o["@odata.type"]) == "#microsoft.graph.user" {
				if id := str(o["id"]); id != "" {
					m.group.MemberIDs = append(m.group.MemberIDs, id)
				}
			}
		}
		next, err := nextLinkOf(base, res.Body)
		switch {
		case err == nil && next != "" && next == prev:
			err = errors.New("Graph returned the same nextLink twice: " + next)
			fallthrough
		case err != nil:
			m.err = fmt.Errorf("read members of group %s: %w", m.group.ID, err)
		case next != "":
			prev = next
			b.follow(next, h)
		default:
			m.group.Complete = true
		}
	}
	return h
}

// groupNamesURL asks for the names of up to 15 groups. Graph documents
// "id in (...)" for this; "or"-ed equalities are equivalent, share the
// 15-expression limit, and are also what the simulator understands.
func groupNamesURL(ids []string) string {
	terms := make([]string, len(ids))
	for i, id := range ids {
		terms[i] = "id eq '" + strings.ReplaceAll(id, "'", "''") + "'"
	}
	return "/groups?$filter=" + queryEscape(strings.Join(terms, " or ")) + "&$select=id,displayName"
}

func namesHandler(b *batcher, base string, reads map[string]*memberRead, nameErr *error) func(batchResult) {
	var h func(batchResult)
	h = func(res batchResult) {
		if res.Err != nil {
			*nameErr = errors.Join(*nameErr, res.Err)
			return
		}
		values, _ := res.Body["value"].([]any)
		for _, v := range values {
			o, _ := v.(map[string]any)
			if m := reads[str(o["id"])]; m != nil {
				m.group.DisplayName = str(o["displayName"])
			}
		}
		if next, err := nextLinkOf(base, res.Body); err != nil {
			*nameErr = errors.Join(*nameErr, err)
		} else if next != "" {
			b.follow(next, h)
		}
	}
	return h
}
