package maildns_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/dnssim"
	"m365security/shared/maildns"
	"m365security/shared/posture"
)

// newTestServer starts an authoritative server with records and returns a
// checker asking it with short timeouts.
func newTestServer(t testing.TB, records ...string) (*dnssim.Server, *maildns.Checker) {
	t.Helper()
	srv, err := dnssim.New(records)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	r := maildns.NewResolver([]string{srv.Addr()}, 200*time.Millisecond, 2)
	return srv, maildns.NewChecker(r)
}

func txt(name, value string) string { return fmt.Sprintf("%s. 300 IN TXT %q", name, value) }

// includes returns a chain of n include domains, each with one lookup.
func includes(n int) []string {
	var out []string
	for i := range n {
		out = append(out, txt(fmt.Sprintf("inc%d.example.net", i), "v=spf1 ip4:192.0.2.0/24 -all"))
	}
	return out
}

func includeTerms(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " include:inc%d.example.net", i)
	}
	return b.String()
}

func TestSPF(t *testing.T) {
	cases := []struct {
		name      string
		records   []string
		servfail  string
		drop      string
		lookup    posture.Lookup
		all       string
		redirect  string
		lookups   int
		problem   string // substring of a problem; "" means none
		reasonHas string
	}{
		{name: "one record ending in -all fails every other sender",
			records: []string{txt("example.com", "v=spf1 include:spf.protection.outlook.com -all"), txt("spf.protection.outlook.com", "v=spf1 ip4:40.92.0.0/15 -all")},
			lookup:  posture.LookupFound, all: "-all", lookups: 1},
		{name: "a soft fail (~all) is accepted, as MS.EXO.2.2v3 allows",
			records: []string{txt("example.com", "v=spf1 ip4:192.0.2.1 ~all")}, lookup: posture.LookupFound, all: "~all"},
		{name: "+all passes every server and is a finding",
			records: []string{txt("example.com", "v=spf1 ip4:192.0.2.1 +all")}, lookup: posture.LookupFound, all: "+all", problem: "+all passes mail from every server"},
		{name: "a bare all means +all",
			records: []string{txt("example.com", "v=spf1 a all")}, lookup: posture.LookupFound, all: "+all", lookups: 1, problem: "+all"},
		{name: "?all is neutral and a finding",
			records: []string{txt("example.com", "v=spf1 mx ?all")}, lookup: posture.LookupFound, all: "?all", lookups: 1, problem: "neutral"},
		{name: "a policy without all leaves unlisted servers neutral",
			records: []string{txt("example.com", "v=spf1 ip4:192.0.2.1")}, lookup: posture.LookupFound, problem: "no all mechanism"},
		{name: "two SPF records are a permanent error",
			records: []string{txt("example.com", "v=spf1 -all"), txt("example.com", "v=spf1 ip4:192.0.2.1 ~all")},
			lookup:  posture.LookupInvalid, problem: "2 v=spf1 records"},
		{name: "other TXT records beside the one SPF record are ignored",
			records: []string{txt("example.com", "MS=ms12345678"), txt("example.com", "v=spf10 nonsense"), txt("example.com", "v=spf1 -all")},
			lookup:  posture.LookupFound, all: "-all"},
		{name: "redirect= to a policy ending in -all takes its all and names it",
			records: []string{txt("example.com", "v=spf1 redirect=_spf.example.net"), txt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 -all")},
			lookup:  posture.LookupFound, all: "-all", redirect: "_spf.example.net", lookups: 1},
		{name: "redirect= to a policy ending in +all is a finding",
			records: []string{txt("example.com", "v=spf1 redirect=_spf.example.net"), txt("_spf.example.net", "v=spf1 +all")},
			lookup:  posture.LookupFound, all: "+all", redirect: "_spf.example.net", lookups: 1, problem: "+all"},
		{name: "redirect= is ignored when the record has an all",
			records: []string{txt("example.com", "v=spf1 -all redirect=_spf.example.net")},
			lookup:  posture.LookupFound, all: "-all"},
		{name: "redirect= to a domain without SPF is a permanent error",
			records: []string{txt("example.com", "v=spf1 redirect=_spf.example.net")},
			lookup:  posture.LookupFound, lookups: 1, redirect: "_spf.example.net", problem: "redirect=_spf.example.net publishes no SPF record"},
		{name: "exactly ten lookups is within the limit",
			records: append([]string{txt("example.com", "v=spf1"+includeTerms(10)+" -all")}, includes(10)...),
			lookup:  posture.LookupFound, all: "-all", lookups: 10},
		{name: "an include chain of eleven lookups exceeds the limit",
			records: append([]string{txt("example.com", "v=spf1"+includeTerms(5)+" include:deep.example.net -all"),
				txt("deep.example.net", "v=spf1 a mx include:deeper.example.net -all"), txt("deeper.example.net", "v=spf1 a mx exists:%{i}.x.example.net ~all")}, includes(5)...),
			lookup: posture.LookupFound, lookups: 11, problem: "11 DNS lookups"},
		{name: "an include of a domain without SPF is a permanent error",
			records: []string{txt("example.com", "v=spf1 include:gone.example.net -all")},
			lookup:  posture.LookupFound, all: "-all", lookups: 1, problem: "include:gone.example.net publishes no SPF record (gone.example.net does not exist (NXDOMAIN))"},
		{name: "an include loop is reported, not followed forever",
			records: []string{txt("example.com", "v=spf1 include:a.example.net -all"), txt("a.example.net", "v=spf1 include:example.com -all")},
			lookup:  posture.LookupFound, all: "-all", lookups: 2, problem: "loops back"},
		{name: "a domain that does not exist publishes no policy: a finding",
			records: []string{txt("other.example", "v=spf1 -all")}, lookup: posture.LookupMissing, problem: "no SPF policy", reasonHas: "NXDOMAIN"},
		{name: "a domain with no SPF record among its TXT records: a finding",
			records: []string{txt("example.com", "google-site-verification=abc")}, lookup: posture.LookupMissing, problem: "no SPF policy", reasonHas: "no v=spf1 TXT record at example.com"},
		{name: "SERVFAIL at the domain is unknown with the reason",
			records: []string{txt("example.com", "v=spf1 -all")}, servfail: "example.com", lookup: posture.LookupUnknown, reasonHas: "SERVFAIL"},
		{name: "a server that never answers is unknown with the reason",
			records: []string{txt("example.com", "v=spf1 -all")}, drop: "example.com", lookup: posture.LookupUnknown, reasonHas: "after 2 tries"},
		{name: "a redirect chain names the domain whose record decided",
			records: []string{txt("example.com", "v=spf1 redirect=a.example.net"), txt("a.example.net", "v=spf1 redirect=b.example.net"), txt("b.example.net", "v=spf1 ~all")},
			lookup:  posture.LookupFound, all: "~all", redirect: "b.example.net", lookups: 2},
		{name: "a bare v=spf1 has no all mechanism",
			records: []string{txt("example.com", "v="), txt("example.com", "v=spf1")}, lookup: posture.LookupFound, problem: "no all mechanism"},
		{name: "an include naming no domain is a problem",
			records: []string{txt("example.com", "v=spf1 include: -all")}, lookup: posture.LookupFound, all: "-all", lookups: 1, problem: "include: names no domain"},
		{name: "an include of a domain with two SPF records is a permanent error",
			records: []string{txt("example.com", "v=spf1 include:two.example.net -all"), txt("two.example.net", "v=spf1 -all"), txt("two.example.net", "v=spf1 +all")},
			lookup:  posture.LookupFound, all: "-all", lookups: 1, problem: "include:two.example.net publishes 2 SPF records"},
		{name: "SERVFAIL inside an include is unknown, not a finding",
			records: []string{txt("example.com", "v=spf1 include:inc0.example.net -all")}, servfail: "inc0.example.net",
			lookup: posture.LookupUnknown, lookups: 1, reasonHas: "expanding include:inc0.example.net"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, tc.records...)
			if tc.servfail != "" {
				srv.ServFail(tc.servfail)
			}
			if tc.drop != "" {
				srv.Drop(tc.drop)
			}
			d := c.Domain(context.Background(), "Example.com.")
			require.Equal(t, "example.com", d.Name)
			s := d.SPF
			require.Equal(t, tc.lookup, s.Lookup, "%+v", s)
			require.Equal(t, tc.all, s.All)
			require.Equal(t, tc.redirect, s.Redirect)
			require.Equal(t, tc.lookups, s.Lookups)
			if tc.problem == "" {
				require.Empty(t, s.Problems)
				require.Equal(t, tc.lookup == posture.LookupFound, s.OK())
			} else {
				require.Contains(t, strings.Join(s.Problems, "\n"), tc.problem)
				require.False(t, s.OK())
			}
			require.Contains(t, s.Reason, tc.reasonHas)
			if tc.lookup == posture.LookupFound {
				require.Contains(t, s.Record, "v=spf1")
			}
		})
	}
}

