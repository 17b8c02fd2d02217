package respond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"m365security/shared/graph"
	"m365security/shared/incident"
	"m365security/shared/playbook"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/settings"
	"m365security/shared/store"
)

// Writers hands out the responder identity's Graph writer per tenant
// (graph.Clients). Without a responder identity its writers fail every
// write with graph.ErrNoResponder, which the engine records on the action.
type Writers interface {
	Writer(tenantID string) (*graph.Writer, error)
}

// Dispatcher runs a job later, durably: in the product a Service Bus (or
// in-process) queue whose consumer calls Engine.Handle, so executions and
// retries survive restarts. notBefore delays delivery.
type Dispatcher interface {
	Dispatch(ctx context.Context, j Job, notBefore time.Time) error
}

// Job kinds.
const (
	JobAction = "action"
	JobNotice = "notice"
)

// Job is one unit of deferred work: execute an action, or tell people about
// an incident's events.
type Job struct {
	Kind       string `json:"kind"`
	TenantID   string `json:"tenantId"`
	IncidentID string `json:"incidentId"`
	ActionID   string `json:"actionId,omitempty"`
	// Attempt is the action's attempt this job was scheduled for (0 for the
	// first); the queue message id carries it so a retry is not taken for
	// a duplicate.
	Attempt int `json:"attempt,omitempty"`
	// Events digests a notice job's events: a burst of jobs for the same
	// events collapses in the queue's duplicate detection, a new event
	// makes a new job.
	Events string `json:"events,omitempty"`
}

// Options configure an Engine.
type Options struct {
	Records *records.Records
	Writers Writers
	// Dispatcher defers jobs; nil runs them at once in the caller
	// (tests), retries included, without waiting out backoff.
	Dispatcher Dispatcher
	Now        func() time.Time
	// Defaults are the deployment's recipients (INCIDENT_RECIPIENTS).
	Defaults settings.Defaults
	// MailSender is MAIL_SENDER; empty: nothing is mailed, the send log
	// says why.
	MailSender string
	// BaseURL is PUBLIC_BASE_URL, for the approval instructions in notices.
	BaseURL string
	// HTTPClient posts webhook notices; nil uses a 10-second client.
	HTTPClient *http.Client
	Log        *slog.Logger
	// playbook.Playbooks defaults to the package table.
	Playbooks []playbook.Playbook
	// MaxAttempts bounds Graph requests per action (default 5); Backoff
	// is the first retry's delay when Graph gives no Retry-After (default
	// 30 s, doubling, at most 15 minutes).
	MaxAttempts int
	Backoff     time.Duration
	// ClaimLease is how long an attempt may be in flight before its
	// outcome counts as unknown (default 5 minutes).
	ClaimLease time.Duration
}

// Engine plans, decides, executes and reports response actions.
type Engine struct {
	o Options
}

