package signals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
)

// IdentityView is one identity snapshot with its per-user MFA states: what
// DirectoryChanges compares.
type IdentityView struct {
	Snapshot *posture.Snapshot
	Users    []posture.UserMFA
}

func (v IdentityView) ok(sources ...string) bool {
	return v.Snapshot != nil && v.Snapshot.Identity != nil && len(v.Snapshot.Sources.Missing(sources...)) == 0
}

// DirectoryChanges compares two identity snapshots and returns the changes
// that matter to security: a privileged role given to someone (active or
// eligible), a user added to a group that holds a privileged role, and a
// user's MFA registration lost. A comparison needs both snapshots to have
// read the sources it uses, so a failed read never looks like a change.
// Each change's id names the later snapshot, so the same comparison made
// twice is one signal.
func DirectoryChanges(tenantID string, prev, next IdentityView) []incident.DirectoryChange {
	var out []incident.DirectoryChange
	if prev.Snapshot == nil || next.Snapshot == nil {
		return nil
	}
	at := next.Snapshot.TakenAt
	upn := map[string]string{}
	for _, u := range next.Snapshot.Identity.Users {
		upn[strings.ToLower(u.ID)] = u.UserPrincipalName
	}
	for _, u := range next.Users {
		upn[strings.ToLower(u.ID)] = u.UserPrincipalName
	}
	roleSources := []string{posture.SrcRoleAssignments, posture.SrcRoleDefinitions}
	if prev.ok(roleSources...) && next.ok(roleSources...) {
		id := next.Snapshot.Identity
		names := roleNames(id)
		had := map[string]bool{}
		for _, a := range prev.Snapshot.Identity.RoleAssignments {
			had[assignmentKey(a)] = true
		}
		for _, a := range id.RoleAssignments {
			role := roleTemplate(id, a.RoleDefinitionID)
			if !posture.IsPrivileged(role) || had[assignmentKey(a)] {
				continue
			}
			verb := "was assigned"
			if a.Kind == "eligible" {
				verb = "was made eligible for"
			}
			who := firstNonEmpty(upn[strings.ToLower(a.PrincipalID)], a.PrincipalID)
			out = append(out, incident.DirectoryChange{
				ID: "role:" + strings.ToLower(a.PrincipalID) + ":" + role + ":" + a.Kind + ":" + next.Snapshot.ID, TenantID: tenantID,
				Title:    fmt.Sprintf("%s %s the %s role", who, verb, firstNonEmpty(names[role], role)),
				Severity: roleSeverity(role), UserID: a.PrincipalID, UserPrincipalName: upn[strings.ToLower(a.PrincipalID)], At: at,
			})
		}
		if prev.ok(posture.SrcGroupMembers) && next.ok(posture.SrcGroupMembers) {
			out = append(out, groupAdditions(tenantID, prev, next, names, upn, at)...)
		}
	}
	if prev.ok(posture.SrcRegistrationDetails) && next.ok(posture.SrcRegistrationDetails) {
		before := map[string]posture.UserMFA{}
		for _, u := range prev.Users {
			before[strings.ToLower(u.ID)] = u
		}
		for _, u := range next.Users {
			b, ok := before[strings.ToLower(u.ID)]
			if !ok || b.Registered != posture.Yes || u.Registered != posture.No || u.MissingFromReport {
				continue
			}
			sev := "medium"
			if u.IsAdmin {
				sev = "high"
			}
			out = append(out, incident.DirectoryChange{
				ID: "mfaRemoved:" + strings.ToLower(u.ID) + ":" + next.Snapshot.ID, TenantID: tenantID,
				Title:    "MFA registration removed for " + firstNonEmpty(u.UserPrincipalName, u.ID),
				Severity: sev, UserID: u.ID, UserPrincipalName: u.UserPrincipalName, At: at,
			})
		}
	}
	return out
}

// groupAdditions reports users added to a group that holds a privileged
// role (role-assignable groups keep their member lists in snapshots).
func groupAdditions(tenantID string, prev, next IdentityView, names, upn map[string]string, at time.Time) []incident.DirectoryChange {
	id := next.Snapshot.Identity
	before := map[string]map[string]bool{}
	for _, g := range prev.Snapshot.Identity.Groups {
		m := map[string]bool{}
		for _, u := range g.MemberIDs {
			m[strings.ToLower(u)] = true
		}
		before[strings.ToLower(g.ID)] = m
	}
	var out []incident.DirectoryChange
	for _, g := range id.Groups {
		var roles []string
		for _, a := range id.RoleAssignments {
			if role := roleTemplate(id, a.RoleDefinitionID); strings.EqualFold(a.PrincipalID, g.ID) && posture.IsPrivileged(role) {
				roles = append(roles, firstNonEmpty(names[role], role))
			}
		}
		had, known := before[strings.ToLower(g.ID)]
		if len(roles) == 0 || !known {
			continue
		}
		for _, m := range g.MemberIDs {
			if had[strings.ToLower(m)] {
				continue
			}
			who := firstNonEmpty(upn[strings.ToLower(m)], m)
			out = append(out, incident.DirectoryChange{
				ID: "groupMember:" + strings.ToLower(g.ID) + ":" + strings.ToLower(m) + ":" + next.Snapshot.ID, TenantID: tenantID,
				Title:    fmt.Sprintf("%s was added to group %s, which holds %s", who, firstNonEmpty(g.DisplayName, g.ID), strings.Join(roles, ", ")),
				Severity: "high", UserID: m, UserPrincipalName: upn[strings.ToLower(m)], At: at,
			})
		}
	}
	return out
}