func TestDKIM(t *testing.T) {
	key := "v=DKIM1; k=rsa; p=MIIBIjANBgkq"
	cname := func(sel, target string) string {
		return fmt.Sprintf("%s._domainkey.example.com. 300 IN CNAME %s.", sel, target)
	}
	cases := []struct {
		name     string
		records  []string
		servfail string
		ok       bool
		problem  string
		unknown  string
	}{
		{name: "both selectors are CNAMEs to published keys",
			records: []string{cname("selector1", "s1.example.onmicrosoft.com"), cname("selector2", "s2.example.onmicrosoft.com"),
				txt("s1.example.onmicrosoft.com", key), txt("s2.example.onmicrosoft.com", key)}, ok: true},
		{name: "keys published straight at the selector names count",
			records: []string{txt("selector1._domainkey.example.com", key), txt("selector2._domainkey.example.com", "k=rsa; p=MIIB")}, ok: true},
		{name: "a missing selector is a finding naming it",
			records: []string{cname("selector1", "s1.example.onmicrosoft.com"), txt("s1.example.onmicrosoft.com", key)},
			problem: "selector selector2._domainkey.example.com is not published (selector2._domainkey.example.com does not exist (NXDOMAIN))"},
		{name: "a CNAME to a target that does not exist is a finding naming the target",
			records: []string{cname("selector1", "s1.example.onmicrosoft.com"), cname("selector2", "s2.example.onmicrosoft.com"), txt("s1.example.onmicrosoft.com", key)},
			problem: "selector2._domainkey.example.com is a CNAME to s2.example.onmicrosoft.com, which has no DKIM key (s2.example.onmicrosoft.com does not exist (NXDOMAIN))"},
		{name: "an empty p= is a revoked key",
			records: []string{txt("selector1._domainkey.example.com", key), txt("selector2._domainkey.example.com", "v=DKIM1; p=")},
			problem: "empty p= key"},
		{name: "SERVFAIL at a selector is unknown",
			records:  []string{txt("selector1._domainkey.example.com", key), txt("selector2._domainkey.example.com", key)},
			servfail: "selector2._domainkey.example.com", unknown: "selector2._domainkey.example.com: dns lookup failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, tc.records...)
			if tc.servfail != "" {
				srv.ServFail(tc.servfail)
			}
			d := c.Domain(context.Background(), "example.com").DKIM
			require.Len(t, d.Selectors, 2)
			require.Equal(t, tc.ok, d.OK())
			reason, unknown := d.Unknown()
			require.Equal(t, tc.unknown != "", unknown)
			require.Contains(t, reason, tc.unknown)
			if tc.problem != "" {
				require.Contains(t, strings.Join(d.Problems(), "\n"), tc.problem)
			} else if tc.unknown == "" {
				require.Empty(t, d.Problems())
			}
		})
	}
	require.Equal(t, []string{"no DKIM selector was checked"}, posture.DKIM{}.Problems())
}

