package maildns

import (
	"context"
	"strings"

	"github.com/miekg/dns"

	"m365security/shared/posture"
)

func (c *Checker) dkim(ctx context.Context, domain string) posture.DKIM {
	out := posture.DKIM{Selectors: make([]posture.DKIMSelector, 0, len(Selectors))}
	for _, sel := range Selectors {
		out.Selectors = append(out.Selectors, c.selector(ctx, sel+"._domainkey."+domain))
	}
	return out
}

// selector reads one selector: Microsoft 365 publishes it as a CNAME to a
// key it hosts; a TXT at the selector name itself is accepted too.
func (c *Checker) selector(ctx context.Context, name string) posture.DKIMSelector {
	s := posture.DKIMSelector{Name: name}
	a, err := c.dns.Lookup(ctx, name, dns.TypeCNAME)
	if err != nil {
		s.Lookup, s.Reason = posture.LookupUnknown, err.Error()
		return s
	}
	keyAt := name
	if a.CNAME != "" {
		s.CNAME, keyAt = a.CNAME, a.CNAME
	}
	t, err := c.txt(ctx, keyAt)
	if err != nil {
		s.Lookup, s.Reason = posture.LookupUnknown, err.Error()
		return s
	}
	keys := withPrefix(t.TXT, "v=DKIM1", false)
	if len(keys) == 0 {
		// v= is optional in a key record (RFC 6376 3.6.1): a record with
		// a p= tag is a key record too.
		for _, r := range t.TXT {
			if _, ok := tags(r)["p"]; ok {
				keys = append(keys, r)
			}
		}
	}
	if len(keys) == 0 {
		s.Lookup = posture.LookupMissing
		s.Problem = "selector " + name + " is not published (" + missingReason(t, "CNAME or TXT", name) + ")"
		if s.CNAME != "" {
			s.Problem = name + " is a CNAME to " + s.CNAME + ", which has no DKIM key (" + missingReason(t, "TXT", s.CNAME) + ")"
		}
		return s
	}
	s.Lookup = posture.LookupFound
	s.Key = strings.TrimSpace(tags(keys[0])["p"]) != ""
	if !s.Key {
		s.Problem = name + " publishes an empty p= key: the key is revoked"
	}
	return s
}

// tags parses a tag-list record ("v=DMARC1; p=reject; rua=mailto:a@b"):
// keys lower-cased, values trimmed; a later duplicate does not override.
func tags(record string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(record, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := out[k]; !dup && k != "" {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}
