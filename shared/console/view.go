package console

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/posture"
)

// Ratings of a metric against its target.
const (
	RatingGood    = "good"
	RatingWarn    = "warn"
	RatingBad     = "bad"
	RatingNone    = "none"    // measured, but no target applies
	RatingUnknown = "unknown" // not measured
)

// Value formats.
const (
	formatPercent  = "percent"
	formatDuration = "duration"
	formatCount    = "count"
	formatDays     = "days"
)

// metricSpec says how the console shows one success metric: its words, its
// format, the target it is judged against and how far short of the target
// still reads amber.
type metricSpec struct {
	Name   string
	Label  string
	Format string
	// Target returns the tenant's target; ok is false when none applies.
	Target func(controls.Targets) (float64, bool)
	// LowerIsBetter turns the comparison round (days since a restore test).
	LowerIsBetter bool
	// Margin is how far beyond the target still reads amber: an absolute
	// amount for ratios, a fraction of the target when Relative.
	Margin   float64
	Relative bool
}

func target(f func(controls.Targets) float64) func(controls.Targets) (float64, bool) {
	return func(t controls.Targets) (float64, bool) { return f(t), true }
}

func noTarget(controls.Targets) (float64, bool) { return 0, false }

// metricSpecs lists the success metrics in the order the overview shows
// them. MFA registration and enforcement are judged against the coverage
// target, since coverage needs both.
var metricSpecs = []metricSpec{
	{Name: posture.MetricMFACoverage, Label: "Users protected by MFA", Format: formatPercent, Margin: 0.05,
		Target: target(func(t controls.Targets) float64 { return t.MFACoverage })},
	{Name: posture.MetricAdminMFACoverage, Label: "Admins protected by MFA", Format: formatPercent, Margin: 0.05,
		Target: target(func(t controls.Targets) float64 { return t.AdminMFACoverage })},
	{Name: posture.MetricMFARegistration, Label: "Users registered for MFA", Format: formatPercent, Margin: 0.05,
		Target: target(func(t controls.Targets) float64 { return t.MFACoverage })},
	{Name: posture.MetricMFAEnforcement, Label: "Users MFA is enforced on", Format: formatPercent, Margin: 0.05,
		Target: target(func(t controls.Targets) float64 { return t.MFACoverage })},
	{Name: posture.MetricDeviceCompliance, Label: "Compliant devices", Format: formatPercent, Margin: 0.05,
		Target: target(func(t controls.Targets) float64 { return t.DeviceCompliance })},
	{Name: posture.MetricEndpointProtection, Label: "Devices with endpoint protection", Format: formatPercent, Margin: 0.05,
		Target: target(func(t controls.Targets) float64 { return t.EndpointProtection })},
	{Name: posture.MetricSecureScore, Label: "Secure Score", Format: formatPercent, Target: noTarget},
	{Name: posture.MetricMTTD, Label: "Mean time to detect", Format: formatDuration, Target: noTarget},
	{Name: posture.MetricMTTRespond, Label: "Mean time to respond", Format: formatDuration, Target: noTarget},
	{Name: posture.MetricMTTResolve, Label: "Mean time to resolve", Format: formatDuration, Target: noTarget},
	{Name: posture.MetricRestoreTestSuccess, Label: "Restore tests succeeded (365 days)", Format: formatPercent, Target: noTarget},
	{Name: posture.MetricDaysSinceRestore, Label: "Days since a restore test", Format: formatDays, LowerIsBetter: true,
		Margin: 0.25, Relative: true,
		Target: target(func(t controls.Targets) float64 { return float64(t.RestoreTestMaxAgeDays) })},
	{Name: posture.MetricOpenIncidents, Label: "Open incidents", Format: formatCount, Target: noTarget},
	{Name: posture.MetricPendingApprovals, Label: "Actions awaiting approval", Format: formatCount, Target: noTarget},
}

