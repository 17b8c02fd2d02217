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
}

// Entities are what an incident is about.
type Entities struct {
	Users     []string `json:"users,omitempty"`
	Devices   []string `json:"devices,omitempty"`
	Mailboxes []string `json:"mailboxes,omitempty"`
	URLs      []string `json:"urls,omitempty"`
}

// Action is a response action taken or proposed.
type Action struct {
	ID               string     `json:"id"`
	Type             string     `json:"type"`
	Target           string     `json:"target"`
	Status           string     `json:"status"`
	RequiresApproval bool       `json:"requiresApproval"`
	ExecutedAt       *time.Time `json:"executedAt,omitempty"`
	Error            string     `json:"error,omitempty"`
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

// FirstExecutedAt returns when the first response action was executed.
func (i Incident) FirstExecutedAt() *time.Time {
	var first *time.Time
	for _, a := range i.Actions {
		if a.Status == ActionExecuted && a.ExecutedAt != nil && (first == nil || a.ExecutedAt.Before(*first)) {
			first = a.ExecutedAt
		}
	}
	return first
}
