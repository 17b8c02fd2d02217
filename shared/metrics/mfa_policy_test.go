package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

// TestEnforcementSharesThePolicyRules checks the enforcement rules the MFA
// metrics share with the SCuBA controls: a condition that narrows nothing is
// no condition, and an authentication strength is MFA only when every
// allowed combination is multifactor.
func TestEnforcementSharesThePolicyRules(t *testing.T) {
	custom := func(combos ...string) func(*posture.CAPolicy) {
		return func(p *posture.CAPolicy) {
			p.BuiltInControls = nil
			p.AuthStrengthID, p.AuthStrengthName, p.AuthStrengthCombo = "cccccccc-0000-4000-8000-000000000001", "Custom", combos
		}
	}
	cases := []struct {
		name      string
		policy    posture.CAPolicy
		strengths []posture.AuthStrength
		want      posture.Tri
		reason    string
	}{
		{"a platform condition including all platforms with none excluded enforces", mfaAll("p", func(p *posture.CAPolicy) {
			p.IncludePlatforms, p.ExcludePlatforms = []string{"all"}, []string{}
		}), nil, posture.Yes, ""},
		{"a location condition including all locations with none excluded enforces", mfaAll("p", func(p *posture.CAPolicy) {
			p.IncludeLocations, p.ExcludeLocations = []string{"All"}, []string{}
		}), nil, posture.Yes, ""},
		{"excluding trusted locations still narrows", mfaAll("p", func(p *posture.CAPolicy) {
			p.IncludeLocations, p.ExcludeLocations = []string{"All"}, []string{"AllTrusted"}
		}), nil, posture.No, ""},
		{"including only Android still narrows", mfaAll("p", func(p *posture.CAPolicy) { p.IncludePlatforms = []string{"android"} }), nil, posture.No, ""},
		{"a custom strength admitting password alone does not enforce MFA", mfaAll("p", custom("password,microsoftAuthenticatorPush", "password")), nil, posture.No, ""},
		{"a custom strength admitting SMS sign-in alone does not enforce MFA", mfaAll("p", custom("fido2", "sms")), nil, posture.No, ""},
		{"a custom strength admitting a one-time Temporary Access Pass alone does not enforce MFA", mfaAll("p", custom("fido2", "temporaryAccessPassOneTime")), nil, posture.No, ""},
		{"a custom strength whose every combination is multifactor enforces", mfaAll("p", custom("password,softwareOath", "fido2", "deviceBasedPush")), nil, posture.Yes, ""},
		{"an unexpanded custom strength is read from the strength policies", mfaAll("p", custom()),
			[]posture.AuthStrength{{ID: "CCCCCCCC-0000-4000-8000-000000000001", AllowedCombinations: []string{"x509CertificateSingleFactor"}}}, posture.No, ""},
		{"a custom strength whose combinations could not be read leaves enforcement unknown", mfaAll("p", custom()), nil, posture.TriUnknown, `authentication strength "Custom"`},
		{"the built-in MFA strength enforces by its id", mfaAll("p", func(p *posture.CAPolicy) {
			p.BuiltInControls, p.AuthStrengthID = nil, posture.StrengthMFA
		}), nil, posture.Yes, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(),
				Policies: []posture.CAPolicy{tc.policy}, AuthStrengths: tc.strengths}
			got := EvaluateMFA(&id, allSources, posture.NewDirectory(&id, allSources), asOf)
			require.Len(t, got.Users, 1)
			require.Equal(t, tc.want, got.Users[0].Enforced, "reason: %s", got.Users[0].Reason)
			m := got.Metrics[posture.MetricMFAEnforcement]
			if tc.want == posture.TriUnknown {
				require.Equal(t, posture.Unknown, m.Status)
				require.Contains(t, m.Reason, tc.reason)
				return
			}
			n, _ := ratio(t, m)
			require.Equal(t, float64(count(tc.want)), n)
			if tc.reason != "" {
				require.Contains(t, got.Users[0].Reason, tc.reason)
			}
		})
	}
}

// TestSecurityDefaultsCountForEnforcement pins the CONTRACT rule the metric
// keeps while MS.AAD.3.2v2 fails on security defaults.
func TestSecurityDefaultsCountForEnforcement(t *testing.T) {
	id := posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: yes()}
	got := EvaluateMFA(&id, allSources, posture.NewDirectory(&id, allSources), asOf)
	n, d := ratio(t, got.Metrics[posture.MetricMFAEnforcement])
	require.Equal(t, [2]float64{1, 1}, [2]float64{n, d})
	require.Equal(t, []string{posture.SecurityDefaults}, got.Users[0].EnforcedBy)
}

func TestUndeterminedEnforcementNamesTheStrengthSource(t *testing.T) {
	unread := mfaAll("p", func(p *posture.CAPolicy) {
		p.BuiltInControls, p.AuthStrengthID, p.AuthStrengthName = nil, "cccccccc-0000-4000-8000-000000000001", "Custom"
	})
	failed := append(append(posture.Sources{}, allSources...), posture.Source{Name: posture.SrcAuthStrengths, Status: posture.SourceForbidden, Reason: "HTTP 403"})
	cases := []struct {
		name     string
		policies []posture.CAPolicy
		groups   []posture.Group
		want     string
		not      string
	}{
		{"an unread strength names the failed strength source", []posture.CAPolicy{unread}, nil,
			`authentication strength "Custom" of policy "MFA p" could not be read; authenticationStrengthPolicies: forbidden: HTTP 403`, ""},
		{"an incomplete group does not blame the strength source", []posture.CAPolicy{mfaAll("p", func(p *posture.CAPolicy) { p.ExcludeGroups = []string{breakGlassGroup} })},
			[]posture.Group{{ID: breakGlassGroup, Complete: false}}, "group membership or role data incomplete", "authenticationStrengthPolicies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := posture.Identity{Users: []posture.User{user(alice, true)}, SecurityDefaultsEnabled: no(), Policies: tc.policies, Groups: tc.groups}
			got := EvaluateMFA(&id, failed, posture.NewDirectory(&id, failed), asOf)
			m := got.Metrics[posture.MetricMFAEnforcement]
			require.Equal(t, posture.Unknown, m.Status)
			require.Contains(t, m.Reason, tc.want)
			if tc.not != "" {
				require.NotContains(t, m.Reason, tc.not)
			}
		})
	}
}
