package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/dnssim"
	"m365security/shared/graphsim"
)

type controlView struct {
	ID       string         `json:"id"`
	Status   string         `json:"status"`
	Reason   string         `json:"reason"`
	Evidence map[string]any `json:"evidence"`
	Findings struct {
		Total int `json:"total"`
		Items []struct {
			Kind   string `json:"kind"`
			ID     string `json:"id"`
			Detail string `json:"detail"`
		} `json:"items"`
	} `json:"findings"`
}

func (h *harness) controls(t *testing.T) map[string]controlView {
	t.Helper()
	var v struct {
		Controls []controlView `json:"controls"`
	}
	h.getJSON(t, "/api/controls?tenant="+h.tenant, http.StatusOK, &v)
	out := map[string]controlView{}
	for _, c := range v.Controls {
		out[c.ID] = c
	}
	return out
}

// findingFor returns the detail of the control's finding about domain.
func findingFor(c controlView, domain string) string {
	for _, f := range c.Findings.Items {
		if f.ID == domain {
			return f.Detail
		}
	}
	return ""
}

// demoDomains names the demo tenant's mail domains as graphsim builds them.
func demoDomains(t *testing.T) (def, sub, org, legacy, initial string) {
	t.Helper()
	tn := graphsim.Generate(demoSeed, graphsim.DefaultSize())
	for _, d := range tn.Domains {
		switch {
		case d.IsInitial:
			initial = d.ID
		case d.IsDefault:
			def = d.ID
		}
	}
	name := strings.TrimSuffix(def, ".com")
	return def, "mail." + def, name + ".org", name + "-legacy.com", initial
}

