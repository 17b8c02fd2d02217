package controls

import (
	"strconv"
	"strings"
	"time"

	"m365security/shared/incident"
	"m365security/shared/posture"
)

// Status of a control.
type Status string

// Statuses (CONTRACT section 6).
const (
	Pass     Status = "pass"
	Fail     Status = "fail"
	Unknown  Status = "unknown"
	Excepted Status = "excepted"
)

// Statuses lists every Status, in the order the API documents them.
var Statuses = []Status{Pass, Fail, Unknown, Excepted}

// Severity of a control.
type Severity string

// Severities.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
)

// Input is everything a control may look at. Snapshots holds the latest
// stored snapshot per collection area (absent when the area was never
// collected).
type Input struct {
	AsOf         time.Time
	Snapshots    map[posture.Area]*posture.Snapshot
	RestoreTests []posture.RestoreTest
	Incidents    []incident.Incident
	// AlertsCollected is true once the tenant's alerts have been polled at
	// least once; before that alert controls are unknown, not passing.
	AlertsCollected bool
	Targets         Targets
	// FederalAgency is the tenant's setting that turns on MS.EXO.4.3v1.
	FederalAgency bool
}

// NewInput returns an Input at asOf holding snaps by their area.
func NewInput(asOf time.Time, targets Targets, snaps ...*posture.Snapshot) Input {
	in := Input{AsOf: asOf, Targets: targets, Snapshots: map[posture.Area]*posture.Snapshot{}}
	for _, s := range snaps {
		in.Snapshots[s.Area] = s
	}
	return in
}

// Snapshot returns the area's snapshot, nil when it was never collected.
func (in Input) Snapshot(a posture.Area) *posture.Snapshot { return in.Snapshots[a] }

// Outcome is what a control's rule returns.
type Outcome struct {
	Status   Status
	Evidence map[string]any
	Findings posture.FindingList
	// Reason explains an unknown status.
	Reason string
}

// Control is one catalogue entry.
type Control struct {
	ID       string
	Title    string
	Severity Severity
	// Area is the collection area whose snapshot the rule reads and whose
	// history points record the control; empty for a control that reads no
	// snapshot (alert review reads incidents). The report's control areas
	// are a separate mapping (ReportAreas).
	Area posture.Area
	// Requires names the sources the rule reads; if any failed the control
	// is unknown with their reasons, and the rule does not run.
	Requires    []string
	Rationale   string
	Remediation string
	Reference   string
	Rule        func(in Input) Outcome
}

// Result is a control's evaluated state as the API returns it.
type Result struct {
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Status      Status              `json:"status"`
	Severity    Severity            `json:"severity"`
	Evidence    map[string]any      `json:"evidence"`
	Remediation string              `json:"remediation"`
	Rationale   string              `json:"rationale,omitempty"`
	Reason      string              `json:"reason,omitempty"`
	Reference   string              `json:"reference,omitempty"`
	Findings    posture.FindingList `json:"findings"`
	// Exceptions lists the exception ids that covered findings, and the
	// expired ones that no longer count.
	Exceptions        []string  `json:"exceptions,omitempty"`
	ExpiredExceptions []string  `json:"expiredExceptions,omitempty"`
	AsOf              time.Time `json:"asOf"`
}

// Targets are the per-tenant thresholds of the M365SEC controls.
type Targets struct {
	MFACoverage           float64 `json:"mfaCoverage"`
	AdminMFACoverage      float64 `json:"adminMfaCoverage"`
	DeviceCompliance      float64 `json:"deviceCompliance"`
	EndpointProtection    float64 `json:"endpointProtectionCoverage"`
	SecureScoreMaxDrop    float64 `json:"secureScoreMaxDropPoints"`
	RestoreTestMaxAgeDays int     `json:"restoreTestMaxAgeDays"`
	AlertReviewHours      int     `json:"alertReviewHours"`
	// MailProtectionTolerance is the share of a mail protection's Secure
	// Score points that may be missing while M365SEC.MAIL still passes; 0
	// (the default, also for targets stored before it existed) asks for
	// every point.
	MailProtectionTolerance float64 `json:"mailProtectionTolerance"`
}

// DefaultTargets are the targets of a tenant that set none.
func DefaultTargets() Targets {
	return Targets{MFACoverage: 0.95, AdminMFACoverage: 1.0, DeviceCompliance: 0.90, EndpointProtection: 0.90,
		SecureScoreMaxDrop: 5, RestoreTestMaxAgeDays: 90, AlertReviewHours: 24}
}

// Validate checks targets are in range.
func (t Targets) Validate() error {
	var errs []string
	ratio := func(name string, v float64) {
		if v < 0 || v > 1 {
			errs = append(errs, name+" must be a ratio between 0 and 1")
		}
	}
	ratio("mfaCoverage", t.MFACoverage)
	ratio("adminMfaCoverage", t.AdminMFACoverage)
	ratio("deviceCompliance", t.DeviceCompliance)
	ratio("endpointProtectionCoverage", t.EndpointProtection)
	ratio("mailProtectionTolerance", t.MailProtectionTolerance)
	if t.SecureScoreMaxDrop < 0 {
		errs = append(errs, "secureScoreMaxDropPoints must not be negative")
	}
	if t.RestoreTestMaxAgeDays < 1 || t.RestoreTestMaxAgeDays > 3650 {
		errs = append(errs, "restoreTestMaxAgeDays must be between 1 and 3650")
	}
	if t.AlertReviewHours < 1 || t.AlertReviewHours > 24*90 {
		errs = append(errs, "alertReviewHours must be between 1 and 2160")
	}
	if len(errs) > 0 {
		return &ValidationError{Problems: errs}
	}
	return nil
}

// ValidationError lists what is wrong with a user-supplied value.
type ValidationError struct{ Problems []string }

// MaxReportedProblems bounds the problems Error spells out; the rest are
// counted.
const MaxReportedProblems = 20

// Error joins the problems in one pass, at most MaxReportedProblems of them.
func (e *ValidationError) Error() string {
	if len(e.Problems) <= MaxReportedProblems {
		return strings.Join(e.Problems, "; ")
	}
	return strings.Join(e.Problems[:MaxReportedProblems], "; ") + "; and " +
		strconv.Itoa(len(e.Problems)-MaxReportedProblems) + " more problems"
}
