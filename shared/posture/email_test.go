package posture

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMailtoAddress(t *testing.T) {
	for in, want := range map[string]string{
		"mailto:dmarc@contoso.com":      "dmarc@contoso.com",
		" MAILTO:dmarc@contoso.com!10m": "dmarc@contoso.com",
		"https://contoso.com/dmarc":     "",
		"mailto":                        "",
		"mailto:!10m":                   "",
		"":                              "",
	} {
		require.Equal(t, want, MailtoAddress(in), in)
	}
	require.Equal(t, []string{"d@contoso.com"}, OwnAddresses([]string{"mailto:Reports@dmarc.cyber.dhs.gov", "mailto:d@contoso.com", "https://x"}))
	require.Empty(t, OwnAddresses(nil))
}

func TestDomainSupportsEmail(t *testing.T) {
	require.True(t, Domain{IsVerified: true, SupportedServices: []string{"OfficeCommunicationsOnline", "email"}}.SupportsEmail())
	require.False(t, Domain{IsVerified: false, SupportedServices: []string{"Email"}}.SupportsEmail(), "unverified")
	require.False(t, Domain{IsVerified: true, SupportedServices: []string{"Intune"}}.SupportsEmail())
}

func TestDKIMVerdicts(t *testing.T) {
	found := DKIMSelector{Name: "s1", Lookup: LookupFound, Key: true}
	cases := []struct {
		name     string
		sels     []DKIMSelector
		ok       bool
		problems int
		unknown  string
	}{
		{"two published keys are enabled", []DKIMSelector{found, found}, true, 0, ""},
		{"a revoked key is a problem", []DKIMSelector{found, {Name: "s2", Lookup: LookupFound, Problem: "revoked"}}, false, 1, ""},
		{"a missing selector is a problem", []DKIMSelector{{Name: "s1", Lookup: LookupMissing, Problem: "missing"}, found}, false, 1, ""},
		{"an unknown selector is unknown, named", []DKIMSelector{found, {Name: "s2", Lookup: LookupUnknown, Reason: "timeout"}}, false, 0, "s2: timeout"},
		{"no selectors is not enabled", nil, false, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := DKIM{Selectors: tc.sels}
			require.Equal(t, tc.ok, d.OK())
			reason, unknown := d.Unknown()
			require.Equal(t, tc.unknown, reason)
			require.Equal(t, tc.unknown != "", unknown)
			if tc.unknown == "" {
				require.Len(t, d.Problems(), tc.problems)
			}
		})
	}
}

func TestAuthenticated(t *testing.T) {
	key := DKIMSelector{Lookup: LookupFound, Key: true}
	good := MailDomain{SPF: SPF{Lookup: LookupFound}, DKIM: DKIM{Selectors: []DKIMSelector{key}}, DMARC: DMARC{Lookup: LookupFound, Policy: "reject"}}
	ok, known := good.Authenticated()
	require.True(t, ok)
	require.True(t, known)
	for name, mod := range map[string]func(*MailDomain){
		"quarantine counts":          func(d *MailDomain) { d.DMARC.Policy = "quarantine" },
		"p=none does not":            func(d *MailDomain) { d.DMARC.Policy = "none" },
		"an invalid record does not": func(d *MailDomain) { d.DMARC.Lookup = LookupInvalid },
		"an SPF problem does not":    func(d *MailDomain) { d.SPF.Problems = []string{"+all"} },
		"a missing SPF does not":     func(d *MailDomain) { d.SPF.Lookup = LookupMissing },
	} {
		d := good
		mod(&d)
		ok, known := d.Authenticated()
		require.True(t, known, name)
		require.Equal(t, name == "quarantine counts", ok, name)
	}
	for name, mod := range map[string]func(*MailDomain){
		"SPF unknown":   func(d *MailDomain) { d.SPF.Lookup = LookupUnknown },
		"DMARC unknown": func(d *MailDomain) { d.DMARC.Lookup = LookupUnknown },
		"DKIM unknown":  func(d *MailDomain) { d.DKIM.Selectors = []DKIMSelector{{Lookup: LookupUnknown}} },
	} {
		d := good
		mod(&d)
		ok, known := d.Authenticated()
		require.False(t, known, name)
		require.False(t, ok, name)
	}
}
