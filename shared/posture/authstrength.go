package posture

import (
	"slices"
	"strings"
)

// AuthStrength is an authentication strength policy
// (/policies/authenticationStrengthPolicies): the method combinations that
// satisfy it.
type AuthStrength struct {
	ID                  string   `json:"id"`
	DisplayName         string   `json:"displayName"`
	PolicyType          string   `json:"policyType"` // builtIn or custom
	AllowedCombinations []string `json:"allowedCombinations"`
}

// Built-in authentication strengths. Their combinations are fixed by
// Microsoft, so the id alone decides them.
const (
	StrengthMFA               = "00000000-0000-0000-0000-000000000002"
	StrengthPasswordlessMFA   = "00000000-0000-0000-0000-000000000003"
	StrengthPhishingResistant = "00000000-0000-0000-0000-000000000004"
)

// builtInStrengths: whether each built-in strength is MFA and whether it is
// phishing-resistant. Built-in "Multifactor authentication" admits a
// Temporary Access Pass, which Microsoft issues only after identity proofing.
var builtInStrengths = map[string]struct{ mfa, phishingResistant bool }{
	StrengthMFA:               {mfa: true},
	StrengthPasswordlessMFA:   {mfa: true},
	StrengthPhishingResistant: {mfa: true, phishingResistant: true},
}

// Authentication method modes (authenticationMethodModes) by what they
// prove alone. A multifactor mode satisfies MFA by itself (a FIDO2 key with
// its PIN or biometric); single-factor modes need a second one in the same
// combination ("password,sms"). A Temporary Access Pass alone is a single
// factor: a custom strength admitting it lets a pass holder in without MFA.
var (
	multiFactorModes  = []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush", "federatedMultiFactor"}
	singleFactorModes = []string{"password", "voice", "hardwareOath", "softwareOath", "sms", "microsoftAuthenticatorPush",
		"temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "email", "x509CertificateSingleFactor", "federatedSingleFactor", "qrCodePin"}
	phishingResistantModes = []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}
)

// StrengthCombinations returns the allowed combinations of the policy's
// authentication strength: those Graph expanded on the policy, else those of
// the strength policy with that id. ok is false when neither was read.
func (id *Identity) StrengthCombinations(p CAPolicy) (combos []string, ok bool) {
	if len(p.AuthStrengthCombo) > 0 {
		return p.AuthStrengthCombo, true
	}
	for _, s := range id.AuthStrengths {
		if strings.EqualFold(s.ID, p.AuthStrengthID) && len(s.AllowedCombinations) > 0 {
			return s.AllowedCombinations, true
		}
	}
	return nil, false
}

// StrengthIsMFA answers whether every way to satisfy the policy's
// authentication strength is multifactor: one admitted single-factor
// combination lets a user in with a password alone. TriUnknown when the
// combinations could not be read or hold a mode this code does not know.
func (id *Identity) StrengthIsMFA(p CAPolicy) Tri {
	if p.AuthStrengthID == "" {
		return No
	}
	if b, ok := builtInStrengths[strings.ToLower(p.AuthStrengthID)]; ok {
		return TriOf(b.mfa)
	}
	combos, ok := id.StrengthCombinations(p)
	if !ok {
		return TriUnknown
	}
	result := Yes
	for _, c := range combos {
		result = result.And(combinationIsMFA(c))
	}
	return result
}

// StrengthIsPhishingResistant answers whether every allowed combination is
// phishing-resistant (Windows Hello for Business, FIDO2, certificate MFA).
func (id *Identity) StrengthIsPhishingResistant(p CAPolicy) Tri {
	if p.AuthStrengthID == "" {
		return No
	}
	if b, ok := builtInStrengths[strings.ToLower(p.AuthStrengthID)]; ok {
		return TriOf(b.phishingResistant)
	}
	combos, ok := id.StrengthCombinations(p)
	if !ok {
		return TriUnknown
	}
	for _, c := range combos {
		if !slices.Contains(phishingResistantModes, strings.TrimSpace(c)) {
			return No
		}
	}
	return Yes
}

// RequiresMFA answers whether the policy's grant demands MFA: the built-in
// mfa control, or an authentication strength that is MFA.
func (id *Identity) RequiresMFA(p CAPolicy) Tri {
	if ContainsFold(p.BuiltInControls, "mfa") {
		return Yes
	}
	return id.StrengthIsMFA(p)
}

// combinationIsMFA: a combination ("password,sms") is multifactor when it
// holds a multifactor mode or two single-factor ones; a mode not known here
// leaves a combination that is not already decided undecided.
func combinationIsMFA(combination string) Tri {
	single, unknown := 0, false
	for _, m := range strings.Split(combination, ",") {
		m = strings.TrimSpace(m)
		switch {
		case slices.Contains(multiFactorModes, m):
			return Yes
		case slices.Contains(singleFactorModes, m):
			single++
		default:
			unknown = true
		}
	}
	switch {
	case single >= 2:
		return Yes
	case unknown:
		return TriUnknown
	}
	return No
}
