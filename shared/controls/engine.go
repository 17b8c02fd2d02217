package controls

import (
	"fmt"
	"strings"
	"time"

	"m365security/shared/posture"
)

// ByID returns the catalogue entry with id.
func ByID(id string) (Control, bool) {
	for _, c := range Catalogue {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}

// Evaluate runs every control in the catalogue over in and applies the
// exceptions as they stand at in.AsOf.
func Evaluate(in Input, exceptions []Exception) []Result {
	out := make([]Result, 0, len(Catalogue))
	for _, c := range Catalogue {
		out = append(out, EvaluateOne(c, in, exceptions))
	}
	return out
}

// EvaluateOne runs one control: unknown when its area was never collected or
// a required source failed, otherwise the rule, then exceptions.
func EvaluateOne(c Control, in Input, exceptions []Exception) Result {
	r := Result{ID: c.ID, Title: c.Title, Severity: c.Severity, Remediation: c.Remediation,
		Rationale: c.Rationale, Reference: c.Reference, Evidence: map[string]any{}, AsOf: in.AsOf}
	snap := in.Snapshot(c.Area)
	if len(c.Requires) > 0 {
		if snap == nil {
			r.Status, r.Reason = Unknown, fmt.Sprintf("%s data has not been collected yet", c.Area)
			return r
		}
		r.AsOf = snap.TakenAt
		if missing := snap.Sources.Missing(c.Requires...); len(missing) > 0 {
			r.Status, r.Reason = Unknown, "required data could not be collected: "+strings.Join(missing, "; ")
			return r
		}
	}
	o := c.Rule(in)
	r.Status, r.Findings, r.Reason = o.Status, o.Findings, o.Reason
	if o.Evidence != nil {
		r.Evidence = o.Evidence
	}
	if r.Findings.Items == nil {
		r.Findings.Items = []posture.Finding{}
	}
	applyExceptions(&r, exceptions, in.AsOf)
	return r
}

// applyExceptions turns a failing control into excepted when active
// exceptions cover every finding, and lists expired ones that no longer count.
func applyExceptions(r *Result, exceptions []Exception, at time.Time) {
	var active []Exception
	for _, e := range exceptions {
		if e.ControlID != r.ID {
			continue
		}
		switch e.StatusAt(at) {
		case ExceptionActive:
			active = append(active, e)
		case ExceptionExpired:
			r.ExpiredExceptions = append(r.ExpiredExceptions, e.ID)
		}
	}
	if r.Status != Fail || len(active) == 0 {
		return
	}
	used := map[string]bool{}
	covered := 0
	for i, f := range r.Findings.Items {
		for _, e := range active {
			if e.Covers(f) {
				covered++
				used[e.ID] = true
				r.Findings.Items[i].Detail += " (accepted by exception " + e.ID + ")"
				break
			}
		}
	}
	for _, e := range active {
		if used[e.ID] {
			r.Exceptions = append(r.Exceptions, e.ID)
		}
	}
	// A truncated finding list cannot prove every finding is covered.
	if covered == r.Findings.Total && r.Findings.Complete() {
		r.Status = Excepted
	}
}
