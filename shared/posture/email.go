package posture

import "strings"

// Email is what the email collector reads: every verified mail domain with
// the SPF, DKIM and DMARC records DNS publishes for it, and the Defender for
// Office 365 protections Secure Score reports.
type Email struct {
	Domains []MailDomain `json:"domains"`
	// Protections are the Secure Score controls behind the M365SEC.MAIL
	// controls, from the latest daily score.
	Protections []MailProtection `json:"protections"`
	// MDOLicensed says whether a usable subscription provisions Defender
	// for Office 365 (Plan 1 or 2); nil when the licences could not be read.
	MDOLicensed *bool `json:"mdoLicensed,omitempty"`
	// ScoreDate is the day of the Secure Score the protections come from.
	ScoreDate string `json:"scoreDate,omitempty"`
}

// Lookup is the outcome of reading one DNS record set.
type Lookup string

// Lookup outcomes. Missing (NXDOMAIN or no such record) is an answer and a
// finding; Unknown (SERVFAIL, timeout, no resolver) is not an answer, so a
// control over it is unknown for that domain.
const (
	LookupFound   Lookup = "found"
	LookupMissing Lookup = "missing"
	LookupInvalid Lookup = "invalid"
	LookupUnknown Lookup = "unknown"
)

// MailDomain is one verified domain that supports Email, with its records.
type MailDomain struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault,omitempty"`
	IsInitial bool   `json:"isInitial,omitempty"`
	// OrgDomain is the registrable (organizational) domain whose DMARC
	// policy covers this one when it publishes none of its own.
	OrgDomain string `json:"orgDomain"`
	SPF       SPF    `json:"spf"`
	DKIM      DKIM   `json:"dkim"`
	DMARC     DMARC  `json:"dmarc"`
}

// SPF is the domain's Sender Policy Framework policy as DNS publishes it.
type SPF struct {
	Lookup Lookup `json:"lookup"`
	// Record is the single v=spf1 record; Records lists every one seen
	// when there is not exactly one.
	Record  string   `json:"record,omitempty"`
	Records []string `json:"records,omitempty"`
	// All is the qualified all mechanism that ends the policy ("-all",
	// "~all", "?all", "+all"), after following redirect=; empty when none.
	All string `json:"all,omitempty"`
	// Redirect is the domain whose record decided All, when redirect= did.
	Redirect string `json:"redirect,omitempty"`
	// Lookups counts the DNS-querying terms of the expanded policy
	// (include, a, mx, ptr, exists, redirect); RFC 7208 allows 10.
	Lookups int `json:"lookups"`
	// Problems say why the policy does not fail all non-approved senders.
	Problems []string `json:"problems,omitempty"`
	// Reason says why the lookup is unknown or missing.
	Reason string `json:"reason,omitempty"`
}

// MaxSPFLookups is RFC 7208's limit on DNS-querying terms (section 4.6.4).
const MaxSPFLookups = 10

// OK reports whether the policy fails every non-approved sender: one record
// ending in -all or ~all (directly or through redirect=) within the lookup
// limit. MS.EXO.2.2v3 accepts a hard or a soft fail.
func (s SPF) OK() bool { return s.Lookup == LookupFound && len(s.Problems) == 0 }

// DKIM holds the two selectors Microsoft 365 publishes per domain.
type DKIM struct {
	Selectors []DKIMSelector `json:"selectors"`
}

