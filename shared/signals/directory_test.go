package signals

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
)

const privRole = "e8611ab8-c189-46e8-94e1-60213ab1f814" // Privileged Role Administrator

func identitySnap(id string, assignments []posture.RoleAssignment, groups []posture.Group, failed ...string) *posture.Snapshot {
	srcs := posture.Sources{}
	for _, n := range []string{posture.SrcRoleAssignments, posture.SrcRoleDefinitions, posture.SrcGroupMembers, posture.SrcRegistrationDetails} {
		st := posture.SourceOK
		for _, f := range failed {
			if f == n {
				st = posture.SourceForbidden
			}
		}
		srcs = append(srcs, posture.Source{Name: n, Status: st})
	}
	return &posture.Snapshot{ID: id, TakenAt: t0, Sources: srcs, Identity: &posture.Identity{
		Users: []posture.User{{ID: "u1", UserPrincipalName: "ann@contoso.com"}, {ID: "u2", UserPrincipalName: "bob@contoso.com"}},
		RoleDefinitions: []posture.RoleDefinition{
			{ID: posture.RoleGlobalAdmin, TemplateID: posture.RoleGlobalAdmin, DisplayName: "Global Administrator"},
			{ID: privRole, TemplateID: privRole, DisplayName: "Privileged Role Administrator"},
			{ID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", TemplateID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", DisplayName: "Directory Readers"},
		},
		RoleAssignments: assignments, Groups: groups,
	}}
}

func TestDirectoryChanges(t *testing.T) {
	ga := posture.RoleAssignment{PrincipalID: "u1", RoleDefinitionID: posture.RoleGlobalAdmin, Kind: "active"}
	groupRole := posture.RoleAssignment{PrincipalID: "g1", RoleDefinitionID: privRole, Kind: "active"}
	reader := posture.RoleAssignment{PrincipalID: "u2", RoleDefinitionID: "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", Kind: "active"}
	eligible := posture.RoleAssignment{PrincipalID: "u2", RoleDefinitionID: privRole, Kind: "eligible"}
	g := func(members ...string) []posture.Group {
		return []posture.Group{{ID: "g1", DisplayName: "Tier0 admins", MemberIDs: members}}
	}
	reg := func(r posture.Tri) []posture.UserMFA {
		return []posture.UserMFA{{ID: "u2", UserPrincipalName: "bob@contoso.com", Registered: r}}
	}
	cases := []struct {
		name       string
		prev, next IdentityView
		want       []string // titles
		severity   []string
	}{
		{"a new Global Administrator is a high signal",
			IdentityView{Snapshot: identitySnap("s1", nil, nil)}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{ga}, nil)},
			[]string{"ann@contoso.com was assigned the Global Administrator role"}, []string{"high"}},
		{"an eligible privileged role is a medium signal",
			IdentityView{Snapshot: identitySnap("s1", nil, nil)}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{eligible}, nil)},
			[]string{"bob@contoso.com was made eligible for the Privileged Role Administrator role"}, []string{"medium"}},
		{"a role that is not privileged is no signal",
			IdentityView{Snapshot: identitySnap("s1", nil, nil)}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{reader}, nil)}, nil, nil},
		{"an unchanged assignment is no signal",
			IdentityView{Snapshot: identitySnap("s1", []posture.RoleAssignment{ga}, nil)}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{ga}, nil)}, nil, nil},
		{"a member added to a group holding a privileged role is a signal",
			IdentityView{Snapshot: identitySnap("s1", []posture.RoleAssignment{groupRole}, g("u1"))}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{groupRole}, g("u1", "u2"))},
			[]string{"bob@contoso.com was added to group Tier0 admins, which holds Privileged Role Administrator"}, []string{"high"}},
		{"a group the previous snapshot lacked sets a baseline, no signal",
			IdentityView{Snapshot: identitySnap("s1", []posture.RoleAssignment{groupRole}, nil)}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{groupRole}, g("u1"))}, nil, nil},
		{"role assignments that could not be read are no signal",
			IdentityView{Snapshot: identitySnap("s1", nil, nil, posture.SrcRoleAssignments)}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{ga}, nil)}, nil, nil},
		{"MFA registration lost is a signal",
			IdentityView{Snapshot: identitySnap("s1", nil, nil), Users: reg(posture.Yes)}, IdentityView{Snapshot: identitySnap("s2", nil, nil), Users: reg(posture.No)},
			[]string{"MFA registration removed for bob@contoso.com"}, []string{"medium"}},
		{"MFA registration unknown is no signal",
			IdentityView{Snapshot: identitySnap("s1", nil, nil), Users: reg(posture.Yes)}, IdentityView{Snapshot: identitySnap("s2", nil, nil), Users: reg(posture.TriUnknown)}, nil, nil},
		{"registrations that could not be read are no signal",
			IdentityView{Snapshot: identitySnap("s1", nil, nil), Users: reg(posture.Yes)}, IdentityView{Snapshot: identitySnap("s2", nil, nil, posture.SrcRegistrationDetails), Users: reg(posture.No)}, nil, nil},
		{"without a previous snapshot nothing is compared",
			IdentityView{}, IdentityView{Snapshot: identitySnap("s2", []posture.RoleAssignment{ga}, nil)}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DirectoryChanges(tenant, tc.prev, tc.next)
			var titles, sev []string
			for _, c := range got {
				titles = append(titles, c.Title)
				sev = append(sev, c.Severity)
				assert.Contains(t, c.ID, ":s2", "the id names the later snapshot")
			}
			assert.Equal(t, tc.want, titles)
			assert.Equal(t, tc.severity, sev)
		})
	}
	admin := []posture.UserMFA{{ID: "u2", Registered: posture.No, IsAdmin: true}}
	got := DirectoryChanges(tenant, IdentityView{Snapshot: identitySnap("s1", nil, nil), Users: reg(posture.Yes)}, IdentityView{Snapshot: identitySnap("s2", nil, nil), Users: admin})
	require.Len(t, got, 1)
	assert.Equal(t, "high", got[0].Severity, "an admin losing MFA is high")
	assert.Equal(t, "MFA registration removed for u2", got[0].Title)
}

