package respond

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"m365security/shared/incident"
	"m365security/shared/playbook"
	"m365security/shared/principal"
	"m365security/shared/records"
	"m365security/shared/store"
)

// MaxNote bounds the reason a person gives.
const MaxNote = 1000

// Request is a person's decision on one action, as the API receives it.
type Request struct {
	TenantID, IncidentID, ActionID string
	By                             principal.Principal
	Reason                         string
}

func (r Request) decider() *incident.Decider {
	return &incident.Decider{Kind: incident.DeciderPerson, Name: r.By.Name, ObjectID: r.By.ObjectID, Verified: r.By.Verified}
}

func (r Request) who() string {
	if r.By.Verified {
		return r.By.Name
	}
	return r.By.Name + " (unverified)"
}

// errStop ends an update that found nothing to change but wants the
// caller to see the action as stored.
var errStop = errors.New("stop")

// Approve records a person's approval of a proposed action and runs it.
// Approving an approved or executed action changes nothing and sends
// nothing again (double approval is one Graph write); a rejected or failed
// one is ErrConflict.
func (e *Engine) Approve(ctx context.Context, r Request) (incident.Action, error) {
	now := e.now()
	in, a, err := e.decide(ctx, r, func(cur *incident.Incident, a *incident.Action) error {
		switch a.Status {
		case incident.ActionApproved, incident.ActionExecuted:
			return errStop
		case incident.ActionProposed:
		default:
			return fmt.Errorf("%w: action %s is %s%s; it cannot be approved", ErrConflict, a.ID, a.Status, decidedBy(a))
		}
		at := now
		a.Status, a.DecidedBy, a.DecidedAt, a.Note = incident.ActionApproved, r.decider(), &at, r.Reason
		cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionApproved,
			Message: fmt.Sprintf("%s of %s approved by %s: %s", a.Type, a.Target, r.who(), r.Reason)})
		playbook.SetStatus(cur)
		return nil
	})
	if err != nil {
		return a, err
	}
	if a.Status == incident.ActionApproved && a.ClaimedAt == nil {
		if err := e.dispatchAction(ctx, in, a); err != nil {
			return a, err
		}
		if in, err = e.o.Records.Incidents.Get(ctx, r.TenantID, r.IncidentID); err == nil {
			a = in.Actions[in.ActionByID(a.ID)]
		}
	}
	return a, nil
}

// Reject records a person's rejection: the action is dropped and never
// sent. Rejecting twice changes nothing; an approved or executed action is
// ErrConflict.
func (e *Engine) Reject(ctx context.Context, r Request) (incident.Action, error) {
	now := e.now()
	_, a, err := e.decide(ctx, r, func(cur *incident.Incident, a *incident.Action) error {
		switch a.Status {
		case incident.ActionRejected:
			return errStop
		case incident.ActionProposed:
		default:
			return fmt.Errorf("%w: action %s is %s%s; it cannot be rejected", ErrConflict, a.ID, a.Status, decidedBy(a))
		}
		at := now
		a.Status, a.DecidedBy, a.DecidedAt, a.Note = incident.ActionRejected, r.decider(), &at, r.Reason
		cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionRejected,
			Message: fmt.Sprintf("%s of %s rejected by %s: %s", a.Type, a.Target, r.who(), r.Reason)})
		playbook.SetStatus(cur)
		return nil
	})
	return a, err
}

// Undo reverses an executed reversible action (re-enables a disabled
// account) with a new action of the undo type, decided by the person and
// run at once. Undoing twice returns the same undo action; an action not
// (yet) executed is ErrConflict, so an undo racing the approval it would
// reverse either waits for the execution or is refused, never overtaken.
func (e *Engine) Undo(ctx context.Context, r Request) (incident.Action, error) {
	now := e.now()
	var undoID string
	in, _, err := e.decide(ctx, r, func(cur *incident.Incident, a *incident.Action) error {
		k, _ := playbook.TraitOf(a.Type)
		if k.UndoType == "" {
			return fmt.Errorf("%w: %s cannot be undone", ErrConflict, a.Type)
		}
		if a.UndoneBy != "" {
			undoID = a.UndoneBy
			return errStop
		}
		if a.Status != incident.ActionExecuted {
			return fmt.Errorf("%w: action %s is %s, not executed; there is nothing to undo yet", ErrConflict, a.ID, a.Status)
		}
		key := a.IdempotencyKey + "|undo"
		at := now
		u := incident.Action{ID: playbook.ActionID(key), Type: k.UndoType, Target: a.Target, TargetUser: a.TargetUser,
			Status: incident.ActionApproved, IdempotencyKey: key, ProposedAt: now, DecidedBy: r.decider(), DecidedAt: &at,
			Note: r.Reason, UndoOf: a.ID}
		a.UndoneBy, undoID = u.ID, u.ID
		cur.Actions = append(cur.Actions, u)
		cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionUndo,
			Message: fmt.Sprintf("%s of %s undone by %s (%s): %s", a.Type, a.Target, r.who(), u.Type, r.Reason)})
		return nil
	})
	if err != nil {
		return incident.Action{}, err
	}
	u := in.Actions[in.ActionByID(undoID)]
	if u.Status == incident.ActionApproved && u.ClaimedAt == nil {
		if err := e.dispatchAction(ctx, in, u); err != nil {
			return u, err
		}
		if in, err = e.o.Records.Incidents.Get(ctx, r.TenantID, r.IncidentID); err == nil {
			u = in.Actions[in.ActionByID(undoID)]
		}
	}
	return u, nil
}

// decide applies change to the named action in one read-modify-write.
// errStop from change keeps the stored state and returns it.
func (e *Engine) decide(ctx context.Context, r Request, change func(*incident.Incident, *incident.Action) error) (incident.Incident, incident.Action, error) {
	if strings.TrimSpace(r.By.Name) == "" {
		return incident.Incident{}, incident.Action{}, errors.New("who decides is required")
	}
	in, err := e.o.Records.Incidents.Update(ctx, r.TenantID, r.IncidentID, func(cur *incident.Incident) error {
		i := cur.ActionByID(r.ActionID)
		if i < 0 {
			return fmt.Errorf("%w: incident %s has no action %s", ErrNotFound, cur.ID, playbook.Clip(r.ActionID, 40))
		}
		err := change(cur, &cur.Actions[i])
		if errors.Is(err, errStop) {
			return store.ErrUnchanged
		}
		return err
	})
	if errors.Is(err, records.ErrNotFound) {
		return in, incident.Action{}, fmt.Errorf("%w: no incident %s", ErrNotFound, playbook.Clip(r.IncidentID, 40))
	}
	if err != nil {
		return in, incident.Action{}, err
	}
	return in, in.Actions[in.ActionByID(r.ActionID)], nil
}

func decidedBy(a *incident.Action) string {
	if a.DecidedBy == nil {
		return ""
	}
	return " (by " + a.DecidedBy.Name + ")"
}
