package report

import (
	"time"

	"m365security/shared/controls"
	"m365security/shared/posture"
)

// Report is one rendered review: every format renders this one value, so
// they agree on every number.
type Report struct {
	Kind        Kind      `json:"kind"`
	Period      Period    `json:"period"`
	TenantID    string    `json:"tenantId"`
	TenantName  string    `json:"tenantName"`
	GeneratedAt time.Time `json:"generatedAt"`
	// AsOf is the moment the period-end figures are taken at: the period's
	// end, or now for a period still running.
	AsOf     time.Time `json:"asOf"`
	Coverage Coverage  `json:"coverage"`

	Metrics        []MetricRow         `json:"metrics"`
	Incidents      IncidentSection     `json:"incidents"`
	Actions        []ActionRow         `json:"actions"`
	Controls       []ControlRow        `json:"controls"`
	MFA            MFASection          `json:"mfa"`
	Devices        DeviceSection       `json:"devices"`
	RestoreTests   []RestoreTestRow    `json:"restoreTests"`
	Collection     []CollectionRow     `json:"collection"`
	Exceptions     []ExceptionRow      `json:"exceptions"`
	Accountability []AccountabilityRow `json:"accountability"`
	// Executive is the quarterly review's business view; nil in a monthly.
	Executive *Executive `json:"executive,omitempty"`
	// Evidence lists every stored record the numbers come from.
	Evidence Evidence `json:"evidence"`
}

// Coverage says how much of the period monitoring covered.
type Coverage struct {
	// HasData is false when no snapshot was taken in the period: the report
	// says so instead of rendering zeros.
	HasData bool `json:"hasData"`
	// MonitoringSince is the first snapshot ever stored for the tenant.
	MonitoringSince *time.Time `json:"monitoringSince,omitempty"`
	DaysInPeriod    int        `json:"daysInPeriod"`
	DaysCovered     int        `json:"daysCovered"`
	// MissingDays are the days (YYYY-MM-DD) of the period up to AsOf with
	// no snapshot, as ranges ("2026-03-04 to 2026-03-09").
	MissingDays []string `json:"missingDays"`
	Message     string   `json:"message"`
}

// Evidence names the stored records behind the report.
type Evidence struct {
	// Snapshots are the ids of the snapshots the period-end figures, the
	// trend points and the user and device lists come from.
	Snapshots []string `json:"snapshots"`
	// Incidents are the ids of the incidents counted.
	Incidents []string `json:"incidents"`
	// Exceptions and RestoreTests are the ids of the records listed.
	Exceptions   []string `json:"exceptions"`
	RestoreTests []string `json:"restoreTests"`
}

// MetricRow is one success metric at the period's end.
type MetricRow struct {
	Name  string         `json:"name"`
	Title string         `json:"title"`
	Unit  string         `json:"unit"`
	Value posture.Metric `json:"value"`
	// Previous is the value at the previous period's end.
	Previous *posture.Metric `json:"previous,omitempty"`
	// Change is Value minus Previous when both were measured.
	Change *float64 `json:"change,omitempty"`
	Target *float64 `json:"target,omitempty"`
	// MeetsTarget is nil when the metric has no target or no value.
	MeetsTarget *bool `json:"meetsTarget,omitempty"`
	// SnapshotID is the snapshot the value comes from (collected metrics).
	SnapshotID string       `json:"snapshotId,omitempty"`
	Trend      []TrendPoint `json:"trend"`
}

