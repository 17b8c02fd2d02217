package playbook

import "m365security/shared/incident"

// SetStatus keeps an open incident's status in step with its actions:
// awaiting approval while any action waits, in progress once any ran.
func SetStatus(in *incident.Incident) {
	if !in.IsOpen() {
		return
	}
	if in.PendingApprovals() > 0 {
		in.Status = incident.StatusAwaitingApproval
	} else if in.Status == incident.StatusAwaitingApproval || len(in.Actions) > 0 {
		in.Status = incident.StatusInProgress
	}
}