// MetricCard is one metric as the overview shows it.
type MetricCard struct {
	Name   string
	Label  string
	Value  string // formatted, or "unknown"
	Target string // formatted target, empty when none applies
	Rating string
	// Detail is the fraction behind a ratio ("125 of 137") or why the
	// metric is unknown, with its last measured value when there is one.
	Detail string
	// Trend holds the metric's measured values, oldest first, for the
	// sparkline.
	Trend []float64
}

// Rate judges a measured value against a target: at or beyond it is good,
// within the margin short of it is amber, further is red.
func Rate(v, target, margin float64, lowerIsBetter bool) string {
	if lowerIsBetter {
		v, target = -v, -target
	}
	if v >= target {
		return RatingGood
	}
	if v >= target-margin {
		return RatingWarn
	}
	return RatingBad
}

// FormatValue formats a metric value: a ratio as a percentage with one
// decimal (as the API's value times 100), minutes as a duration, counts and
// days as whole numbers.
func FormatValue(format string, v float64) string {
	switch format {
	case formatPercent:
		return fmt.Sprintf("%.1f%%", v*100)
	case formatDuration:
		return FormatMinutes(v)
	case formatDays:
		return fmt.Sprintf("%.0f days", math.Floor(v))
	}
	return fmt.Sprintf("%.0f", v)
}

// FormatMinutes words a duration in minutes at the scale a person reads it.
func FormatMinutes(m float64) string {
	if m < 60 {
		return fmt.Sprintf("%.0f min", m)
	}
	if m < 48*60 {
		return fmt.Sprintf("%.1f h", m/60)
	}
	return fmt.Sprintf("%.1f days", m/1440)
}

// Cards builds the overview's metric cards from the metrics, the tenant's
// targets and the history (oldest first), in metricSpecs order. A metric the
// view lacks is unknown, never zero.
func Cards(ms map[string]posture.Metric, t controls.Targets, history []map[string]posture.Metric) []MetricCard {
	out := make([]MetricCard, 0, len(metricSpecs))
	for _, s := range metricSpecs {
		m, ok := ms[s.Name]
		if !ok {
			m = posture.Metric{Status: posture.Unknown, Reason: "not reported by this deployment"}
		}
		c := MetricCard{Name: s.Name, Label: s.Label, Rating: RatingUnknown, Value: "unknown"}
		tv, hasTarget := s.Target(t)
		if hasTarget {
			c.Target = FormatValue(s.Format, tv)
		}
		if m.IsMeasured() {
			v := *m.Value
			c.Value = FormatValue(s.Format, v)
			c.Rating = RatingNone
			if hasTarget {
				margin := s.Margin
				if s.Relative {
					margin = tv * s.Margin
				}
				c.Rating = Rate(v, tv, margin, s.LowerIsBetter)
			}
			if m.Numerator != nil && m.Denominator != nil {
				c.Detail = fmt.Sprintf("%.0f of %.0f", *m.Numerator, *m.Denominator)
			}
		} else {
			c.Detail = m.Reason
			if l := m.LastMeasured; l != nil && l.IsMeasured() {
				c.Detail += fmt.Sprintf(" (last measured %s on %s)", FormatValue(s.Format, *l.Value), l.AsOf.UTC().Format(time.DateOnly))
			}
		}
		for _, h := range history {
			if hm, ok := h[s.Name]; ok && hm.IsMeasured() {
				c.Trend = append(c.Trend, *hm.Value)
			}
		}
		out = append(out, c)
	}
	return out
}

// severityOrder ranks severities for display, most severe first.
var severityOrder = map[controls.Severity]int{controls.Critical: 0, controls.High: 1, controls.Medium: 2, controls.Low: 3}

// SeverityGroup is the failing controls of one severity.
type SeverityGroup struct {
	Severity controls.Severity
	Controls []controls.Result
}