// TrendPoint is a metric at the end of one month of the trend.
type TrendPoint struct {
	Month      string    `json:"month"`
	At         time.Time `json:"at"`
	Status     string    `json:"status"`
	Value      *float64  `json:"value,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	SnapshotID string    `json:"snapshotId,omitempty"`
	// SnapshotIDs name the snapshots of a point computed over several
	// areas (the risk trend).
	SnapshotIDs []string `json:"snapshotIds,omitempty"`
}

// IncidentSection summarises the incidents created in the period.
type IncidentSection struct {
	Total      int            `json:"total"`
	Alerts     int            `json:"alerts"`
	ByCategory map[string]int `json:"byCategory"`
	BySeverity map[string]int `json:"bySeverity"`
	// Mean times over the period's incidents, in minutes; unknown with the
	// reason when no incident has the times.
	MeanTimeToDetect  posture.Metric `json:"meanTimeToDetectMinutes"`
	MeanTimeToRespond posture.Metric `json:"meanTimeToRespondMinutes"`
	MeanTimeToResolve posture.Metric `json:"meanTimeToResolveMinutes"`
	List              []IncidentRow  `json:"list"`
	// Message is "no incidents recorded" (with why it may be so) when
	// the list is empty.
	Message string `json:"message,omitempty"`
}

// IncidentRow is one incident of the period.
type IncidentRow struct {
	ID         string     `json:"id"`
	Category   string     `json:"category"`
	Severity   string     `json:"severity"`
	Status     string     `json:"status"`
	Alerts     int        `json:"alerts"`
	Entities   []string   `json:"entities"`
	CreatedAt  time.Time  `json:"createdAt"`
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
}

// ActionRow is one response action of the period's incidents.
type ActionRow struct {
	IncidentID string     `json:"incidentId"`
	ActionID   string     `json:"actionId"`
	Type       string     `json:"type"`
	Target     string     `json:"target"`
	Status     string     `json:"status"`
	Approval   bool       `json:"requiresApproval"`
	ExecutedAt *time.Time `json:"executedAt,omitempty"`
	// By names who decided, from the incident's timeline; "not recorded"
	// when the timeline does not say.
	By    string `json:"by"`
	Error string `json:"error,omitempty"`
}

// ControlRow is a control whose state changed, or stayed failing, in the
// period.
type ControlRow struct {
	ID                  string          `json:"id"`
	Title               string          `json:"title"`
	Area                string          `json:"area"`
	Severity            string          `json:"severity"`
	Status              string          `json:"status"`
	Change              controls.Change `json:"change"`
	FailingSince        *time.Time      `json:"failingSince,omitempty"`
	DaysOutOfCompliance float64         `json:"daysOutOfCompliance"`
}

// MFASection lists the users not protected by MFA at the period's end.
type MFASection struct {
	SnapshotID string     `json:"snapshotId,omitempty"`
	AsOf       *time.Time `json:"asOf,omitempty"`
	Population int        `json:"population"`
	Total      int        `json:"total"`
	Users      []UserRow  `json:"users"`
	Message    string     `json:"message,omitempty"`
}

// UserRow is one user not (or not provably) protected, with why.
type UserRow struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	Admin             bool   `json:"admin"`
	Registered        string `json:"registered"`
	Enforced          string `json:"enforced"`
	// Reason is the evaluation's sentence: not registered, not enforced,
	// excluded by which policy.
	Reason string `json:"reason"`
	// ExcludedBy names the policies that exclude the user.
	ExcludedBy []string `json:"excludedBy,omitempty"`
	// CoveredBy names the active exceptions that accept the risk.
	CoveredBy []string `json:"coveredBy,omitempty"`
}

// DeviceSection lists devices non-compliant, unprotected, or that Graph
// cannot measure, at the period's end.
type DeviceSection struct {
	SnapshotID   string     `json:"snapshotId,omitempty"`
	Noncompliant DeviceList `json:"noncompliant"`
	Unprotected  DeviceList `json:"unprotected"`
	Unmeasured   DeviceList `json:"unmeasured"`
	Message      string     `json:"message,omitempty"`
}

// DeviceList is a stored finding list: Total is the true count, Items at
// most posture.MaxFindings of them.
type DeviceList struct {
	Total int         `json:"total"`
	Items []DeviceRow `json:"items"`
}

// DeviceRow is one device finding.
type DeviceRow struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Detail string `json:"detail"`
}

// RestoreTestRow is one recorded backup restore test.
type RestoreTestRow struct {
	ID          string    `json:"id"`
	PerformedAt time.Time `json:"performedAt"`
	Workload    string    `json:"workload"`
	Succeeded   bool      `json:"succeeded"`
	Notes       string    `json:"notes,omitempty"`
}

// CollectionRow is one source that could not be read at the period's end.
type CollectionRow struct {
	Area       string `json:"area"`
	Source     string `json:"source"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	SnapshotID string `json:"snapshotId,omitempty"`
	// FailingSince is the earliest snapshot in the period where the source
	// already failed and has failed in every snapshot since.
	FailingSince *time.Time `json:"failingSince,omitempty"`
}

// ExceptionRow is a risk acceptance in force during the period, or one
// that expired in it.
type ExceptionRow struct {
	ID         string    `json:"id"`
	ControlID  string    `json:"controlId"`
	Reason     string    `json:"reason"`
	ApprovedBy string    `json:"approvedBy"`
	ExpiresAt  time.Time `json:"expiresAt"`
	// Status is at the period's end: active, expired or revoked.
	Status string `json:"status"`
	Scope  int    `json:"scopeSize"`
}

// AccountabilityRow is who does what for one control area.
type AccountabilityRow struct {
	Area       string `json:"area"`
	Title      string `json:"title"`
	Configures Party  `json:"configures"`
	Monitors   Party  `json:"monitors"`
	Responds   Party  `json:"responds"`
	Reports    Party  `json:"reports"`
}

// Party is who holds a responsibility: the role (customer, provider, or
// both) and the named contact.
type Party struct {
	Role    string `json:"role"`
	Contact string `json:"contact"`
	Note    string `json:"note,omitempty"`
}

// Executive is the quarterly review's view for a non-technical reader.
type Executive struct {
	// RiskTrend is the count of failing controls at each month's end.
	RiskTrend []TrendPoint `json:"riskTrend"`
	TopRisks  []Risk       `json:"topRisks"`
	Targets   []TargetRow  `json:"targets"`
	// Comparison sets the first monitored quarter in the last twelve
	// months beside this one.
	Comparison Comparison `json:"comparison"`
}

// Risk is one open risk: a failing control, by severity.
type Risk struct {
	ControlID    string     `json:"controlId"`
	Title        string     `json:"title"`
	Severity     string     `json:"severity"`
	Area         string     `json:"area"`
	Owner        Party      `json:"owner"`
	FailingSince *time.Time `json:"failingSince,omitempty"`
	Findings     int        `json:"findings"`
	Remediation  string     `json:"remediation"`
}

// TargetRow is progress against one target.
type TargetRow struct {
	Metric string   `json:"metric"`
	Title  string   `json:"title"`
	Target float64  `json:"target"`
	Start  *float64 `json:"start,omitempty"`
	End    *float64 `json:"end,omitempty"`
	Met    *bool    `json:"met,omitempty"`
}

// Comparison is two quarters side by side.
type Comparison struct {
	First  QuarterFigures `json:"first"`
	Latest QuarterFigures `json:"latest"`
	// Message explains a comparison that cannot be made yet.
	Message string `json:"message,omitempty"`
}

// QuarterFigures are one quarter's operational figures.
type QuarterFigures struct {
	Quarter           string         `json:"quarter"`
	Incidents         int            `json:"incidents"`
	ActionsExecuted   int            `json:"actionsExecuted"`
	MeanTimeToRespond posture.Metric `json:"meanTimeToRespondMinutes"`
	MeanTimeToResolve posture.Metric `json:"meanTimeToResolveMinutes"`
	FailingControls   *int           `json:"failingControls,omitempty"`
	HasData           bool           `json:"hasData"`
}
