package graphsim

import (
	"fmt"
	"strings"
)

// mailControl is a Secure Score control of the email protections, with the
// share of its points the demo tenant has earned.
type mailControl struct {
	id, title, service, category string
	max, earned                  float64
}

// mailControls extend the Secure Score with the Defender for Office 365,
// Exchange Online Protection and audit controls the email area reads
// (mdo_safelinksforemail and mdo_atpprotection are in controls already).
// Impersonation protection and the outbound limit action are not set up.
var mailControls = []mailControl{
	{"mdo_safeattachments", "Turn on Safe Attachments in block mode", "MDO", "Apps", 8, 1},
	{"mdo_safelinksforOfficeApps", "Turn on Safe Links for Office applications", "MDO", "Apps", 6, 1},
	{"mdo_targetedusersprotection", "Enable impersonated user protection", "MDO", "Apps", 7, 0},
	{"mdo_enabledomainstoprotect", "Enable impersonated domain protection", "MDO", "Apps", 6, 0},
	{"mdo_mailboxintelligenceprotection", "Enable mailbox intelligence protection", "MDO", "Apps", 5, 1},
	{"mdo_zapspam", "Turn on zero-hour auto purge for spam", "MDO", "Apps", 3, 1},
	{"mdo_zapphish", "Turn on zero-hour auto purge for phishing", "MDO", "Apps", 3, 1},
	{"mdo_zapmalware", "Turn on zero-hour auto purge for malware", "MDO", "Apps", 3, 1},
	{"mdo_recipientlimitperday", "Set a daily recipient limit for outbound mail", "MDO", "Apps", 3, 1},
	{"mdo_recipientexternallimitperhour", "Set an hourly external recipient limit for outbound mail", "MDO", "Apps", 3, 1},
	{"mdo_thresholdreachedaction", "Block users who reach the outbound message limit", "MDO", "Apps", 3, 0},
	{"mip_search_auditlog", "Turn on audit log search", "MIP", "Data", 5, 1},
	{"exo_mailboxaudit", "Ensure mailbox auditing for all users is enabled", "EXO", "Apps", 4, 1},
}

// mail adds the email protections to every daily score and the
// organisation's mail DNS records.
func (g *gen) mail(t *Tenant) {
	for i, c := range mailControls {
		t.SecureScoreControlProfiles = append(t.SecureScoreControlProfiles, SecureScoreControlProfile{
			ID: c.id, AzureTenantID: g.tenant, ActionType: "Config",
			ActionURL:       "https://security.microsoft.com/securescore?viewid=actions&actionId=" + c.id,
			ControlCategory: c.category, Title: c.title, ImplementationCost: "Low", LastModifiedDateTime: g.now.AddDate(0, 0, -40).UTC(),
			MaxScore: c.max, Rank: len(controls) + i + 1, Service: c.service, Threats: []string{"Phishing"}, Tier: "Core", UserImpact: "Low",
			Remediation:       "<p>" + c.title + " in the <b>Microsoft Defender portal</b> &gt; Email &amp; collaboration &gt; Policies.</p>",
			RemediationImpact: "<p>Users are not affected.</p>",
			VendorInformation: SecurityVendorInformation{Provider: "SecureScore", Vendor: "Microsoft"},
		})
	}
	for d := range t.SecureScores {
		s := &t.SecureScores[d]
		for _, c := range mailControls {
			score := c.max * c.earned
			status := "Not implemented"
			if c.earned == 1 {
				status = "Implemented"
			}
			s.ControlScores = append(s.ControlScores, ControlScore{ControlCategory: c.category, ControlName: c.id, Description: c.title,
				Score: score, ScoreInPercentage: c.earned * 100, ImplementationStatus: status, LastSynced: s.CreatedDateTime})
			s.CurrentScore += score
			s.MaxScore += c.max
		}
	}
	t.DNS = g.mailDNS()
}

// mailDNS publishes each mail domain's records in the shapes a review
// meets: the .org domain and the initial domain pass, the default domain
// has p=none and only one DKIM selector, mail.<domain> needs eleven SPF
// lookups, and the federated legacy domain publishes +all and no DMARC.
func (g *gen) mailDNS() []string {
	txt := func(name, v string) string { return fmt.Sprintf("%s. 3600 IN TXT %q", name, v) }
	cname := func(name, target string) string { return fmt.Sprintf("%s. 3600 IN CNAME %s.", name, target) }
	key := "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + strings.Repeat("q", 40) + "IDAQAB"
	// selectors publishes Microsoft 365's DKIM CNAMEs for domain, and the
	// keys at their targets under the initial domain.
	selectors := func(domain string, which ...string) []string {
		var out []string
		for _, sel := range which {
			target := sel + "-" + strings.ReplaceAll(domain, ".", "-") + "._domainkey." + g.init
			out = append(out, cname(sel+"._domainkey."+domain, target), txt(target, key))
		}
		return out
	}
	outlook := "include:spf.protection.outlook.com"
	org, legacy, sub := g.name+".org", g.name+"-legacy.com", "mail."+g.domain
	out := []string{
		txt("spf.protection.outlook.com", "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip6:2a01:111:f400::/48 -all"),
		// The initial domain: Microsoft's SPF, keys straight at the selectors.
		txt(g.init, "v=spf1 "+outlook+" -all"),
		txt("selector1._domainkey."+g.init, key), txt("selector2._domainkey."+g.init, key),
		txt("_dmarc."+g.init, "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@"+g.domain+"; ruf=mailto:dmarc@"+g.domain),
		// The default domain: p=none, selector2 never published.
		txt(g.domain, "v=spf1 "+outlook+" -all"), txt(g.domain, "MS=ms"+g.hexDeterministic()),
		txt("_dmarc."+g.domain, "v=DMARC1; p=none; rua=mailto:dmarc@"+g.domain),
		// The .org domain: everything the baseline asks.
		txt(org, "v=spf1 "+outlook+" -all"),
		txt("_dmarc."+org, "v=DMARC1; p=reject; pct=100; rua=mailto:reports@dmarc.cyber.dhs.gov,mailto:dmarc@"+org+"; ruf=mailto:dmarc@"+org),
		// The legacy domain: anyone may send as it.
		txt(legacy, "v=spf1 mx +all"),
	}
	out = append(out, selectors(g.domain, "selector1")...)
	out = append(out, selectors(org, "selector1", "selector2")...)
	out = append(out, selectors(legacy, "selector1", "selector2")...)
	out = append(out, selectors(sub, "selector1", "selector2")...)
	// mail.<domain>: eleven DNS-querying terms once expanded.
	vendors := []string{"_spf.salesforce.com", "mailgun.org", "sendgrid.net", "_spf.google.com", "servers.mcsv.net", "spf.mandrillapp.com", "_spf.zendesk.com", "spf.freshdesk.com"}
	terms := []string{"v=spf1", outlook, "a", "mx"}
	for i, v := range vendors {
		terms = append(terms, "include:"+v)
		out = append(out, txt(v, fmt.Sprintf("v=spf1 ip4:198.51.100.%d -all", i+1)))
	}
	out = append(out, txt(sub, strings.Join(append(terms, "-all"), " ")), fmt.Sprintf("%s. 3600 IN A 192.0.2.25", sub))
	return out
}

// hexDeterministic is a verification-token-like value drawn from the
// tenant id, not the RNG, so the rest of the tenant is unchanged.
func (g *gen) hexDeterministic() string { return strings.ReplaceAll(g.tenant, "-", "")[:8] }