func TestEndToEndEmailControlsFromTheTimerThroughDNSAndGraph(t *testing.T) {
	h := startHarness(t)
	def, sub, org, legacy, initial := demoDomains(t)
	h.fireTimer(t, "CollectEmail")

	c := h.controls(t)
	spf := c["MS.EXO.2.2v3"]
	require.Equal(t, "fail", spf.Status)
	require.Equal(t, 2, spf.Findings.Total, "%+v", spf.Findings)
	require.Contains(t, findingFor(spf, legacy), `SPF "v=spf1 mx +all": +all passes mail from every server`)
	require.Contains(t, findingFor(spf, sub), "11 DNS lookups when expanded")
	require.EqualValues(t, 5, spf.Evidence["domainsChecked"])

	dkim := c["MS.EXO.3.1v1"]
	require.Equal(t, "fail", dkim.Status)
	require.Equal(t, 1, dkim.Findings.Total)
	require.Contains(t, findingFor(dkim, def), "selector2._domainkey."+def+" is not published")

	published := c["MS.EXO.4.1v1"]
	require.Equal(t, "fail", published.Status)
	require.Equal(t, 1, published.Findings.Total)
	require.Contains(t, findingFor(published, legacy), "no DMARC record: _dmarc."+legacy+" does not exist (NXDOMAIN)")

	reject := c["MS.EXO.4.2v1"]
	require.Equal(t, "fail", reject.Status)
	require.Contains(t, findingFor(reject, def), `DMARC at _dmarc.`+def+` "v=DMARC1; p=none`)
	require.Contains(t, findingFor(reject, sub), "DMARC at _dmarc."+def, "the subdomain takes the organizational domain's policy")
	require.Contains(t, findingFor(reject, initial), "is quarantine, not reject")
	require.Empty(t, findingFor(reject, org))

	require.Equal(t, "pass", c["MS.EXO.4.3v1"].Status, "off by default")
	require.Equal(t, false, c["MS.EXO.4.3v1"].Evidence["applies"])
	require.Equal(t, "fail", c["MS.EXO.4.4v1"].Status)
	require.Contains(t, findingFor(c["MS.EXO.4.4v1"], def), "no failure-report (ruf) address")

	require.Equal(t, "fail", c["M365SEC.MAIL.3"].Status, "impersonation protection is not set up in the demo")
	require.Contains(t, c["M365SEC.MAIL.3"].Findings.Items[0].Detail, "mdo_targetedusersprotection: 0 of 7 points")
	require.Contains(t, c["M365SEC.MAIL.3"].Findings.Items[0].Detail, "Microsoft Defender portal > Email & collaboration", "the remediation text, as plain text")
	require.Equal(t, "pass", c["M365SEC.MAIL.4"].Status)
	require.Equal(t, "fail", c["M365SEC.MAIL.5"].Status)
	require.Equal(t, "pass", c["M365SEC.MAIL.6"].Status)

	var m struct {
		Metrics map[string]struct {
			Status      string   `json:"status"`
			Numerator   *float64 `json:"numerator"`
			Denominator *float64 `json:"denominator"`
			Reason      string   `json:"reason"`
		} `json:"metrics"`
	}
	h.getJSON(t, "/api/metrics?tenant="+h.tenant, http.StatusOK, &m)
	got := m.Metrics["mailDomainsAuthenticated"]
	require.Equal(t, "measured", got.Status, got.Reason)
	require.Equal(t, []float64{2, 5}, []float64{*got.Numerator, *got.Denominator}, "the .org and the initial domain")

	// A federal agency's tenant evaluates MS.EXO.4.3v1.
	code, _, b := h.do(t, http.MethodPut, "/api/settings?tenant="+h.tenant, []byte(`{"federalAgency":true}`), "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, code, string(b))
	cisa := h.controls(t)["MS.EXO.4.3v1"]
	require.Equal(t, "fail", cisa.Status)
	require.Equal(t, true, cisa.Evidence["applies"])
	require.Contains(t, findingFor(cisa, def), "rua does not include mailto:reports@dmarc.cyber.dhs.gov")
	require.Empty(t, findingFor(cisa, org))

	// Accepting the two SPF findings by domain makes the control excepted.
	body := `{"controlId":"MS.EXO.2.2v3","scope":{"domains":["` + legacy + `","` + strings.ToUpper(sub) + `"]},"reason":"legacy senders retire in Q3",` +
		`"approvedBy":"ciso@example.com","expiresAt":"` + time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339) + `"}`
	code, _, b = h.do(t, http.MethodPost, "/api/exceptions?tenant="+h.tenant, []byte(body), "Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, code, string(b))
	require.Equal(t, "excepted", h.controls(t)["MS.EXO.2.2v3"].Status)
}

func TestEndToEndEmailDNSFailureIsUnknownWithTheReason(t *testing.T) {
	def, _, _, _, _ := demoDomains(t)
	srv, err := dnssim.New(graphsim.Generate(demoSeed, graphsim.DefaultSize()).DNS)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	srv.ServFail("selector1._domainkey." + def)
	srv.ServFail("selector2._domainkey." + def)

	h := startHarness(t, "DNS_RESOLVER", srv.Addr())
	h.fireTimer(t, "CollectEmail")
	c := h.controls(t)
	dkim := c["MS.EXO.3.1v1"]
	require.Equal(t, "unknown", dkim.Status, "the only DKIM finding was on the domain DNS could not answer for")
	require.Contains(t, dkim.Reason, def+": DKIM selector1._domainkey."+def)
	require.Contains(t, dkim.Reason, "SERVFAIL")
	require.Equal(t, "fail", c["MS.EXO.2.2v3"].Status, "SPF was read")

	var m struct {
		Metrics map[string]struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"metrics"`
	}
	h.getJSON(t, "/api/metrics?tenant="+h.tenant, http.StatusOK, &m)
	require.Equal(t, "unknown", m.Metrics["mailDomainsAuthenticated"].Status)
	require.Contains(t, m.Metrics["mailDomainsAuthenticated"].Reason, "1 of 5 mail domains could not be read from DNS: "+def)
}
