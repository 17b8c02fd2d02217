package respond

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"m365security/shared/graph"
	"m365security/shared/incident"
	"m365security/shared/playbook"
	"m365security/shared/store"
)

// callTimeout bounds one Graph write.
const callTimeout = 60 * time.Second

// claim outcomes.
const (
	claimRun      = "run"
	claimSkip     = "skip"
	claimInFlight = "inFlight"
	claimUnknown  = "unknown"
)

// execute runs one approved action at most once: it claims the attempt in
// the incident's read-modify-write before the Graph request, and records
// the answer after. A concurrent or repeated job finds the claim (or the
// result) and does nothing.
func (e *Engine) execute(ctx context.Context, j Job) error {
	now := e.now()
	var outcome string
	in, err := e.o.Records.Incidents.Update(ctx, j.TenantID, j.IncidentID, func(cur *incident.Incident) error {
		outcome = claimSkip
		i := cur.ActionByID(j.ActionID)
		if i < 0 {
			return store.ErrUnchanged
		}
		a := &cur.Actions[i]
		// if/else rather than a tagless switch: the mutation tool sees the
		// coverage of if conditions only.
		if a.Status != incident.ActionApproved {
			return store.ErrUnchanged
		}
		if a.ClaimedAt != nil && now.Sub(*a.ClaimedAt) < e.o.ClaimLease {
			outcome = claimInFlight
			return store.ErrUnchanged
		}
		if a.ClaimedAt != nil {
			// The attempt never recorded its result: the process stopped
			// during the Graph request. Sending it again could act twice.
			outcome = claimUnknown
			a.Error = fmt.Sprintf("outcome unknown: attempt %d claimed at %s recorded no result (the process stopped during the Graph request); not repeated automatically, check the target in Entra or Intune",
				a.Attempts, a.ClaimedAt.Format(time.RFC3339))
			a.Status, a.ClaimedAt = incident.ActionFailed, nil
			cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionFailed, Message: a.Type + " of " + a.Target + ": " + a.Error})
			return nil
		}
		if a.NextAttemptAt != nil && j.Attempt < a.Attempts {
			// An older job for an attempt already made: the retry has
			// its own job.
			return store.ErrUnchanged
		}
		outcome = claimRun
		claimed := now
		a.ClaimedAt = &claimed
		a.Attempts++
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			e.o.Log.Warn("response job for a missing incident dropped", "tenant_id", j.TenantID, "incident_id", j.IncidentID)
			return nil
		}
		return fmt.Errorf("claim action %s: %w", j.ActionID, err)
	}
	switch outcome {
	case claimUnknown:
		e.dispatchNotice(ctx, in)
		return nil
	case claimInFlight:
		return e.checkLater(ctx, in, j.ActionID)
	}
	if outcome != claimRun {
		return nil
	}
	a := in.Actions[in.ActionByID(j.ActionID)]
	result, callErr := e.call(ctx, in, a)
	return e.record(ctx, j, result, callErr)
}

// checkLater looks at an in-flight attempt again once its lease has run
// out: if its executor died, that job finds the claim stale and records
// the outcome as unknown, so the action cannot stay "approved" forever.
// Inline (no dispatcher) the claim is always the caller's own.
func (e *Engine) checkLater(ctx context.Context, in incident.Incident, actionID string) error {
	i := in.ActionByID(actionID)
	if e.o.Dispatcher == nil || i < 0 || in.Actions[i].ClaimedAt == nil {
		return nil
	}
	a := in.Actions[i]
	j := Job{Kind: JobAction, TenantID: in.TenantID, IncidentID: in.ID, ActionID: a.ID, Attempt: a.Attempts}
	return e.dispatch(ctx, j, a.ClaimedAt.Add(e.o.ClaimLease+time.Second))
}

// call makes the action's Graph request.
func (e *Engine) call(ctx context.Context, in incident.Incident, a incident.Action) (string, error) {
	k, ok := KindOf(a.Type)
	if !ok {
		return "", fmt.Errorf("%w: unknown action type %q", errPermanent, a.Type)
	}
	w, err := e.o.Writers.Writer(in.TenantID)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return k.run(ctx, w, in, a)
}

