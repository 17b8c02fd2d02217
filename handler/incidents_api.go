package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"m365security/shared/graph"
	"m365security/shared/incident"
	"m365security/shared/principal"
	"m365security/shared/records"
	"m365security/shared/store"
)

// incidents serves GET /api/incidents?tenant=ID[&status=S][&from&to].
func (a *app) incidents(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	q := records.IncidentQuery{Status: r.URL.Query().Get("status")}
	if q.Status != "" && q.Status != "open" && !slices.Contains(incident.Statuses(), q.Status) {
		return badRequest("status must be open or one of %s", strings.Join(incident.Statuses(), ", "))
	}
	if q.Status == "open" {
		q.Status, q.OpenOnly = "", true
	}
	if r.URL.Query().Has("from") || r.URL.Query().Has("to") {
		if q.From, q.To, err = dateRange(r, a.now(), 90); err != nil {
			return err
		}
	}
	list, err := a.records.Incidents.List(r.Context(), t, q)
	if err != nil {
		return err
	}
	// Newest first: what a responder looks at.
	slices.Reverse(list)
	if list == nil {
		list = []incident.Incident{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tenantId": t, "incidents": list})
}

// incidentByID serves GET /api/incidents/{id}?tenant=ID.
func (a *app) incidentByID(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	in, err := a.incident(r.Context(), t, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

func (a *app) incident(ctx context.Context, tenantID, id string) (incident.Incident, error) {
	if err := store.ValidateID(id); err != nil {
		return incident.Incident{}, notFound("no incident %q", truncate(id, 60))
	}
	in, err := a.records.Incidents.Get(ctx, tenantID, id)
	if errors.Is(err, records.ErrNotFound) {
		return in, notFound("no incident %q", truncate(id, 60))
	}
	return in, err
}

type resolveBody struct {
	By             string `json:"by"`
	Classification string `json:"classification"`
	Determination  string `json:"determination"`
	Reason         string `json:"reason"`
}

// errAlreadyResolved ends a resolve of a resolved incident.
var errAlreadyResolved = errors.New("already resolved")

// resolveIncident serves POST /api/incidents/{id}/resolve: it stores the
// resolution, then writes status and classification back to each of the
// incident's Defender alerts so the two views agree. A write-back that
// fails is on the incident's timeline and in the answer; the resolution
// stands either way.
func (a *app) resolveIncident(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	var body resolveBody
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	who, err := a.decider(r, body.By)
	if err != nil {
		return err
	}
	switch {
	case !slices.Contains(incident.Classifications, body.Classification):
		return badRequest("classification must be one of %s", strings.Join(incident.Classifications, ", "))
	case body.Determination != "" && !slices.Contains(incident.Determinations, body.Determination):
		return badRequest("determination must be one of %s", strings.Join(incident.Determinations, ", "))
	case len(body.Reason) > 2000:
		return badRequest("reason must be at most 2000 characters")
	}
	id := r.PathValue("id")
	if err := store.ValidateID(id); err != nil {
		return notFound("no incident %q", truncate(id, 60))
	}
	now := a.now().UTC()
	in, err := a.records.Incidents.Update(r.Context(), t, id, func(in *incident.Incident) error {
		if !in.IsOpen() {
			return errAlreadyResolved
		}
		in.Status, in.ResolvedAt = incident.StatusResolved, &now
		in.Resolution = &incident.Resolution{By: who.Name, ObjectID: who.ObjectID, Verified: who.Verified,
			Classification: body.Classification, Determination: body.Determination, Reason: body.Reason, At: now}
		in.Timeline = append(in.Timeline, incident.Entry{At: now, Kind: "resolved",
			Message: fmt.Sprintf("resolved by %s (%s) as %s", who.Name, verifiedWord(who), body.Classification)})
		return nil
	})
	switch {
	case errors.Is(err, errAlreadyResolved):
		return &httpError{http.StatusConflict, "conflict", "the incident is already resolved"}
	case errors.Is(err, records.ErrNotFound):
		return notFound("no incident %q", truncate(id, 60))
	case err != nil:
		return err
	}
	results := a.writeBackResolution(r.Context(), t, in, body)
	in, err = a.records.Incidents.Update(r.Context(), t, id, func(in *incident.Incident) error {
		for _, res := range results {
			in.Timeline = append(in.Timeline, incident.Entry{At: now, Kind: "alertWriteBack", Message: res.message()})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incident": in, "alertWriteBack": results})
}

// writeBack is the outcome of updating one Defender alert.
type writeBack struct {
	AlertID string `json:"alertId"`
	Status  string `json:"status"` // updated or failed
	Error   string `json:"error,omitempty"`
}

func (w writeBack) message() string {
	if w.Status == "updated" {
		return "Defender alert " + w.AlertID + " set to resolved"
	}
	return "Defender alert " + w.AlertID + " not updated: " + w.Error
}

// maxWriteBackAlerts bounds the Graph writes one resolve makes.
const maxWriteBackAlerts = 100

func (a *app) writeBackResolution(ctx context.Context, tenantID string, in incident.Incident, body resolveBody) []writeBack {
	out := []writeBack{}
	ids := in.AlertIDs
	if len(ids) > maxWriteBackAlerts {
		ids = ids[:maxWriteBackAlerts]
	}
	if a.clients == nil {
		for _, id := range ids {
			out = append(out, writeBack{AlertID: id, Status: "failed", Error: "Graph is not configured"})
		}
		return out
	}
	wr, werr := a.clients.Writer(tenantID)
	for _, id := range ids {
		err := werr
		if err == nil {
			err = wr.UpdateAlert(ctx, id, graph.AlertUpdate{Status: "resolved", Classification: body.Classification, Determination: body.Determination})
		}
		if err != nil {
			out = append(out, writeBack{AlertID: id, Status: "failed", Error: err.Error()})
			continue
		}
		out = append(out, writeBack{AlertID: id, Status: "updated"})
	}
	return out
}

func verifiedWord(p principal.Principal) string {
	if p.Verified {
		return "verified"
	}
	return "unverified"
}

// subscriptions serves GET /api/subscriptions?tenant=ID: the Graph
// subscriptions held, and the signal sources' health.
func (a *app) subscriptions(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	list, err := a.records.Subscriptions.List(r.Context(), t)
	if err != nil {
		return err
	}
	if list == nil {
		list = []records.Subscription{}
	}
	health, err := a.records.Signals.Health(r.Context(), t)
	if err != nil {
		return err
	}
	sub := health["subscriptions"]
	return writeJSON(w, http.StatusOK, map[string]any{"tenantId": t, "subscriptions": list, "status": sub,
		"publicBaseUrl": a.cfg.PublicBaseURL, "checkedAt": nonZero(sub.CheckedAt)})
}

func nonZero(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
