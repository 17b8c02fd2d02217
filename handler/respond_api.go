package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"m365security/handler/invoke"
	"m365security/shared/graph"
	"m365security/shared/principal"
	"m365security/shared/queue"
	"m365security/shared/respond"
)

// responseQueue carries response actions and incident notices to
// ExecuteResponse (functions/ExecuteResponse/function.json).
const responseQueue = "responseactions"

// Decisions a person makes on an action.
const (
	decisionApprove = "approve"
	decisionReject  = "reject"
	decisionUndo    = "undo"
)

// maxBy bounds the stated name (AUTH=none).
const maxBy = 256

// decideAction serves POST /api/incidents/{id}/actions/{actionId}/approve,
// /reject and /undo. Who decides comes from App Service Authentication when
// AUTH=appservice (the body's "by" is then ignored) and needs the
// Responder.Approve app role; with AUTH=none it is the stated "by", recorded
// as unverified, and any client-principal header is ignored.
func (a *app) decideAction(kind string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := a.tenant(r)
		if err != nil {
			return err
		}
		if a.respond == nil {
			return &httpError{http.StatusServiceUnavailable, "responseUnavailable", "the response engine is not running"}
		}
		var body struct {
			By     string `json:"by"`
			Reason string `json:"reason"`
		}
		if err := decodeBody(w, r, &body); err != nil {
			return err
		}
		if len(body.Reason) > respond.MaxNote {
			return badRequest("reason is longer than %d characters", respond.MaxNote)
		}
		who, err := a.decider(r, body.By)
		if err != nil {
			return err
		}
		req := respond.Request{TenantID: t, IncidentID: r.PathValue("id"), ActionID: r.PathValue("actionId"), By: who, Reason: body.Reason}
		var act any
		switch kind {
		case decisionApprove:
			act, err = a.respond.Approve(r.Context(), req)
		case decisionReject:
			act, err = a.respond.Reject(r.Context(), req)
		default:
			act, err = a.respond.Undo(r.Context(), req)
		}
		switch {
		case errors.Is(err, respond.ErrNotFound):
			return notFound("%s", err.Error())
		case errors.Is(err, respond.ErrConflict):
			return &httpError{http.StatusConflict, "conflict", err.Error()}
		case err != nil:
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"action": act})
	}
}

// decider says who is deciding: the verified principal with the approval
// role (AUTH=appservice), or the stated name (AUTH=none).
func (a *app) decider(r *http.Request, by string) (principal.Principal, error) {
	p, ok, err := principal.FromRequest(r, a.cfg.Auth)
	if err != nil {
		return p, &httpError{http.StatusUnauthorized, "notSignedIn", err.Error()}
	}
	if ok {
		if !p.HasRole(principal.RoleApprove) {
			return p, &httpError{http.StatusForbidden, "forbidden", fmt.Sprintf("%s lacks the app role %s", p.Name, principal.RoleApprove)}
		}
		return p, nil
	}
	p = principal.Stated(by)
	switch {
	case p.Name == "":
		return p, badRequest("by is required: name who decides (authentication is off, so it is recorded as unverified)")
	case len(p.Name) > maxBy:
		return p, badRequest("by is longer than %d characters", maxBy)
	}
	return p, nil
}

// executeResponse runs one response job from the queue. A body that is not
// a job is permanent (parked); a store failure is retried by redelivery.
func (a *app) executeResponse(ctx context.Context, inv invoke.Invocation, m invoke.Message) error {
	var j respond.Job
	if err := json.Unmarshal(m.Body, &j); err != nil || j.TenantID == "" || j.IncidentID == "" ||
		(j.Kind != respond.JobAction && j.Kind != respond.JobNotice) || (j.Kind == respond.JobAction && j.ActionID == "") {
		return fmt.Errorf("not a response job: %q", truncate(string(m.Body), 120))
	}
	if !a.tenants[j.TenantID] {
		return fmt.Errorf("tenant %q is not monitored", truncate(j.TenantID, 40))
	}
	if a.respond == nil {
		return invoke.Retry(errors.New("the response engine is not running"))
	}
	if err := a.respond.Handle(ctx, j); err != nil {
		inv.Log.Warn("response job failed; it will be retried", "tenant_id", j.TenantID, "incident_id", j.IncidentID,
			"kind", j.Kind, "delivery_count", m.DeliveryCount, "error", err.Error())
		return invoke.Retry(err)
	}
	return nil
}

// queueDispatcher sends response jobs to the response queue. It reads
// a.queue when it sends: the queue starts after the engine is built.
type queueDispatcher struct{ a *app }

func (d queueDispatcher) Dispatch(ctx context.Context, j respond.Job, notBefore time.Time) error {
	if d.a.queue == nil {
		return errors.New("the queue is not running")
	}
	body, err := json.Marshal(j)
	if err != nil {
		return err
	}
	// The id names the job and attempt, so the same job queued twice within
	// the duplicate window collapses while a retry does not.
	id := strings.Join([]string{j.Kind, j.TenantID, j.IncidentID, j.ActionID, fmt.Sprint(j.Attempt), j.Events}, "|")
	if j.Kind == respond.JobNotice && !notBefore.IsZero() {
		id += "|" + notBefore.UTC().Format(time.RFC3339)
	}
	return d.a.queue.Send(ctx, responseQueue, queue.Message{ID: id, Body: body, ContentType: "application/json",
		Subject: "response." + j.Kind, NotBefore: notBefore})
}

// newResponseEngine wires the response engine over the app's records and
// the responder identity's writers.
func newResponseEngine(a *app, writers respond.Writers) (*respond.Engine, error) {
	return respond.New(respond.Options{Records: a.records, Writers: writers, Dispatcher: queueDispatcher{a}, Now: a.now,
		Defaults: a.cfg.Recipients, MailSender: a.cfg.MailSender, BaseURL: a.cfg.PublicBaseURL, Log: a.log.With("component", "respond")})
}

// responderHealth is /api/health's word on the responder identity.
func (a *app) responderHealth() string {
	if a.cfg.ResponderClientID == "" {
		return "not configured: RESPONDER_CLIENT_ID is unset, so response actions and incident mail are refused (" + graph.ErrNoResponder.Error() + ")"
	}
	return "configured"
}