var errPermanent = errors.New("permanent")

// record stores the Graph answer: executed, a retry scheduled, or failed
// with the reason. The store retries conflicts itself; the answer is kept
// in memory until it lands.
func (e *Engine) record(ctx context.Context, j Job, result string, callErr error) error {
	now := e.now()
	var retryAt *time.Time
	failed := false
	in, err := e.o.Records.Incidents.Update(context.WithoutCancel(ctx), j.TenantID, j.IncidentID, func(cur *incident.Incident) error {
		retryAt, failed = nil, false
		i := cur.ActionByID(j.ActionID)
		if i < 0 {
			return store.ErrUnchanged
		}
		a := &cur.Actions[i]
		a.ClaimedAt = nil
		if callErr == nil {
			at := now
			a.Status, a.ExecutedAt, a.Result, a.NextAttemptAt, a.Error = incident.ActionExecuted, &at, result, nil, ""
			cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionExecuted, Message: a.Type + " of " + a.Target + ": " + result})
		} else if graph.Retryable(callErr) && a.Attempts < e.o.MaxAttempts {
			next := now.Add(e.backoff(a.Attempts, callErr))
			a.NextAttemptAt, a.LastError = &next, callErr.Error()
			retryAt = &next
			cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionRetry,
				Message: fmt.Sprintf("%s of %s: attempt %d failed (%v); retry at %s", a.Type, a.Target, a.Attempts, callErr, next.Format(time.RFC3339))})
		} else {
			failed = true
			a.Status, a.NextAttemptAt, a.Error = incident.ActionFailed, nil, Describe(a.Type, a.Attempts, callErr)
			cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionFailed, Message: a.Type + " of " + a.Target + ": " + a.Error})
		}
		playbook.SetStatus(cur)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record result of action %s: %w", j.ActionID, err)
	}
	i := in.ActionByID(j.ActionID)
	if i < 0 {
		return nil
	}
	if retryAt != nil {
		return e.dispatchAction(ctx, in, in.Actions[i])
	}
	if failed {
		e.dispatchNotice(ctx, in)
	}
	return nil
}

// backoff is the wait before the retry after attempt n: Graph's
// Retry-After when it gave one, else Backoff doubling per attempt, capped.
func (e *Engine) backoff(n int, err error) time.Duration {
	if d, ok := graph.RetryAfter(err); ok {
		return d
	}
	d := e.o.Backoff << min(n-1, 10)
	return min(d, 15*time.Minute)
}

// Describe says why an action failed, in the customer's terms: what Graph
// answered and what would have to change.
func Describe(actionType string, attempts int, err error) string {
	msg := err.Error()
	k, _ := KindOf(actionType)
	trait, _ := playbook.TraitOf(actionType)
	op := writeOperation(k.Write)
	if errors.Is(err, graph.ErrNoResponder) {
		return "not executed: " + msg + "; the collector identity is read-only, so response actions need the responder identity"
	}
	if errors.Is(err, graph.ErrNotLicensed) {
		return "Graph refused: the tenant is not licensed (" + nonEmpty(op.Licence, "a licence the tenant lacks") + "): " + msg
	}
	if errors.Is(err, graph.ErrForbidden) {
		s := "Graph refused (permission missing): " + msg + "; the responder identity needs " + strings.Join(op.Permissions, ", ")
		if trait.OnAccount {
			s += "; for a user who holds an admin role the app also needs a privileged Entra role (e.g. Privileged Authentication Administrator)"
		}
		return s
	}
	if errors.Is(err, graph.ErrNotFound) {
		return "Graph found no such object: " + msg
	}
	if graph.Retryable(err) {
		return fmt.Sprintf("gave up after %d attempts: %s", attempts, msg)
	}
	return msg
}

func writeOperation(name string) graph.WriteOperation {
	for _, op := range graph.WriteOperations() {
		if op.Name == name {
			return op
		}
	}
	return graph.WriteOperation{}
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
