package respond

import (
	"context"
	"fmt"

	"m365security/shared/graph"
	"m365security/shared/incident"
)

// Kind is how the engine executes one action type: the Graph write it
// makes (a graph.Writer method, so its permission is WriteOperations').
// Its decision traits (undo, account) are playbook.Traits.
type Kind struct {
	Type string
	// Write names the graph.Writer method (and so its WriteOperation).
	Write string
	run   func(ctx context.Context, w *graph.Writer, in incident.Incident, a incident.Action) (string, error)
}

// Kinds is the action table, one row per action type in ActionTypes order.
var Kinds = []Kind{
	{Type: incident.ActionRevokeSessions, Write: "RevokeSignInSessions",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "sign-in sessions revoked", w.RevokeSignInSessions(ctx, a.Target)
		}},
	{Type: incident.ActionDisableAccount, Write: "DisableAccount",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "account disabled (accountEnabled false)", w.DisableAccount(ctx, a.Target)
		}},
	{Type: incident.ActionEnableAccount, Write: "EnableAccount",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "account enabled (accountEnabled true)", w.EnableAccount(ctx, a.Target)
		}},
	{Type: incident.ActionRequirePasswordChange, Write: "RequirePasswordChange",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "password change required at next sign-in", w.RequirePasswordChange(ctx, a.Target)
		}},
	{Type: incident.ActionConfirmCompromised, Write: "ConfirmCompromised",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "user confirmed compromised (user risk high)", w.ConfirmCompromised(ctx, a.Target)
		}},
	{Type: incident.ActionDisableInboxRule, Write: "DisableInboxRule",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "inbox rule disabled", w.DisableInboxRule(ctx, a.TargetUser, a.Target)
		}},
	{Type: incident.ActionRemediateMessage, Write: "RemediateMessages",
		run: func(ctx context.Context, w *graph.Writer, in incident.Incident, a incident.Action) (string, error) {
			loc, err := w.RemediateMessages(ctx, graph.Remediation{
				DisplayName: "m365security incident " + in.ID, Description: "Soft-delete of a message of incident " + in.ID,
				Severity: remediationSeverity(in.Severity), Action: "softDelete",
				Messages: []graph.AnalyzedEmail{{NetworkMessageID: a.Target, RecipientEmailAddress: a.TargetUser}},
			})
			return "remediation submitted (soft delete); Action Center: " + loc, err
		}},
	{Type: incident.ActionDefenderScan, Write: "DefenderScan",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "quick Defender Antivirus scan started", w.DefenderScan(ctx, a.Target, true)
		}},
	{Type: incident.ActionRemoteLock, Write: "RemoteLock",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "device locked", w.RemoteLock(ctx, a.Target)
		}},
	{Type: incident.ActionRetireDevice, Write: "Retire",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "device retired (company data removed)", w.Retire(ctx, a.Target)
		}},
	{Type: incident.ActionWipeDevice, Write: "Wipe",
		run: func(ctx context.Context, w *graph.Writer, _ incident.Incident, a incident.Action) (string, error) {
			return "device wiped (factory reset)", w.Wipe(ctx, a.Target, graph.WipeOptions{})
		}},
	{Type: incident.ActionUpdateAlert, Write: "UpdateAlert",
		run: func(ctx context.Context, w *graph.Writer, in incident.Incident, a incident.Action) (string, error) {
			return "alert status set to inProgress", w.UpdateAlert(ctx, a.Target, graph.AlertUpdate{Status: "inProgress",
				Comment: fmt.Sprintf("m365security incident %s: response in progress.", in.ID)})
		}},
}

// KindOf returns the table row of an action type.
func KindOf(actionType string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Type == actionType {
			return k, true
		}
	}
	return Kind{}, false
}

// remediationSeverity maps an incident severity onto the three Defender
// remediation takes.
func remediationSeverity(s string) string {
	if s == "high" || s == "medium" || s == "low" {
		return s
	}
	return "medium"
}
