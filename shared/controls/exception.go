package controls

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"m365security/shared/posture"
)

// Exception is a risk acceptance: the customer accepts that a control's
// findings about some users or groups stay, for a reason, until a date.
type Exception struct {
	ID         string    `json:"id"`
	TenantID   string    `json:"tenantId"`
	ControlID  string    `json:"controlId"`
	Scope      Scope     `json:"scope"`
	Reason     string    `json:"reason"`
	ApprovedBy string    `json:"approvedBy"`
	ExpiresAt  time.Time `json:"expiresAt"`
	CreatedAt  time.Time `json:"createdAt"`
	// RevokedAt is set by DELETE; a revoked exception is kept so history
	// still shows what was accepted when.
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	// Status is computed when read: active, expired or revoked.
	Status string `json:"status,omitempty"`
}

// Scope names the users, groups and mail domains an exception covers.
type Scope struct {
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
	// Domains are domain names: they cover findings about a domain (a
	// mail domain's records, a domain's password policy).
	Domains []string `json:"domains,omitempty"`
}

// Exception statuses.
const (
	ExceptionActive  = "active"
	ExceptionExpired = "expired"
	ExceptionRevoked = "revoked"
)

// MaxExceptionLifetime bounds expiresAt: acceptances must be reviewed.
const MaxExceptionLifetime = 366 * 24 * time.Hour

// StatusAt returns the exception's status at t.
func (e Exception) StatusAt(t time.Time) string {
	switch {
	case e.RevokedAt != nil && !t.Before(*e.RevokedAt):
		return ExceptionRevoked
	case !t.Before(e.ExpiresAt):
		return ExceptionExpired
	case t.Before(e.CreatedAt):
		return "" // not yet made
	}
	return ExceptionActive
}

// Covers reports whether the exception covers a finding: a user finding by
// the user's id or a group the user is in, a group finding by the group, a
// domain finding by the domain's name. Tenant-wide findings (no policy at
// all, a setting) are never covered: an exception names people and domains,
// not the absence of a control.
func (e Exception) Covers(f posture.Finding) bool {
	inUsers := func(id string) bool {
		return id != "" && slices.ContainsFunc(e.Scope.Users, func(u string) bool { return strings.EqualFold(u, id) })
	}
	inGroups := func(id string) bool {
		return id != "" && slices.ContainsFunc(e.Scope.Groups, func(g string) bool { return strings.EqualFold(g, id) })
	}
	if f.Kind == posture.FindingDomain {
		return f.ID != "" && slices.ContainsFunc(e.Scope.Domains, func(d string) bool { return strings.EqualFold(strings.TrimSuffix(d, "."), f.ID) })
	}
	switch f.Kind {
	case posture.FindingTenant, posture.FindingRole, posture.FindingPolicy, "":
		return false
	case posture.FindingGroup:
		return inGroups(f.ID)
	}
	if inUsers(f.UserID) || (f.Kind == posture.FindingUser && inUsers(f.ID)) {
		return true
	}
	for _, g := range f.Groups {
		if inGroups(g) {
			return true
		}
	}
	return false
}

var (
	guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// domainRE is a DNS name of at least two labels (RFC 1123 labels).
	domainRE = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$`)
)

// maxDomainLength is DNS's limit on a name.
const maxDomainLength = 253

// Limits of an exception: what a real risk acceptance needs (a few
// break-glass accounts or service principals, or a group of them), so
// every stored exception stays a few kilobytes and validating one is cheap.
const (
	// MaxScopeIDs bounds users, groups and domains together; more people
	// than this belong in a group.
	MaxScopeIDs = 100
	// MaxReasonLength and MaxApprovedByLength bound the free text, in bytes.
	MaxReasonLength     = 2000
	MaxApprovedByLength = 256
)

// maxScopeProblems bounds the bad scope ids reported one by one.
const maxScopeProblems = 5

// Validate checks a new exception against the catalogue and the clock.
// Its work is bounded whatever the input: an oversize scope is refused as a
// whole, without checking each id.
func (e Exception) Validate(now time.Time) error {
	var p []string
	if _, ok := ByID(e.ControlID); !ok {
		p = append(p, "controlId "+quote(e.ControlID)+" is not a control in the catalogue")
	}
	// if/else rather than a tagless switch: the mutation tool sees the
	// coverage of if conditions only.
	if n := len(e.Scope.Users) + len(e.Scope.Groups) + len(e.Scope.Domains); n == 0 {
		p = append(p, "scope must name at least one user or group id or domain")
	} else if n > MaxScopeIDs {
		p = append(p, "scope names "+strconv.Itoa(n)+" ids; at most "+strconv.Itoa(MaxScopeIDs)+" users, groups and domains together (use a group for more)")
	} else {
		bad := 0
		for _, id := range slices.Concat(e.Scope.Users, e.Scope.Groups) {
			if guidRE.MatchString(id) {
				continue
			}
			if bad++; bad <= maxScopeProblems {
				p = append(p, "scope id "+quote(id)+" is not an object id (GUID)")
			}
		}
		if bad > maxScopeProblems {
			p = append(p, "and "+strconv.Itoa(bad-maxScopeProblems)+" more scope ids are not object ids")
		}
		badDomains := 0
		for _, d := range e.Scope.Domains {
			if len(d) <= maxDomainLength && domainRE.MatchString(d) {
				continue
			}
			if badDomains++; badDomains <= maxScopeProblems {
				p = append(p, "scope domain "+quote(d)+" is not a domain name")
			}
		}
		if badDomains > maxScopeProblems {
			p = append(p, "and "+strconv.Itoa(badDomains-maxScopeProblems)+" more scope domains are not domain names")
		}
	}
	if strings.TrimSpace(e.Reason) == "" {
		p = append(p, "reason is required")
	}
	if len(e.Reason) > MaxReasonLength {
		p = append(p, "reason is longer than "+strconv.Itoa(MaxReasonLength)+" characters")
	}
	if strings.TrimSpace(e.ApprovedBy) == "" {
		p = append(p, "approvedBy is required")
	}
	if len(e.ApprovedBy) > MaxApprovedByLength {
		p = append(p, "approvedBy is longer than "+strconv.Itoa(MaxApprovedByLength)+" characters")
	}
	if e.ExpiresAt.IsZero() {
		p = append(p, "expiresAt is required (RFC 3339)")
	} else if !e.ExpiresAt.After(now) {
		p = append(p, "expiresAt must be in the future")
	} else if e.ExpiresAt.Sub(now) > MaxExceptionLifetime {
		p = append(p, "expiresAt must be within 366 days: risk acceptances need review")
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return `"` + s + `"`
}
