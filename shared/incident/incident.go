// Package incident holds the incident model of CONTRACT section 7: alerts
// correlated into incidents, their response actions and timeline. This file
// holds the types the metrics read; correlation and playbooks build on them.
package incident

import "time"

// Categories.
const (
	CategoryAccountCompromise = "accountCompromise"
	CategoryPhishing          = "phishing"
	CategoryDevice            = "device"
	CategoryOther             = "other"
)

// Statuses.
const (
	StatusNew              = "new"
	StatusAwaitingApproval = "awaitingApproval"
	StatusInProgress       = "inProgress"
	StatusResolved         = "resolved"
)

// Action statuses.
const (
	ActionProposed = "proposed"
	ActionApproved = "approved"
	ActionRejected = "rejected"
	ActionExecuted = "executed"
	ActionFailed   = "failed"
)

// Action types (CONTRACT section 7); the README lists any added.
const (
	ActionRevokeSessions        = "revokeSessions"
	ActionDisableAccount        = "disableAccount"
	ActionEnableAccount         = "enableAccount"
	ActionRequirePasswordChange = "requirePasswordChange"
	ActionConfirmCompromised    = "confirmCompromised"
	ActionDisableInboxRule      = "disableInboxRule"
	ActionRemediateMessage      = "remediateMessage"
	ActionDefenderScan          = "defenderScan"
	ActionRemoteLock            = "remoteLock"
	ActionRetireDevice          = "retireDevice"
	ActionWipeDevice            = "wipeDevice"
	ActionUpdateAlert           = "updateAlert"
)

// ActionTypes lists every action type, in CONTRACT order.
func ActionTypes() []string {
	return []string{ActionRevokeSessions, ActionDisableAccount, ActionEnableAccount, ActionRequirePasswordChange,
		ActionConfirmCompromised, ActionDisableInboxRule, ActionRemediateMessage, ActionDefenderScan,
		ActionRemoteLock, ActionRetireDevice, ActionWipeDevice, ActionUpdateAlert}
}

// Incident is one or more correlated alerts about the same user or device.
type Incident struct {
	ID              string     `json:"id"`
	TenantID        string     `json:"tenantId"`
	Category        string     `json:"category"`
	Severity        string     `json:"severity"`
	Status          string     `json:"status"`
	AlertIDs        []string   `json:"alertIds"`
	Entities        Entities   `json:"entities"`
	FirstActivityAt *time.Time `json:"firstActivityAt,omitempty"`
	// DetectedAt is the earliest alert createdDateTime.
	DetectedAt *time.Time `json:"detectedAt,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
	Actions    []Action   `json:"actions"`
	Timeline   []Entry    `json:"timeline"`
	// Signals are the signals merged into the incident with the state their
	// source last gave them; Apply reads them to stay idempotent.
	Signals []SignalState `json:"signals,omitempty"`
	// ResponseTargets are the objects response actions need beyond the
	// entities (see targets.go).
	ResponseTargets ResponseTargets `json:"responseTargets"`
	// Posture is each subject's posture from the latest snapshots when the
	// incident opened (or when the subject joined it): why the alert
	// matters.
	Posture []SubjectPosture `json:"posture,omitempty"`
	// Resolution is who resolved the incident, how and why.
	Resolution *Resolution `json:"resolution,omitempty"`
}

// Resolution records a person's resolution of an incident.
type Resolution struct {
	By       string `json:"by"`
	ObjectID string `json:"objectId,omitempty"`
	// Verified is true when the platform signed the person in (AUTH=appservice).
	Verified       bool      `json:"verified"`
	Classification string    `json:"classification"`
	Determination  string    `json:"determination,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	At             time.Time `json:"at"`
}

// Classifications and determinations Defender accepts on an alert, which a
// resolution writes back: the alertDetermination members of Graph's v1.0
// metadata as msgraph-sdk-go v1.89.0 carries them (the docs page lists
// older names such as compromisedUser, which the service refuses).
var (
	Classifications = []string{"falsePositive", "truePositive", "informationalExpectedActivity"}
	Determinations  = []string{"apt", "malware", "securityPersonnel", "securityTesting", "unwantedSoftware", "other",
		"multiStagedAttack", "compromisedAccount", "phishing", "maliciousUserActivity", "notMalicious",
		"notEnoughDataToValidate", "confirmedActivity", "lineOfBusinessApplication"}
)

// Statuses lists the incident statuses.
func Statuses() []string {
	return []string{StatusNew, StatusAwaitingApproval, StatusInProgress, StatusResolved}
}