// FailingBySeverity groups the failing controls by severity, most severe
// first, each group in id order.
func FailingBySeverity(results []controls.Result) []SeverityGroup {
	by := map[controls.Severity][]controls.Result{}
	for _, r := range results {
		if r.Status == controls.Fail {
			by[r.Severity] = append(by[r.Severity], r)
		}
	}
	var out []SeverityGroup
	for sev, list := range by {
		sort.SliceStable(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		out = append(out, SeverityGroup{Severity: sev, Controls: list})
	}
	sort.Slice(out, func(i, j int) bool { return rank(out[i].Severity) < rank(out[j].Severity) })
	return out
}

func rank(s controls.Severity) int {
	if r, ok := severityOrder[s]; ok {
		return r
	}
	return len(severityOrder)
}

// ControlFilter is what the controls list may be narrowed by.
type ControlFilter struct {
	Status   string
	Severity string
	Query    string
}

// Filter keeps the results matching every set field; Query matches the id
// or title, ignoring case.
func (f ControlFilter) Filter(results []controls.Result) []controls.Result {
	q := strings.ToLower(strings.TrimSpace(f.Query))
	out := []controls.Result{}
	for _, r := range results {
		if f.Status != "" && string(r.Status) != f.Status {
			continue
		}
		if f.Severity != "" && string(r.Severity) != f.Severity {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(r.ID), q) && !strings.Contains(strings.ToLower(r.Title), q) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// MatchUser reports whether a user matches a search: the name, the UPN or
// the reason, ignoring case.
func MatchUser(u posture.UserMFA, q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	return strings.Contains(strings.ToLower(u.DisplayName), q) || strings.Contains(strings.ToLower(u.UserPrincipalName), q) ||
		strings.Contains(strings.ToLower(u.Reason), q)
}

// PlatformRow counts one platform's devices in each state the devices page
// shows.
type PlatformRow struct {
	Platform     string
	Devices      int
	Noncompliant int
	Unprotected  int
	Unmeasured   int
	// UnmeasuredReason says why Graph cannot measure the platform.
	UnmeasuredReason string
}

// Platforms builds the per-platform table from a devices snapshot: its
// counts per operating system and its finding lists, whose details name the
// platform only for non-compliance, so the unmeasured counts come from the
// endpoint protection metric.
func Platforms(snap *posture.Snapshot) []PlatformRow {
	if snap == nil || snap.Counts == nil {
		return nil
	}
	rows := map[string]*PlatformRow{}
	get := func(p string) *PlatformRow {
		if p == "" {
			p = "unknown"
		}
		r, ok := rows[p]
		if !ok {
			r = &PlatformRow{Platform: p}
			rows[p] = r
		}
		return r
	}
	for os, n := range snap.Counts.DevicesByOS {
		get(os).Devices += n
	}
	if m, ok := snap.Metrics[posture.MetricEndpointProtection]; ok && m.Unmeasured != nil {
		for p, c := range m.Unmeasured.ByPlatform {
			r := get(p)
			r.Unmeasured, r.UnmeasuredReason = c.Count, c.Reason
		}
	}
	platformOf := map[string]string{}
	for _, f := range snap.Findings[posture.ListNoncompliantDevice].Items {
		p := detailPlatform(f.Detail)
		platformOf[f.ID] = p
		get(p).Noncompliant++
	}
	for _, f := range snap.Findings[posture.ListUnprotectedDevices].Items {
		// Endpoint protection is measured on Windows only (README, Metrics).
		p, ok := platformOf[f.ID]
		if !ok {
			p = "Windows"
		}
		get(p).Unprotected++
	}
	out := make([]PlatformRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Platform < out[j].Platform })
	return out
}

// detailPlatform reads the platform out of a non-compliance detail,
// "compliance state noncompliant (Windows, user@x)".
func detailPlatform(detail string) string {
	i := strings.LastIndex(detail, "(")
	if i < 0 {
		return "unknown"
	}
	rest := detail[i+1:]
	if j := strings.IndexAny(rest, ",)"); j >= 0 {
		rest = rest[:j]
	}
	if rest = strings.TrimSpace(rest); rest != "" {
		return rest
	}
	return "unknown"
}
