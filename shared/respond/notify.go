package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"m365security/shared/graph"
	"m365security/shared/incident"
	"m365security/shared/playbook"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store"
)

// Send log statuses of a notice.
const (
	NoticeSending  = "sending"
	NoticeSent     = "sent"
	NoticeRetrying = "retrying"
	NoticeFailed   = "failed"
	NoticeSkipped  = "skipped"
)

// Channels a notice goes out on.
const (
	ChannelMail    = "mail"
	ChannelWebhook = "webhook"
)

// notify sends the incident's unsent events, grouped into one message per
// channel. The events are claimed in the incident's send log first (one
// read-modify-write for all), so two notifiers never both send one; the
// outcome is recorded there and on the incident, and a failure is retried
// with backoff up to MaxAttempts. It is never returned as an error of the
// response: telling people cannot hold the response up.
func (e *Engine) notify(ctx context.Context, tenantID, incidentID string) error {
	in, err := e.o.Records.Incidents.Get(ctx, tenantID, incidentID)
	if errors.Is(err, records.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	evs := playbook.Events(in)
	if len(evs) == 0 {
		return nil
	}
	t, err := e.o.Records.Settings.Tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	recipients := t.Incidents(e.o.Defaults)
	channels := []channel{
		{name: ChannelMail, skip: mailSkip(e.o.MailSender, recipients), send: func(evs []playbook.Event) (string, error) { return e.sendMail(ctx, in, evs, recipients) }},
	}
	if t.NotifyWebhookURL != "" {
		channels = append(channels, channel{name: ChannelWebhook, send: func(evs []playbook.Event) (string, error) { return e.postWebhook(ctx, t.NotifyWebhookURL, in, evs) }})
	}
	claimed, err := e.claimNotices(ctx, in, channels, recipients, evs)
	if err != nil {
		return err
	}
	retry := false
	for i, ch := range channels {
		if len(claimed[i]) == 0 {
			continue
		}
		result, sendErr := ch.send(claimed[i])
		again, err := e.recordNotices(ctx, in, ch.name, claimed[i], result, sendErr)
		if err != nil {
			return err
		}
		retry = retry || again
	}
	if !retry {
		return nil
	}
	if e.o.Dispatcher == nil {
		return e.notify(ctx, tenantID, incidentID)
	}
	j := Job{Kind: JobNotice, TenantID: tenantID, IncidentID: incidentID}
	if err := e.o.Dispatcher.Dispatch(ctx, j, e.now().Add(e.o.Backoff)); err != nil {
		e.o.Log.Warn("queue notice retry", "tenant_id", tenantID, "incident_id", incidentID, "error", err.Error())
	}
	return nil
}

// channel is one way of telling people: skip says why it cannot send.
type channel struct {
	name, skip string
	send       func([]playbook.Event) (string, error)
}

func mailSkip(sender string, recipients []string) string {
	switch {
	case sender == "":
		return "MAIL_SENDER is unset: nothing is mailed"
	case len(recipients) == 0:
		return "no incident recipients: set incidentRecipients in /api/settings or INCIDENT_RECIPIENTS"
	}
	return ""
}

func entryKey(ev playbook.Event, channel string) string { return ev.Key + "/" + channel }

// claimNotices marks each unsent event as being sent on each channel and
// returns those claimed, per channel. A channel that cannot send logs its
// events as skipped with the reason, once.
func (e *Engine) claimNotices(ctx context.Context, in incident.Incident, channels []channel, recipients []string, evs []playbook.Event) ([][]playbook.Event, error) {
	now := e.now()
	var claimed [][]playbook.Event
	_, err := e.o.Records.Notices.Update(ctx, in.TenantID, in.ID, func(l *records.NoticeLog) error {
		claimed = make([][]playbook.Event, len(channels))
		changed := false
		for i, ch := range channels {
			for _, ev := range evs {
				k := entryKey(ev, ch.name)
				cur := l.Entries[k]
				switch {
				case cur.Status == NoticeSent || cur.Status == NoticeFailed || cur.Status == NoticeSkipped:
					continue
				case cur.Status == NoticeSending && now.Sub(cur.LastTry) < e.o.ClaimLease:
					continue
				case ch.skip != "":
					l.Entries[k] = records.NoticeEntry{Event: ev.Kind, Channel: ch.name, Status: NoticeSkipped, Result: ch.skip, LastTry: now}
				default:
					n := cur
					n.Event, n.Channel, n.Status, n.Recipients, n.LastTry = ev.Kind, ch.name, NoticeSending, recipients, now
					n.Attempts++
					l.Entries[k] = n
					claimed[i] = append(claimed[i], ev)
				}
				changed = true
			}
		}
		if !changed {
			return store.ErrUnchanged
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim notices of incident %s: %w", in.ID, err)
	}
	return claimed, nil
}

// recordNotices stores the send's outcome per event and on the incident;
// it reports whether a retry is due.
func (e *Engine) recordNotices(ctx context.Context, in incident.Incident, channel string, evs []playbook.Event, result string, sendErr error) (bool, error) {
	now := e.now()
	retry := false
	_, err := e.o.Records.Notices.Update(context.WithoutCancel(ctx), in.TenantID, in.ID, func(l *records.NoticeLog) error {
		retry = false
		for _, ev := range evs {
			k := entryKey(ev, channel)
			n := l.Entries[k]
			n.LastTry = now
			switch {
			case sendErr == nil:
				n.Status, n.Result, n.SentAt = NoticeSent, result, now
			case n.Attempts < e.o.MaxAttempts && (graph.Retryable(sendErr) || errors.Is(sendErr, errWebhookTransient)):
				n.Status, n.Result = NoticeRetrying, sendErr.Error()
				retry = true
			default:
				n.Status, n.Result = NoticeFailed, sendErr.Error()
			}
			l.Entries[k] = n
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record notices of incident %s: %w", in.ID, err)
	}
	kinds := make([]string, 0, len(evs))
	seen := map[string]bool{}
	for _, ev := range evs {
		if !seen[ev.Kind] {
			seen[ev.Kind] = true
			kinds = append(kinds, ev.Kind)
		}
	}
	entry := incident.Entry{At: now, Kind: EntryNotice, Message: fmt.Sprintf("%s notice sent (%s): %s", channel, strings.Join(kinds, ", "), result)}
	if sendErr != nil {
		state := "gave up"
		if retry {
			state = "will retry"
		}
		entry = incident.Entry{At: now, Kind: EntryNoticeFailed, Message: fmt.Sprintf("%s notice (%s) failed, %s: %v", channel, strings.Join(kinds, ", "), state, sendErr)}
	}
	_, err = e.o.Records.Incidents.Update(context.WithoutCancel(ctx), in.TenantID, in.ID, func(cur *incident.Incident) error {
		cur.Timeline = append(cur.Timeline, entry)
		return nil
	})
	if err != nil {
		return retry, fmt.Errorf("record notice on incident %s: %w", in.ID, err)
	}
	return retry, nil
}

func (e *Engine) sendMail(ctx context.Context, in incident.Incident, evs []playbook.Event, recipients []string) (string, error) {
	w, err := e.o.Writers.Writer(in.TenantID)
	if err != nil {
		return "", err
	}
	users := e.subjectPosture(ctx, in)
	subject, html, err := renderMail(in, evs, users, e.o.BaseURL)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := w.SendMail(ctx, e.o.MailSender, graph.Mail{Subject: subject, HTML: html, To: recipients}); err != nil {
		return "", err
	}
	return fmt.Sprintf("accepted by Graph for %d recipients", len(recipients)), nil
}

// UserPosture is what a notice says about one user of the incident, from
// the latest identity snapshot.
type UserPosture struct {
	User          string `json:"user"`
	GlobalAdmin   string `json:"globalAdmin"`   // yes, no or unknown
	MFARegistered string `json:"mfaRegistered"` // yes, no or unknown
}

func (e *Engine) subjectPosture(ctx context.Context, in incident.Incident) []UserPosture {
	snap, err := e.o.Records.Snapshots.Latest(ctx, in.TenantID, posture.AreaIdentity, time.Time{})
	var out []UserPosture
	for _, u := range playbook.Users(in.Entities.Users) {
		p := UserPosture{User: u, GlobalAdmin: "unknown", MFARegistered: "unknown"}
		if err == nil && snap != nil && snap.Identity != nil {
			id := u
			for _, su := range snap.Identity.Users {
				if strings.EqualFold(su.ID, u) || strings.EqualFold(su.UserPrincipalName, u) {
					id = su.ID
					if su.Registration != nil {
						p.MFARegistered = yesNo(su.Registration.IsMfaRegistered)
					}
				}
			}
			switch posture.NewDirectory(snap.Identity, snap.Sources).HasRole(id, posture.RoleGlobalAdmin) {
			case posture.Yes:
				p.GlobalAdmin = "yes"
			case posture.No:
				p.GlobalAdmin = "no"
			}
		}
		out = append(out, p)
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

var eventTitles = map[string]string{
	playbook.EventNewIncident: "New high-severity incident",
	playbook.EventAwaiting:    "Action awaiting your approval",
	playbook.EventFailed:      "Action failed",
	playbook.EventBrake:       "Safety brake engaged",
}

var mailTemplate = template.Must(template.New("mail").Parse(`<!doctype html>
<html><body style="font-family:Segoe UI,Arial,sans-serif;color:#222">
<h2>Incident {{.In.ID}}: {{.In.Severity}} {{.In.Category}}</h2>
<p>Tenant {{.In.TenantID}} · status {{.In.Status}} · alerts {{len .In.AlertIDs}}</p>
<h3>What happened</h3><ul>{{range .Events}}<li><b>{{.Title}}</b>{{with .Action}}: {{.Type}} of <code>{{.Target}}</code>{{if .Reason}} — {{.Reason}}{{end}}{{if .Error}} — {{.Error}}{{end}}{{end}}</li>{{end}}</ul>
{{if .Users}}<h3>Who it is about</h3><table border="1" cellpadding="4" style="border-collapse:collapse">
<tr><th>User</th><th>Global Administrator</th><th>MFA registered</th></tr>
{{range .Users}}<tr><td>{{.User}}</td><td>{{.GlobalAdmin}}</td><td>{{.MFARegistered}}</td></tr>{{end}}</table>{{end}}
{{if .In.Entities.Devices}}<p>Devices: {{range $i, $d := .In.Entities.Devices}}{{if $i}}, {{end}}<code>{{$d}}</code>{{end}}</p>{{end}}
{{if .Pending}}<h3>How to approve</h3><p>Each action below waits for a person with the Responder.Approve role. Approve or reject it:</p><ul>
{{range .Pending}}<li>{{.Type}} of <code>{{.Target}}</code>: <code>POST {{.Approve}}</code> (or <code>{{.Reject}}</code>) with <code>{"reason":"..."}</code></li>{{end}}</ul>{{end}}
<h3>Actions</h3><table border="1" cellpadding="4" style="border-collapse:collapse"><tr><th>Action</th><th>Target</th><th>Status</th><th>Decided by</th></tr>
{{range .In.Actions}}<tr><td>{{.Type}}</td><td><code>{{.Target}}</code></td><td>{{.Status}}</td><td>{{with .DecidedBy}}{{.Name}}{{if and (eq .Kind "person") (not .Verified)}} (unverified){{end}}{{end}}</td></tr>{{end}}</table>
<p style="color:#666">Sent by m365security. Incident data comes from the tenant and is shown as text.</p>
</body></html>`))

// pendingAction is an action awaiting approval with its decision URLs,
// path- and query-escaped before the template HTML-escapes them.
type pendingAction struct {
	Type, Target, Approve, Reject string
}

type mailEvent struct {
	Title  string
	Action *incident.Action
}

// renderMail builds the notice's subject and HTML body; every value from
// the tenant goes through html/template's escaping.
func renderMail(in incident.Incident, evs []playbook.Event, users []UserPosture, base string) (string, string, error) {
	var list []mailEvent
	var titles []string
	seen := map[string]bool{}
	for _, ev := range evs {
		list = append(list, mailEvent{Title: eventTitles[ev.Kind], Action: ev.Action})
		if !seen[ev.Kind] {
			seen[ev.Kind] = true
			titles = append(titles, eventTitles[ev.Kind])
		}
	}
	if base == "" {
		base = "https://<this deployment>"
	}
	base = strings.TrimRight(base, "/")
	var pending []pendingAction
	for _, a := range in.Actions {
		if a.Status == incident.ActionProposed && a.RequiresApproval {
			u := base + "/api/incidents/" + url.PathEscape(in.ID) + "/actions/" + url.PathEscape(a.ID) + "/"
			q := "?tenant=" + url.QueryEscape(in.TenantID)
			pending = append(pending, pendingAction{Type: a.Type, Target: a.Target, Approve: u + "approve" + q, Reject: u + "reject" + q})
		}
	}
	var b bytes.Buffer
	err := mailTemplate.Execute(&b, struct {
		In      incident.Incident
		Events  []mailEvent
		Users   []UserPosture
		Pending []pendingAction
	}{in, list, users, pending})
	if err != nil {
		return "", "", fmt.Errorf("render notice: %w", err)
	}
	subject := fmt.Sprintf("[m365security] %s: incident %s (%s %s)", strings.Join(titles, "; "), playbook.Clip(in.ID, 60), playbook.Clip(in.Severity, 20), playbook.Clip(in.Category, 30))
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(subject), b.String(), nil
}

// Webhook failures: refused (permanent) or transient (retried).
var (
	errBadWebhook       = errors.New("webhook refused the notice")
	errWebhookTransient = errors.New("webhook unavailable")
)

// maxWebhookReply bounds what is read of a webhook's answer.
const maxWebhookReply = 4 << 10

// postWebhook posts the notice as JSON (a Teams workflow or any webhook
// takes it; "text" is the readable summary).
func (e *Engine) postWebhook(ctx context.Context, target string, in incident.Incident, evs []playbook.Event) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" {
		return "", fmt.Errorf("%w: notifyWebhookUrl is not an https URL", errBadWebhook)
	}
	type item struct {
		Event    string `json:"event"`
		ActionID string `json:"actionId,omitempty"`
		Type     string `json:"type,omitempty"`
		Target   string `json:"target,omitempty"`
		Status   string `json:"status,omitempty"`
		Reason   string `json:"reason,omitempty"`
		Error    string `json:"error,omitempty"`
	}
	var items []item
	var text []string
	for _, ev := range evs {
		it := item{Event: ev.Kind}
		line := eventTitles[ev.Kind]
		if a := ev.Action; a != nil {
			it.ActionID, it.Type, it.Target, it.Status, it.Reason, it.Error = a.ID, a.Type, a.Target, a.Status, a.Reason, a.Error
			line += ": " + a.Type + " of " + a.Target
		}
		items = append(items, it)
		text = append(text, line)
	}
	body, err := json.Marshal(map[string]any{"tenantId": in.TenantID, "incidentId": in.ID, "severity": in.Severity,
		"category": in.Category, "events": items, "text": "Incident " + in.ID + ": " + strings.Join(text, "; ")})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadWebhook, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.o.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: post notice to webhook %s: %v", errWebhookTransient, u.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookReply))
	switch {
	case resp.StatusCode/100 == 2:
		return fmt.Sprintf("webhook %s answered %d", u.Host, resp.StatusCode), nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", fmt.Errorf("%w: webhook %s answered %d", errWebhookTransient, u.Host, resp.StatusCode)
	}
	return "", fmt.Errorf("%w: webhook %s answered %d", errBadWebhook, u.Host, resp.StatusCode)
}
