package controls

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

var emailSources = posture.Sources{
	{Name: posture.SrcMailDomains, Status: posture.SourceOK}, {Name: posture.SrcMailDNS, Status: posture.SourceOK},
	{Name: posture.SrcMailSkus, Status: posture.SourceOK}, {Name: posture.SrcMailScores, Status: posture.SourceOK},
	{Name: posture.SrcMailProfiles, Status: posture.SourceOK},
}

func emailInput(e posture.Email) Input {
	return NewInput(now, DefaultTargets(), &posture.Snapshot{Area: posture.AreaEmail, TakenAt: now, Sources: emailSources, Email: &e})
}

// goodDomain passes every DNS control.
func goodDomain(name string) posture.MailDomain {
	key := posture.DKIMSelector{Lookup: posture.LookupFound, Key: true}
	return posture.MailDomain{Name: name, OrgDomain: name,
		SPF:  posture.SPF{Lookup: posture.LookupFound, Record: "v=spf1 include:spf.protection.outlook.com -all", All: "-all", Lookups: 1},
		DKIM: posture.DKIM{Selectors: []posture.DKIMSelector{key, key}},
		DMARC: posture.DMARC{Lookup: posture.LookupFound, At: "_dmarc." + name, Record: "v=DMARC1; p=reject", Policy: "reject", Pct: 100,
			RUA: []string{"mailto:dmarc@" + name, "mailto:" + posture.CISAReportAddress}, RUF: []string{"mailto:dmarc@" + name}}}
}

func domainWith(mod func(*posture.MailDomain)) posture.MailDomain {
	d := goodDomain("contoso.com")
	mod(&d)
	return d
}

