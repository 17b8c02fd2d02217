package collect

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"

	"m365security/shared/graph"
	"m365security/shared/maildns"
	"m365security/shared/posture"
)

// Bounds of the DNS checks: a tenant may verify up to 5,000 domains; the
// first maxMailDomains mail domains are checked, dnsWorkers at a time.
const (
	maxMailDomains = 500
	dnsWorkers     = 4
	maxRemediation = 2000
)

// mailServices are the Secure Score services whose controls the email area
// keeps: Defender for Office 365, Exchange Online and Purview (audit).
var mailServices = []string{"MDO", "EXO", "MIP"}

type emailState struct {
	id    identityState // domains and licences, read by the identity fetchers
	score secureScoreState
	dns   maildns.Lookuper
	mail  []posture.MailDomain
}

// Email reads the tenant's mail domains and checks their SPF, DKIM and
// DMARC records through dns, and reads the Secure Score protections of
// Defender for Office 365 with the licences that decide whether they apply.
func Email(ctx context.Context, c *graph.Reader, dns maildns.Lookuper, log *slog.Logger) (*posture.Email, posture.Sources) {
	st := emailState{dns: dns}
	srcs := run(ctx, c, collectorLog(log, posture.AreaEmail), emailSources(), &st)
	out := &posture.Email{Domains: st.mail}
	if s, ok := srcs.Get(posture.SrcMailSkus); ok && s.OK() {
		mdo := posture.HasServicePlan(st.id.skus, posture.PlanMDOPlan1) || posture.HasServicePlan(st.id.skus, posture.PlanMDOPlan2)
		out.MDOLicensed = &mdo
	}
	out.Protections, out.ScoreDate = mailProtections(st.score)
	return out, srcs
}

func emailSources() []source[emailState] {
	area := posture.AreaEmail
	return []source[emailState]{
		{SourceInfo{
			Name: posture.SrcMailDomains, Area: area, Path: "/domains",
			Query:          "$select=" + strings.Join(domainSelect, ","),
			PageSizeSource: "small collection; no $top sent, nextLinks followed",
			Permission:     "Domain.Read.All",
		}, func(ctx context.Context, r *reader, st *emailState) (int, error) { return fetchDomains(ctx, r, &st.id) }},
		{SourceInfo{
			Name: posture.SrcMailDNS, Area: area, Path: "DNS: TXT <domain>, TXT _dmarc.<domain>, CNAME selector1/selector2._domainkey.<domain>",
			Query:     "per mail domain, through DNS_RESOLVER or the system resolver",
			DependsOn: []string{posture.SrcMailDomains}, DNS: true,
		}, fetchMailDNS},
		{SourceInfo{
			Name: posture.SrcMailSkus, Area: area, Path: "/subscribedSkus",
			Query:          "$select=" + strings.Join(skuSelect, ","),
			PageSizeSource: "takes no $top; nextLinks followed",
			Permission:     "LicenseAssignment.Read.All",
		}, func(ctx context.Context, r *reader, st *emailState) (int, error) {
			return fetchSubscribedSkus(ctx, r, &st.id)
		}},
		{SourceInfo{
			Name: posture.SrcMailScores, Area: area, Path: "/security/secureScores",
			Query:    "$top=1000",
			PageSize: securityPageSize, PageSizeSource: "security API: $top capped at 1000; ~90 daily scores kept",
			Permission: "SecurityEvents.Read.All",
		}, func(ctx context.Context, r *reader, st *emailState) (int, error) {
			return fetchSecureScores(ctx, r, &st.score)
		}},
		{SourceInfo{
			Name: posture.SrcMailProfiles, Area: area, Path: "/security/secureScoreControlProfiles",
			Query:    "$top=1000",
			PageSize: securityPageSize, PageSizeSource: "security API: $top capped at 1000",
			Permission: "SecurityEvents.Read.All",
		}, func(ctx context.Context, r *reader, st *emailState) (int, error) {
			return fetchControlProfiles(ctx, r, &st.score)
		}},
	}
}

// fetchMailDNS checks every mail domain. A domain whose records could not
// be read is kept with its lookups unknown; the source still succeeds (the
// domains were read) and says how many could not be.
func fetchMailDNS(ctx context.Context, _ *reader, st *emailState) (int, error) {
	if st.dns == nil {
		return 0, errors.New("no DNS resolver configured")
	}
	var names []string
	for _, d := range st.id.domains {
		if d.SupportsEmail() {
			names = append(names, strings.ToLower(d.ID))
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var note string
	if len(names) > maxMailDomains {
		note = fmt.Sprintf("%d mail domains; the first %d (alphabetically) were checked", len(names), maxMailDomains)
		names = names[:maxMailDomains]
	}
	checker := maildns.NewChecker(st.dns)
	out := make([]posture.MailDomain, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(dnsWorkers, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = checker.Domain(ctx, names[i])
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	byName := map[string]posture.Domain{}
	for _, d := range st.id.domains {
		byName[strings.ToLower(d.ID)] = d
	}
	unknown, first := 0, ""
	for i := range out {
		d := byName[out[i].Name]
		out[i].IsDefault, out[i].IsInitial = d.IsDefault, d.IsInitial
		if _, known := out[i].Authenticated(); !known {
			if unknown++; first == "" {
				first = out[i].Name + ": " + unknownReason(out[i])
			}
		}
	}
	st.mail = out
	if err := ctx.Err(); err != nil {
		return len(out), fmt.Errorf("check mail domains: %w", err)
	}
	if unknown > 0 {
		note = strings.TrimPrefix(note+fmt.Sprintf("; %d of %d domains could not be read from DNS (first: %s)", unknown, len(out), first), "; ")
	}
	if note != "" {
		return len(out), &okWithNote{note: note}
	}
	return len(out), nil
}

func unknownReason(d posture.MailDomain) string {
	switch {
	case d.SPF.Lookup == posture.LookupUnknown:
		return "SPF: " + d.SPF.Reason
	case d.DMARC.Lookup == posture.LookupUnknown:
		return "DMARC: " + d.DMARC.Reason
	}
	r, _ := d.DKIM.Unknown()
	return "DKIM: " + r
}

// mailProtections joins the latest day's control scores with the control
// profiles of the mail services.
func mailProtections(ss secureScoreState) ([]posture.MailProtection, string) {
	if len(ss.scores) == 0 {
		return nil, ""
	}
	latest := ss.scores[0] // sorted newest first by fetchSecureScores
	scored := map[string]float64{}
	for _, c := range latest.ControlScores {
		scored[c.ControlName] = c.Score
	}
	out := []posture.MailProtection{}
	for _, p := range ss.profiles {
		if p.Deprecated || !slices.ContainsFunc(mailServices, func(s string) bool { return strings.EqualFold(s, p.Service) }) {
			continue
		}
		score, ok := scored[p.ID]
		out = append(out, posture.MailProtection{ControlName: p.ID, Title: p.Title, Service: p.Service, Score: score,
			MaxScore: p.MaxScore, Scored: ok, Remediation: p.Remediation, ActionURL: p.ActionURL})
	}
	return out, latest.CreatedAt.Format("2006-01-02")
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// plainText turns Graph's HTML remediation text into bounded plain text;
// renderers escape it again, so it is only made readable here.
func plainText(s string, limit int) string {
	s = strings.Join(strings.Fields(html.UnescapeString(htmlTag.ReplaceAllString(s, " "))), " ")
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
