// Package settings holds a tenant's operating choices (CONTRACT section 4,
// `/api/settings`): who decides on response actions, how many automatic
// destructive actions an hour the brake allows, who receives reports and
// incident notices, and the named contacts the reports' accountability table
// shows. Stored per tenant by records.Settings; the defaults live here so the
// API, the response engine, reports and console read one answer.
package settings

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"sort"
	"strings"
)

// Responsibility models.
const (
	CoManaged    = "co-managed"
	FullyManaged = "fully-managed"
)

// Action modes.
const (
	Auto     = "auto"
	Approval = "approval"
)

// DefaultAutoActionsPerHour is the safety brake's limit when none is set.
const DefaultAutoActionsPerHour = 5

// Limits on what a tenant may store, so a settings document stays small.
const (
	maxRecipients = 50
	maxText       = 200
)

// Tenant is one tenant's settings document.
type Tenant struct {
	// ResponsibilityModel is co-managed (the customer's people decide on
	// risky actions) or fully-managed (the product acts within limits).
	ResponsibilityModel string `json:"responsibilityModel"`
	// Actions overrides the model's default mode per action type.
	Actions map[string]string `json:"actions,omitempty"`
	// AutoActionsPerHour is the safety brake: automatic destructive actions
	// beyond it in any hour become approvals.
	AutoActionsPerHour int      `json:"autoActionsPerHour"`
	ReportRecipients   []string `json:"reportRecipients"`
	IncidentRecipients []string `json:"incidentRecipients"`
	// NotifyWebhookURL optionally receives incident notices as JSON (a
	// Teams workflow or a generic webhook); https only.
	NotifyWebhookURL string   `json:"notifyWebhookUrl,omitempty"`
	Contacts         Contacts `json:"contacts"`
	// FederalAgency turns on MS.EXO.4.3v1 (CISA's reporting address in
	// DMARC), which the baseline applies to US federal agencies only.
	FederalAgency bool `json:"federalAgency"`
}

// Contacts are the named people the accountability table shows.
type Contacts struct {
	// Customer is the customer's own security or IT lead.
	Customer Contact `json:"customer"`
	// Provider is the managed-service provider's contact (the team running
	// this product), when there is one.
	Provider Contact `json:"provider"`
}

// Contact is a named person or team.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Defaults are the deployment-wide values for what a tenant leaves unset
// (REPORT_RECIPIENTS, INCIDENT_RECIPIENTS).
type Defaults struct {
	ReportRecipients   []string
	IncidentRecipients []string
}

// Default is the document a tenant starts with.
func Default() Tenant {
	return Tenant{ResponsibilityModel: CoManaged, AutoActionsPerHour: DefaultAutoActionsPerHour}
}

// destructive are the action types that change a user's or device's state
// in a way the customer must own in a co-managed model (CONTRACT section 7).
var destructive = map[string]bool{
	"disableAccount":        true,
	"requirePasswordChange": true,
	"confirmCompromised":    true,
	"retireDevice":          true,
	"wipeDevice":            true,
	"remediateMessage":      true,
}

// alwaysApproval are the actions that default to approval even when the
// provider runs the tenant: a wipe erases the device.
var alwaysApproval = map[string]bool{"wipeDevice": true}

// IsDestructive reports whether an action type counts against the safety
// brake and, in co-managed, waits for a person by default.
func IsDestructive(actionType string) bool { return destructive[actionType] }

// DefaultMode is the model's mode for an action type before any override.
func DefaultMode(model, actionType string) string {
	if alwaysApproval[actionType] || (model != FullyManaged && destructive[actionType]) {
		return Approval
	}
	return Auto
}

// Mode is the tenant's mode for an action type: its override, else the
// model's default.
func (t Tenant) Mode(actionType string) string {
	if m, ok := t.Actions[actionType]; ok {
		return m
	}
	return DefaultMode(t.ResponsibilityModel, actionType)
}

// Brake is the automatic destructive actions allowed per hour.
func (t Tenant) Brake() int {
	if t.AutoActionsPerHour <= 0 {
		return DefaultAutoActionsPerHour
	}
	return t.AutoActionsPerHour
}

// Reports are the report recipients: the tenant's, else the deployment's.
func (t Tenant) Reports(d Defaults) []string {
	if len(t.ReportRecipients) > 0 {
		return t.ReportRecipients
	}
	return d.ReportRecipients
}

// Incidents are the incident-notice recipients: the tenant's, else the
// deployment's.
func (t Tenant) Incidents(d Defaults) []string {
	if len(t.IncidentRecipients) > 0 {
		return t.IncidentRecipients
	}
	return d.IncidentRecipients
}

// Validate checks a document before it is stored, naming each bad field.
// knownActions are the action types the response engine has; an override
// for any other is refused so a typo is not silently ignored.
func (t Tenant) Validate(knownActions []string) error {
	var errs []error
	if t.ResponsibilityModel != CoManaged && t.ResponsibilityModel != FullyManaged {
		errs = append(errs, fmt.Errorf("responsibilityModel: %q is not %s or %s", clip(t.ResponsibilityModel), CoManaged, FullyManaged))
	}
	known := map[string]bool{}
	for _, a := range knownActions {
		known[a] = true
	}
	keys := make([]string, 0, len(t.Actions))
	for k := range t.Actions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case len(knownActions) > 0 && !known[k]:
			errs = append(errs, fmt.Errorf("actions: %q is not an action type (%s)", clip(k), strings.Join(knownActions, ", ")))
		case t.Actions[k] != Auto && t.Actions[k] != Approval:
			errs = append(errs, fmt.Errorf("actions.%s: %q is not %s or %s", k, clip(t.Actions[k]), Auto, Approval))
		}
	}
	if t.AutoActionsPerHour < 0 || t.AutoActionsPerHour > 1000 {
		errs = append(errs, fmt.Errorf("autoActionsPerHour: %d is not between 0 and 1000", t.AutoActionsPerHour))
	}
	errs = append(errs, checkAddresses("reportRecipients", t.ReportRecipients)...)
	errs = append(errs, checkAddresses("incidentRecipients", t.IncidentRecipients)...)
	if t.NotifyWebhookURL != "" {
		if u, err := url.Parse(t.NotifyWebhookURL); err != nil || u.Scheme != "https" || u.Host == "" || len(t.NotifyWebhookURL) > 2048 {
			errs = append(errs, errors.New("notifyWebhookUrl: must be an https URL of at most 2048 characters"))
		}
	}
	for name, c := range map[string]Contact{"contacts.customer": t.Contacts.Customer, "contacts.provider": t.Contacts.Provider} {
		if len(c.Name) > maxText {
			errs = append(errs, fmt.Errorf("%s.name: longer than %d characters", name, maxText))
		}
		if c.Email != "" {
			errs = append(errs, checkAddresses(name+".email", []string{c.Email})...)
		}
	}
	return errors.Join(errs...)
}

func checkAddresses(field string, list []string) []error {
	if len(list) > maxRecipients {
		return []error{fmt.Errorf("%s: more than %d addresses", field, maxRecipients)}
	}
	var errs []error
	for _, a := range list {
		if p, err := mail.ParseAddress(a); err != nil || p.Address != a || len(a) > 254 {
			errs = append(errs, fmt.Errorf("%s: %q is not a plain email address", field, clip(a)))
		}
	}
	return errs
}

// ParseRecipients reads a comma-separated list of addresses (the
// REPORT_RECIPIENTS and INCIDENT_RECIPIENTS settings).
func ParseRecipients(v string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	if errs := checkAddresses("recipients", out); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
