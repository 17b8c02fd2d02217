package dnssim_test

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"m365security/shared/dnssim"
)

func TestServer(t *testing.T) {
	_, err := dnssim.New([]string{`ok.example. 60 IN TXT "a"`, "not a record"})
	require.ErrorContains(t, err, `record "not a record"`)

	srv, err := dnssim.New([]string{`ok.example. 60 IN TXT "v=spf1 -all"`, "alias.example. 60 IN CNAME ok.example."})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	ask := func(name string, qtype uint16) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		r, err := dns.Exchange(q, srv.Addr())
		require.NoError(t, err)
		return r
	}
	cases := []struct {
		name    string
		qname   string
		qtype   uint16
		rcode   int
		answers int
	}{
		{"a held name answers its records", "ok.example.", dns.TypeTXT, dns.RcodeSuccess, 1},
		{"names are matched without case", "OK.Example.", dns.TypeTXT, dns.RcodeSuccess, 1},
		{"another type of a held name is an empty answer", "ok.example.", dns.TypeA, dns.RcodeSuccess, 0},
		{"an alias answers with its CNAME for any type", "alias.example.", dns.TypeTXT, dns.RcodeSuccess, 1},
		{"a name not held does not exist", "gone.example.", dns.TypeTXT, dns.RcodeNameError, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(tc.qname, tc.qtype)
			require.Equal(t, tc.rcode, r.Rcode)
			require.Len(t, r.Answer, tc.answers)
			require.True(t, r.Authoritative)
		})
	}
	srv.ServFail("ok.example")
	require.Equal(t, dns.RcodeServerFailure, ask("ok.example.", dns.TypeTXT).Rcode)
	require.Equal(t, 4, srv.Queries("OK.example"), "every question about the name, whatever its case or type")
}