func TestMailDomainControls(t *testing.T) {
	cases := []struct {
		name    string
		control string
		domains []posture.MailDomain
		federal bool
		status  Status
		detail  string // of the finding, or the reason when unknown
	}{
		{"a compliant domain passes SPF", "MS.EXO.2.2v3", []posture.MailDomain{goodDomain("contoso.com")}, false, Pass, ""},
		{"SPF +all fails naming the domain and the record", "MS.EXO.2.2v3", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.SPF.Record, d.SPF.All, d.SPF.Problems = "v=spf1 +all", "+all", []string{"+all passes mail from every server on the internet"}
		})}, false, Fail, `SPF "v=spf1 +all": +all passes mail from every server on the internet`},
		{"two SPF records fail listing both", "MS.EXO.2.2v3", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.SPF = posture.SPF{Lookup: posture.LookupInvalid, Records: []string{"v=spf1 -all", "v=spf1 ~all"}, Problems: []string{"2 v=spf1 records"}}
		})}, false, Fail, `SPF records "v=spf1 -all", "v=spf1 ~all": 2 v=spf1 records`},
		{"no SPF record fails", "MS.EXO.2.2v3", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.SPF = posture.SPF{Lookup: posture.LookupMissing, Problems: []string{"no SPF policy published"}}
		})}, false, Fail, "no SPF record: no SPF policy published"},
		{"an SPF lookup that failed is unknown with the reason", "MS.EXO.2.2v3", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.SPF = posture.SPF{Lookup: posture.LookupUnknown, Reason: "SERVFAIL"}
		})}, false, Unknown, "contoso.com: SPF: SERVFAIL"},
		{"a failing domain fails the control even when another is unknown", "MS.EXO.2.2v3", []posture.MailDomain{
			domainWith(func(d *posture.MailDomain) { d.SPF = posture.SPF{Lookup: posture.LookupUnknown, Reason: "timeout"} }),
			func() posture.MailDomain {
				d := goodDomain("fabrikam.com")
				d.SPF.Problems = []string{"?all is neutral"}
				return d
			}(),
		}, false, Fail, "?all is neutral"},
		{"DKIM with both keys passes", "MS.EXO.3.1v1", []posture.MailDomain{goodDomain("contoso.com")}, false, Pass, ""},
		{"a missing selector fails with its problem", "MS.EXO.3.1v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DKIM.Selectors[1] = posture.DKIMSelector{Name: "selector2._domainkey.contoso.com", Lookup: posture.LookupMissing, Problem: "selector selector2._domainkey.contoso.com is not published"}
		})}, false, Fail, "DKIM: selector selector2._domainkey.contoso.com is not published"},
		{"a DKIM lookup that failed is unknown", "MS.EXO.3.1v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DKIM.Selectors[0] = posture.DKIMSelector{Name: "selector1._domainkey.contoso.com", Lookup: posture.LookupUnknown, Reason: "timeout"}
		})}, false, Unknown, "contoso.com: DKIM selector1._domainkey.contoso.com: timeout"},
		{"a published DMARC policy passes even at p=none", "MS.EXO.4.1v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.Policy = "none" })}, false, Pass, ""},
		{"no DMARC record fails with the reason", "MS.EXO.4.1v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC = posture.DMARC{Lookup: posture.LookupMissing, Reason: "_dmarc.contoso.com does not exist (NXDOMAIN)"}
		})}, false, Fail, "no DMARC record: _dmarc.contoso.com does not exist (NXDOMAIN)"},
		{"an invalid DMARC record fails naming it", "MS.EXO.4.1v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC = posture.DMARC{Lookup: posture.LookupInvalid, At: "_dmarc.contoso.com", Record: "v=DMARC1; p=block", Problems: []string{`p= is "block"`}}
		})}, false, Fail, `DMARC at _dmarc.contoso.com "v=DMARC1; p=block" is not a valid policy: p= is "block"`},
		{"a found record with a bad tag is not valid either", "MS.EXO.4.1v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC.Problems = []string{`pct= is "150"`}
		})}, false, Fail, `pct= is "150"`},
		{"a DMARC lookup that failed is unknown", "MS.EXO.4.1v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC = posture.DMARC{Lookup: posture.LookupUnknown, Reason: "SERVFAIL"}
		})}, false, Unknown, "contoso.com: DMARC: SERVFAIL"},
		{"p=reject at 100% passes", "MS.EXO.4.2v1", []posture.MailDomain{goodDomain("contoso.com")}, false, Pass, ""},
		{"p=none fails naming the record", "MS.EXO.4.2v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC.Policy, d.DMARC.Record = "none", "v=DMARC1; p=none"
		})}, false, Fail, `DMARC at _dmarc.contoso.com "v=DMARC1; p=none": the policy for contoso.com is none, not reject`},
		{"p=quarantine fails", "MS.EXO.4.2v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.Policy = "quarantine" })}, false, Fail, "is quarantine, not reject"},
		{"pct=50 rejects only half and fails", "MS.EXO.4.2v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.Pct = 50 })}, false, Fail, "pct=50 rejects only 50% of failing mail"},
		{"pct=99 still fails", "MS.EXO.4.2v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.Pct = 99 })}, false, Fail, "pct=99"},
		{"a missing record fails 4.2 too", "MS.EXO.4.2v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC = posture.DMARC{Lookup: posture.LookupMissing, Reason: "gone"}
		})}, false, Fail, "no DMARC record: gone"},
		{"CISA reporting is not asked of a tenant that is not a federal agency", "MS.EXO.4.3v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.RUA = nil })}, false, Pass, ""},
		{"a federal agency reporting to CISA passes", "MS.EXO.4.3v1", []posture.MailDomain{goodDomain("contoso.com")}, true, Pass, ""},
		{"a federal agency not reporting to CISA fails", "MS.EXO.4.3v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC.RUA = []string{"mailto:dmarc@contoso.com"}
		})}, true, Fail, "rua does not include mailto:reports@dmarc.cyber.dhs.gov"},
		{"the CISA address matches whatever its case and size limit", "MS.EXO.4.3v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC.RUA = []string{"MAILTO:Reports@DMARC.cyber.dhs.gov!10m"}
		})}, true, Pass, ""},
		{"a federal agency without DMARC fails 4.3", "MS.EXO.4.3v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC = posture.DMARC{Lookup: posture.LookupMissing, Reason: "gone"}
		})}, true, Fail, "no DMARC record"},
		{"own aggregate and failure addresses pass", "MS.EXO.4.4v1", []posture.MailDomain{goodDomain("contoso.com")}, false, Pass, ""},
		{"only CISA in rua is not the organisation's own contact", "MS.EXO.4.4v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) {
			d.DMARC.RUA = []string{"mailto:" + posture.CISAReportAddress}
		})}, false, Fail, "no aggregate-report (rua) address of the organisation's own"},
		{"a missing rua fails", "MS.EXO.4.4v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.RUA = nil })}, false, Fail, "no aggregate-report (rua)"},
		{"a missing ruf fails", "MS.EXO.4.4v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.RUF = nil })}, false, Fail, "no failure-report (ruf) address"},
		{"a non-mailto ruf is not an address", "MS.EXO.4.4v1", []posture.MailDomain{domainWith(func(d *posture.MailDomain) { d.DMARC.RUF = []string{"https://example.com/r"} })}, false, Fail, "no failure-report (ruf)"},
		{"a tenant without mail domains is unknown", "MS.EXO.2.2v3", nil, false, Unknown, "no verified domain set up for email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := emailInput(posture.Email{Domains: tc.domains})
			in.FederalAgency = tc.federal
			r := eval(t, tc.control, in)
			require.Equal(t, tc.status, r.Status, "%+v %s", r.Findings, r.Reason)
			switch tc.status {
			case Fail:
				require.Contains(t, r.Findings.Items[0].Detail, tc.detail)
				require.Equal(t, posture.FindingDomain, r.Findings.Items[0].Kind)
				require.NotEmpty(t, r.Findings.Items[0].ID)
				require.Equal(t, r.Findings.Items[0].ID, r.Findings.Items[0].Name)
			case Unknown:
				require.Contains(t, r.Reason, tc.detail)
			default:
				require.Empty(t, r.Findings.Items)
			}
			if tc.control == "MS.EXO.4.3v1" {
				require.Equal(t, tc.federal, r.Evidence["applies"])
			} else if tc.domains != nil {
				require.Equal(t, len(tc.domains), r.Evidence["domainsChecked"])
			}
		})
	}
}