// DKIMSelector is one selector's record: the CNAME at
// <selector>._domainkey.<domain> and the key TXT at its target.
type DKIMSelector struct {
	Name   string `json:"name"`
	Lookup Lookup `json:"lookup"`
	// CNAME is the target the selector points at; empty when the key TXT
	// sits at the selector name itself.
	CNAME string `json:"cname,omitempty"`
	// Key reports a TXT with a non-empty p= public key.
	Key     bool   `json:"key"`
	Problem string `json:"problem,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Unknown returns the reason of the first selector whose lookup failed.
func (d DKIM) Unknown() (string, bool) {
	for _, s := range d.Selectors {
		if s.Lookup == LookupUnknown {
			return s.Name + ": " + s.Reason, true
		}
	}
	return "", false
}

// Problems lists what keeps DKIM from being enabled, one per selector.
func (d DKIM) Problems() []string {
	var out []string
	if len(d.Selectors) == 0 {
		return []string{"no DKIM selector was checked"}
	}
	for _, s := range d.Selectors {
		if s.Lookup != LookupFound || !s.Key {
			out = append(out, s.Problem)
		}
	}
	return out
}

// OK reports whether every selector publishes a key.
func (d DKIM) OK() bool {
	_, unknown := d.Unknown()
	return !unknown && len(d.Problems()) == 0
}

// DMARC is the DMARC policy that applies to the domain: its own record at
// _dmarc.<domain>, else its organizational domain's.
type DMARC struct {
	Lookup Lookup `json:"lookup"`
	Record string `json:"record,omitempty"`
	// At is the name the record was found at (_dmarc.<domain> or
	// _dmarc.<orgDomain>).
	At string `json:"at,omitempty"`
	// Policy is the policy applied to this domain: p, or sp when the
	// record is the organizational domain's and sets one.
	Policy string   `json:"policy,omitempty"`
	Pct    int      `json:"pct"`
	RUA    []string `json:"rua,omitempty"`
	RUF    []string `json:"ruf,omitempty"`
	// Problems say why the record is invalid (Lookup invalid).
	Problems []string `json:"problems,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}

// Enforcing reports whether the policy is reject or quarantine: what
// mailDomainsAuthenticated counts.
func (d DMARC) Enforcing() bool {
	return d.Lookup == LookupFound && (d.Policy == "reject" || d.Policy == "quarantine")
}

// CISAReportAddress is the aggregate-report address MS.EXO.4.3v1 requires
// of US federal agencies.
const CISAReportAddress = "reports@dmarc.cyber.dhs.gov"

// OwnAddresses returns the report addresses (mailto: stripped) that are not
// CISA's.
func OwnAddresses(uris []string) []string {
	var out []string
	for _, u := range uris {
		addr := MailtoAddress(u)
		if addr != "" && !strings.EqualFold(addr, CISAReportAddress) {
			out = append(out, addr)
		}
	}
	return out
}

// MailtoAddress returns the address of a DMARC report URI
// ("mailto:a@b!10m" → "a@b"); empty for other schemes.
func MailtoAddress(uri string) string {
	uri = strings.TrimSpace(uri)
	if !strings.HasPrefix(strings.ToLower(uri), "mailto:") {
		return ""
	}
	// A size limit ("!10m") may follow the address.
	addr, _, _ := strings.Cut(uri[len("mailto:"):], "!")
	return strings.TrimSpace(addr)
}

// Authenticated reports whether the domain counts for
// mailDomainsAuthenticated, and whether that could be decided at all.
func (d MailDomain) Authenticated() (ok, known bool) {
	if d.SPF.Lookup == LookupUnknown || d.DMARC.Lookup == LookupUnknown {
		return false, false
	}
	if _, unknown := d.DKIM.Unknown(); unknown {
		return false, false
	}
	return d.SPF.OK() && d.DKIM.OK() && d.DMARC.Enforcing(), true
}

// MailProtection is one Secure Score control behind an M365SEC.MAIL
// control: its score on the latest day against its maximum.
type MailProtection struct {
	ControlName string  `json:"controlName"`
	Title       string  `json:"title"`
	Service     string  `json:"service,omitempty"`
	Score       float64 `json:"score"`
	MaxScore    float64 `json:"maxScore"`
	// Scored is false when the latest Secure Score does not score the
	// control at all (not offered to the tenant).
	Scored      bool   `json:"scored"`
	Remediation string `json:"remediation,omitempty"`
	ActionURL   string `json:"actionUrl,omitempty"`
}

// Email sources (besides the shared Secure Score and licence sources).
const (
	SrcMailDomains     = "mailDomains"
	SrcMailDNS         = "mailDns"
	SrcMailSkus        = "mailSubscribedSkus"
	SrcMailScores      = "mailSecureScores"
	SrcMailProfiles    = "mailControlProfiles"
	ListUnauthedDomain = "unauthenticatedMailDomains"
)

// Service plans that bring Defender for Office 365 (Plan 1; Plan 2, which
// includes Plan 1).
const (
	PlanMDOPlan1 = "ATP_ENTERPRISE"
	PlanMDOPlan2 = "THREAT_INTELLIGENCE"
)
