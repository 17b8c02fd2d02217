package controls

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"m365security/shared/posture"
)

const scubaEXO = "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/exo.md"

var (
	// mailDNSSources: the domains and their DNS records.
	mailDNSSources = []string{posture.SrcMailDomains, posture.SrcMailDNS}
	// protectionSources: the latest Secure Score and its control profiles.
	protectionSources = []string{posture.SrcMailScores, posture.SrcMailProfiles}
	// mdoSources add the licences that say whether Defender for Office 365
	// is there to be configured.
	mdoSources = []string{posture.SrcMailScores, posture.SrcMailProfiles, posture.SrcMailSkus}
)

// FindingSecureScoreControl is the kind of a finding about a Secure Score
// improvement action.
const FindingSecureScoreControl = "secureScoreControl"

// emailControls are the Exchange Online baseline controls DNS decides and
// the product's Defender for Office 365 protections from Secure Score.
var emailControls = []Control{
	{
		ID: "MS.EXO.2.2v3", Title: "An SPF policy that fails all non-approved senders is published for each domain", Severity: High, Area: posture.AreaEmail,
		Requires:    mailDNSSources,
		Rationale:   "Without an SPF policy that fails other senders, anyone can send mail that claims to come from the domain.",
		Remediation: "Publish exactly one TXT record \"v=spf1 include:spf.protection.outlook.com -all\" (plus your other approved senders) at each listed domain. End it in -all (or ~all), never +all or ?all, and keep it within 10 DNS lookups (include, a, mx, ptr, exists, redirect) once expanded.",
		Reference:   scubaEXO,
		Rule:        domainRule(judgeSPF),
	},
	{
		ID: "MS.EXO.3.1v1", Title: "DKIM is enabled for all domains", Severity: Medium, Area: posture.AreaEmail,
		Requires:    mailDNSSources,
		Rationale:   "DKIM signatures let receivers verify that mail from the domain was sent by it and not altered.",
		Remediation: "In the Microsoft Defender portal (Email & collaboration > Policies > Email authentication settings > DKIM) enable DKIM for each listed domain, publishing the two CNAME records (selector1._domainkey and selector2._domainkey) it shows.",
		Reference:   scubaEXO,
		Rule:        domainRule(judgeDKIM),
	},
	{
		ID: "MS.EXO.4.1v1", Title: "A DMARC policy is published for every second-level domain", Severity: High, Area: posture.AreaEmail,
		Requires:    mailDNSSources,
		Rationale:   "Without DMARC, receivers decide on their own what to do with mail that fails SPF and DKIM, so spoofed mail can reach inboxes.",
		Remediation: "Publish one TXT record at _dmarc.<domain> for each listed domain (a record at the second-level domain covers its subdomains), e.g. \"v=DMARC1; p=reject; pct=100; rua=mailto:dmarc-reports@<domain>\".",
		Reference:   scubaEXO,
		Rule:        domainRule(judgeDMARCPublished),
	},
	{
		ID: "MS.EXO.4.2v1", Title: "The DMARC message rejection option is p=reject", Severity: High, Area: posture.AreaEmail,
		Requires:    mailDNSSources,
		Rationale:   "Of none, quarantine and reject, only reject stops spoofed mail from being delivered at all.",
		Remediation: "Set p=reject (and pct=100, or no pct) in the DMARC record of each listed domain, after the aggregate reports show legitimate mail passes.",
		Reference:   scubaEXO,
		Rule:        domainRule(judgeDMARCReject),
	},
	{
		ID: "MS.EXO.4.3v1", Title: "DMARC aggregate reports go to CISA (US federal agencies only)", Severity: Low, Area: posture.AreaEmail,
		Requires:    mailDNSSources,
		Rationale:   "BOD 18-01 requires federal agencies to send DMARC aggregate reports to CISA; other organisations need not.",
		Remediation: "Add mailto:" + posture.CISAReportAddress + " to the rua tag of each listed domain's DMARC record. The control applies only when the tenant's settings say federalAgency: true.",
		Reference:   scubaEXO,
		Rule: func(in Input) Outcome {
			if !in.FederalAgency {
				// Off by default: the baseline applies it to US federal
				// executive-branch agencies only.
				return Outcome{Status: Pass, Evidence: map[string]any{"applies": false,
					"note": "applies to US federal agencies only; set federalAgency in PUT /api/settings to evaluate it"}}
			}
			o := domainRule(judgeCISAReports)(in)
			o.Evidence["applies"] = true
			return o
		},
	},
	{
		ID: "MS.EXO.4.4v1", Title: "The organisation's own contact receives DMARC aggregate and failure reports", Severity: Medium, Area: posture.AreaEmail,
		Requires:    mailDNSSources,
		Rationale:   "Spoofing attempts are invisible to the domain owner unless DMARC reports reach someone in the organisation.",
		Remediation: "Name an address of your own in both the rua (aggregate) and ruf (failure) tags of each listed domain's DMARC record.",
		Reference:   scubaEXO,
		Rule:        domainRule(judgeOwnContact),
	},
	{
		ID: "M365SEC.MAIL.1", Title: "Safe Links checks links in email and Office apps", Severity: High, Area: posture.AreaEmail,
		Requires:    mdoSources,
		Rationale:   "Safe Links rewrites and checks URLs when clicked, catching links that turn malicious after delivery.",
		Remediation: "Turn on Safe Links for email and Office apps (a Standard or Strict preset security policy does both) for all recipients.",
		Rule:        protectionRule{names: []string{"mdo_safelinksforemail", "mdo_safelinksforOfficeApps"}, needsMDO: true}.eval,
	},
	{
		ID: "M365SEC.MAIL.2", Title: "Safe Attachments detonates attachments before delivery", Severity: High, Area: posture.AreaEmail,
		Requires:    mdoSources,
		Rationale:   "Safe Attachments opens attachments in a sandbox, stopping malware signature scanning does not know yet.",
		Remediation: "Turn on Safe Attachments in block mode for all recipients, and for SharePoint, OneDrive and Teams.",
		Rule:        protectionRule{names: []string{"mdo_safeattachments", "mdo_safeattachmentpolicy", "mdo_atpprotection"}, needsMDO: true}.eval,
	},
	{
		ID: "M365SEC.MAIL.3", Title: "Anti-phishing impersonation protection is on", Severity: High, Area: posture.AreaEmail,
		Requires:    mdoSources,
		Rationale:   "Impersonation of executives and of the organisation's own domains is how business email compromise starts.",
		Remediation: "In the anti-phishing policy, protect the executives and finance users and the organisation's domains from impersonation, turn on mailbox intelligence, and quarantine what they detect.",
		Rule: protectionRule{names: []string{"mdo_antiphishingpolicies", "mdo_targetedusersprotection", "mdo_enabledomainstoprotect",
			"mdo_mailboxintelligenceprotection", "mdo_targeteduserprotectionaction", "mdo_targeteddomainprotectionaction"}, needsMDO: true}.eval,
	},
	{
		ID: "M365SEC.MAIL.4", Title: "Zero-hour auto purge removes delivered spam, phishing and malware", Severity: Medium, Area: posture.AreaEmail,
		Requires:    protectionSources,
		Rationale:   "Verdicts change after delivery; zero-hour auto purge pulls mail from mailboxes once it is known to be malicious.",
		Remediation: "Turn on zero-hour auto purge for spam and phishing in the anti-spam policies and for malware in the anti-malware policy.",
		Rule:        protectionRule{names: []string{"mdo_zapspam", "mdo_zapphish", "mdo_zapmalware"}}.eval,
	},
	{
		ID: "M365SEC.MAIL.5", Title: "Outbound spam limits stop a compromised mailbox mass-mailing", Severity: Medium, Area: posture.AreaEmail,
		Requires:    protectionSources,
		Rationale:   "A compromised mailbox is used to phish partners; sending limits that block the user contain it.",
		Remediation: "In the outbound spam policy set recipient limits per hour and per day and restrict users who reach them from sending.",
		Rule: protectionRule{names: []string{"mdo_recipientlimitperday", "mdo_recipientexternallimitperhour",
			"mdo_recipientinternallimitperhour", "mdo_thresholdreachedaction"}}.eval,
	},
	{
		ID: "M365SEC.MAIL.6", Title: "Audit logging records mailbox and tenant activity", Severity: Medium, Area: posture.AreaEmail,
		Requires:    protectionSources,
		Rationale:   "Without the audit log and mailbox auditing an investigation cannot tell what an attacker read, sent or changed.",
		Remediation: "Turn on audit log search in Microsoft Purview and make sure mailbox auditing is on for all users.",
		Rule:        protectionRule{names: []string{"mip_search_auditlog", "exo_mailboxaudit"}}.eval,
	},
}