// SubjectPosture is what the product knew about one user or device of an
// incident. Tri-state fields are "yes", "no" or "unknown" (with Reason).
type SubjectPosture struct {
	Kind string `json:"kind"` // user or device
	// ID is the entity as the incident names it (object id, UPN, device
	// name); the other fields are resolved from the snapshot.
	ID          string `json:"id"`
	ObjectID    string `json:"objectId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	// Found is false when no snapshot knows the subject.
	Found      bool      `json:"found"`
	SnapshotID string    `json:"snapshotId,omitempty"`
	AsOf       time.Time `json:"asOf,omitempty"`
	// Users.
	MFARegistered string   `json:"mfaRegistered,omitempty"`
	MFAEnforced   string   `json:"mfaEnforced,omitempty"`
	EnforcedBy    []string `json:"enforcedBy,omitempty"`
	ExcludedBy    []string `json:"excludedBy,omitempty"`
	AdminRoles    []string `json:"adminRoles,omitempty"`
	// Exceptions are active exceptions naming the user (e.g. break-glass).
	Exceptions []string `json:"exceptions,omitempty"`
	RiskLevel  string   `json:"riskLevel,omitempty"`
	RiskState  string   `json:"riskState,omitempty"`
	// Devices.
	Compliance string `json:"compliance,omitempty"`
	Protection string `json:"protection,omitempty"`
	// Reason explains any unknown.
	Reason string `json:"reason,omitempty"`
}

// HoldsRole reports whether the subject holds a directory role by name.
func (p SubjectPosture) HoldsRole(name string) bool {
	for _, r := range p.AdminRoles {
		if r == name {
			return true
		}
	}
	return false
}

// Entities are what an incident is about.
type Entities struct {
	Users     []string `json:"users,omitempty"`
	Devices   []string `json:"devices,omitempty"`
	Mailboxes []string `json:"mailboxes,omitempty"`
	URLs      []string `json:"urls,omitempty"`
}

// Action is a response action taken or proposed. The response engine
// (shared/respond) plans, decides and executes it; every field it sets is
// kept so the incident shows who decided what, when and what Graph said.
type Action struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Target is the user, device, alert, inbox rule or message acted on.
	Target string `json:"target"`
	// TargetUser is the mailbox a two-part target lives in: the inbox
	// rule's user, the message's recipient.
	TargetUser       string     `json:"targetUser,omitempty"`
	Status           string     `json:"status"`
	RequiresApproval bool       `json:"requiresApproval"`
	ExecutedAt       *time.Time `json:"executedAt,omitempty"`
	Error            string     `json:"error,omitempty"`
	// IdempotencyKey names the action once per incident, type and target:
	// planning the same incident again finds it and adds nothing.
	IdempotencyKey string `json:"idempotencyKey"`
	// Playbook is the playbook rule that proposed the action.
	Playbook   string    `json:"playbook,omitempty"`
	ProposedAt time.Time `json:"proposedAt"`
	// Reason says why the action waits for a person (the tenant's mode, a
	// protected account, the safety brake) or why it was rejected.
	Reason string `json:"reason,omitempty"`
	// DecidedBy is the rule (automatic) or the person who approved,
	// rejected or undid it; nil while proposed.
	DecidedBy *Decider   `json:"decidedBy,omitempty"`
	DecidedAt *time.Time `json:"decidedAt,omitempty"`
	// Note is the reason the deciding person gave.
	Note string `json:"note,omitempty"`
	// Attempts counts Graph requests made; ClaimedAt is set while one is in
	// flight, so no second executor sends it again.
	Attempts      int        `json:"attempts"`
	ClaimedAt     *time.Time `json:"claimedAt,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	// Result is Graph's answer on success (e.g. the remediation's Action
	// Center location); LastError the last retryable failure.
	Result    string `json:"result,omitempty"`
	LastError string `json:"lastError,omitempty"`
	// Reversible actions can be undone once executed (disableAccount).
	Reversible bool `json:"reversible,omitempty"`
	// UndoOf names the action this one reverses; UndoneBy the action that
	// reversed this one.
	UndoOf   string `json:"undoOf,omitempty"`
	UndoneBy string `json:"undoneBy,omitempty"`
}

// Decider kinds.
const (
	DeciderRule   = "rule"
	DeciderPerson = "person"
)

// Decider is who or what decided an action.
type Decider struct {
	Kind string `json:"kind"`
	// Name is the rule, or the person's UPN (verified) or stated name.
	Name     string `json:"name"`
	ObjectID string `json:"objectId,omitempty"`
	// Verified is true when App Service Authentication signed the person in.
	Verified bool `json:"verified"`
}

// ActionByID returns the index of the action with id, or -1.
func (i Incident) ActionByID(id string) int {
	for n, a := range i.Actions {
		if a.ID == id {
			return n
		}
	}
	return -1
}

// ActionByKey returns the index of the action with the idempotency key, or -1.
func (i Incident) ActionByKey(key string) int {
	for n, a := range i.Actions {
		if a.IdempotencyKey == key {
			return n
		}
	}
	return -1
}

// Entry is a timeline entry.
type Entry struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// IsOpen reports whether the incident is not resolved.
func (i Incident) IsOpen() bool { return i.Status != StatusResolved }

// PendingApprovals counts actions waiting for the customer's decision.
func (i Incident) PendingApprovals() int {
	n := 0
	for _, a := range i.Actions {
		if a.RequiresApproval && a.Status == ActionProposed {
			n++
		}
	}
	return n
}

// notResponse are executed actions that do not respond to the threat:
// writing the incident's state back to its alerts, and undoing a response.
var notResponse = map[string]bool{ActionUpdateAlert: true, ActionEnableAccount: true}

// FirstExecutedAt returns when the first response action was executed
// (meanTimeToRespondMinutes). Alert updates and undos do not count: they
// run at once on every incident and would make the metric say nothing.
func (i Incident) FirstExecutedAt() *time.Time {
	var first *time.Time
	for _, a := range i.Actions {
		if a.Status == ActionExecuted && !notResponse[a.Type] && a.ExecutedAt != nil && (first == nil || a.ExecutedAt.Before(*first)) {
			first = a.ExecutedAt
		}
	}
	return first
}