func TestMailDomainControlsNeedTheirSources(t *testing.T) {
	in := emailInput(posture.Email{Domains: []posture.MailDomain{goodDomain("contoso.com")}})
	in.Snapshots[posture.AreaEmail].Sources = posture.Sources{{Name: posture.SrcMailDomains, Status: posture.SourceOK},
		{Name: posture.SrcMailDNS, Status: posture.SourceFailed, Reason: "no DNS resolver configured"}}
	r := eval(t, "MS.EXO.2.2v3", in)
	require.Equal(t, Unknown, r.Status)
	require.Contains(t, r.Reason, "mailDns: failed: no DNS resolver configured")
	r = eval(t, "MS.EXO.2.2v3", NewInput(now, DefaultTargets()))
	require.Equal(t, Unknown, r.Status)
	require.Contains(t, r.Reason, "email data has not been collected yet")
}

func TestDomainExceptionsCoverDomainFindings(t *testing.T) {
	bad := func(name string) posture.MailDomain {
		d := goodDomain(name)
		d.SPF.Problems = []string{"+all"}
		return d
	}
	in := emailInput(posture.Email{Domains: []posture.MailDomain{bad("contoso.com"), bad("fabrikam.com")}})
	ex := func(domains ...string) Exception {
		return Exception{ID: "ex-" + strings.Join(domains, "-"), ControlID: "MS.EXO.2.2v3", Scope: Scope{Domains: domains},
			CreatedAt: now.AddDate(0, 0, -1), ExpiresAt: now.AddDate(0, 1, 0)}
	}
	r := eval(t, "MS.EXO.2.2v3", in, ex("Contoso.com."))
	require.Equal(t, Fail, r.Status, "one of two domains is accepted")
	require.Contains(t, r.Findings.Items[0].Detail, "(accepted by exception ex-Contoso.com.)")
	r = eval(t, "MS.EXO.2.2v3", in, ex("contoso.com", "fabrikam.com"))
	require.Equal(t, Excepted, r.Status)
	r = eval(t, "MS.EXO.2.2v3", in, Exception{ID: "u", ControlID: "MS.EXO.2.2v3", Scope: Scope{Users: []string{u1}},
		CreatedAt: now.AddDate(0, 0, -1), ExpiresAt: now.AddDate(0, 1, 0)})
	require.Equal(t, Fail, r.Status, "a user exception does not cover a domain")
	require.False(t, ex("contoso.com").Covers(posture.Finding{Kind: posture.FindingDomain}), "a domain finding without an id is never covered")
	require.False(t, ex("contoso.com").Covers(posture.Finding{Kind: posture.FindingUser, ID: "contoso.com"}), "a domain scope covers domain findings only")
}

