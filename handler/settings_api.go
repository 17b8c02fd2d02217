package main

import (
	"encoding/json"
	"net/http"

	"m365security/shared/incident"
	"m365security/shared/settings"
)

// tenantSettings serves GET and PUT /api/settings. PUT merges the fields
// given over the stored document inside the read-modify-write, then
// validates the result as a whole, so a PUT of one field cannot leave the
// document inconsistent and concurrent PUTs of different fields all land.
func (a *app) tenantSettings(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodGet {
		v, err := a.records.Settings.Tenant(r.Context(), t)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, a.settingsView(t, v))
	}
	var patch json.RawMessage
	if err := decodeBody(w, r, &patch); err != nil {
		return err
	}
	var probe settings.Tenant
	if err := strictJSON(patch, &probe); err != nil {
		return err
	}
	v, err := a.records.Settings.UpdateTenant(r.Context(), t, func(cur *settings.Tenant) error {
		if err := json.Unmarshal(patch, cur); err != nil {
			return badRequest("invalid settings: %v", err)
		}
		if err := cur.Validate(incident.ActionTypes()); err != nil {
			return badRequest("invalid settings: %v", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a.settingsView(t, v))
}

// settingsView shows the stored document with what it means in effect:
// each action type's mode and the recipients after deployment defaults.
func (a *app) settingsView(tenantID string, v settings.Tenant) map[string]any {
	modes := map[string]string{}
	for _, at := range incident.ActionTypes() {
		modes[at] = v.Mode(at)
	}
	return map[string]any{
		"tenantId": tenantID,
		"settings": v,
		"effective": map[string]any{
			"actions":            modes,
			"autoActionsPerHour": v.Brake(),
			"reportRecipients":   nonNil(v.Reports(a.cfg.Recipients)),
			"incidentRecipients": nonNil(v.Incidents(a.cfg.Recipients)),
			// Whether actions can run at all, and whether notices can be
			// mailed, whatever the document says.
			"responder":  a.responderHealth(),
			"mailSender": nonEmptyOr(a.cfg.MailSender, "unset: MAIL_SENDER is not configured, nothing is mailed"),
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonEmptyOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
