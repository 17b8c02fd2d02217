package controls

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
	"m365security/shared/posture"
)

// Tests of behaviour the rest of the suite exercised without asserting:
// evidence counts, thresholds at their boundaries and finding texts.

func TestRiskyUsersAreCountedAsEvidence(t *testing.T) {
	block := policy(func(p *posture.CAPolicy) { p.UserRiskLevels = []string{"high"}; p.BuiltInControls = []string{"block"} })
	cases := []struct {
		name        string
		risky       []posture.RiskyUser
		atRisk      any
		atHighRisk  any
		hasEvidence bool
	}{
		{"users at risk are counted, and the high-risk ones apart", []posture.RiskyUser{
			{ID: u1, RiskLevel: "high"}, {ID: u2, RiskLevel: "medium"}, {ID: u3, RiskLevel: "high"}}, 3, 2, true},
		{"a tenant with nobody at risk counts zero", []posture.RiskyUser{}, 0, 0, true},
		{"risky users that were not read are not counted as zero", nil, nil, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, "MS.AAD.2.1v1", identityInput(posture.Identity{Policies: []posture.CAPolicy{block}, RiskyUsers: tc.risky}))
			require.Equal(t, Pass, r.Status)
			atRisk, ok := r.Evidence["usersAtRisk"]
			require.Equal(t, tc.hasEvidence, ok)
			require.Equal(t, tc.atRisk, atRisk)
			require.Equal(t, tc.atHighRisk, r.Evidence["usersAtHighRisk"])
		})
	}
}

func TestPasswordExpiryCountsTheManagedDomainsItChecked(t *testing.T) {
	days := func(n int) *int { return &n }
	r := eval(t, "MS.AAD.6.1v1", identityInput(posture.Identity{Domains: []posture.Domain{
		{ID: "contoso.com", IsVerified: true, AuthenticationType: "Managed", PasswordValidityPeriodInDays: days(neverExpires)},
		{ID: "old.contoso.com", IsVerified: true, AuthenticationType: "managed", PasswordValidityPeriodInDays: days(90)},
		{ID: "fed.contoso.com", IsVerified: true, AuthenticationType: "Federated", PasswordValidityPeriodInDays: days(90)},
		{ID: "new.contoso.com", IsVerified: false, AuthenticationType: "Managed", PasswordValidityPeriodInDays: days(90)},
	}}))
	require.Equal(t, Fail, r.Status)
	require.Equal(t, 2, r.Evidence["managedDomainsChecked"])
	require.Equal(t, []posture.Finding{{Kind: posture.FindingDomain, ID: "old.contoso.com", Name: "old.contoso.com",
		Detail: "passwords expire after 90 days"}}, r.Findings.Items)
}

func TestGlobalAdministratorCount(t *testing.T) {
	const customDef = "dddddddd-0000-4000-8000-000000000001"
	users := []posture.User{{ID: u1, UserPrincipalName: "a@c"}, {ID: u2, UserPrincipalName: "b@c"}}
	viaDef := func(def string) []posture.RoleAssignment {
		return []posture.RoleAssignment{{PrincipalID: u1, RoleDefinitionID: def, Kind: posture.AssignmentActive},
			{PrincipalID: u2, RoleDefinitionID: def, Kind: posture.AssignmentEligible}}
	}
	cases := []struct {
		name            string
		id              posture.Identity
		sources         posture.Sources
		want            Status
		admins          int
		eligibleCounted bool
	}{
		{"assignments through a role definition whose template is Global Administrator count", posture.Identity{Users: users,
			RoleDefinitions: []posture.RoleDefinition{{ID: customDef, TemplateID: "62E90394-69F5-4237-9190-012177145E10"}},
			RoleAssignments: viaDef(customDef)}, identitySources, Pass, 2, true},
		{"assignments of a custom role without a template are not Global Administrators", posture.Identity{Users: users,
			RoleDefinitions: []posture.RoleDefinition{{ID: customDef}},
			RoleAssignments: viaDef(customDef)}, identitySources, Fail, 0, true},
		{"without eligibility schedules the evidence says eligible holders were not counted", posture.Identity{Users: users,
			RoleAssignments: viaDef(posture.RoleGlobalAdmin)},
			withSources(posture.Source{Name: posture.SrcRoleEligibility, Status: posture.SourceForbidden}), Pass, 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := identityInput(tc.id)
			in.Snapshot(posture.AreaIdentity).Sources = tc.sources
			r := eval(t, "MS.AAD.7.1v1", in)
			require.Equal(t, tc.want, r.Status, "%+v", r.Findings.Items)
			require.Equal(t, tc.admins, r.Evidence["globalAdministrators"])
			require.Equal(t, tc.eligibleCounted, r.Evidence["eligibleCounted"])
		})
	}
}

