package report

import (
	"context"
	"sort"
	"time"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
)

// ComparisonQuarters is how far back the comparison looks for its first
// quarter: the earliest monitored one of the last four before this one.
const ComparisonQuarters = 4

// executive builds the quarterly review's business view.
func (b *Builder) executive(ctx context.Context, f *facts, r Report) (*Executive, error) {
	e := &Executive{RiskTrend: []TrendPoint{}, TopRisks: []Risk{}, Targets: []TargetRow{}}
	for _, m := range monthEnds(f.p, f.until) {
		n, ids, err := b.failingAt(ctx, f, m)
		if err != nil {
			return nil, err
		}
		tp := TrendPoint{Month: m.ID, At: m.To, Status: posture.Unknown, Reason: "no snapshot in the month"}
		if n != nil {
			v := float64(*n)
			tp.Status, tp.Value, tp.Reason = posture.Measured, &v, ""
			tp.SnapshotIDs = ids
		}
		e.RiskTrend = append(e.RiskTrend, tp)
	}
	if f.until.After(f.p.From) && r.Coverage.HasData {
		v, err := b.assess.Controls(ctx, f.tenant, f.at)
		if err != nil {
			return nil, err
		}
		var failing []controls.Result
		for _, c := range v.Controls {
			if c.Status == controls.Fail {
				failing = append(failing, c)
			}
		}
		sort.SliceStable(failing, func(i, j int) bool {
			if severityRank[failing[i].Severity] != severityRank[failing[j].Severity] {
				return severityRank[failing[i].Severity] < severityRank[failing[j].Severity]
			}
			return failing[i].Findings.Total > failing[j].Findings.Total
		})
		since := map[string]*time.Time{}
		for _, c := range r.Controls {
			since[c.ID] = c.FailingSince
		}
		for _, c := range failing[:min(TopRisks, len(failing))] {
			area, _ := controls.ReportAreaOf(c.ID)
			e.TopRisks = append(e.TopRisks, Risk{ControlID: c.ID, Title: c.Title, Severity: string(c.Severity), Area: area.Title,
				Owner: ownerOf(r.Accountability, area.ID), FailingSince: since[c.ID], Findings: c.Findings.Total, Remediation: c.Remediation})
		}
	}
	for _, m := range r.Metrics {
		if m.Target == nil {
			continue
		}
		t := TargetRow{Metric: m.Name, Title: m.Title, Target: *m.Target, Met: m.MeetsTarget}
		if m.Previous != nil && m.Previous.IsMeasured() {
			v := *m.Previous.Value
			t.Start = &v
		}
		if m.Value.IsMeasured() {
			v := *m.Value.Value
			t.End = &v
		}
		e.Targets = append(e.Targets, t)
	}
	cmp, err := b.comparison(ctx, f)
	if err != nil {
		return nil, err
	}
	e.Comparison = cmp
	return e, nil
}

// failingAt counts the controls failing in the last history point of each
// area within m; nil when no area has a point in m.
func (b *Builder) failingAt(ctx context.Context, f *facts, m Period) (*int, []string, error) {
	at := m.To.Add(-time.Nanosecond)
	n, seen := 0, false
	var ids []string
	for _, a := range posture.Areas {
		pt, err := b.records.History.Latest(ctx, f.tenant, a, at)
		if err != nil {
			return nil, nil, err
		}
		if pt == nil || pt.TakenAt.Before(m.From) {
			continue
		}
		seen = true
		ids = append(ids, pt.SnapshotID)
		f.cite("snapshot", pt.SnapshotID)
		for _, c := range pt.Controls {
			if c.Status == string(controls.Fail) {
				n++
			}
		}
	}
	if !seen {
		return nil, nil, nil
	}
	return &n, ids, nil
}

// comparison sets the earliest monitored quarter of the last four beside
// this one.
func (b *Builder) comparison(ctx context.Context, f *facts) (Comparison, error) {
	latest, err := b.quarterFigures(ctx, f, f.p)
	if err != nil {
		return Comparison{}, err
	}
	c := Comparison{Latest: latest}
	first := f.p
	for q, i := f.p.Previous(), 0; i < ComparisonQuarters; q, i = q.Previous(), i+1 {
		if f.since != nil && f.since.Before(q.To) {
			first = q
		}
	}
	if first == f.p {
		c.First = latest
		c.Message = "A comparison needs a monitored quarter before this one."
		return c, nil
	}
	if c.First, err = b.quarterFigures(ctx, f, first); err != nil {
		return c, err
	}
	return c, nil
}

func (b *Builder) quarterFigures(ctx context.Context, f *facts, q Period) (QuarterFigures, error) {
	until := q.To
	if f.until.Before(until) {
		until = f.until
	}
	var list []incident.Incident
	qf := QuarterFigures{Quarter: q.ID}
	for _, in := range f.incidents {
		if !in.CreatedAt.Before(q.From) && in.CreatedAt.Before(q.To) {
			list = append(list, in)
			f.cite("incident", in.ID)
			for _, a := range in.Actions {
				if a.Status == incident.ActionExecuted {
					qf.ActionsExecuted++
				}
			}
		}
	}
	qf.Incidents = len(list)
	_, qf.MeanTimeToRespond, qf.MeanTimeToResolve = meanTimes(list, until)
	n, _, err := b.failingAt(ctx, f, Period{From: q.From, To: until})
	if err != nil {
		return qf, err
	}
	qf.FailingControls, qf.HasData = n, n != nil
	return qf, nil
}
