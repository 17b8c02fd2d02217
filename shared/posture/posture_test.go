package posture

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTriLogic(t *testing.T) {
	cases := []struct {
		a, b    Tri
		and, or Tri
	}{
		{Yes, Yes, Yes, Yes},
		{Yes, No, No, Yes},
		{Yes, TriUnknown, TriUnknown, Yes},
		{No, No, No, No},
		{No, TriUnknown, No, TriUnknown},
		{TriUnknown, TriUnknown, TriUnknown, TriUnknown},
	}
	for _, tc := range cases {
		require.Equal(t, tc.and, tc.a.And(tc.b), "%s and %s", tc.a, tc.b)
		require.Equal(t, tc.and, tc.b.And(tc.a), "%s and %s", tc.b, tc.a)
		require.Equal(t, tc.or, tc.a.Or(tc.b), "%s or %s", tc.a, tc.b)
		require.Equal(t, tc.or, tc.b.Or(tc.a), "%s or %s", tc.b, tc.a)
	}
	require.Equal(t, No, Yes.Not())
	require.Equal(t, Yes, No.Not())
	require.Equal(t, TriUnknown, TriUnknown.Not())
}

func TestDirectory(t *testing.T) {
	const (
		u1, u2, u3 = "AAAAAAAA-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002", "aaaaaaaa-0000-4000-8000-000000000003"
		complete   = "bbbbbbbb-0000-4000-8000-000000000001"
		partial    = "bbbbbbbb-0000-4000-8000-000000000002"
		roleGroup  = "bbbbbbbb-0000-4000-8000-000000000003"
		missing    = "bbbbbbbb-0000-4000-8000-000000000009"
	)
	id := &Identity{
		Users: []User{{ID: u1}, {ID: u2}, {ID: u3}},
		Groups: []Group{
			{ID: complete, MemberIDs: []string{u1}, Complete: true},
			{ID: partial, MemberIDs: []string{u2}, Complete: false},
			{ID: roleGroup, MemberIDs: []string{u3}, Complete: true},
		},
		RoleAssignments: []RoleAssignment{
			{PrincipalID: u1, RoleDefinitionID: "custom-def", Kind: AssignmentActive},
			{PrincipalID: roleGroup, RoleDefinitionID: RoleSecurityAdmin, Kind: AssignmentActive},
			{PrincipalID: u2, RoleDefinitionID: RoleGlobalAdmin, Kind: AssignmentEligible},
		},
		RoleDefinitions: []RoleDefinition{{ID: "custom-def", TemplateID: "custom-template"}},
	}
	ok := Sources{{Name: SrcRoleAssignments, Status: SourceOK}}
	d := NewDirectory(id, ok)
	cases := []struct {
		name string
		got  Tri
		want Tri
	}{
		{"a listed member of a complete group is in it (ids compare case-insensitively)", d.InGroup("aaaaaaaa-0000-4000-8000-000000000001", complete), Yes},
		{"an unlisted user of a complete group is not in it", d.InGroup(u2, complete), No},
		{"a listed member of a partly read group is in it", d.InGroup(u2, partial), Yes},
		{"an unlisted user of a partly read group is unknown", d.InGroup(u1, partial), TriUnknown},
		{"a group that was never read is unknown", d.InGroup(u1, missing), TriUnknown},
		{"a custom role is matched by its template id", d.HasRole(u1, "custom-template"), Yes},
		{"a role held through a role group counts", d.HasRole(u3, RoleSecurityAdmin), Yes},
		{"an eligible assignment is not an active role", d.HasRole(u2, RoleGlobalAdmin), No},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, tc.got) })
	}
	unknownRoles := NewDirectory(id, Sources{{Name: SrcRoleAssignments, Status: SourceForbidden}})
	require.Equal(t, TriUnknown, unknownRoles.HasRole(u1, RoleGlobalAdmin), "roles unknown when the source failed")
	require.Equal(t, []string{complete}, d.GroupsOf(u1))
}

func TestSourcesMissing(t *testing.T) {
	src := Sources{{Name: "a", Status: SourceOK}, {Name: "b", Status: SourceForbidden, Reason: "HTTP 403"}}
	require.Empty(t, src.Missing("a"))
	require.Equal(t, []string{"b: forbidden: HTTP 403", "c: not collected"}, src.Missing("a", "b", "c"))
}

func TestFindingListCapsItemsButCountsAll(t *testing.T) {
	var l FindingList
	for i := 0; i < MaxFindings+7; i++ {
		l.Add(Finding{Kind: FindingUser})
	}
	require.Equal(t, MaxFindings+7, l.Total)
	require.Len(t, l.Items, MaxFindings)
	require.False(t, l.Complete())
}
