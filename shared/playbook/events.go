package playbook

import (
	"strings"

	"m365security/shared/incident"
)

// Notice events: what people are told about.
const (
	EventNewIncident = "newIncident"
	EventAwaiting    = "awaitingApproval"
	EventFailed      = "actionFailed"
	EventBrake       = "brakeEngaged"
)

// Event is one thing people are told about once.
type Event struct {
	Kind   string
	Action *incident.Action
	// Key names the event in the send log (with the channel appended).
	Key string
}

// Events derives the incident's notice events from its state, so
// computing them again (a redelivery, a retry) names the same events.
func Events(in incident.Incident) []Event {
	var out []Event
	if strings.EqualFold(in.Severity, "high") {
		out = append(out, Event{Kind: EventNewIncident, Key: EventNewIncident + "-" + ActionID(in.ID)})
	}
	for i := range in.Actions {
		a := &in.Actions[i]
		// if/else rather than a tagless switch: the mutation tool sees the
		// coverage of if conditions only.
		if a.Status == incident.ActionProposed && a.RequiresApproval {
			out = append(out, Event{Kind: EventAwaiting, Action: a, Key: EventAwaiting + "-" + ActionID(in.ID+"|"+a.ID)})
		} else if a.Status == incident.ActionFailed {
			out = append(out, Event{Kind: EventFailed, Action: a, Key: EventFailed + "-" + ActionID(in.ID+"|"+a.ID)})
		}
		if a.Status == incident.ActionProposed && IsBrakeReason(a.Reason) {
			// Once per tenant and hour, whichever incident met it first.
			out = append(out, Event{Kind: EventBrake, Action: a, Key: EventBrake + "-" + a.ProposedAt.UTC().Format("2006010215")})
		}
	}
	return out
}
