package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"m365security/shared/records"
	"m365security/shared/report"
)

// reportJob is the fanned-out job that mails a tenant's due reports.
const reportJob = "sendReports"

// reportFormats are the formats each report kind serves (CONTRACT
// section 4), in the order error messages name them.
var reportFormats = map[report.Kind][]string{
	report.Monthly:   {"html", "json", "csv", "pdf"},
	report.Quarterly: {"html", "json", "pdf"},
}

// reportParam is the query parameter naming each kind's period.
var reportParam = map[report.Kind]string{report.Monthly: "month", report.Quarterly: "quarter"}

func (a *app) reportMonthly(w http.ResponseWriter, r *http.Request) error {
	return a.serveReport(w, r, report.Monthly)
}

func (a *app) reportQuarterly(w http.ResponseWriter, r *http.Request) error {
	return a.serveReport(w, r, report.Quarterly)
}

// serveReport answers one report in one format. Without a period it is the
// last ended one; without a format, html.
func (a *app) serveReport(w http.ResponseWriter, r *http.Request, k report.Kind) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "html"
	}
	if !contains(reportFormats[k], format) {
		return badRequest("format must be one of %s", strings.Join(reportFormats[k], ", "))
	}
	p := report.Of(k, a.now()).Previous()
	if v := q.Get(reportParam[k]); v != "" {
		if p, err = report.Parse(k, v); err != nil {
			return badRequest("%s", strings.TrimPrefix(err.Error(), report.ErrBadPeriod.Error()+": "))
		}
	}
	rep, err := a.reports.Build(r.Context(), t, p)
	if err != nil {
		return err
	}
	var body []byte
	name := fmt.Sprintf("%s-%s", k, p.ID)
	h := w.Header()
	switch format {
	case "json":
		body, err = report.JSON(rep)
		h.Set("Content-Type", "application/json; charset=utf-8")
	case "html":
		body, err = report.HTML(rep)
		h.Set("Content-Type", "text/html; charset=utf-8")
		// The page is self-contained: no script, no fetch, inline SVG.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	case "csv":
		body, err = report.Zip(rep)
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="`+name+`-csv.zip"`)
	case "pdf":
		body, err = report.PDF(rep)
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Disposition", `inline; filename="`+name+`.pdf"`)
	}
	if err != nil {
		h.Del("Content-Disposition")
		return err
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// sentLogYears is how far back the sent log is listed.
const sentLogYears = 3

// reportsSent answers the sent log, oldest first.
func (a *app) reportsSent(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tenant(r)
	if err != nil {
		return err
	}
	now := a.now()
	list, err := a.records.SentReports.Range(r.Context(), t, now.AddDate(-sentLogYears, 0, 0), now.Add(time.Minute))
	if err != nil {
		return err
	}
	if list == nil {
		list = []records.SentReport{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tenantId": t, "sent": list})
}

// sendReports is one tenant's share of the daily report mailing. In demo
// mode it waits for the seeded history, so the first mail is not of an
// empty store.
func (a *app) sendReports(ctx context.Context, log *slog.Logger, tenantID string) error {
	if a.demoSeeded != nil {
		select {
		case <-a.demoSeeded:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := a.mailer.Run(ctx, tenantID)
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("report mailing incomplete", "error", err.Error())
	}
	return err
}