func TestProtectedAccountChange(t *testing.T) {
	x := controls.Exception{ID: "x1", ControlID: "MS.AAD.3.2v1", Reason: "break-glass", Scope: controls.Scope{Users: []string{"U1"}},
		CreatedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Hour)}
	c, ok := ProtectedAccountChange(tenant, "u1", nil, []controls.Exception{x}, t0)
	require.True(t, ok)
	assert.Equal(t, "high", c.Severity)
	assert.Contains(t, c.Title, "break-glass")
	s := incident.FromDirectoryChange(c)
	assert.Equal(t, incident.SourceDirectoryChange, s.Source)
	_, ok = ProtectedAccountChange(tenant, "u2", nil, []controls.Exception{x}, t0)
	assert.False(t, ok, "an account no exception covers")
	_, ok = ProtectedAccountChange(tenant, "u1", nil, []controls.Exception{x}, t0.Add(2*time.Hour))
	assert.False(t, ok, "an expired exception protects nobody")

	assert.Equal(t, "abc", UserOfResource("Users/abc"))
	assert.Equal(t, "abc", UserOfResource("/users('abc')"))
	assert.Equal(t, "abc", UserOfResource("users/abc/manager"))
	assert.Equal(t, "", UserOfResource("groups/abc"))
}

type fakeDelta struct {
	changed map[string]int
	resync  bool
	err     error
	links   []string
}

func (f *fakeDelta) Delta(_ context.Context, _, resource, link string, _ Pace) (int, string, bool, error) {
	f.links = append(f.links, link)
	if f.err != nil {
		return 0, "", false, f.err
	}
	return f.changed[resource], "https://graph/v1.0/" + resource + "/delta()?$deltatoken=" + time.Now().Format("150405.000000000"), f.resync, nil
}

func TestBackstop(t *testing.T) {
	ctx := context.Background()
	p, _ := newPipeline(t)
	src := &fakeDelta{changed: map[string]int{"users": 3}}
	reassessed := 0
	b := &Backstop{Pipeline: p, Source: src, Classify: classify, Reassess: func(context.Context, string) error { reassessed++; return nil }}

	_, err := b.Run(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 0, reassessed, "the first full sync sets the baseline")
	assert.Equal(t, []string{"", ""}, src.links)

	n, err := b.Run(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, 1, reassessed, "changes since the stored link re-assess once")
	assert.NotEmpty(t, src.links[2], "the stored link is used")

	src.changed, src.resync = map[string]int{}, true
	_, err = b.Run(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 2, reassessed, "a resync after an expired token re-assesses")
	h, err := p.Records.Signals.Health(ctx, tenant)
	require.NoError(t, err)
	assert.Contains(t, h[SourceUsersDelta].Reason, "full resynchronization")

	src.err = errForbidden
	_, err = b.Run(ctx, tenant)
	require.NoError(t, err)
	h, _ = p.Records.Signals.Health(ctx, tenant)
	assert.Equal(t, "forbidden", h[SourceGroupsDelta].Status)
	src.err = errThrottled
	_, err = b.Run(ctx, tenant)
	require.Error(t, err)

	src.err = nil
	src.changed = map[string]int{"groups": 1}
	b.Reassess = func(context.Context, string) error { return errors.New("store down") }
	_, err = b.Run(ctx, tenant)
	require.ErrorContains(t, err, "store down")
}
