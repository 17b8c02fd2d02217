package maildns

import (
	"context"
	"fmt"
	"strings"

	"m365security/shared/posture"
)

// spfLookupTerms are the terms that cost a DNS query (RFC 7208 4.6.4).
var spfLookupTerms = map[string]bool{"include": true, "a": true, "mx": true, "ptr": true, "exists": true}

// allVerdicts says what each all qualifier means for MS.EXO.2.2v3: "" is
// acceptable, anything else is the problem.
var allVerdicts = map[string]string{
	"-all": "",
	"~all": "",
	"?all": "?all is neutral: mail from any server is neither passed nor failed",
	"+all": "+all passes mail from every server on the internet",
}

// spfRecord fetches the single v=spf1 record at name.
func (c *Checker) spfRecord(ctx context.Context, name string) (recs []string, a Answer, err error) {
	a, err = c.txt(ctx, name)
	if err != nil {
		return nil, a, err
	}
	return withPrefix(a.TXT, "v=spf1", true), a, nil
}

func (c *Checker) spf(ctx context.Context, domain string) posture.SPF {
	recs, a, err := c.spfRecord(ctx, domain)
	out := posture.SPF{}
	if err != nil {
		out.Lookup, out.Reason = posture.LookupUnknown, err.Error()
		return out
	}
	if len(recs) == 0 {
		out.Lookup, out.Reason = posture.LookupMissing, missingReason(a, "v=spf1 TXT", domain)
		out.Problems = []string{"no SPF policy published (" + out.Reason + ")"}
		return out
	}
	if len(recs) > 1 {
		out.Lookup, out.Records = posture.LookupInvalid, recs
		out.Problems = []string{fmt.Sprintf("%d v=spf1 records published; RFC 7208 allows one, so receivers treat the policy as a permanent error", len(recs))}
		return out
	}
	out.Lookup, out.Record = posture.LookupFound, recs[0]
	w := &spfWalk{c: c, seen: map[string]bool{strings.ToLower(domain): true}}
	all, decidedBy := w.walk(ctx, recs[0])
	out.Lookups = w.lookups
	if w.unknown != "" {
		out.Lookup, out.Reason = posture.LookupUnknown, w.unknown
		return out
	}
	out.All = all
	if decidedBy != "" {
		out.Redirect = decidedBy
	}
	out.Problems = append(out.Problems, w.problems...)
	if out.Lookups > posture.MaxSPFLookups {
		out.Problems = append(out.Problems, fmt.Sprintf("%d DNS lookups when expanded; RFC 7208 allows %d, so receivers fail the check with a permanent error", out.Lookups, posture.MaxSPFLookups))
	}
	// The walk yields all with one of the four qualifiers, or nothing.
	if all == "" {
		out.Problems = append(out.Problems, "the policy ends in no all mechanism (nor redirect= to one), so unlisted servers are neutral, not failed")
	} else if v := allVerdicts[all]; v != "" {
		out.Problems = append(out.Problems, v)
	}
	return out
}

// spfWalk expands a policy: counts lookups through include and redirect,
// and finds the all that ends it. It stops once past the limit, so a
// hostile chain costs at most MaxSPFLookups+1 queries, and recursion is
// no deeper.
type spfWalk struct {
	c        *Checker
	lookups  int
	seen     map[string]bool
	problems []string
	unknown  string
}

// walk returns the record's all term and, when redirect= decided it, the
// domain whose record did.
func (w *spfWalk) walk(ctx context.Context, record string) (all, decidedBy string) {
	var redirect string
	for _, term := range strings.Fields(record)[1:] {
		lower := strings.ToLower(term)
		if k, v, ok := strings.Cut(lower, "="); ok && !strings.ContainsAny(k, ":/") {
			if k == "redirect" {
				redirect = v
			}
			continue
		}
		mech := strings.TrimLeft(lower, "+-~?")
		qual := "+"
		if len(mech) < len(lower) {
			qual = lower[:1]
		}
		name, arg, _ := strings.Cut(mech, ":")
		name, _, _ = strings.Cut(name, "/")
		if name == "all" {
			// Terms after all are never evaluated, and redirect= is
			// ignored when all is present (RFC 7208 6.1).
			return qual + "all", ""
		}
		if !spfLookupTerms[name] {
			continue
		}
		if w.count(); w.over() {
			return "", ""
		}
		if name == "include" {
			w.follow(ctx, arg, "include:")
			if w.unknown != "" || w.over() {
				return "", ""
			}
		}
	}
	if redirect == "" {
		return "", ""
	}
	if w.count(); w.over() {
		return "", ""
	}
	return w.follow(ctx, redirect, "redirect=")
}

func (w *spfWalk) count()     { w.lookups++ }
func (w *spfWalk) over() bool { return w.lookups > posture.MaxSPFLookups }

// follow reads the SPF record of target and walks it; decidedBy is the
// domain whose record ended the walk (target, or a redirect= of its own).
func (w *spfWalk) follow(ctx context.Context, target, via string) (all, decidedBy string) {
	if target == "" {
		w.problems = append(w.problems, via+" names no domain")
		return "", ""
	}
	if w.seen[target] {
		w.problems = append(w.problems, via+target+" loops back to a policy already expanded")
		return "", ""
	}
	// The path, not every domain seen: two includes may share a third.
	w.seen[target] = true
	defer delete(w.seen, target)
	recs, a, err := w.c.spfRecord(ctx, target)
	if err != nil {
		w.unknown = "expanding " + via + target + ": " + err.Error()
		return "", target
	}
	if len(recs) != 1 {
		problem := via + target + " publishes no SPF record (" + missingReason(a, "v=spf1 TXT", target) + "): a permanent error"
		if len(recs) > 1 {
			problem = fmt.Sprintf("%s%s publishes %d SPF records: a permanent error", via, target, len(recs))
		}
		w.problems = append(w.problems, problem)
		return "", target
	}
	all, by := w.walk(ctx, recs[0])
	if by == "" {
		by = target
	}
	return all, by
}
