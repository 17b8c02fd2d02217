package metrics

import (
	"strconv"
	"strings"
	"time"

	"m365security/shared/posture"
)

// MailDomains computes mailDomainsAuthenticated: mail domains with an SPF
// policy failing all other senders, DKIM enabled and a DMARC policy of
// reject or quarantine / mail domains. One domain whose DNS could not be
// read makes the whole ratio unknown, since it could go either way.
func MailDomains(e *posture.Email, src posture.Sources, asOf time.Time) map[string]posture.Metric {
	unknown := func(reason string) map[string]posture.Metric {
		return map[string]posture.Metric{posture.MetricMailAuthenticated: posture.UnknownMetric(posture.UnitRatio, reason, asOf)}
	}
	if missing := src.Missing(posture.SrcMailDomains, posture.SrcMailDNS); len(missing) > 0 || e == nil {
		return unknown("mail domains could not be checked: " + strings.Join(missing, "; "))
	}
	ok, unread := 0, []string{}
	for _, d := range e.Domains {
		auth, known := d.Authenticated()
		if !known {
			unread = append(unread, d.Name)
		} else if auth {
			ok++
		}
	}
	if len(unread) > 0 {
		return unknown(strconv.Itoa(len(unread)) + " of " + strconv.Itoa(len(e.Domains)) +
			" mail domains could not be read from DNS: " + strings.Join(unread, ", "))
	}
	m := posture.Ratio(ok, len(e.Domains), asOf, "the tenant has no verified domain set up for email")
	return map[string]posture.Metric{posture.MetricMailAuthenticated: m}
}