// verdict is a control's judgement of one domain.
type verdict int

const (
	domainOK verdict = iota
	domainFails
	domainUnknown
)

// domainRule runs judge over every mail domain: a finding per failing
// domain naming the record seen; when none fails but some could not be
// read, the control is unknown with their reasons.
func domainRule(judge func(posture.MailDomain) (verdict, string)) func(Input) Outcome {
	return func(in Input) Outcome {
		e := in.Snapshot(posture.AreaEmail).Email
		if e == nil || len(e.Domains) == 0 {
			return Outcome{Status: Unknown, Reason: "the tenant has no verified domain set up for email", Evidence: map[string]any{}}
		}
		o := Outcome{Status: Pass, Evidence: map[string]any{"domainsChecked": len(e.Domains)}}
		var unknown []string
		for _, d := range e.Domains {
			v, detail := judge(d)
			if v == domainFails {
				o.Findings.Add(posture.Finding{Kind: posture.FindingDomain, ID: d.Name, Name: d.Name, Detail: detail})
			} else if v == domainUnknown {
				unknown = append(unknown, d.Name+": "+detail)
			}
		}
		if len(unknown) > 0 {
			o.Evidence["unknownDomains"] = unknown
		}
		if o.Findings.Total > 0 {
			o.Status = Fail
		} else if len(unknown) > 0 {
			o.Status, o.Reason = Unknown, "DNS could not be read for "+strings.Join(unknown, "; ")
		}
		return o
	}
}