func TestExceptionDomainValidation(t *testing.T) {
	base := Exception{ControlID: "MS.EXO.2.2v3", Reason: "legacy", ApprovedBy: "ciso@contoso.com", ExpiresAt: now.AddDate(0, 1, 0)}
	cases := []struct {
		name    string
		domains []string
		want    string
	}{
		{"domain names are accepted", []string{"contoso.com", "mail.Contoso.co.uk."}, ""},
		{"a single label is not a domain name", []string{"localhost"}, `scope domain "localhost" is not a domain name`},
		{"a label may not start with a hyphen", []string{"-bad.com"}, "is not a domain name"},
		{"a name longer than 253 is refused", []string{strings.Repeat("a.", 127) + "com"}, "is not a domain name"},
		{"many bad names are summarised", []string{"a", "b", "c", "d", "e", "f", "g"}, "and 2 more scope domains are not domain names"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			e.Scope = Scope{Domains: tc.domains}
			err := e.Validate(now)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
	longest := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
	require.Len(t, longest, 253)
	e := base
	e.Scope = Scope{Domains: []string{longest}}
	require.NoError(t, e.Validate(now), "253 characters is DNS's limit, and allowed")
	five, six := []string{"a", "b", "c", "d", "e"}, []string{"a", "b", "c", "d", "e", "f"}
	e.Scope = Scope{Domains: five}
	err := e.Validate(now)
	require.Len(t, err.(*ValidationError).Problems, 5, "five bad names are each reported")
	e.Scope = Scope{Domains: six}
	err = e.Validate(now)
	require.Len(t, err.(*ValidationError).Problems, 6)
	require.Contains(t, err.Error(), "and 1 more scope domains are not domain names")
	e.Scope = Scope{Domains: make([]string, MaxScopeIDs+1)}
	require.ErrorContains(t, e.Validate(now), "users, groups and domains together")
	e.Scope = Scope{}
	require.ErrorContains(t, e.Validate(now), "scope must name at least one user or group id or domain")
}

func protections(score float64) []posture.MailProtection {
	return []posture.MailProtection{
		{ControlName: "mdo_safeattachments", Title: "Turn on Safe Attachments", Score: score, MaxScore: 8, Scored: true, Remediation: "Open the Defender portal."},
		{ControlName: "mdo_atpprotection", Title: "Defender for SharePoint", Score: 8, MaxScore: 8, Scored: true},
		{ControlName: "mdo_safeattachmentpolicy", Title: "Not scored", MaxScore: 8, Scored: false},
		{ControlName: "mdo_zapspam", Title: "ZAP spam", Score: 3, MaxScore: 3, Scored: true},
	}
}

func TestMailProtectionControls(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name      string
		control   string
		email     posture.Email
		tolerance float64
		status    Status
		detail    string
	}{
		{"implemented protections pass", "M365SEC.MAIL.2", posture.Email{MDOLicensed: &yes, Protections: protections(8)}, 0, Pass, ""},
		{"a protection short of its points fails with its remediation", "M365SEC.MAIL.2", posture.Email{MDOLicensed: &yes, Protections: protections(4), ScoreDate: "2026-10-31"}, 0, Fail,
			"mdo_safeattachments: 4 of 8 points on 2026-10-31. Open the Defender portal."},
		{"within the tenant's tolerance it passes", "M365SEC.MAIL.2", posture.Email{MDOLicensed: &yes, Protections: protections(6)}, 0.25, Pass, ""},
		{"just outside the tolerance it fails", "M365SEC.MAIL.2", posture.Email{MDOLicensed: &yes, Protections: protections(5.9)}, 0.25, Fail, "5.9 of 8"},
		{"without Defender for Office 365 it is unknown, not failing", "M365SEC.MAIL.2", posture.Email{MDOLicensed: &no, Protections: protections(0)}, 0, Unknown, "requires Defender for Office 365"},
		{"licences that could not be read make it unknown", "M365SEC.MAIL.2", posture.Email{Protections: protections(0)}, 0, Unknown, "licences could not be read"},
		{"an EOP protection does not need Defender for Office 365", "M365SEC.MAIL.4", posture.Email{MDOLicensed: &no, Protections: protections(0)}, 0, Pass, ""},
		{"controls Secure Score does not score are unknown", "M365SEC.MAIL.6", posture.Email{MDOLicensed: &yes, Protections: protections(8)}, 0, Unknown, "scores none of mip_search_auditlog, exo_mailboxaudit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := emailInput(tc.email)
			in.Targets.MailProtectionTolerance = tc.tolerance
			r := eval(t, tc.control, in)
			require.Equal(t, tc.status, r.Status, "%+v %s", r.Findings, r.Reason)
			if tc.status == Fail {
				require.Equal(t, 1, r.Findings.Total)
				require.Equal(t, FindingSecureScoreControl, r.Findings.Items[0].Kind)
				require.Contains(t, r.Findings.Items[0].Detail, tc.detail)
			}
			if tc.status == Unknown {
				require.Contains(t, r.Reason, tc.detail)
			}
			if tc.status == Pass {
				require.NotEmpty(t, r.Evidence["protections"])
			}
		})
	}
	in := emailInput(posture.Email{MDOLicensed: &yes, Protections: protections(8)})
	in.Snapshots[posture.AreaEmail].Sources = posture.Sources{{Name: posture.SrcMailScores, Status: posture.SourceOK}, {Name: posture.SrcMailProfiles, Status: posture.SourceOK},
		{Name: posture.SrcMailSkus, Status: posture.SourceForbidden, Reason: "403"}}
	require.Equal(t, Unknown, eval(t, "M365SEC.MAIL.2", in).Status, "Defender controls need the licences")
	require.Equal(t, Pass, eval(t, "M365SEC.MAIL.4", in).Status, "EOP controls do not")
	zero := []posture.MailProtection{{ControlName: "mdo_safeattachments", Score: 0, MaxScore: 0, Scored: true}}
	r0 := eval(t, "M365SEC.MAIL.2", emailInput(posture.Email{MDOLicensed: &yes, Protections: zero}))
	require.Equal(t, Unknown, r0.Status, "a control worth no points cannot be judged")
	exact := protections(0)
	exact[0].Remediation = strings.Repeat("é", maxRemediationInFinding)
	r1 := eval(t, "M365SEC.MAIL.2", emailInput(posture.Email{MDOLicensed: &yes, Protections: exact}))
	require.True(t, strings.HasSuffix(r1.Findings.Items[0].Detail, "é"), "text at the limit is not cut")
	long := protections(0)
	long[0].Remediation = strings.Repeat("é", 500)
	r := eval(t, "M365SEC.MAIL.2", emailInput(posture.Email{MDOLicensed: &yes, Protections: long}))
	require.True(t, strings.HasSuffix(r.Findings.Items[0].Detail, strings.Repeat("é", maxRemediationInFinding)+"…"))
}

func TestEmailControlsBelongToTheEmailReportArea(t *testing.T) {
	for _, c := range emailControls {
		a, ok := ReportAreaOf(c.ID)
		require.True(t, ok, c.ID)
		require.Equal(t, "email", a.ID, c.ID)
		require.Equal(t, posture.AreaEmail, c.Area, c.ID)
	}
}

func TestUnknownDomainsAreEvidenceBesideFindings(t *testing.T) {
	unknown := domainWith(func(d *posture.MailDomain) { d.SPF = posture.SPF{Lookup: posture.LookupUnknown, Reason: "timeout"} })
	failing := goodDomain("fabrikam.com")
	failing.SPF.Problems = []string{"+all"}
	r := eval(t, "MS.EXO.2.2v3", emailInput(posture.Email{Domains: []posture.MailDomain{unknown, failing}}))
	require.Equal(t, Fail, r.Status)
	require.Equal(t, []string{"contoso.com: SPF: timeout"}, r.Evidence["unknownDomains"])
	r = eval(t, "MS.EXO.2.2v3", emailInput(posture.Email{Domains: []posture.MailDomain{goodDomain("contoso.com")}}))
	require.NotContains(t, r.Evidence, "unknownDomains")
}
