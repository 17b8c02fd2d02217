package report

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"m365security/shared/assess"
	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/metrics"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/settings"
)

// Builder assembles reports from the stored evidence.
type Builder struct {
	records *records.Records
	assess  *assess.Service
	now     func() time.Time
}

// NewBuilder returns a Builder over the records and the as-of views.
func NewBuilder(r *records.Records, a *assess.Service, now func() time.Time) *Builder {
	return &Builder{records: r, assess: a, now: now}
}

// TrendMonths is how many month-ends a trend shows.
const TrendMonths = 12

// metricSpec is one row of the metrics table, in report order.
type metricSpec struct {
	name, title string
	target      func(controls.Targets) float64
	// trend says the metric's history can be recomputed month by month;
	// counts of open items have no history of their own.
	trend bool
}

var metricSpecs = []metricSpec{
	{posture.MetricMFACoverage, "Users protected by MFA", func(t controls.Targets) float64 { return t.MFACoverage }, true},
	{posture.MetricAdminMFACoverage, "Administrators protected by MFA", func(t controls.Targets) float64 { return t.AdminMFACoverage }, true},
	{posture.MetricMFARegistration, "Users registered for MFA", nil, true},
	{posture.MetricMFAEnforcement, "Users on whom MFA is enforced", nil, true},
	{posture.MetricDeviceCompliance, "Compliant devices", func(t controls.Targets) float64 { return t.DeviceCompliance }, true},
	{posture.MetricEndpointProtection, "Devices with active endpoint protection", func(t controls.Targets) float64 { return t.EndpointProtection }, true},
	{posture.MetricSecureScore, "Microsoft Secure Score", nil, true},
	{posture.MetricMTTD, "Mean time to detect", nil, true},
	{posture.MetricMTTRespond, "Mean time to respond", nil, true},
	{posture.MetricMTTResolve, "Mean time to resolve", nil, true},
	{posture.MetricRestoreTestSuccess, "Restore tests that succeeded (365 days)", nil, true},
	{posture.MetricDaysSinceRestore, "Days since the last restore test", nil, true},
	{posture.MetricOpenIncidents, "Open incidents (now)", nil, false},
	{posture.MetricPendingApprovals, "Actions awaiting approval (now)", nil, false},
}

// areaOf maps a collected metric to its collection area.
var areaOf = func() map[string]posture.Area {
	m := map[string]posture.Area{}
	for a, names := range posture.AreaMetrics {
		for _, n := range names {
			m[n] = a
		}
	}
	return m
}()

// severityRank orders risks, most severe first.
var severityRank = map[controls.Severity]int{controls.Critical: 0, controls.High: 1, controls.Medium: 2, controls.Low: 3}

// TopRisks is how many open risks the quarterly review names.
const TopRisks = 5

// facts is what one build reads once and every section shares.
type facts struct {
	tenant    string
	p         Period
	at        time.Time // period-end figures are taken at or before this
	until     time.Time // min(period end, now)
	settings  settings.Tenant
	targets   controls.Targets
	since     *time.Time
	incidents []incident.Incident // created from the trend's start to the period's end
	tests     []posture.RestoreTest
	points    []posture.HistoryPoint // in the period
	evidence  map[string]map[string]bool
}

func (f *facts) cite(kind, id string) {
	if id == "" {
		return
	}
	if f.evidence[kind] == nil {
		f.evidence[kind] = map[string]bool{}
	}
	f.evidence[kind][id] = true
}

