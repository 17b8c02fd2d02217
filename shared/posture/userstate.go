package posture

// Tri is a three-valued fact: yes, no, or unknown because the data needed to
// decide it was not collected.
type Tri string

// Tri values.
const (
	Yes        Tri = "yes"
	No         Tri = "no"
	TriUnknown Tri = "unknown"
)

// And is three-valued conjunction.
func (t Tri) And(o Tri) Tri {
	switch {
	case t == No || o == No:
		return No
	case t == Yes && o == Yes:
		return Yes
	}
	return TriUnknown
}

// Or is three-valued disjunction.
func (t Tri) Or(o Tri) Tri {
	switch {
	case t == Yes || o == Yes:
		return Yes
	case t == No && o == No:
		return No
	}
	return TriUnknown
}

// Not is three-valued negation.
func (t Tri) Not() Tri {
	switch t {
	case Yes:
		return No
	case No:
		return Yes
	}
	return TriUnknown
}

// TriOf converts a known boolean.
func TriOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// Exclusion records why a user escapes a policy that would enforce MFA.
type Exclusion struct {
	PolicyID   string `json:"policyId"`
	PolicyName string `json:"policyName"`
	// Via is "user", "group:<id>", "role:<templateId>" or "guests".
	Via string `json:"via"`
}

// UserMFA is the computed MFA state of one population user: whether they are
// registered, whether MFA is enforced on them and by what, and if not, which
// exclusions let them escape. Reports name unprotected users from it.
type UserMFA struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	IsAdmin           bool   `json:"isAdmin"`
	Registered        Tri    `json:"registered"`
	// MissingFromReport is set when the user has no userRegistrationDetails
	// row: counted as not registered, flagged because the report lags new
	// users.
	MissingFromReport bool        `json:"missingFromReport,omitempty"`
	Enforced          Tri         `json:"enforced"`
	EnforcedBy        []string    `json:"enforcedBy,omitempty"` // policy ids, or "securityDefaults"
	ExcludedBy        []Exclusion `json:"excludedBy,omitempty"`
	Protected         Tri         `json:"protected"`
	// Reason explains, in a sentence, why the user is not (or may not be)
	// protected; empty when protected.
	Reason string `json:"reason,omitempty"`
	// Groups are the evaluated groups (policy-referenced) the user is in, so
	// a group-scoped exception can cover a finding about the user.
	Groups []string `json:"groups,omitempty"`
}

// SecurityDefaults is the EnforcedBy entry for security defaults.
const SecurityDefaults = "securityDefaults"