// New returns an engine; Records and Writers are required.
func New(o Options) (*Engine, error) {
	if o.Records == nil || o.Writers == nil {
		return nil, errors.New("respond: records and writers are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Playbooks == nil {
		o.Playbooks = playbook.Playbooks
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.ClaimLease <= 0 {
		o.ClaimLease = 5 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Engine{o: o}, nil
}

// Errors the API maps to statuses.
var (
	// ErrNotFound: no such incident or action (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the action's state does not allow the request (409).
	ErrConflict = errors.New("conflict")
)

// Timeline entry kinds the engine writes.
const (
	EntryActionProposed = "actionProposed"
	EntryActionApproved = "actionApproved"
	EntryActionRejected = "actionRejected"
	EntryActionExecuted = "actionExecuted"
	EntryActionRetry    = "actionRetry"
	EntryActionFailed   = "actionFailed"
	EntryActionUndo     = "actionUndo"
	EntryBrake          = "safetyBrake"
	EntryNotice         = "notice"
	EntryNoticeFailed   = "noticeFailed"
	EntryActionsCapped  = "actionsCapped"
)

// MaxActions bounds the actions one incident holds, so its document stays
// small whatever correlation merged into it.
const MaxActions = 200

func (e *Engine) now() time.Time { return e.o.Now().UTC() }

// OnIncident plans the incident's response: called by the incident
// pipeline after it creates or changes an incident. It is idempotent:
// actions are keyed per incident, type and target, so a redelivery or a
// later update adds only what is new, and approved actions are executed at
// most once whatever the number of calls. A resolved incident gets nothing.
func (e *Engine) OnIncident(ctx context.Context, tenantID, incidentID string) error {
	in, err := e.o.Records.Incidents.Get(ctx, tenantID, incidentID)
	if err != nil {
		return fmt.Errorf("respond to incident %s: %w", incidentID, err)
	}
	if !in.IsOpen() {
		return nil
	}
	var fresh []playbook.Proposal
	for _, p := range playbook.Propose(e.o.Playbooks, in) {
		if in.ActionByKey(p.Key(in.ID)) < 0 {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) > 0 {
		if in, err = e.plan(ctx, in, fresh); err != nil {
			return err
		}
	}
	for _, a := range in.Actions {
		if a.Status == incident.ActionApproved && a.ClaimedAt == nil {
			if err := e.dispatchAction(ctx, in, a); err != nil {
				return err
			}
		}
	}
	e.dispatchNotice(ctx, in)
	return nil
}

// plan decides the fresh proposals and stores them on the incident.
func (e *Engine) plan(ctx context.Context, in incident.Incident, fresh []playbook.Proposal) (incident.Incident, error) {
	t, err := e.o.Records.Settings.Tenant(ctx, in.TenantID)
	if err != nil {
		return in, fmt.Errorf("respond to incident %s: %w", in.ID, err)
	}
	now := e.now()
	protect, err := e.protection(ctx, in.TenantID, now, t, fresh)
	if err != nil {
		return in, err
	}
	decisions := make([]playbook.Decision, len(fresh))
	var braked []int
	// Only what fits under MaxActions may take a brake slot: the rest is
	// never stored.
	room := MaxActions - len(in.Actions)
	for i, p := range fresh {
		decisions[i] = playbook.Decide(t, p, protect)
		if decisions[i].Brake && i < room {
			braked = append(braked, i)
		}
	}
	if len(braked) > 0 {
		limit := t.Brake()
		allowed := make([]bool, len(fresh))
		_, err := e.o.Records.State.UpdateBrake(ctx, in.TenantID, func(l *records.BrakeLog) error {
			for _, i := range braked {
				*l, allowed[i] = playbook.BrakeClaim(*l, fresh[i].Key(in.ID), now, limit)
			}
			return nil
		})
		if err != nil {
			return in, fmt.Errorf("respond to incident %s: safety brake: %w", in.ID, err)
		}
		for _, i := range braked {
			if !allowed[i] {
				decisions[i] = playbook.Decision{Reason: playbook.BrakeReason(limit)}
			}
		}
	}
	return e.o.Records.Incidents.Update(ctx, in.TenantID, in.ID, func(cur *incident.Incident) error {
		added := 0
		for i, p := range fresh {
			if cur.ActionByKey(p.Key(cur.ID)) >= 0 {
				continue
			}
			if len(cur.Actions) >= MaxActions {
				// A runaway correlation must not grow the document without
				// bound; what is left out is said, once.
				if !slices.ContainsFunc(cur.Timeline, func(e incident.Entry) bool { return e.Kind == EntryActionsCapped }) {
					cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionsCapped,
						Message: fmt.Sprintf("more than %d response actions: the rest (from %s of %s on) are not proposed; split or handle the incident by hand", MaxActions, p.Type, p.Target)})
					added++
				}
				break
			}
			d := decisions[i]
			if d.Brake && i >= room {
				// Never counted by the brake (see room): it cannot run on its own.
				d = playbook.Decision{Reason: playbook.BrakeReason(t.Brake())}
			}
			a := playbook.NewAction(*cur, p, d, now)
			cur.Actions = append(cur.Actions, a)
			added++
			msg := fmt.Sprintf("%s of %s proposed by playbook %q", a.Type, a.Target, p.Playbook)
			if a.Status == incident.ActionApproved {
				msg += ": automatic"
			} else {
				msg += "; waits for approval: " + a.Reason
			}
			cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryActionProposed, Message: msg})
			if playbook.IsBrakeReason(a.Reason) {
				cur.Timeline = append(cur.Timeline, incident.Entry{At: now, Kind: EntryBrake, Message: a.Reason})
			}
		}
		if added == 0 {
			return store.ErrUnchanged
		}
		playbook.SetStatus(cur)
		return nil
	})
}

