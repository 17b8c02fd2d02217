// Package reportmail delivers the reviews of shared/report by mail: for
// one tenant it finds every period that is due and not yet sent, builds
// the report, composes an HTML mail with inline PNG charts and the PDF and
// CSV attached under Graph's 3 MB limit, sends it through graph.Writer
// from MAIL_SENDER, and keeps the sent log (records.SentReports) so a
// period is sent once, a failed send is retried and visible, and a missing
// configuration is recorded with its reason.
package reportmail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"m365security/shared/graph"
	"m365security/shared/records"
	"m365security/shared/report"
	"m365security/shared/settings"
)

// Sender sends one mail from a mailbox; graph.Writer is one. Its errors
// are graph's classified errors (graph.Retryable decides).
type Sender interface {
	SendMail(ctx context.Context, sender string, m graph.Mail) error
}

var _ Sender = (*graph.Writer)(nil)

// Sent-log statuses.
const (
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// claimFor is how long a "sending" claim holds off another run: a send
// that crashed before recording its outcome is tried again after it.
const claimFor = 15 * time.Minute

// Config wires a Mailer.
type Config struct {
	Records *records.Records
	Builder *report.Builder
	// Writer returns the tenant's Graph writer (the responder identity).
	Writer func(tenantID string) (Sender, error)
	// ResponderConfigured is false when no responder identity exists:
	// nothing can be sent, and the log says so.
	ResponderConfigured bool
	// MailSender is MAIL_SENDER; empty: nothing is sent, the log says why.
	MailSender string
	Defaults   settings.Defaults
	// BaseURL is PUBLIC_BASE_URL, used to say where left-out attachments
	// can be downloaded; empty names the API path alone.
	BaseURL string
	Now     func() time.Time
	Log     *slog.Logger
}

// Mailer sends due reports.
type Mailer struct{ c Config }

// New returns a Mailer.
func New(c Config) *Mailer { return &Mailer{c: c} }

// Kinds are the report kinds delivered, in sending order.
var Kinds = []report.Kind{report.Monthly, report.Quarterly}

// ErrRetry marks a run in which a send failed in a way worth retrying
// (throttled, unavailable): the caller lets the queue redeliver.
var ErrRetry = errors.New("report mail will be retried")

// Run sends every due, unsent period of the tenant. A period already sent
// is skipped; one another run is sending is left to it. It returns an
// error wrapping ErrRetry when a send failed retryably; permanent failures
// are recorded in the sent log (and tried again the next day) but return
// nil, since redelivery would fail the same way.
func (m *Mailer) Run(ctx context.Context, tenantID string) error {
	now := m.c.Now().UTC()
	since, ok, err := m.c.Records.History.Earliest(ctx, tenantID)
	if err != nil {
		return err
	}
	if !ok {
		// Never monitored: only the last ended period is due, and it is
		// sent saying there is no data.
		since = now
	}
	var errs []error
	for _, k := range Kinds {
		for _, p := range report.Due(k, now, since) {
			if err := m.send(ctx, tenantID, p, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// errSkip ends a claim that finds the period sent or being sent.
var errSkip = errors.New("skip")

func (m *Mailer) send(ctx context.Context, tenantID string, p report.Period, now time.Time) error {
	log := m.c.Log.With("tenant_id", tenantID, "kind", string(p.Kind), "period", p.ID)
	set, err := m.c.Records.Settings.Tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	to := set.Reports(m.c.Defaults)
	// Claim the period: the read-modify-write makes two concurrent runs
	// see each other, so only one sends.
	_, err = m.c.Records.SentReports.Update(ctx, tenantID, string(p.Kind), p.ID, func(e *records.SentReport, exists bool) error {
		switch {
		case e.Status == StatusSent:
			return errSkip
		case e.Status == StatusSending && now.Sub(e.LastTry) < claimFor:
			return errSkip
		}
		e.Status, e.Attempts, e.LastTry, e.Recipients, e.Result = StatusSending, e.Attempts+1, now, to, ""
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim %s %s: %w", p.Kind, p.ID, err)
	}
	result, sendErr := m.deliver(ctx, tenantID, p, to)
	status := StatusSent
	if sendErr != nil {
		status, result = StatusFailed, sendErr.Error()
	}
	if _, err := m.c.Records.SentReports.Update(ctx, tenantID, string(p.Kind), p.ID, func(e *records.SentReport, _ bool) error {
		e.Status, e.Result, e.LastTry = status, result, now
		if status == StatusSent {
			e.SentAt = now
		}
		return nil
	}); err != nil {
		// The mail may be out while the log says "sending": the claim
		// expires and the next run sends again — at least once, never lost.
		return fmt.Errorf("record %s %s as %s: %w", p.Kind, p.ID, status, err)
	}
	if sendErr == nil {
		log.Info("report sent", "recipients", len(to), "result", result)
		return nil
	}
	if graph.Retryable(sendErr) {
		log.Warn("report mail failed; it will be retried", "error", sendErr.Error())
		return fmt.Errorf("%w: %s %s: %v", ErrRetry, p.Kind, p.ID, sendErr)
	}
	log.Error("report mail failed", "error", sendErr.Error())
	return nil
}

// deliver builds, composes and sends one report; the string is the sent
// log's result.
func (m *Mailer) deliver(ctx context.Context, tenantID string, p report.Period, to []string) (string, error) {
	switch {
	case m.c.MailSender == "":
		return "", errors.New("not sent: MAIL_SENDER is not set")
	case !m.c.ResponderConfigured:
		return "", errors.New("not sent: no responder identity (RESPONDER_CLIENT_ID) to send mail as")
	case len(to) == 0:
		return "", errors.New("not sent: no report recipients (settings reportRecipients or REPORT_RECIPIENTS)")
	}
	r, err := m.c.Builder.Build(ctx, tenantID, p)
	if err != nil {
		return "", fmt.Errorf("build report: %w", err)
	}
	mail, summary, err := Compose(r, to, m.downloadURL(r))
	if err != nil {
		return "", err
	}
	w, err := m.c.Writer(tenantID)
	if err != nil {
		return "", fmt.Errorf("graph writer: %w", err)
	}
	if err := w.SendMail(ctx, m.c.MailSender, mail); err != nil {
		return "", err
	}
	return "accepted by Graph (202): " + summary, nil
}

// downloadURL is where a report's formats can be fetched.
func (m *Mailer) downloadURL(r report.Report) string {
	q := url.Values{"tenant": {r.TenantID}}
	path := "/api/reports/monthly"
	if r.Kind == report.Quarterly {
		path = "/api/reports/quarterly"
		q.Set("quarter", r.Period.ID)
	} else {
		q.Set("month", r.Period.ID)
	}
	return strings.TrimRight(m.c.BaseURL, "/") + path + "?" + q.Encode()
}