// Build assembles the report of a period for a tenant. A period not yet
// ended is reported up to now; one before monitoring began says so.
func (b *Builder) Build(ctx context.Context, tenantID string, p Period) (Report, error) {
	now := b.now().UTC()
	f := &facts{tenant: tenantID, p: p, until: p.To, evidence: map[string]map[string]bool{}}
	if now.Before(f.until) {
		f.until = now
	}
	f.at = f.until.Add(-time.Nanosecond)
	r := Report{Kind: p.Kind, Period: p, TenantID: tenantID, TenantName: tenantID, GeneratedAt: now, AsOf: f.until}
	var err error
	if f.settings, err = b.records.Settings.Tenant(ctx, tenantID); err != nil {
		return r, err
	}
	if f.targets, err = b.records.Settings.Targets(ctx, tenantID); err != nil {
		return r, err
	}
	if t, ok, err := b.records.History.Earliest(ctx, tenantID); err != nil {
		return r, err
	} else if ok {
		f.since = &t
	}
	trendFrom := trendStart(p)
	if f.incidents, err = b.records.Incidents.List(ctx, tenantID, records.IncidentQuery{From: trendFrom.Add(-metrics.IncidentWindow), To: p.To}); err != nil {
		return r, err
	}
	if f.tests, err = b.records.RestoreTests.Range(ctx, tenantID, trendFrom.AddDate(-1, 0, 0), p.To); err != nil {
		return r, err
	}
	if f.until.After(p.From) {
		if f.points, err = b.records.History.Range(ctx, tenantID, p.From, f.until); err != nil {
			return r, err
		}
	}
	r.Coverage = coverage(f, now)
	if name, err := b.tenantName(ctx, tenantID, f.at); err != nil {
		return r, err
	} else if name != "" {
		r.TenantName = name
	}
	if r.Metrics, err = b.metrics(ctx, f); err != nil {
		return r, err
	}
	r.Incidents, r.Actions = incidentsOf(f)
	if r.Controls, err = b.controlChanges(ctx, f); err != nil {
		return r, err
	}
	exceptions, err := b.records.Exceptions.All(ctx, tenantID, f.at)
	if err != nil {
		return r, err
	}
	r.Exceptions = exceptionsOf(f, exceptions)
	if r.MFA, err = b.mfa(ctx, f, exceptions); err != nil {
		return r, err
	}
	if r.Devices, err = b.devices(ctx, f); err != nil {
		return r, err
	}
	r.RestoreTests = restoreTestsOf(f)
	if r.Collection, err = b.collection(ctx, f); err != nil {
		return r, err
	}
	r.Accountability = Accountability(f.settings)
	if p.Kind == Quarterly {
		if r.Executive, err = b.executive(ctx, f, r); err != nil {
			return r, err
		}
	}
	r.Evidence = Evidence{Snapshots: keys(f.evidence["snapshot"]), Incidents: keys(f.evidence["incident"]),
		Exceptions: keys(f.evidence["exception"]), RestoreTests: keys(f.evidence["restoreTest"])}
	return r, nil
}

// trendStart is the first day of the trend's first month: eleven months
// before the period's last month.
func trendStart(p Period) time.Time {
	last := MonthOf(p.To.Add(-time.Nanosecond))
	return last.From.AddDate(0, -(TrendMonths - 1), 0)
}

// monthEnds are the trend's months, oldest first, each ending at the
// earlier of its end and until.
func monthEnds(p Period, until time.Time) []Period {
	var out []Period
	for m := MonthOf(trendStart(p)); m.From.Before(p.To); m = MonthOf(m.To) {
		cut := m
		if cut.To.After(until) {
			cut.To = until
		}
		if !cut.To.After(cut.From) {
			break
		}
		out = append(out, cut)
	}
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tenantName is the tenant's first verified custom domain in its latest
// identity snapshot, else its first verified domain; "" when none is known.
func (b *Builder) tenantName(ctx context.Context, tenantID string, at time.Time) (string, error) {
	snap, err := b.assess.Latest(ctx, tenantID, posture.AreaIdentity, at)
	if err != nil || snap == nil || snap.Identity == nil {
		return "", err
	}
	name := ""
	for _, d := range snap.Identity.Domains {
		if !d.IsVerified {
			continue
		}
		if !strings.HasSuffix(strings.ToLower(d.ID), ".onmicrosoft.com") {
			return d.ID, nil
		}
		if name == "" {
			name = d.ID
		}
	}
	return name, nil
}

// coverage says which days of the period have snapshots.
func coverage(f *facts, now time.Time) Coverage {
	c := Coverage{MonitoringSince: f.since, DaysInPeriod: len(f.p.Days()), MissingDays: []string{}}
	days := map[string]bool{}
	for _, pt := range f.points {
		days[pt.TakenAt.UTC().Format(time.DateOnly)] = true
	}
	c.DaysCovered = len(days)
	c.HasData = len(days) > 0
	var missing []time.Time
	for _, d := range f.p.Days() {
		// Today is not missing before its day is over.
		if !d.AddDate(0, 0, 1).After(f.until) && !days[d.Format(time.DateOnly)] {
			missing = append(missing, d)
		}
	}
	c.MissingDays = dayRanges(missing)
	switch {
	case f.p.From.After(now):
		c.Message = "This period has not started yet."
	case !c.HasData && f.since == nil:
		c.Message = "No data for this period: monitoring has not collected anything for this tenant yet."
	case !c.HasData && f.since.After(f.p.To):
		c.Message = fmt.Sprintf("No data for this period: monitoring began on %s, after it ended.", f.since.Format(time.DateOnly))
	case !c.HasData:
		c.Message = fmt.Sprintf("No data for this period: no snapshot was taken in it, although monitoring has run since %s.", f.since.Format(time.DateOnly))
	case len(missing) > 0:
		c.Message = fmt.Sprintf("Partly covered: %d of %d days have data; missing %s.", c.DaysCovered, len(missing)+c.DaysCovered, strings.Join(c.MissingDays, ", "))
	case f.until.Before(f.p.To):
		c.Message = fmt.Sprintf("Period in progress: covered up to %s.", f.until.Format(time.DateOnly))
	default:
		c.Message = "Every day of the period has data."
	}
	return c
}

// dayRanges writes sorted days as ranges of consecutive days.
func dayRanges(days []time.Time) []string {
	out := []string{}
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && days[j+1].Sub(days[j]) == 24*time.Hour {
			j++
		}
		if i == j {
			out = append(out, days[i].Format(time.DateOnly))
		} else {
			out = append(out, days[i].Format(time.DateOnly)+" to "+days[j].Format(time.DateOnly))
		}
		i = j + 1
	}
	return out
}

