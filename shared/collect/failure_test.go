package collect

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

// p2Required is what PIM answers in a tenant without Entra ID P2.
func p2Required() graphsim.Fault {
	return graphsim.Fault{Status: 403, Code: "AadPremiumLicenseRequired",
		Message: "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.", RetryAfter: -1}
}

func TestIdentitySourceFailuresStayIsolated(t *testing.T) {
	tests := []struct {
		name  string
		fault func(*graphsim.Server)
		want  map[string]posture.SourceStatus
		check func(t *testing.T, id *posture.Identity)
	}{
		{
			name: "a 403 on conditional access policies fails them and skips group members",
			fault: func(s *graphsim.Server) {
				s.ForceError("/identity/conditionalAccess/policies", graphsim.InsufficientPrivileges())
			},
			want: map[string]posture.SourceStatus{
				posture.SrcConditionalAccess: posture.SourceForbidden,
				posture.SrcGroupMembers:      posture.SourceSkipped,
			},
			check: func(t *testing.T, id *posture.Identity) {
				require.Nil(t, id.Policies)
				require.Nil(t, id.Groups)
				require.NotEmpty(t, id.Users)
				require.NotEmpty(t, id.RoleAssignments)
			},
		},
		{
			name: "a 403 on role assignments fails them and skips group members and PIM for Groups",
			fault: func(s *graphsim.Server) {
				s.ForceError("/roleManagement/directory/roleAssignments", graphsim.InsufficientPrivileges())
			},
			want: map[string]posture.SourceStatus{
				posture.SrcRoleAssignments:  posture.SourceForbidden,
				posture.SrcGroupMembers:     posture.SourceSkipped,
				posture.SrcGroupEligibility: posture.SourceSkipped,
			},
			check: func(t *testing.T, id *posture.Identity) {
				require.Nil(t, id.RoleAssignments, "eligible assignments alone must not read as the full list")
				require.NotEmpty(t, id.RoleDefinitions)
				require.NotEmpty(t, id.Policies)
			},
		},
		{
			name: "a tenant without P2 loses PIM but still reads every group",
			fault: func(s *graphsim.Server) {
				s.ForceError("/roleManagement/directory/roleEligibilitySchedules", p2Required())
			},
			want: map[string]posture.SourceStatus{posture.SrcRoleEligibility: posture.SourceNotLicensed},
			check: func(t *testing.T, id *posture.Identity) {
				require.Len(t, id.RoleAssignments, 3)
				for _, a := range id.RoleAssignments {
					require.Equal(t, posture.AssignmentActive, a.Kind)
				}
				_, ok := groupByID(id, gPIM)
				require.False(t, ok, "the PIM group is known only through eligibility")
				_, ok = groupByID(id, gAdmins)
				require.True(t, ok)
			},
		},
		{
			name:  "a tenant without P2 loses risky users only",
			fault: func(s *graphsim.Server) { s.SetLicensing(graphsim.Licensing{WithoutP2: true}) },
			want:  map[string]posture.SourceStatus{posture.SrcRiskyUsers: posture.SourceNotLicensed},
			check: func(t *testing.T, id *posture.Identity) {
				require.Nil(t, id.RiskyUsers)
			},
		},
		{
			name: "a 403 on registration details leaves the users without registration",
			fault: func(s *graphsim.Server) {
				s.ForceError("/reports/authenticationMethods", graphsim.InsufficientPrivileges())
			},
			want: map[string]posture.SourceStatus{posture.SrcRegistrationDetails: posture.SourceForbidden},
			check: func(t *testing.T, id *posture.Identity) {
				require.Len(t, id.Users, 8)
				for _, u := range id.Users {
					require.Nil(t, u.Registration)
				}
			},
		},
		{
			name:  "a missing group permission fails group members only",
			fault: func(s *graphsim.Server) { s.ForceError("/groups", graphsim.InsufficientPrivileges()) },
			want:  map[string]posture.SourceStatus{posture.SrcGroupMembers: posture.SourceForbidden},
			check: func(t *testing.T, id *posture.Identity) {
				require.Len(t, id.Groups, 5)
				for _, g := range id.Groups {
					require.False(t, g.Complete, "group %s", g.ID)
				}
			},
		},
		{
			name:  "a refused $batch envelope fails group members only",
			fault: func(s *graphsim.Server) { s.ForceError("/$batch", graphsim.InsufficientPrivileges()) },
			want:  map[string]posture.SourceStatus{posture.SrcGroupMembers: posture.SourceForbidden},
			check: func(t *testing.T, id *posture.Identity) {
				for _, g := range id.Groups {
					require.False(t, g.Complete, "group %s", g.ID)
				}
				require.NotEmpty(t, id.Policies)
			},
		},
		{
			name:  "a 403 on users fails them and skips sign-in activity",
			fault: func(s *graphsim.Server) { s.ForceError("/users", graphsim.InsufficientPrivileges()) },
			want: map[string]posture.SourceStatus{
				posture.SrcUsers:          posture.SourceForbidden,
				posture.SrcSignInActivity: posture.SourceSkipped,
			},
			check: func(t *testing.T, id *posture.Identity) {
				require.Nil(t, id.Users)
				require.NotEmpty(t, id.Policies)
			},
		},
		{
			name: "a 403 on security defaults leaves enforcement unknown, not disabled",
			fault: func(s *graphsim.Server) {
				s.ForceError("/policies/identitySecurityDefaults", graphsim.InsufficientPrivileges())
			},
			want: map[string]posture.SourceStatus{posture.SrcSecurityDefaults: posture.SourceForbidden},
			check: func(t *testing.T, id *posture.Identity) {
				require.Nil(t, id.SecurityDefaultsEnabled)
				require.NotNil(t, id.Authorization)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
			tc.fault(srv)
			id, srcs := Identity(context.Background(), c, discardLogger())
			requireStatuses(t, srcs, tc.want)
			tc.check(t, id)
		})
	}
}

