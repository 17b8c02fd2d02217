package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"m365security/shared/graphsim"
	"m365security/shared/incident"
	"m365security/shared/store"
)

// demoIncidentID names the incident the demo seeds.
const demoIncidentID = "demo-account-compromise"

// demoResponseConfig gives the demo a responder identity, a sender and a
// recipient when none are set, so make run shows actions executed against
// the simulator and the notice in its sent mail. The simulator takes no
// token, so the responder is a name only.
func demoResponseConfig(cfg *Config, demo *graphsim.Tenant) {
	if cfg.ResponderClientID == "" {
		cfg.ResponderClientID = demoResponderID
	}
	if cfg.MailSender == "" {
		for _, u := range demo.Users {
			if u.UserType == "Member" && !strings.Contains(u.UserPrincipalName, "breakglass") {
				cfg.MailSender = u.UserPrincipalName
				break
			}
		}
	}
	if len(cfg.Recipients.IncidentRecipients) == 0 {
		domain := "contoso.example"
		if len(demo.Domains) > 0 {
			domain = demo.Domains[0].ID
		}
		cfg.Recipients.IncidentRecipients = []string{"soc@" + domain}
	}
}

// seedDemoResponse stores one account-compromise incident about a demo
// user who holds no directory role and hands it to the response engine:
// with the default co-managed model its session revocation and inbox-rule
// disable run at once, the account disable waits for approval, and the
// notice lands in the simulator's sent mail. Seeding again (a restart on
// the same store) only re-plans it, which adds nothing.
func (a *app) seedDemoResponse(ctx context.Context, demo *graphsim.Tenant) error {
	holders := map[string]bool{}
	for _, ra := range demo.RoleAssignments {
		holders[strings.ToLower(ra.PrincipalID)] = true
	}
	var user *graphsim.User
	for i := range demo.Users {
		u := &demo.Users[i]
		if u.AccountEnabled && u.UserType == "Member" && !holders[strings.ToLower(u.ID)] && i > 0 {
			user = u
			break
		}
	}
	if user == nil {
		return errors.New("the demo tenant has no member without a role")
	}
	tenantID := strings.ToLower(demo.ID)
	now := a.now().UTC()
	first, detected := now.Add(-45*time.Minute), now.Add(-20*time.Minute)
	in := incident.Incident{ID: demoIncidentID, TenantID: tenantID, Category: incident.CategoryAccountCompromise, Severity: "high",
		Status: incident.StatusNew, Entities: incident.Entities{Users: []string{strings.ToLower(user.ID), strings.ToLower(user.UserPrincipalName)}},
		FirstActivityAt: &first, DetectedAt: &detected, CreatedAt: now,
		ResponseTargets: incident.ResponseTargets{InboxRules: []incident.InboxRuleRef{{UserID: strings.ToLower(user.ID), RuleID: "demo-forward-to-external"}}},
		Timeline:        []incident.Entry{{At: now, Kind: incident.EntryOpened, Message: "Demo: unfamiliar sign-in followed by a new inbox forwarding rule"}}}
	if len(demo.Alerts) > 0 {
		in.AlertIDs = []string{demo.Alerts[0].ID}
		in.Signals = []incident.SignalState{{Source: incident.SourceAlert, ID: demo.Alerts[0].ID, CreatedAt: detected, LastUpdateAt: detected}}
	}
	if err := a.records.Incidents.Create(ctx, in); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("seed demo incident: %w", err)
	}
	if err := a.respond.OnIncident(ctx, tenantID, demoIncidentID); err != nil {
		return fmt.Errorf("respond to demo incident: %w", err)
	}
	// The automatic actions run from the queue; wait for them (briefly) so
	// the log line tells what the demo did.
	var stored incident.Incident
	for deadline := time.Now().Add(15 * time.Second); ; {
		var err error
		if stored, err = a.records.Incidents.Get(ctx, tenantID, demoIncidentID); err != nil {
			return err
		}
		if !slices.ContainsFunc(stored.Actions, func(x incident.Action) bool { return x.Status == incident.ActionApproved }) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	attrs := []any{"incident_id", demoIncidentID, "tenant_id", tenantID, "user", user.UserPrincipalName, "status", stored.Status}
	for _, act := range stored.Actions {
		attrs = append(attrs, act.Type+"_"+act.ID, act.Status)
	}
	a.log.Info("demo incident seeded", attrs...)
	return nil
}
