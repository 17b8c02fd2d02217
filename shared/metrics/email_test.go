package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

func authedDomain(name string) posture.MailDomain {
	key := posture.DKIMSelector{Lookup: posture.LookupFound, Key: true}
	return posture.MailDomain{Name: name,
		SPF:   posture.SPF{Lookup: posture.LookupFound, All: "-all"},
		DKIM:  posture.DKIM{Selectors: []posture.DKIMSelector{key, key}},
		DMARC: posture.DMARC{Lookup: posture.LookupFound, Policy: "quarantine", Pct: 100}}
}

func TestMailDomainsAuthenticated(t *testing.T) {
	asOf := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	ok := posture.Sources{{Name: posture.SrcMailDomains, Status: posture.SourceOK}, {Name: posture.SrcMailDNS, Status: posture.SourceOK}}
	with := func(mod func(*posture.MailDomain)) posture.MailDomain {
		d := authedDomain("b.example")
		mod(&d)
		return d
	}
	cases := []struct {
		name    string
		domains []posture.MailDomain
		src     posture.Sources
		num     float64
		den     float64
		reason  string
	}{
		{"SPF, DKIM and an enforcing DMARC policy count", []posture.MailDomain{authedDomain("a.example"), authedDomain("b.example")}, ok, 2, 2, ""},
		{"p=none does not count", []posture.MailDomain{authedDomain("a.example"), with(func(d *posture.MailDomain) { d.DMARC.Policy = "none" })}, ok, 1, 2, ""},
		{"a failing SPF policy does not count", []posture.MailDomain{authedDomain("a.example"), with(func(d *posture.MailDomain) { d.SPF.Problems = []string{"+all"} })}, ok, 1, 2, ""},
		{"a missing DKIM key does not count", []posture.MailDomain{authedDomain("a.example"), with(func(d *posture.MailDomain) {
			d.DKIM.Selectors = []posture.DKIMSelector{{Lookup: posture.LookupMissing, Problem: "gone"}}
		})}, ok, 1, 2, ""},
		{"a missing DMARC record does not count", []posture.MailDomain{with(func(d *posture.MailDomain) { d.DMARC = posture.DMARC{Lookup: posture.LookupMissing} })}, ok, 0, 1, ""},
		{"a domain DNS could not answer for makes it unknown", []posture.MailDomain{authedDomain("a.example"), with(func(d *posture.MailDomain) { d.DMARC.Lookup = posture.LookupUnknown })}, ok, 0, 0,
			"1 of 2 mail domains could not be read from DNS: b.example"},
		{"an unknown SPF lookup makes it unknown", []posture.MailDomain{with(func(d *posture.MailDomain) { d.SPF.Lookup = posture.LookupUnknown })}, ok, 0, 0, "could not be read from DNS"},
		{"an unknown DKIM selector makes it unknown", []posture.MailDomain{with(func(d *posture.MailDomain) {
			d.DKIM.Selectors[1] = posture.DKIMSelector{Lookup: posture.LookupUnknown}
		})}, ok, 0, 0, "could not be read from DNS"},
		{"no mail domains is unknown, not 0%", nil, ok, 0, 0, "no verified domain set up for email"},
		{"a failed DNS source is unknown with its reason", []posture.MailDomain{authedDomain("a.example")},
			posture.Sources{{Name: posture.SrcMailDomains, Status: posture.SourceOK}, {Name: posture.SrcMailDNS, Status: posture.SourceFailed, Reason: "no DNS resolver configured"}},
			0, 0, "mailDns: failed: no DNS resolver configured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := MailDomains(&posture.Email{Domains: tc.domains}, tc.src, asOf)[posture.MetricMailAuthenticated]
			if tc.reason != "" {
				require.Equal(t, posture.Unknown, m.Status)
				require.Nil(t, m.Value)
				require.Contains(t, m.Reason, tc.reason)
				return
			}
			require.Equal(t, posture.Measured, m.Status)
			require.Equal(t, tc.num, *m.Numerator)
			require.Equal(t, tc.den, *m.Denominator)
			require.Equal(t, asOf, m.AsOf)
		})
	}
	require.Equal(t, posture.Unknown, MailDomains(nil, ok, asOf)[posture.MetricMailAuthenticated].Status)
}
