package collect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/dnssim"
	"m365security/shared/graphsim"
	"m365security/shared/maildns"
	"m365security/shared/posture"
)

func mailTenant() *graphsim.Tenant {
	return graphsim.Generate(7, graphsim.Size{Users: 40, Devices: 10, CAGroups: 2, Now: testNow})
}

func newTestDNS(t testing.TB, records []string) (*dnssim.Server, maildns.Lookuper) {
	t.Helper()
	srv, err := dnssim.New(records)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	return srv, maildns.NewResolver([]string{srv.Addr()}, 200*time.Millisecond, 2)
}

func mailDomain(t testing.TB, e *posture.Email, name string) posture.MailDomain {
	t.Helper()
	for _, d := range e.Domains {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no mail domain %s in %+v", name, e.Domains)
	return posture.MailDomain{}
}

func TestEmailReadsMailDomainsDNSAndProtections(t *testing.T) {
	tn := mailTenant()
	_, c := newTestServer(t, tn, graphsim.Options{})
	_, dns := newTestDNS(t, tn.DNS)
	e, srcs := Email(context.Background(), c, dns, discardLogger())
	for _, s := range srcs {
		require.True(t, s.OK(), "%s: %s", s.Name, s.Reason)
	}
	var def, initial string
	var names []string
	for _, d := range tn.Domains {
		if d.IsDefault {
			def = d.ID
		}
		if d.IsInitial {
			initial = d.ID
		}
		if d.IsVerified && len(d.SupportedServices) > 0 && d.SupportedServices[0] == "Email" {
			names = append(names, d.ID)
		}
	}
	var got []string
	for _, d := range e.Domains {
		got = append(got, d.Name)
	}
	require.ElementsMatch(t, names, got, "verified domains supporting Email, the unverified one left out")
	require.Len(t, got, 5)
	require.True(t, mailDomain(t, e, def).IsDefault)
	require.True(t, mailDomain(t, e, initial).IsInitial)
	require.Equal(t, "none", mailDomain(t, e, def).DMARC.Policy)
	require.Equal(t, 11, mailDomain(t, e, "mail."+def).SPF.Lookups)

	require.NotNil(t, e.MDOLicensed)
	require.True(t, *e.MDOLicensed)
	require.Equal(t, testNow.Format("2006-01-02"), e.ScoreDate)
	byName := map[string]posture.MailProtection{}
	for _, p := range e.Protections {
		byName[p.ControlName] = p
		require.Contains(t, []string{"MDO", "EXO", "MIP"}, p.Service, p.ControlName)
	}
	require.NotContains(t, byName, "AdminMFAV2", "identity controls are not mail protections")
	imp := byName["mdo_targetedusersprotection"]
	require.True(t, imp.Scored)
	require.Equal(t, 0.0, imp.Score)
	require.Equal(t, 7.0, imp.MaxScore)
	require.Equal(t, "Enable impersonated user protection in the Microsoft Defender portal > Email & collaboration > Policies.", imp.Remediation, "HTML made plain text")
}

func TestEmailFailures(t *testing.T) {
	tests := []struct {
		name string
		// tenant changes the data before it is served; fault breaks a
		// server.
		tenant func(*graphsim.Tenant)
		fault  func(*graphsim.Tenant, *graphsim.Server, *dnssim.Server)
		noDNS  bool
		want   map[string]posture.SourceStatus
		check  func(t *testing.T, e *posture.Email, srcs posture.Sources)
	}{
		{
			name: "a tenant without Defender for Office 365 is recorded as not licensed for it",
			tenant: func(tn *graphsim.Tenant) {
				for i := range tn.SubscribedSkus {
					var plans []graphsim.ServicePlanInfo
					for _, p := range tn.SubscribedSkus[i].ServicePlans {
						if p.ServicePlanName != "ATP_ENTERPRISE" && p.ServicePlanName != "THREAT_INTELLIGENCE" {
							plans = append(plans, p)
						}
					}
					tn.SubscribedSkus[i].ServicePlans = plans
				}
			},
			check: func(t *testing.T, e *posture.Email, _ posture.Sources) {
				require.NotNil(t, e.MDOLicensed)
				require.False(t, *e.MDOLicensed)
			},
		},
		{
			name: "unreadable licences leave the licence state unknown",
			fault: func(_ *graphsim.Tenant, s *graphsim.Server, _ *dnssim.Server) {
				s.ForceError("/subscribedSkus", graphsim.InsufficientPrivileges())
			},
			want:  map[string]posture.SourceStatus{posture.SrcMailSkus: posture.SourceForbidden},
			check: func(t *testing.T, e *posture.Email, _ posture.Sources) { require.Nil(t, e.MDOLicensed) },
		},
		{
			name: "no domains means no DNS checks",
			fault: func(_ *graphsim.Tenant, s *graphsim.Server, _ *dnssim.Server) {
				s.ForceError("/domains", graphsim.InsufficientPrivileges())
			},
			want:  map[string]posture.SourceStatus{posture.SrcMailDomains: posture.SourceForbidden, posture.SrcMailDNS: posture.SourceSkipped},
			check: func(t *testing.T, e *posture.Email, _ posture.Sources) { require.Empty(t, e.Domains) },
		},
		{
			name:  "without a resolver the DNS source fails with the reason",
			noDNS: true,
			want:  map[string]posture.SourceStatus{posture.SrcMailDNS: posture.SourceFailed},
			check: func(t *testing.T, _ *posture.Email, srcs posture.Sources) {
				require.Equal(t, "no DNS resolver configured", mustSource(t, srcs, posture.SrcMailDNS).Reason)
			},
		},
		{
			name: "a domain DNS cannot answer for is kept unknown and the source says so",
			fault: func(tn *graphsim.Tenant, _ *graphsim.Server, d *dnssim.Server) {
				for _, dom := range tn.Domains {
					if dom.IsDefault {
						d.ServFail(dom.ID)
					}
				}
			},
			check: func(t *testing.T, e *posture.Email, srcs posture.Sources) {
				reason := mustSource(t, srcs, posture.SrcMailDNS).Reason
				require.Contains(t, reason, "1 of 5 domains could not be read from DNS (first: ")
				require.Contains(t, reason, "SPF: dns lookup failed")
				unknown := 0
				for _, d := range e.Domains {
					if d.SPF.Lookup == posture.LookupUnknown {
						unknown++
						require.True(t, d.IsDefault)
					}
				}
				require.Equal(t, 1, unknown)
			},
		},
		{
			name: "protections are empty when Secure Score could not be read",
			fault: func(_ *graphsim.Tenant, s *graphsim.Server, _ *dnssim.Server) {
				s.ForceError("/security/secureScores", graphsim.InsufficientPrivileges())
			},
			want: map[string]posture.SourceStatus{posture.SrcMailScores: posture.SourceForbidden},
			check: func(t *testing.T, e *posture.Email, _ posture.Sources) {
				require.Empty(t, e.Protections)
				require.Empty(t, e.ScoreDate)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tn := mailTenant()
			if tc.tenant != nil {
				tc.tenant(tn)
			}
			dsrv, dns := newTestDNS(t, tn.DNS)
			srv, c := newTestServer(t, tn, graphsim.Options{})
			if tc.fault != nil {
				tc.fault(tn, srv, dsrv)
			}
			if tc.noDNS {
				dns = nil
			}
			e, srcs := Email(context.Background(), c, dns, discardLogger())
			for name, st := range tc.want {
				require.Equal(t, st, mustSource(t, srcs, name).Status, name)
			}
			for _, s := range srcs {
				if _, ok := tc.want[s.Name]; !ok {
					require.Equal(t, posture.SourceOK, s.Status, "%s: %s", s.Name, s.Reason)
				}
			}
			tc.check(t, e, srcs)
		})
	}
}

func TestPlainText(t *testing.T) {
	require.Equal(t, "Turn on <b> & go", plainText("<p>Turn on &lt;b&gt; &amp;\n <i>go</i></p>", 100))
	require.Equal(t, "ab…", plainText("abcdef", 2))
	require.Equal(t, "é…", plainText("éé", 3), "never cuts a UTF-8 sequence")
	require.Equal(t, strings.Repeat("x", 10), plainText(strings.Repeat("x", 10), 10))
}
