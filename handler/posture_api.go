package main

import (
	"encoding/json"
	"errors"

	"net/http"
	"strings"
	"time"

	"m365security/shared/assess"

	"m365security/shared/controls"
	"m365security/shared/posture"
)

func (a *app) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	return nil
}

func (a *app) metrics(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	v, err := a.assess.Metrics(r.Context(), t, time.Time{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *app) metricsHistory(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	from, to, err := dateRange(r, a.now(), 90)
	if err != nil {
		return err
	}
	h, err := a.assess.MetricsHistory(r.Context(), t, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenantId": t, "from": from, "to": to, "history": h})
	return nil
}

func (a *app) controls(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	v, err := a.assess.Controls(r.Context(), t, time.Time{})
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if err := checkControlStatus(status); err != nil {
		return err
	}
	if s := status; s != "" && s != "all" {
		var kept []controls.Result
		for _, c := range v.Controls {
			if string(c.Status) == s {
				kept = append(kept, c)
			}
		}
		v.Controls = kept
	}
	if v.Controls == nil {
		v.Controls = []controls.Result{}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// checkControlStatus accepts the /api/controls status filter: empty or all,
// or one of the control statuses; anything else is a 400 naming them, since
// an empty list for a misspelt status would read as "nothing failing".
func checkControlStatus(s string) error {
	if s == "" || s == "all" {
		return nil
	}
	allowed := []string{"all"}
	for _, st := range controls.Statuses {
		if s == string(st) {
			return nil
		}
		allowed = append(allowed, string(st))
	}
	return badRequest("status must be one of %s", strings.Join(allowed, ", "))
}

func (a *app) controlsHistory(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	from, to, err := dateRange(r, a.now(), 30)
	if err != nil {
		return err
	}
	v, err := a.assess.ControlsHistory(r.Context(), t, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *app) mfaUsers(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	only := false
	switch r.URL.Query().Get("status") {
	case "", "all":
	case "unprotected":
		only = true
	default:
		return badRequest("status must be all or unprotected")
	}
	v, err := a.assess.MFAUsers(r.Context(), t, time.Time{}, only)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *app) collection(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	v, err := a.assess.Collection(r.Context(), t, time.Time{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *app) exceptions(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	switch r.Method {
	case http.MethodGet:
		if id != "" {
			return &httpError{http.StatusMethodNotAllowed, "methodNotAllowed", "GET lists exceptions; use /api/exceptions?tenant=ID"}
		}
		list, err := a.assess.Exceptions(r.Context(), t)
		if err != nil {
			return err
		}
		if list == nil {
			list = []controls.Exception{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"exceptions": list})
	case http.MethodPost:
		if id != "" {
			return &httpError{http.StatusMethodNotAllowed, "methodNotAllowed", "POST to /api/exceptions?tenant=ID"}
		}
		var in struct {
			ControlID  string         `json:"controlId"`
			Scope      controls.Scope `json:"scope"`
			Reason     string         `json:"reason"`
			ApprovedBy string         `json:"approvedBy"`
			ExpiresAt  time.Time      `json:"expiresAt"`
		}
		if err := decodeBody(w, r, &in); err != nil {
			return err
		}
		// A client that has left gets no work done on its behalf.
		if err := r.Context().Err(); err != nil {
			return err
		}
		e, err := a.assess.AddException(r.Context(), t, controls.Exception{ControlID: in.ControlID, Scope: in.Scope,
			Reason: in.Reason, ApprovedBy: in.ApprovedBy, ExpiresAt: in.ExpiresAt})
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/exceptions/"+e.ID+"?tenant="+t)
		writeJSON(w, http.StatusCreated, e)
	case http.MethodDelete:
		if id == "" {
			return badRequest("DELETE needs an exception id: /api/exceptions/{id}?tenant=ID")
		}
		e, err := a.assess.RevokeException(r.Context(), t, id)
		if err != nil {
			if errors.Is(err, assess.ErrNotFound) {
				return notFound("no exception %q in this tenant", truncate(id, 64))
			}
			return err
		}
		writeJSON(w, http.StatusOK, e)
	default:
		return &httpError{http.StatusMethodNotAllowed, "methodNotAllowed", "method not allowed"}
	}
	return nil
}

func (a *app) restoreTests(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodGet {
		list, err := a.assess.RestoreTests(r.Context(), t)
		if err != nil {
			return err
		}
		if list == nil {
			list = []posture.RestoreTest{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"restoreTests": list})
		return nil
	}
	var in struct {
		PerformedAt time.Time `json:"performedAt"`
		Workload    string    `json:"workload"`
		Succeeded   *bool     `json:"succeeded"`
		Notes       string    `json:"notes"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	if in.Succeeded == nil {
		return badRequest("succeeded is required (true or false)")
	}
	rt, err := a.assess.AddRestoreTest(r.Context(), t, posture.RestoreTest{PerformedAt: in.PerformedAt,
		Workload: strings.TrimSpace(in.Workload), Succeeded: *in.Succeeded, Notes: in.Notes})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rt)
	return nil
}

func (a *app) targets(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodGet {
		v, err := a.assess.Targets(r.Context(), t)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"tenantId": t, "targets": v})
		return nil
	}
	// PUT replaces only the fields given; the rest keep their value. The
	// body is checked strictly once, then merged over the stored targets
	// inside the read-modify-write, so concurrent PUTs of different fields
	// all land.
	var patch json.RawMessage
	if err := decodeBody(w, r, &patch); err != nil {
		return err
	}
	var probe controls.Targets
	if err := strictJSON(patch, &probe); err != nil {
		return err
	}
	v, err := a.assess.UpdateTargets(r.Context(), t, func(cur *controls.Targets) error {
		return json.Unmarshal(patch, cur)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenantId": t, "targets": v})
	return nil
}