func judgeSPF(d posture.MailDomain) (verdict, string) {
	s := d.SPF
	if s.Lookup == posture.LookupUnknown {
		return domainUnknown, "SPF: " + s.Reason
	}
	if s.OK() {
		return domainOK, ""
	}
	seen := "no SPF record"
	if s.Record != "" {
		seen = "SPF " + strconv.Quote(s.Record)
	} else if len(s.Records) > 0 {
		seen = "SPF records " + quoteAll(s.Records)
	}
	return domainFails, seen + ": " + strings.Join(s.Problems, "; ")
}

func judgeDKIM(d posture.MailDomain) (verdict, string) {
	if reason, unknown := d.DKIM.Unknown(); unknown {
		return domainUnknown, "DKIM " + reason
	}
	if d.DKIM.OK() {
		return domainOK, ""
	}
	return domainFails, "DKIM: " + strings.Join(d.DKIM.Problems(), "; ")
}

// dmarcState is the common first step of the DMARC judgements: unknown,
// missing or invalid are decided here, with the record seen.
func dmarcState(d posture.MailDomain) (verdict, string, bool) {
	m := d.DMARC
	if m.Lookup == posture.LookupUnknown {
		return domainUnknown, "DMARC: " + m.Reason, true
	}
	if m.Lookup == posture.LookupMissing {
		return domainFails, "no DMARC record: " + m.Reason, true
	}
	if m.Lookup == posture.LookupInvalid || len(m.Problems) > 0 {
		return domainFails, dmarcSeen(m) + " is not a valid policy: " + strings.Join(m.Problems, "; "), true
	}
	return domainOK, "", false
}

func dmarcSeen(m posture.DMARC) string { return "DMARC at " + m.At + " " + strconv.Quote(m.Record) }

func judgeDMARCPublished(d posture.MailDomain) (verdict, string) {
	v, detail, _ := dmarcState(d)
	return v, detail
}

