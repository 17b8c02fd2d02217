package maildns

import (
	"context"
	"errors"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"

	"m365security/shared/posture"
)

// Selectors are the DKIM selectors Microsoft 365 publishes for a custom
// domain (CNAMEs to keys it rotates between).
var Selectors = []string{"selector1", "selector2"}

// maxCNAMEHops bounds alias chains: a loop must not cost unbounded lookups.
const maxCNAMEHops = 5

// Checker reads a domain's mail-authentication records.
type Checker struct{ dns Lookuper }

// NewChecker returns a checker asking l.
func NewChecker(l Lookuper) *Checker { return &Checker{dns: l} }

// Domain reads the SPF, DKIM and DMARC records of a mail domain.
func (c *Checker) Domain(ctx context.Context, name string) posture.MailDomain {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	d := posture.MailDomain{Name: name, OrgDomain: OrgDomain(name)}
	d.SPF = c.spf(ctx, name)
	d.DKIM = c.dkim(ctx, name)
	d.DMARC = c.dmarc(ctx, name, d.OrgDomain)
	return d
}

// OrgDomain is the registrable domain (public suffix plus one label) whose
// DMARC policy covers name. A tenant's *.onmicrosoft.com domain is its own:
// Microsoft, not the tenant, owns onmicrosoft.com.
func OrgDomain(name string) string {
	if strings.HasSuffix(name, ".onmicrosoft.com") {
		return name
	}
	org, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return name
	}
	return org
}

// txt returns the TXT records at name, following a CNAME the server
// returned without its target's records (an authoritative server for the
// alias only).
func (c *Checker) txt(ctx context.Context, name string) (Answer, error) {
	for range maxCNAMEHops {
		a, err := c.dns.Lookup(ctx, name, dns.TypeTXT)
		if err != nil || len(a.TXT) > 0 || a.CNAME == "" {
			return a, err
		}
		name = a.CNAME
	}
	return Answer{}, errors.New("CNAME chain longer than 5 at " + name)
}

// withPrefix keeps the records that start with prefix followed by a space
// or nothing (v=spf1, v=DMARC1).
func withPrefix(recs []string, prefix string, fold bool) []string {
	var out []string
	for _, r := range recs {
		t := strings.TrimSpace(r)
		if len(t) < len(prefix) {
			continue
		}
		head := t[:len(prefix)]
		match := head == prefix || (fold && strings.EqualFold(head, prefix))
		if match && (len(t) == len(prefix) || t[len(prefix)] == ' ' || t[len(prefix)] == ';') {
			out = append(out, t)
		}
	}
	return out
}

func missingReason(a Answer, what, name string) string {
	if a.NXDomain {
		return name + " does not exist (NXDOMAIN)"
	}
	return "no " + what + " record at " + name
}