func TestMetricTargetBoundary(t *testing.T) {
	cases := []struct {
		name  string
		value float64
		want  Status
	}{
		{"a value equal to the target passes", 0.95, Pass},
		{"a value below the target only by rounding passes", 0.95 - 1e-9, Pass},
		{"a value a millionth below the target fails", 0.95 - 1e-6, Fail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.value
			gaps := posture.FindingList{}
			gaps.Add(posture.Finding{Kind: posture.FindingUser, ID: u1, UserID: u1, Detail: "not registered"})
			snap := &posture.Snapshot{Area: posture.AreaIdentity, TakenAt: now, Sources: identitySources,
				Metrics:  map[string]posture.Metric{posture.MetricMFACoverage: {Status: posture.Measured, Value: &v}},
				Findings: map[string]posture.FindingList{posture.ListUnprotectedUsers: gaps}}
			r := eval(t, "M365SEC.MFA.1", NewInput(now, DefaultTargets(), snap))
			require.Equal(t, tc.want, r.Status)
			require.Equal(t, 0.95, r.Evidence["target"])
			if tc.want == Pass {
				require.Equal(t, 1, r.Evidence["belowTargetItems"], "gaps of a passing control stay visible as evidence")
				require.Empty(t, r.Findings.Items)
			} else {
				require.Equal(t, 1, r.Findings.Total)
			}
		})
	}
}

func TestSecureScoreDropBoundaryAndPeak(t *testing.T) {
	// Scores newest first, one a day ending now, as snapshots store them.
	scores := func(vals ...float64) Input {
		ss := &posture.SecureScore{}
		for i, v := range vals {
			ss.Scores = append(ss.Scores, posture.Score{CreatedAt: now.AddDate(0, 0, -i), CurrentScore: v, MaxScore: 100})
		}
		in := NewInput(now, DefaultTargets())
		in.Snapshots[posture.AreaSecureScore] = &posture.Snapshot{Area: posture.AreaSecureScore, TakenAt: now, SecureScore: ss,
			Sources: posture.Sources{{Name: posture.SrcSecureScores, Status: posture.SourceOK}}}
		return in
	}
	cases := []struct {
		name    string
		in      Input
		want    Status
		drop    float64
		peakAt  time.Time
		details []string
	}{
		{"a drop of exactly the allowed points passes", scores(61, 66), Pass, 5, now.AddDate(0, 0, -1), nil},
		{"a drop past the allowed points fails and names the peak", scores(60.5, 66), Fail, 5.5, now.AddDate(0, 0, -1),
			[]string{"Secure Score fell 5.5 points from 66.0 on 2026-10-31 to 60.5"}},
		{"of equal peaks the most recent is the one the score fell from", scores(60, 66, 66), Fail, 6, now.AddDate(0, 0, -1),
			[]string{"Secure Score fell 6.0 points from 66.0 on 2026-10-31 to 60.0"}},
		{"a score that never fell has the latest as its peak", scores(60, 60), Pass, 0, now, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := eval(t, "M365SEC.SCORE.1", tc.in)
			require.Equal(t, tc.want, r.Status)
			require.InDelta(t, tc.drop, r.Evidence["drop"], 1e-9)
			require.Equal(t, tc.peakAt, r.Evidence["peakAt"])
			var details []string
			for _, f := range r.Findings.Items {
				details = append(details, f.Detail)
			}
			require.Equal(t, tc.details, details)
		})
	}
}

func TestStaleRestoreTestSaysHowOld(t *testing.T) {
	in := Input{AsOf: now, Targets: DefaultTargets(), RestoreTests: []posture.RestoreTest{
		{PerformedAt: now.AddDate(0, 0, -100), Succeeded: true, Workload: "exchange"}}}
	r := eval(t, "M365SEC.BACKUP.1", in)
	require.Equal(t, Fail, r.Status)
	require.Equal(t, "last successful restore test was 100 days ago (exchange)", r.Findings.Items[0].Detail)
	require.Equal(t, now.AddDate(0, 0, -100), r.Evidence["lastSuccessfulTest"])
}

func TestBackupProtected(t *testing.T) {
	pol := func(workload, status string) posture.ProtectionPolicy {
		return posture.ProtectionPolicy{ID: workload, Workload: workload, Status: status}
	}
	cases := []struct {
		name    string
		backup  posture.Backup
		want    Status
		details []string
	}{
		{"an enabled service with every workload protected passes", posture.Backup{ServiceStatus: "enabled", Policies: []posture.ProtectionPolicy{
			pol("exchange", "active"), pol("sharePoint", "activeWithErrors"), pol("oneDriveForBusiness", "active")}}, Pass, nil},
		{"a disabled service without policies fails for the service and each workload", posture.Backup{ServiceStatus: "disabled"}, Fail, []string{
			"Microsoft 365 Backup service is disabled", "no active protection policy for exchange",
			"no active protection policy for sharePoint", "no active protection policy for oneDriveForBusiness"}},
		{"an inactive policy protects nothing", posture.Backup{ServiceStatus: "enabled", Policies: []posture.ProtectionPolicy{
			pol("exchange", "inactive"), pol("sharePoint", "active"), pol("oneDriveForBusiness", "active")}}, Fail, []string{
			"no active protection policy for exchange"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.backup
			in := NewInput(now, DefaultTargets(), &posture.Snapshot{Area: posture.AreaBackup, TakenAt: now, Backup: &b,
				Sources: posture.Sources{{Name: posture.SrcBackupService, Status: posture.SourceOK}, {Name: posture.SrcBackupPolicies, Status: posture.SourceOK}}})
			r := eval(t, "M365SEC.BACKUP.2", in)
			require.Equal(t, tc.want, r.Status)
			var details []string
			for _, f := range r.Findings.Items {
				details = append(details, f.Detail)
			}
			require.Equal(t, tc.details, details)
		})
	}
}

