package posture

import "time"

// Snapshot is what one collection run stores for one tenant and area. It is
// immutable once stored; metrics and control results are derived from it, so
// controls can be re-evaluated over history. Per-user MFA states are stored
// beside it in chunks (UserChunks) because a large tenant's would not fit one
// document.
type Snapshot struct {
	ID       string    `json:"id"`
	TenantID string    `json:"tenantId"`
	Area     Area      `json:"area"`
	TakenAt  time.Time `json:"takenAt"`
	// RunID distinguishes runs within a period; chunk ids carry it so a
	// concurrent run's chunks never mix with this one's.
	RunID   string  `json:"runId"`
	Sources Sources `json:"sources"`
	// Attempts records later runs in the same period that were not stored
	// because they were less complete than this snapshot.
	Attempts []Attempt         `json:"attempts,omitempty"`
	Metrics  map[string]Metric `json:"metrics"`
	// Findings are named lists behind metric-based controls (unprotected
	// users, non-compliant devices), capped at MaxFindings items each.
	Findings map[string]FindingList `json:"findings,omitempty"`

	// Identity is reduced for storage: only users that hold privileged roles
	// or are named by a policy, and groups without member lists except role
	// groups. Counts keep the population sizes.
	Identity    *Identity    `json:"identity,omitempty"`
	Counts      *Counts      `json:"counts,omitempty"`
	SecureScore *SecureScore `json:"secureScore,omitempty"`
	Backup      *Backup      `json:"backup,omitempty"`
	Email       *Email       `json:"email,omitempty"`
	UserChunks  int          `json:"userChunks,omitempty"`
}

// Attempt is a run that failed to improve on the stored snapshot.
type Attempt struct {
	At      time.Time `json:"at"`
	RunID   string    `json:"runId"`
	Sources Sources   `json:"sources"`
}

// Counts summarises population sizes for reports.
type Counts struct {
	Users            int            `json:"users,omitempty"`
	EnabledMembers   int            `json:"enabledMembers,omitempty"`
	Guests           int            `json:"guests,omitempty"`
	Disabled         int            `json:"disabled,omitempty"`
	Devices          int            `json:"devices,omitempty"`
	DevicesByOS      map[string]int `json:"devicesByOs,omitempty"`
	DevicesByState   map[string]int `json:"devicesByComplianceState,omitempty"`
	GroupMemberCount map[string]int `json:"groupMemberCount,omitempty"`
}

// MaxFindings caps each stored finding list; Total keeps the true count.
const MaxFindings = 500

// FindingList is a capped list of findings with the true total.
type FindingList struct {
	Total int       `json:"total"`
	Items []Finding `json:"items"`
}

// Add appends f while under the cap and always counts it.
func (l *FindingList) Add(f Finding) {
	l.Total++
	if len(l.Items) < MaxFindings {
		l.Items = append(l.Items, f)
	}
}

// Complete reports whether every finding is listed.
func (l FindingList) Complete() bool { return len(l.Items) == l.Total }

// Finding kinds.
const (
	FindingUser   = "user"
	FindingGroup  = "group"
	FindingRole   = "role"
	FindingDevice = "device"
	FindingDomain = "domain"
	FindingPolicy = "policy"
	FindingTenant = "tenant"
)

// Finding is one thing a control found wrong. Kind and ID identify the
// subject; UserID and Groups let a user- or group-scoped exception cover it.
type Finding struct {
	Kind   string   `json:"kind"`
	ID     string   `json:"id,omitempty"`
	Name   string   `json:"name,omitempty"`
	Detail string   `json:"detail"`
	UserID string   `json:"userId,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// Names of the finding lists stored in snapshots.
const (
	ListUnprotectedUsers   = "unprotectedUsers"
	ListUnprotectedAdmins  = "unprotectedAdmins"
	ListNoncompliantDevice = "noncompliantDevices"
	ListUnprotectedDevices = "unprotectedDevices"
	// ListUnmeasuredDevices holds devices whose endpoint protection Graph
	// cannot report: not measurable, so not in unprotectedDevices.
	ListUnmeasuredDevices = "unmeasuredDevices"
)

// HistoryPoint is the small record kept per snapshot for trends: the
// metrics and each control's status as evaluated when the snapshot was
// taken (with the exceptions and targets of that moment). History queries
// read these instead of whole snapshots.
type HistoryPoint struct {
	SnapshotID string                  `json:"snapshotId"`
	TenantID   string                  `json:"tenantId"`
	Area       Area                    `json:"area"`
	TakenAt    time.Time               `json:"takenAt"`
	Metrics    map[string]Metric       `json:"metrics"`
	Controls   map[string]ControlState `json:"controls"`
	Sources    Sources                 `json:"sources"`
}

// ControlState is a control's status in a HistoryPoint.
type ControlState struct {
	Status   string `json:"status"`
	Findings int    `json:"findings"`
}

// Collected is what one area's collection returns before evaluation: the
// health of every source it read and the section it filled (the others stay
// nil).
type Collected struct {
	Sources     Sources
	Identity    *Identity
	Devices     *Devices
	SecureScore *SecureScore
	Backup      *Backup
	Email       *Email
}