// protection loads what Protected reads, only when a decision needs it.
func (e *Engine) protection(ctx context.Context, tenantID string, now time.Time, t settings.Tenant, fresh []playbook.Proposal) (playbook.Protection, error) {
	p := playbook.Protection{At: now}
	need := slices.ContainsFunc(fresh, func(pr playbook.Proposal) bool {
		k, _ := playbook.TraitOf(pr.Type)
		return k.OnAccount && settings.IsDestructive(pr.Type) && t.Mode(pr.Type) == settings.Auto
	})
	if !need {
		return p, nil
	}
	ex, err := e.o.Records.Exceptions.Relevant(ctx, tenantID, now)
	if err != nil {
		return p, fmt.Errorf("protected accounts: %w", err)
	}
	p.Exceptions = ex
	snap, err := e.o.Records.Snapshots.Latest(ctx, tenantID, posture.AreaIdentity, time.Time{})
	if err != nil {
		return p, fmt.Errorf("protected accounts: %w", err)
	}
	if snap != nil && snap.Identity != nil {
		p.Identity, p.Sources = snap.Identity, snap.Sources
	}
	return p, nil
}

func (e *Engine) dispatchAction(ctx context.Context, in incident.Incident, a incident.Action) error {
	j := Job{Kind: JobAction, TenantID: in.TenantID, IncidentID: in.ID, ActionID: a.ID, Attempt: a.Attempts}
	var at time.Time
	if a.NextAttemptAt != nil {
		at = *a.NextAttemptAt
	}
	return e.dispatch(ctx, j, at)
}

// dispatchNotice queues the incident's notices; a failure is logged, never
// returned: telling people must not hold up the response, and the next
// call finds the events still unsent.
func (e *Engine) dispatchNotice(ctx context.Context, in incident.Incident) {
	evs := playbook.Events(in)
	if len(evs) == 0 {
		return
	}
	keys := make([]string, len(evs))
	for i, ev := range evs {
		keys[i] = ev.Key
	}
	j := Job{Kind: JobNotice, TenantID: in.TenantID, IncidentID: in.ID, Events: playbook.ActionID(strings.Join(keys, ","))}
	if err := e.dispatch(ctx, j, time.Time{}); err != nil {
		e.o.Log.Warn("queue incident notice", "tenant_id", in.TenantID, "incident_id", in.ID, "error", err.Error())
	}
}

func (e *Engine) dispatch(ctx context.Context, j Job, notBefore time.Time) error {
	if e.o.Dispatcher == nil {
		return e.Handle(ctx, j)
	}
	if err := e.o.Dispatcher.Dispatch(ctx, j, notBefore); err != nil {
		return fmt.Errorf("queue %s job for incident %s: %w", j.Kind, j.IncidentID, err)
	}
	return nil
}

// Handle runs one job: the queue consumer's body. An error means try
// again (the store failed); everything Graph answers is recorded instead.
func (e *Engine) Handle(ctx context.Context, j Job) error {
	switch j.Kind {
	case JobAction:
		return e.execute(ctx, j)
	case JobNotice:
		return e.notify(ctx, j.TenantID, j.IncidentID)
	}
	return fmt.Errorf("unknown job kind %q", playbook.Clip(j.Kind, 40))
}