func assignmentKey(a posture.RoleAssignment) string {
	return strings.ToLower(a.PrincipalID) + "|" + strings.ToLower(a.RoleDefinitionID) + "|" + a.Kind
}

// roleTemplate maps a role definition id to its template id (equal for
// built-in roles).
func roleTemplate(id *posture.Identity, def string) string {
	for _, d := range id.RoleDefinitions {
		if strings.EqualFold(d.ID, def) && d.TemplateID != "" {
			return strings.ToLower(d.TemplateID)
		}
	}
	return strings.ToLower(def)
}

func roleNames(id *posture.Identity) map[string]string {
	out := map[string]string{}
	for _, d := range id.RoleDefinitions {
		out[strings.ToLower(firstNonEmpty(d.TemplateID, d.ID))] = d.DisplayName
	}
	return out
}

// roleSeverity: a new Global Administrator is high; other privileged
// roles medium.
func roleSeverity(template string) string {
	if template == posture.RoleGlobalAdmin {
		return "high"
	}
	return "medium"
}

// ProtectedAccountChange is the signal for a change notification about a
// user an active exception covers (break-glass accounts are the usual
// case): any change to such an account deserves a look. It returns false
// when no active exception names the user.
func ProtectedAccountChange(tenantID, userID string, userGroups []string, exceptions []controls.Exception, receivedAt time.Time) (incident.DirectoryChange, bool) {
	f := posture.Finding{Kind: posture.FindingUser, ID: userID, UserID: userID, Groups: userGroups}
	for _, x := range exceptions {
		if x.StatusAt(receivedAt) == controls.ExceptionActive && x.Covers(f) {
			return incident.DirectoryChange{
				ID: "protected:" + strings.ToLower(userID) + ":" + receivedAt.UTC().Format(time.RFC3339Nano), TenantID: tenantID,
				Title:    fmt.Sprintf("An account covered by exception %s (%s) changed", x.ControlID, x.Reason),
				Severity: "high", UserID: userID, At: receivedAt,
			}, true
		}
	}
	return incident.DirectoryChange{}, false
}

// UserOfResource returns the user id of a notification resource
// ("Users/{id}", "users('{id}')"), or "".
func UserOfResource(resource string) string {
	r := strings.Trim(resource, "/")
	lower := strings.ToLower(r)
	switch {
	case strings.HasPrefix(lower, "users/"):
		id, _, _ := strings.Cut(r[len("users/"):], "/")
		return id
	case strings.HasPrefix(lower, "users('"):
		id, _, _ := strings.Cut(r[len("users('"):], "'")
		return id
	}
	return ""
}

// DeltaSource is the tenant's Graph delta queries.
type DeltaSource interface {
	// Delta runs one round for "users" or "groups" from link (empty: full
	// sync); a refused link is resynced and reported as Resync.
	Delta(ctx context.Context, tenantID, resource, link string, wait Pace) (changed int, deltaLink string, resync bool, err error)
}

// Backstop runs the delta queries behind the subscriptions: users and
// groups subscriptions never get a missed event, so changes made while the
// webhook was down are found here within the hour.
type Backstop struct {
	Pipeline *Pipeline
	Source   DeltaSource
	Pacer    *Pacer
	Classify func(error) (posture.SourceStatus, string)
	// Reassess re-assesses the tenant's identity posture (and reports the
	// directory changes that matter) when a round found changes.
	Reassess func(ctx context.Context, tenantID string) error
	Log      *slog.Logger
}

// Run does one round per resource and re-assesses once if any changed. The
// first round of a tenant is a full sync that sets the baseline without a
// re-assessment (the hourly collection covers it).
func (b *Backstop) Run(ctx context.Context, tenantID string) (changed int, err error) {
	now := b.Pipeline.Now().UTC()
	reassess := false
	var errs []error
	for _, res := range []struct{ kind, source string }{{"users", SourceUsersDelta}, {"groups", SourceGroupsDelta}} {
		st, err := b.Pipeline.Records.Signals.Delta(ctx, tenantID, res.kind)
		if err != nil {
			return changed, err
		}
		n, link, resync, err := b.Source.Delta(ctx, tenantID, res.kind, st.Link, b.Pacer.Wait(tenantID, "directory", 50*time.Millisecond))
		if err != nil {
			s, reason := posture.SourceFailed, err.Error()
			if b.Classify != nil {
				s, reason = b.Classify(err)
			}
			_ = b.Pipeline.Records.Signals.Report(ctx, tenantID, res.source, string(s), reason, now)
			if s != posture.SourceForbidden && s != posture.SourceNotLicensed {
				errs = append(errs, fmt.Errorf("%s delta: %w", res.kind, err))
			}
			continue
		}
		note := ""
		if resync {
			note = "the delta token had expired; a full resynchronization ran"
		}
		if st.Link != "" && (n > 0 || resync) {
			reassess = true
			changed += n
		}
		next := records.DeltaState{Link: link, SyncedAt: now, FullSyncAt: st.FullSyncAt}
		if st.Link == "" || resync {
			next.FullSyncAt = now
		}
		if err := b.Pipeline.Records.Signals.SetDelta(ctx, tenantID, res.kind, next); err != nil {
			return changed, err
		}
		if err := b.Pipeline.Records.Signals.Report(ctx, tenantID, res.source, string(posture.SourceOK), note, now); err != nil {
			return changed, err
		}
	}
	if reassess && b.Reassess != nil {
		if err := b.Reassess(ctx, tenantID); err != nil {
			errs = append(errs, fmt.Errorf("re-assess after delta changes: %w", err))
		}
	}
	return changed, errors.Join(errs...)
}