func TestAlertsReviewed(t *testing.T) {
	inc := func(severity, status string, age time.Duration) incident.Incident {
		return incident.Incident{ID: "i1", Severity: severity, Status: status, CreatedAt: now.Add(-age)}
	}
	cases := []struct {
		name     string
		incident incident.Incident
		want     Status
		detail   string
	}{
		{"a new high incident older than the review time fails", inc("high", incident.StatusNew, 30*time.Hour), Fail, "high incident unreviewed for 30 hours"},
		{"a new critical incident older than the review time fails", inc("critical", incident.StatusNew, 25*time.Hour), Fail, "critical incident unreviewed for 25 hours"},
		{"a new high incident exactly at the review time passes", inc("high", incident.StatusNew, 24*time.Hour), Pass, ""},
		{"a new high incident inside the review time passes", inc("high", incident.StatusNew, 23*time.Hour), Pass, ""},
		{"a new medium incident is not held to the review time", inc("medium", incident.StatusNew, 48*time.Hour), Pass, ""},
		{"a high incident that was triaged passes", inc("high", incident.StatusResolved, 48*time.Hour), Pass, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{AsOf: now, Targets: DefaultTargets(), AlertsCollected: true, Incidents: []incident.Incident{tc.incident}}
			r := eval(t, "M365SEC.ALERT.1", in)
			require.Equal(t, tc.want, r.Status)
			require.Equal(t, 24, r.Evidence["reviewHours"])
			if tc.detail == "" {
				require.Empty(t, r.Findings.Items)
				return
			}
			require.Equal(t, []posture.Finding{{Kind: "incident", ID: "i1", Detail: tc.detail}}, r.Findings.Items)
		})
	}
}

// TestTargetsValidationReportsEveryProblem: each field is validated, and
// every problem is reported at once, not only the first (the boundaries of
// each field are TestTargetsValidation's).
func TestTargetsValidationReportsEveryProblem(t *testing.T) {
	require.NoError(t, DefaultTargets().Validate())
	err := Targets{MFACoverage: 2, AdminMFACoverage: -1, DeviceCompliance: 2, EndpointProtection: -1, SecureScoreMaxDrop: -1}.Validate()
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "a ValidationError: %v", err)
	require.Len(t, ve.Problems, 7)
	for i, field := range []string{"mfaCoverage", "adminMfaCoverage", "deviceCompliance", "endpointProtectionCoverage",
		"secureScoreMaxDropPoints", "restoreTestMaxAgeDays", "alertReviewHours"} {
		require.True(t, strings.HasPrefix(ve.Problems[i], field+" "), "problem %d names %s: %q", i, field, ve.Problems[i])
	}
}

func TestExceptionCovers(t *testing.T) {
	e := Exception{Scope: Scope{Users: []string{u1}, Groups: []string{glassGrp}}}
	cases := []struct {
		name    string
		finding posture.Finding
		want    bool
	}{
		{"a user finding is covered by its user id", posture.Finding{Kind: posture.FindingUser, ID: u1, UserID: u1}, true},
		{"a user finding named only by its id is covered, whatever the case", posture.Finding{Kind: posture.FindingUser, ID: "AAAAAAAA-0000-4000-8000-000000000001"}, true},
		{"a device of a scoped user is covered", posture.Finding{Kind: posture.FindingDevice, ID: "d1", UserID: u1}, true},
		{"a device whose id equals a scoped user id is not that user", posture.Finding{Kind: posture.FindingDevice, ID: u1, UserID: u2}, false},
		{"a user in a scoped group is covered", posture.Finding{Kind: posture.FindingUser, ID: u2, UserID: u2, Groups: []string{glassGrp}}, true},
		{"a user outside the scope is not covered", posture.Finding{Kind: posture.FindingUser, ID: u2, UserID: u2, Groups: []string{"other"}}, false},
		{"a group finding is covered by its group", posture.Finding{Kind: posture.FindingGroup, ID: glassGrp}, true},
		{"a group finding is not covered by a user of the same id", posture.Finding{Kind: posture.FindingGroup, ID: u1}, false},
		{"a tenant finding is never covered", posture.Finding{Kind: posture.FindingTenant, ID: u1, UserID: u1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, e.Covers(tc.finding))
		})
	}
}
