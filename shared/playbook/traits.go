package playbook

import "m365security/shared/incident"

// Trait is what decisions need to know of an action type beyond the
// tenant's settings: whether it acts on a user account (so protected
// accounts apply) and which action reverses it.
type Trait struct {
	Type string
	// UndoType is the action that reverses this one; empty when none.
	UndoType string
	// OnAccount marks actions on a user account: a protected account turns
	// them into approvals when destructive.
	OnAccount bool
}

// Traits has one row per action type, in ActionTypes order.
var Traits = []Trait{
	{Type: incident.ActionRevokeSessions, OnAccount: true},
	{Type: incident.ActionDisableAccount, UndoType: incident.ActionEnableAccount, OnAccount: true},
	{Type: incident.ActionEnableAccount, OnAccount: true},
	{Type: incident.ActionRequirePasswordChange, OnAccount: true},
	{Type: incident.ActionConfirmCompromised, OnAccount: true},
	{Type: incident.ActionDisableInboxRule},
	{Type: incident.ActionRemediateMessage},
	{Type: incident.ActionDefenderScan},
	{Type: incident.ActionRemoteLock},
	{Type: incident.ActionRetireDevice},
	{Type: incident.ActionWipeDevice},
	{Type: incident.ActionUpdateAlert},
}

// TraitOf returns the row of an action type.
func TraitOf(actionType string) (Trait, bool) {
	for _, t := range Traits {
		if t.Type == actionType {
			return t, true
		}
	}
	return Trait{}, false
}