func judgeDMARCReject(d posture.MailDomain) (verdict, string) {
	if v, detail, decided := dmarcState(d); decided {
		return v, detail
	}
	m := d.DMARC
	if m.Policy != "reject" {
		return domainFails, dmarcSeen(m) + ": the policy for " + d.Name + " is " + m.Policy + ", not reject"
	}
	if m.Pct < 100 {
		// pct below 100 rejects only that share of failing mail.
		return domainFails, dmarcSeen(m) + ": pct=" + strconv.Itoa(m.Pct) + " rejects only " + strconv.Itoa(m.Pct) + "% of failing mail"
	}
	return domainOK, ""
}

func judgeCISAReports(d posture.MailDomain) (verdict, string) {
	if v, detail, decided := dmarcState(d); decided {
		return v, detail
	}
	m := d.DMARC
	for _, u := range m.RUA {
		if strings.EqualFold(posture.MailtoAddress(u), posture.CISAReportAddress) {
			return domainOK, ""
		}
	}
	return domainFails, dmarcSeen(m) + ": rua does not include mailto:" + posture.CISAReportAddress
}

func judgeOwnContact(d posture.MailDomain) (verdict, string) {
	if v, detail, decided := dmarcState(d); decided {
		return v, detail
	}
	m := d.DMARC
	var missing []string
	if len(posture.OwnAddresses(m.RUA)) == 0 {
		missing = append(missing, "no aggregate-report (rua) address of the organisation's own")
	}
	if len(posture.OwnAddresses(m.RUF)) == 0 {
		missing = append(missing, "no failure-report (ruf) address of the organisation's own")
	}
	if len(missing) > 0 {
		return domainFails, dmarcSeen(m) + ": " + strings.Join(missing, "; ")
	}
	return domainOK, ""
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// protectionRule judges Secure Score controls: each one the latest score
// reports passes when it has earned its points, within the tenant's
// mailProtectionTolerance.
type protectionRule struct {
	names []string
	// needsMDO: the protection exists only with Defender for Office 365;
	// without it the control is unknown, not failing: there is nothing to
	// configure.
	needsMDO bool
}

// maxRemediationInFinding bounds the remediation text copied into a finding.
const maxRemediationInFinding = 400

func (p protectionRule) eval(in Input) Outcome {
	e := in.Snapshot(posture.AreaEmail).Email
	if e == nil {
		return Outcome{Status: Unknown, Reason: "email protections were not collected", Evidence: map[string]any{}}
	}
	if p.needsMDO {
		if e.MDOLicensed == nil {
			return Outcome{Status: Unknown, Reason: "the tenant's licences could not be read", Evidence: map[string]any{}}
		}
		if !*e.MDOLicensed {
			return Outcome{Status: Unknown, Evidence: map[string]any{"mdoLicensed": false},
				Reason: "requires Defender for Office 365: no active subscription provisions " + posture.PlanMDOPlan1 + " (Plan 1) or " + posture.PlanMDOPlan2 + " (Plan 2)"}
		}
	}
	tolerance := in.Targets.MailProtectionTolerance
	o := Outcome{Status: Pass, Evidence: map[string]any{"scoreDate": e.ScoreDate, "tolerance": tolerance}}
	var seen []map[string]any
	for _, mp := range e.Protections {
		if !slices.Contains(p.names, mp.ControlName) || !mp.Scored || mp.MaxScore <= 0 {
			continue
		}
		seen = append(seen, map[string]any{"controlName": mp.ControlName, "title": mp.Title, "score": mp.Score, "maxScore": mp.MaxScore, "actionUrl": mp.ActionURL})
		if mp.Score/mp.MaxScore+1e-9 >= 1-tolerance {
			continue
		}
		o.Findings.Add(posture.Finding{Kind: FindingSecureScoreControl, ID: mp.ControlName, Name: mp.Title,
			Detail: fmt.Sprintf("%s: %.4g of %.4g points on %s. %s", mp.ControlName, mp.Score, mp.MaxScore, e.ScoreDate, truncateText(mp.Remediation, maxRemediationInFinding))})
	}
	if len(seen) == 0 {
		return Outcome{Status: Unknown, Evidence: map[string]any{"scoreDate": e.ScoreDate},
			Reason: "the latest Secure Score scores none of " + strings.Join(p.names, ", ") + " for this tenant"}
	}
	o.Evidence["protections"] = seen
	if o.Findings.Total > 0 {
		o.Status = Fail
	}
	return o
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
