package maildns

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"m365security/shared/posture"
)

// dmarcPolicies are the values p= and sp= take (RFC 7489 6.3).
var dmarcPolicies = map[string]bool{"none": true, "quarantine": true, "reject": true}

// dmarc finds the policy that applies to domain: its own record, else its
// organizational domain's (RFC 7489 6.6.3), whose sp= then applies.
func (c *Checker) dmarc(ctx context.Context, domain, org string) posture.DMARC {
	d, found := c.dmarcAt(ctx, "_dmarc."+domain, false)
	if found || org == domain || d.Lookup == posture.LookupUnknown {
		return d
	}
	od, ofound := c.dmarcAt(ctx, "_dmarc."+org, true)
	if ofound || od.Lookup == posture.LookupUnknown {
		return od
	}
	d.Reason += "; nor at " + od.At
	return d
}

// dmarcAt reads the record at name; found is true when a record (valid or
// not) is there.
func (c *Checker) dmarcAt(ctx context.Context, name string, org bool) (posture.DMARC, bool) {
	d := posture.DMARC{At: name}
	a, err := c.txt(ctx, name)
	if err != nil {
		d.Lookup, d.Reason = posture.LookupUnknown, err.Error()
		return d, false
	}
	recs := withPrefix(a.TXT, "v=DMARC1", false)
	if len(recs) == 0 {
		d.Lookup, d.Reason = posture.LookupMissing, missingReason(a, "v=DMARC1 TXT", name)
		return d, false
	}
	if len(recs) > 1 {
		// RFC 7489 6.6.3: more than one record means no policy applies.
		d.Lookup, d.Record = posture.LookupInvalid, strings.Join(recs, " | ")
		d.Problems = []string{fmt.Sprintf("%d v=DMARC1 records at %s; receivers apply none of them", len(recs), name)}
		return d, true
	}
	d.Record = recs[0]
	parseDMARC(&d, recs[0], org)
	return d, true
}

// parseDMARC fills the policy from a record's tags.
func parseDMARC(d *posture.DMARC, record string, org bool) {
	t := tags(record)
	d.Lookup, d.Pct = posture.LookupFound, 100
	p, hasP := t["p"]
	p = strings.ToLower(p)
	if !hasP {
		d.Lookup = posture.LookupInvalid
		d.Problems = append(d.Problems, "the record has no p= tag")
	} else if !dmarcPolicies[p] {
		d.Lookup = posture.LookupInvalid
		d.Problems = append(d.Problems, "p= is "+strconv.Quote(p)+", not none, quarantine or reject")
	}
	d.Policy = p
	if sp, ok := t["sp"]; ok && org {
		sp = strings.ToLower(sp)
		if dmarcPolicies[sp] {
			d.Policy = sp
		} else {
			d.Problems = append(d.Problems, "sp= is "+strconv.Quote(sp)+", not none, quarantine or reject")
		}
	}
	if v, ok := t["pct"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			d.Problems = append(d.Problems, "pct= is "+strconv.Quote(v)+", not 0-100")
		} else {
			d.Pct = n
		}
	}
	d.RUA, d.RUF = uris(t["rua"]), uris(t["ruf"])
}

func uris(v string) []string {
	var out []string
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