func TestDMARC(t *testing.T) {
	cases := []struct {
		name     string
		domain   string
		records  []string
		servfail string
		want     posture.DMARC
		problem  string
	}{
		{name: "a reject policy at 100% with aggregate and failure addresses",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject; pct=100; rua=mailto:dmarc@example.com,mailto:reports@dmarc.cyber.dhs.gov; ruf=mailto:forensic@example.com")},
			want: posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.example.com", Policy: "reject", Pct: 100,
				RUA: []string{"mailto:dmarc@example.com", "mailto:reports@dmarc.cyber.dhs.gov"}, RUF: []string{"mailto:forensic@example.com"}}},
		{name: "p=none is found and not enforcing",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=none; rua=mailto:d@example.com")},
			want:    posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.example.com", Policy: "none", Pct: 100, RUA: []string{"mailto:d@example.com"}}},
		{name: "pct=50 applies the policy to half the failing mail",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=QUARANTINE; pct=50; rua=mailto:d@example.com")},
			want:    posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.example.com", Policy: "quarantine", Pct: 50, RUA: []string{"mailto:d@example.com"}}},
		{name: "a record without rua has no aggregate reports",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject")},
			want:    posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.example.com", Policy: "reject", Pct: 100}},
		{name: "a subdomain without its own record takes the organizational domain's sp=",
			domain:  "mail.example.com",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.com")},
			want:    posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.example.com", Policy: "quarantine", Pct: 100, RUA: []string{"mailto:d@example.com"}}},
		{name: "a subdomain's own record wins and its sp= does not apply to itself",
			domain:  "mail.example.com",
			records: []string{txt("_dmarc.mail.example.com", "v=DMARC1; p=reject; sp=none"), txt("_dmarc.example.com", "v=DMARC1; p=none")},
			want:    posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.mail.example.com", Policy: "reject", Pct: 100}},
		{name: "no record at the subdomain nor the organizational domain is missing, naming both",
			domain:  "mail.example.com",
			records: []string{txt("example.com", "v=spf1 -all")},
			want:    posture.DMARC{Lookup: posture.LookupMissing, At: "_dmarc.mail.example.com", Reason: "_dmarc.mail.example.com does not exist (NXDOMAIN); nor at _dmarc.example.com"}},
		{name: "pct=0 is a valid, if useless, value",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject; pct=0")},
			want:    posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.example.com", Policy: "reject", Pct: 0}},
		{name: "a CNAME to a DMARC record hosted elsewhere is followed",
			records: []string{"_dmarc.example.com. 300 IN CNAME example-com._dmarc.dmarc-host.example.", txt("example-com._dmarc.dmarc-host.example", "v=DMARC1; p=quarantine")},
			want:    posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc.example.com", Policy: "quarantine", Pct: 100}},
		{name: "two DMARC records mean no policy applies",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject"), txt("_dmarc.example.com", "v=DMARC1; p=none")},
			problem: "2 v=DMARC1 records"},
		{name: "a record without p= is invalid",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; rua=mailto:d@example.com")}, problem: "no p= tag"},
		{name: "an unknown policy value is invalid",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=block")}, problem: `p= is "block"`},
		{name: "an out-of-range pct is reported",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject; pct=150")}, problem: `pct= is "150"`},
		{name: "a bad sp= on the organizational record is reported",
			domain:  "mail.example.com",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=maybe")}, problem: `sp= is "maybe"`},
		{name: "SERVFAIL is unknown and the organizational domain is not asked",
			domain:  "mail.example.com",
			records: []string{txt("_dmarc.example.com", "v=DMARC1; p=reject")}, servfail: "_dmarc.mail.example.com",
			want: posture.DMARC{Lookup: posture.LookupUnknown, At: "_dmarc.mail.example.com"}},
		{name: "SERVFAIL at the organizational domain is unknown",
			domain:  "mail.example.com",
			records: []string{txt("example.com", "v=spf1 -all")}, servfail: "_dmarc.example.com",
			want: posture.DMARC{Lookup: posture.LookupUnknown, At: "_dmarc.example.com"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, tc.records...)
			if tc.servfail != "" {
				srv.ServFail(tc.servfail)
			}
			domain := tc.domain
			if domain == "" {
				domain = "example.com"
			}
			got := c.Domain(context.Background(), domain).DMARC
			if tc.problem != "" {
				require.Contains(t, strings.Join(got.Problems, "\n"), tc.problem)
				require.False(t, got.Lookup == posture.LookupFound && len(got.Problems) == 0)
				return
			}
			require.Empty(t, got.Problems)
			if tc.want.Lookup == posture.LookupUnknown {
				require.Equal(t, tc.want.At, got.At)
				require.Contains(t, got.Reason, "SERVFAIL")
				require.Equal(t, posture.LookupUnknown, got.Lookup)
				require.Zero(t, srv.Queries("_dmarc.example.com")*boolInt(tc.want.At != "_dmarc.example.com"))
				return
			}
			got.Record = ""
			require.Equal(t, tc.want, got)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestOrgDomain(t *testing.T) {
	for in, want := range map[string]string{
		"mail.contoso.com":             "contoso.com",
		"contoso.com":                  "contoso.com",
		"a.b.contoso.co.uk":            "contoso.co.uk",
		"contoso.onmicrosoft.com":      "contoso.onmicrosoft.com",
		"com":                          "com",
		"mail.contoso.onmicrosoft.com": "mail.contoso.onmicrosoft.com",
	} {
		require.Equal(t, want, maildns.OrgDomain(in), in)
	}
}

func TestResolverRetriesTheNextServerAndFallsBackToTCP(t *testing.T) {
	// A record too big for a UDP answer: the server truncates, the client
	// asks again over TCP.
	var big []string
	for i := range 40 {
		big = append(big, txt("big.example.com", fmt.Sprintf("filler-%02d-%s", i, strings.Repeat("x", 200))))
	}
	srv, err := dnssim.New(big)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	dead, err := dnssim.New(nil)
	require.NoError(t, err)
	require.NoError(t, dead.Start())
	dead.Drop("big.example.com")
	t.Cleanup(func() { _ = dead.Close() })

	r := maildns.NewResolver([]string{dead.Addr(), srv.Addr()}, 200*time.Millisecond, 2)
	a, err := r.Lookup(context.Background(), "big.example.com", 16)
	require.NoError(t, err)
	require.Len(t, a.TXT, 40)
	require.Equal(t, 1, dead.Queries("big.example.com"))
	require.GreaterOrEqual(t, srv.Queries("big.example.com"), 2, "UDP then TCP")
}

func TestCNAMELoopsAreBounded(t *testing.T) {
	srv, c := newTestServer(t, "_dmarc.example.com. 300 IN CNAME a.example.net.", "a.example.net. 300 IN CNAME _dmarc.example.com.")
	d := c.Domain(context.Background(), "example.com").DMARC
	require.Equal(t, posture.LookupUnknown, d.Lookup)
	require.Contains(t, d.Reason, "CNAME chain longer than 5")
	require.Equal(t, 3, srv.Queries("_dmarc.example.com"), "five hops, then it stops")
}

func TestResolverDefaultsToThreeTries(t *testing.T) {
	srv, err := dnssim.New(nil)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	srv.ServFail("example.com")
	_, err = maildns.NewResolver([]string{srv.Addr()}, 0, 0).Lookup(context.Background(), "example.com", 16)
	require.ErrorContains(t, err, "after 3 tries")
	require.ErrorContains(t, err, "answered SERVFAIL")
	require.Equal(t, 3, srv.Queries("example.com"))
	require.Equal(t, 2*time.Second, maildns.DefaultTimeout)
}

func TestResolverWithoutServersFailsWithTheReason(t *testing.T) {
	_, err := maildns.NewResolver(nil, 0, 0).Lookup(context.Background(), "example.com", 16)
	require.ErrorIs(t, err, maildns.ErrLookup)
	require.ErrorContains(t, err, "no DNS server configured")
}

func TestResolverStopsWhenTheContextEnds(t *testing.T) {
	srv, err := dnssim.New(nil)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = maildns.NewResolver([]string{srv.Addr()}, time.Second, 3).Lookup(ctx, "example.com", 16)
	require.ErrorIs(t, err, maildns.ErrLookup)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, srv.Queries("example.com"))
}

func TestSystemServers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "resolv.conf")
	require.NoError(t, os.WriteFile(good, []byte("nameserver 10.0.0.2\nnameserver ::1\noptions ndots:1\n"), 0o600))
	got, err := maildns.SystemServers(good)
	require.NoError(t, err)
	require.Equal(t, []string{"10.0.0.2:53", "[::1]:53"}, got)

	empty := filepath.Join(dir, "empty.conf")
	require.NoError(t, os.WriteFile(empty, []byte("options ndots:1\n"), 0o600))
	_, err = maildns.SystemServers(empty)
	require.ErrorContains(t, err, "names no nameserver")
	_, err = maildns.SystemServers(filepath.Join(dir, "absent"))
	require.ErrorContains(t, err, "absent")
}
