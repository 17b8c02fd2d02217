// Package maildns reads a mail domain's SPF, DKIM and DMARC records from DNS
// into posture.MailDomain: a resolver client (github.com/miekg/dns, with
// timeouts, retries and TCP fallback) and the checks that expand SPF
// includes, follow DKIM CNAMEs and find the DMARC policy that applies. It
// judges record shapes; which control passes is shared/controls' decision.
// It must not import Graph, the store or controls.
package maildns