func TestSignInActivityFallsBack(t *testing.T) {
	tests := []struct {
		name  string
		fault func(*graphsim.Server)
		want  map[string]posture.SourceStatus
	}{
		{
			name:  "a tenant without P1 keeps its users and loses sign-in activity",
			fault: func(s *graphsim.Server) { s.SetLicensing(graphsim.Licensing{WithoutP1: true}) },
			want: map[string]posture.SourceStatus{
				posture.SrcSignInActivity:      posture.SourceNotLicensed,
				posture.SrcRegistrationDetails: posture.SourceNotLicensed,
				posture.SrcRiskyUsers:          posture.SourceNotLicensed,
			},
		},
		{
			name:  "an app without AuditLog.Read.All keeps its users and loses sign-in activity",
			fault: func(s *graphsim.Server) { s.FailNext("/users", 1, graphsim.InsufficientPrivileges()) },
			want:  map[string]posture.SourceStatus{posture.SrcSignInActivity: posture.SourceForbidden},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
			tc.fault(srv)
			id, srcs := Identity(context.Background(), c, discardLogger())
			requireStatuses(t, srcs, tc.want)
			require.Len(t, id.Users, 8)
			for _, u := range id.Users {
				require.Nil(t, u.LastSignIn)
			}
			users := mustSource(t, srcs, posture.SrcUsers)
			require.Equal(t, 2, users.Requests, "one refused listing, one without signInActivity")
			require.Empty(t, users.Reason)
			require.NotEmpty(t, mustSource(t, srcs, posture.SrcSignInActivity).Reason)
		})
	}
}

func TestIdentityHonoursCancellation(t *testing.T) {
	_, c := newTestServer(t, smallTenant(), graphsim.Options{Latency: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	id, srcs := Identity(ctx, c, discardLogger())
	require.Less(t, time.Since(start), 2*time.Second, "a cancelled run returns without waiting for Graph")
	for _, s := range srcs {
		require.Equal(t, posture.SourceFailed, s.Status, "source %s", s.Name)
		require.Contains(t, s.Reason, "cancelled", "source %s", s.Name)
	}
	require.Nil(t, id.Users)
	require.Nil(t, id.Policies)
}