// metrics is the metrics table: each metric at the period's end, at the
// previous period's end, against its target, with its monthly trend.
func (b *Builder) metrics(ctx context.Context, f *facts) ([]MetricRow, error) {
	end, err := b.assess.Metrics(ctx, f.tenant, f.at)
	if err != nil {
		return nil, err
	}
	var prev *assess.MetricsView
	if f.since != nil && f.since.Before(f.p.From) {
		v, err := b.assess.Metrics(ctx, f.tenant, f.p.From.Add(-time.Nanosecond))
		if err != nil {
			return nil, err
		}
		prev = &v
	}
	trends, err := b.trends(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]MetricRow, 0, len(metricSpecs))
	for _, s := range metricSpecs {
		m, ok := end.Metrics[s.name]
		if !ok {
			continue
		}
		row := MetricRow{Name: s.name, Title: s.title, Unit: m.Unit, Value: m, Trend: trends[s.name]}
		if row.Trend == nil {
			row.Trend = []TrendPoint{}
		}
		if _, collected := areaOf[s.name]; !collected && len(f.points) == 0 {
			// A period with no snapshot at all was not monitored: its
			// incident and restore figures would read as zeros.
			row.Value = posture.UnknownMetric(m.Unit, "no data for this period", f.until)
		}
		if a, ok := areaOf[s.name]; ok {
			row.SnapshotID = end.SnapshotIDs[a]
			f.cite("snapshot", row.SnapshotID)
			if !f.coveredAt(a) {
				// The latest snapshot predates the period: its value is
				// not this period's.
				row.Value = posture.UnknownMetric(m.Unit, "no "+string(a)+" snapshot in this period", f.until)
				row.Value.LastMeasured = lastGood(m)
				row.SnapshotID = ""
			}
		}
		if prev != nil {
			if pm, ok := prev.Metrics[s.name]; ok {
				row.Previous = &pm
				if row.Value.IsMeasured() && pm.IsMeasured() {
					d := *row.Value.Value - *pm.Value
					row.Change = &d
				}
			}
		}
		if s.target != nil {
			t := s.target(f.targets)
			row.Target = &t
			if row.Value.IsMeasured() {
				met := *row.Value.Value >= t
				row.MeetsTarget = &met
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// lastGood is a metric's value when measured, else its last measured one.
func lastGood(m posture.Metric) *posture.Metric {
	if m.IsMeasured() {
		m.LastMeasured = nil
		return &m
	}
	return m.LastMeasured
}

// coveredAt reports whether the period holds a snapshot of the area.
func (f *facts) coveredAt(a posture.Area) bool {
	for _, p := range f.points {
		if p.Area == a {
			return true
		}
	}
	return false
}

// trends recomputes each metric at every month end of the trend: collected
// metrics from the month's last history point, incident and restore-test
// metrics from the stored records. A month with no snapshot is unknown.
func (b *Builder) trends(ctx context.Context, f *facts) (map[string][]TrendPoint, error) {
	out := map[string][]TrendPoint{}
	for _, m := range monthEnds(f.p, f.until) {
		at := m.To.Add(-time.Nanosecond)
		for _, area := range posture.Areas {
			names := posture.AreaMetrics[area]
			if len(names) == 0 {
				continue
			}
			pt, err := b.records.History.Latest(ctx, f.tenant, area, at)
			if err != nil {
				return nil, err
			}
			if pt != nil && pt.TakenAt.Before(m.From) {
				pt = nil
			}
			if pt != nil {
				f.cite("snapshot", pt.SnapshotID)
			}
			for _, n := range names {
				tp := TrendPoint{Month: m.ID, At: m.To, Status: posture.Unknown, Reason: "no " + string(area) + " snapshot in the month"}
				if pt != nil {
					tp.SnapshotID = pt.SnapshotID
					tp = withMetric(tp, pt.Metrics[n], "not computed by the month's last "+string(area)+" snapshot")
				}
				out[n] = append(out[n], tp)
			}
		}
		computed := metrics.Incidents(f.incidents, m.To)
		for k, v := range metrics.RestoreTests(f.tests, m.To) {
			computed[k] = v
		}
		for _, s := range metricSpecs {
			if _, collected := areaOf[s.name]; collected || !s.trend {
				continue
			}
			out[s.name] = append(out[s.name], withMetric(TrendPoint{Month: m.ID, At: m.To}, computed[s.name], "not computed"))
		}
	}
	return out, nil
}

func withMetric(tp TrendPoint, m posture.Metric, missing string) TrendPoint {
	switch {
	case m.Status == "":
		tp.Status, tp.Reason = posture.Unknown, missing
	case m.IsMeasured():
		v := *m.Value
		tp.Status, tp.Value, tp.Reason = posture.Measured, &v, ""
	default:
		tp.Status, tp.Reason = posture.Unknown, m.Reason
	}
	return tp
}

// inPeriod is the incidents created in the period.
func (f *facts) inPeriod() []incident.Incident {
	var out []incident.Incident
	for _, in := range f.incidents {
		if !in.CreatedAt.Before(f.p.From) && in.CreatedAt.Before(f.p.To) {
			out = append(out, in)
		}
	}
	return out
}

// incidentsOf summarises the period's incidents and their actions.
func incidentsOf(f *facts) (IncidentSection, []ActionRow) {
	list := f.inPeriod()
	s := IncidentSection{ByCategory: map[string]int{}, BySeverity: map[string]int{}, List: []IncidentRow{}}
	actions := []ActionRow{}
	for _, in := range list {
		f.cite("incident", in.ID)
		s.Total++
		s.Alerts += len(in.AlertIDs)
		s.ByCategory[in.Category]++
		s.BySeverity[in.Severity]++
		ents := append(append(append(append([]string{}, in.Entities.Users...), in.Entities.Devices...), in.Entities.Mailboxes...), in.Entities.URLs...)
		s.List = append(s.List, IncidentRow{ID: in.ID, Category: in.Category, Severity: in.Severity, Status: in.Status,
			Alerts: len(in.AlertIDs), Entities: ents, CreatedAt: in.CreatedAt, ResolvedAt: in.ResolvedAt})
		for _, a := range in.Actions {
			actions = append(actions, ActionRow{IncidentID: in.ID, ActionID: a.ID, Type: a.Type, Target: a.Target, Status: a.Status,
				Approval: a.RequiresApproval, ExecutedAt: a.ExecutedAt, By: decidedBy(a), Error: a.Error})
		}
	}
	s.MeanTimeToDetect, s.MeanTimeToRespond, s.MeanTimeToResolve = meanTimes(list, f.until)
	if s.Total == 0 {
		s.Message = "No incidents recorded in this period."
	}
	return s, actions
}

// decidedBy reads the action's decidedBy (CONTRACT section 7) through its
// JSON form, so the report names the decider once the response engine
// records one, and says "not recorded" before.
func decidedBy(a incident.Action) string {
	raw, err := json.Marshal(a)
	if err != nil {
		return "not recorded"
	}
	var v struct {
		DecidedBy string `json:"decidedBy"`
	}
	if json.Unmarshal(raw, &v) != nil || v.DecidedBy == "" {
		return "not recorded"
	}
	return v.DecidedBy
}

// meanTimes are the mean minutes to detect, respond and resolve over the
// given incidents (CONTRACT section 5's definitions, over the period
// instead of the last 30 days).
func meanTimes(list []incident.Incident, at time.Time) (detect, respond, resolve posture.Metric) {
	var d, rp, rs []float64
	for _, in := range list {
		if in.DetectedAt != nil && in.FirstActivityAt != nil {
			d = append(d, in.DetectedAt.Sub(*in.FirstActivityAt).Minutes())
		}
		if first := in.FirstExecutedAt(); first != nil && in.DetectedAt != nil {
			rp = append(rp, first.Sub(*in.DetectedAt).Minutes())
		}
		if in.Status == incident.StatusResolved && in.ResolvedAt != nil && in.DetectedAt != nil {
			rs = append(rs, in.ResolvedAt.Sub(*in.DetectedAt).Minutes())
		}
	}
	mean := func(xs []float64, what string) posture.Metric {
		if len(xs) == 0 {
			return posture.UnknownMetric(posture.UnitMinutes, "no incident in the period with "+what, at)
		}
		sum := 0.0
		for _, x := range xs {
			sum += x
		}
		return posture.Value(sum/float64(len(xs)), posture.UnitMinutes, at)
	}
	return mean(d, "both first activity and detection times"), mean(rp, "an executed response action"), mean(rs, "a resolution")
}

// reportedChanges are the control changes a review lists; controls that
// passed throughout or were never evaluated are left out.
var reportedChanges = map[controls.Change]bool{controls.NewFailing: true, controls.Fixed: true, controls.Regressed: true, controls.StillFailing: true}

func (b *Builder) controlChanges(ctx context.Context, f *facts) ([]ControlRow, error) {
	out := []ControlRow{}
	if !f.until.After(f.p.From) {
		return out, nil
	}
	v, err := b.assess.ControlsHistory(ctx, f.tenant, f.p.From, f.until)
	if err != nil {
		return nil, err
	}
	for _, c := range v.Controls {
		if !reportedChanges[c.Change] {
			continue
		}
		area, _ := controls.ReportAreaOf(c.ID)
		out = append(out, ControlRow{ID: c.ID, Title: c.Title, Area: area.Title, Severity: string(c.Severity), Status: c.Status,
			Change: c.Change, FailingSince: c.FailingSince, DaysOutOfCompliance: round1(c.DaysOutOfCompliance)})
	}
	return out, nil
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// exceptionsOf lists the exceptions in force at any time in the period.
func exceptionsOf(f *facts, all []controls.Exception) []ExceptionRow {
	out := []ExceptionRow{}
	for _, e := range all {
		ended := e.ExpiresAt
		if e.RevokedAt != nil && e.RevokedAt.Before(ended) {
			ended = *e.RevokedAt
		}
		if !e.CreatedAt.Before(f.until) || ended.Before(f.p.From) {
			continue
		}
		f.cite("exception", e.ID)
		out = append(out, ExceptionRow{ID: e.ID, ControlID: e.ControlID, Reason: e.Reason, ApprovedBy: e.ApprovedBy,
			ExpiresAt: e.ExpiresAt, Status: e.StatusAt(f.until), Scope: len(e.Scope.Users) + len(e.Scope.Groups)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ExpiresAt.Before(out[j].ExpiresAt) })
	return out
}

// mfaControl reports whether an exception's control is about MFA, so it
// can cover a user's missing protection.
func mfaControl(id string) bool {
	return strings.HasPrefix(id, "M365SEC.MFA.") || strings.HasPrefix(id, "MS.AAD.3.")
}

func (b *Builder) mfa(ctx context.Context, f *facts, exceptions []controls.Exception) (MFASection, error) {
	s := MFASection{Users: []UserRow{}}
	if !f.coveredAt(posture.AreaIdentity) {
		s.Message = "No identity snapshot in this period: MFA protection was not measured."
		return s, nil
	}
	v, err := b.assess.MFAUsers(ctx, f.tenant, f.at, true)
	if err != nil {
		return s, err
	}
	snap, err := b.assess.Latest(ctx, f.tenant, posture.AreaIdentity, f.at)
	if err != nil {
		return s, err
	}
	if snap != nil && snap.Counts != nil {
		s.Population = snap.Counts.EnabledMembers
	}
	s.SnapshotID = v.SnapshotID
	at := v.AsOf
	s.AsOf = &at
	f.cite("snapshot", v.SnapshotID)
	var active []controls.Exception
	for _, e := range exceptions {
		if mfaControl(e.ControlID) && e.StatusAt(f.until) == controls.ExceptionActive {
			active = append(active, e)
		}
	}
	for _, u := range v.Users {
		row := UserRow{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName, Admin: u.IsAdmin,
			Registered: string(u.Registered), Enforced: string(u.Enforced), Reason: u.Reason}
		for _, x := range u.ExcludedBy {
			row.ExcludedBy = append(row.ExcludedBy, x.PolicyName)
		}
		finding := posture.Finding{Kind: posture.FindingUser, ID: u.ID, UserID: u.ID, Groups: u.Groups}
		for _, e := range active {
			if e.Covers(finding) {
				row.CoveredBy = append(row.CoveredBy, e.ID)
			}
		}
		s.Users = append(s.Users, row)
	}
	s.Total = len(s.Users)
	if s.Total == 0 {
		s.Message = "Every user in scope is protected by MFA."
	}
	return s, nil
}

func (b *Builder) devices(ctx context.Context, f *facts) (DeviceSection, error) {
	s := DeviceSection{Noncompliant: DeviceList{Items: []DeviceRow{}}, Unprotected: DeviceList{Items: []DeviceRow{}}, Unmeasured: DeviceList{Items: []DeviceRow{}}}
	if !f.coveredAt(posture.AreaDevices) {
		s.Message = "No devices snapshot in this period: devices were not measured."
		return s, nil
	}
	snap, err := b.assess.Latest(ctx, f.tenant, posture.AreaDevices, f.at)
	if err != nil || snap == nil {
		return s, err
	}
	s.SnapshotID = snap.ID
	f.cite("snapshot", snap.ID)
	list := func(name string) DeviceList {
		l := snap.Findings[name]
		out := DeviceList{Total: l.Total, Items: make([]DeviceRow, 0, len(l.Items))}
		for _, it := range l.Items {
			out.Items = append(out.Items, DeviceRow{ID: it.ID, Name: it.Name, Detail: it.Detail})
		}
		return out
	}
	s.Noncompliant = list(posture.ListNoncompliantDevice)
	s.Unprotected = list(posture.ListUnprotectedDevices)
	s.Unmeasured = list(posture.ListUnmeasuredDevices)
	return s, nil
}

func restoreTestsOf(f *facts) []RestoreTestRow {
	out := []RestoreTestRow{}
	for _, t := range f.tests {
		if t.PerformedAt.Before(f.p.From) || !t.PerformedAt.Before(f.p.To) {
			continue
		}
		f.cite("restoreTest", t.ID)
		out = append(out, RestoreTestRow{ID: t.ID, PerformedAt: t.PerformedAt, Workload: t.Workload, Succeeded: t.Succeeded, Notes: t.Notes})
	}
	return out
}

// collection lists the sources that could not be read by the period's
// last snapshot of each area, with since when they have failed.
func (b *Builder) collection(ctx context.Context, f *facts) ([]CollectionRow, error) {
	out := []CollectionRow{}
	v, err := b.assess.Collection(ctx, f.tenant, f.at)
	if err != nil {
		return nil, err
	}
	for _, a := range posture.Areas {
		st := v.Areas[a]
		if st.SnapshotID == "" || !f.coveredAt(a) {
			out = append(out, CollectionRow{Area: string(a), Source: "all", Status: "notCollected", Reason: "no " + string(a) + " snapshot in this period"})
			continue
		}
		for _, src := range st.Sources {
			if src.OK() {
				continue
			}
			f.cite("snapshot", st.SnapshotID)
			out = append(out, CollectionRow{Area: string(a), Source: src.Name, Status: string(src.Status), Reason: src.Reason,
				SnapshotID: st.SnapshotID, FailingSince: failingSince(f.points, a, src.Name)})
		}
	}
	return out, nil
}

// failingSince is the start of the source's last unbroken failing run in
// the period's points of the area.
func failingSince(points []posture.HistoryPoint, a posture.Area, source string) *time.Time {
	var since *time.Time
	for _, p := range points {
		if p.Area != a {
			continue
		}
		s, ok := p.Sources.Get(source)
		switch {
		case ok && s.OK():
			since = nil
		case since == nil:
			t := p.TakenAt
			since = &t
		}
	}
	return since
}
