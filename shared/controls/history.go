package controls

import (
	"sort"
	"time"

	"m365security/shared/posture"
)

// Change classifies how a control moved across a window.
type Change string

// Changes.
const (
	NewFailing   Change = "newFailing"   // failing now, never failed before
	StillFailing Change = "stillFailing" // failing at the start and the end
	Fixed        Change = "fixed"        // failing at some point, passing at the end
	Regressed    Change = "regressed"    // failing again after having been fixed
	Passing      Change = "passing"      // not failing throughout
	NoData       Change = "unknown"      // never evaluated in or before the window
)

// ControlHistory is one control's state over a window.
type ControlHistory struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Status   string   `json:"status"`
	Change   Change   `json:"change"`
	// FailingSince is when the current failing streak began.
	FailingSince        *time.Time   `json:"failingSince,omitempty"`
	DaysOutOfCompliance float64      `json:"daysOutOfCompliance"`
	Fixes               []Fix        `json:"fixes"`
	MeanTimeToFixDays   *float64     `json:"meanTimeToFixDays,omitempty"`
	Transitions         []Transition `json:"transitions"`
}

// Fix is a failing streak that ended.
type Fix struct {
	FailedAt time.Time `json:"failedAt"`
	FixedAt  time.Time `json:"fixedAt"`
	Days     float64   `json:"days"`
}

// Transition is a status change.
type Transition struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
}

// History computes each control's history over [from, to) from history
// points, which may start before from so the state at from is known.
// Unknown evaluations carry the previous state: a failed collection is not a
// fix. Time out of compliance counts up to min(now, to): a window that ends
// in the future has not been failing there yet.
func History(points []posture.HistoryPoint, from, to, now time.Time) []ControlHistory {
	sorted := append([]posture.HistoryPoint(nil), points...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].TakenAt.Before(sorted[j].TakenAt) })
	until := to
	if now.Before(until) {
		until = now
	}
	out := make([]ControlHistory, 0, len(Catalogue))
	for _, c := range Catalogue {
		out = append(out, history(c, sorted, from, to, until))
	}
	return out
}

// history is one control's History; time failing counts up to until.
func history(c Control, points []posture.HistoryPoint, from, to, until time.Time) ControlHistory {
	h := ControlHistory{ID: c.ID, Title: c.Title, Severity: c.Severity, Status: string(Unknown), Change: NoData,
		Fixes: []Fix{}, Transitions: []Transition{}}
	type obs struct {
		at     time.Time
		status string
	}
	var seq []obs
	for _, p := range points {
		st, ok := p.Controls[c.ID]
		if !ok || st.Status == string(Unknown) || !p.TakenAt.Before(to) {
			continue
		}
		if len(seq) == 0 || seq[len(seq)-1].status != st.Status {
			seq = append(seq, obs{p.TakenAt, st.Status})
		}
	}
	if len(seq) == 0 {
		return h
	}
	failing := func(s string) bool { return s == string(Fail) }
	var startStatus string
	everFixed := false
	var streakStart *time.Time
	var outOfCompliance time.Duration
	for i, o := range seq {
		if !o.at.After(from) {
			startStatus = o.status
		} else {
			h.Transitions = append(h.Transitions, Transition{At: o.at, Status: o.status})
		}
		if failing(o.status) {
			t := o.at
			streakStart = &t
		} else if streakStart != nil {
			if !o.at.Before(from) {
				d := o.at.Sub(*streakStart)
				h.Fixes = append(h.Fixes, Fix{FailedAt: *streakStart, FixedAt: o.at, Days: d.Hours() / 24})
			}
			everFixed = true
			streakStart = nil
		}
		// Time spent failing inside the window.
		if failing(o.status) {
			end := until
			if i+1 < len(seq) && seq[i+1].at.Before(end) {
				end = seq[i+1].at
			}
			s := o.at
			if s.Before(from) {
				s = from
			}
			if end.After(s) {
				outOfCompliance += end.Sub(s)
			}
		}
	}
	end := seq[len(seq)-1].status
	h.Status = end
	h.DaysOutOfCompliance = outOfCompliance.Hours() / 24
	if len(h.Fixes) > 0 {
		var sum float64
		for _, f := range h.Fixes {
			sum += f.Days
		}
		m := sum / float64(len(h.Fixes))
		h.MeanTimeToFixDays = &m
	}
	switch {
	case failing(end) && everFixed:
		// It was fixed at some point and is failing again.
		h.Change = Regressed
		if failing(startStatus) && len(h.Fixes) == 0 {
			h.Change = StillFailing
		}
	case failing(end) && failing(startStatus):
		h.Change = StillFailing
	case failing(end):
		h.Change = NewFailing
	case len(h.Fixes) > 0 || failing(startStatus):
		h.Change = Fixed
	default:
		h.Change = Passing
	}
	if failing(end) {
		h.FailingSince = streakStart
	}
	return h
}
