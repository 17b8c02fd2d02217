package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/records"
	"m365security/shared/settings"
	"m365security/shared/store"
)

func jsonBody(v any) ([]byte, error) { return json.Marshal(v) }

func pathEscape(s string) string { return url.PathEscape(s) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// isNotFound treats an id the store refuses as one it does not have: both
// come from a person's URL.
func isNotFound(err error) bool {
	return errors.Is(err, records.ErrNotFound) || errors.Is(err, store.ErrInvalid)
}

// defaultExceptionDays is the expiry the form proposes.
const defaultExceptionDays = 90

// maxFormBody bounds a console form; the largest, an exception naming many
// users, stays far below it.
const maxFormBody = 256 << 10

// ExceptionForm is what the create form holds, kept to show again when the
// API refuses it.
type ExceptionForm struct {
	ControlID  string
	Users      []string
	Groups     []string
	Reason     string
	ApprovedBy string
	Expires    string
}

// ExceptionsData is the exceptions page.
type ExceptionsData struct {
	Active, Expired, Revoked []ExceptionRow
	Controls                 []controls.Control
	Users, Groups            []Option
	Form                     ExceptionForm
	MinDate, MaxDate         string
}

func (c *Console) exceptionsPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	now := c.d.Now().UTC()
	f := ExceptionForm{ControlID: r.URL.Query().Get("control"), Expires: now.AddDate(0, 0, defaultExceptionDays).Format(time.DateOnly)}
	if u := c.user(r); u.Verified {
		f.ApprovedBy = u.Name
	}
	return c.renderExceptions(w, r, t, http.StatusOK, f, "")
}

func (c *Console) renderExceptions(w http.ResponseWriter, r *http.Request, t string, status int, f ExceptionForm, problem string) error {
	ctx := r.Context()
	names, _, err := c.names(ctx, t)
	if err != nil {
		return err
	}
	all, err := c.d.Assess.Exceptions(ctx, t)
	if err != nil {
		return err
	}
	now := c.d.Now().UTC()
	d := ExceptionsData{Controls: controls.Catalogue, Users: names.UserOptions(), Groups: names.GroupOptions(), Form: f,
		MinDate: now.AddDate(0, 0, 1).Format(time.DateOnly), MaxDate: now.Add(controls.MaxExceptionLifetime).Format(time.DateOnly)}
	for _, e := range all {
		row := exceptionRow(e, names)
		switch e.Status {
		case controls.ExceptionActive:
			d.Active = append(d.Active, row)
		case controls.ExceptionExpired:
			d.Expired = append(d.Expired, row)
		default:
			d.Revoked = append(d.Revoked, row)
		}
	}
	p := c.page(r, "exceptions", "Exceptions", t, d)
	p.Error = problem
	return c.render(w, status, "exceptions", p)
}

func (c *Console) createException(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	pf := r.PostForm
	f := ExceptionForm{ControlID: pf.Get("controlId"), Users: pf["user"], Groups: pf["group"],
		Reason: strings.TrimSpace(pf.Get("reason")), ApprovedBy: strings.TrimSpace(pf.Get("approvedBy")), Expires: pf.Get("expires")}
	if u := c.user(r); u.Verified && f.ApprovedBy == "" {
		f.ApprovedBy = u.Name
	}
	exp, err := time.Parse(time.DateOnly, f.Expires)
	if err != nil {
		return c.renderExceptions(w, r, t, http.StatusBadRequest, f, "The expiry must be a date.")
	}
	// The exception lasts through the chosen day, in UTC.
	exp = exp.Add(24*time.Hour - time.Second)
	users, groups := nonNil(f.Users), nonNil(f.Groups)
	body, err := jsonBody(map[string]any{"controlId": f.ControlID, "scope": map[string][]string{"users": users, "groups": groups},
		"reason": f.Reason, "approvedBy": f.ApprovedBy, "expiresAt": exp.Format(time.RFC3339)})
	if err != nil {
		return err
	}
	status, _, resp := c.d.API(r, http.MethodPost, "/api/exceptions?tenant="+t, body)
	if status != http.StatusCreated {
		return c.renderExceptions(w, r, t, http.StatusBadRequest, f, "The exception was not created: "+apiError(status, resp))
	}
	redirect(w, r, "/exceptions", t, "created")
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *Console) revokeException(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	status, _, resp := c.d.API(r, http.MethodDelete, "/api/exceptions/"+pathEscape(r.PathValue("id"))+"?tenant="+t, nil)
	if status/100 != 2 {
		return &pageError{status, "The exception was not revoked: " + apiError(status, resp)}
	}
	redirect(w, r, "/exceptions", t, "revoked")
	return nil
}

// ReportLink is one period's report with its formats.
type ReportLink struct {
	Period  string
	Formats []string
}

// ReportsData is the reports page.
type ReportsData struct {
	Monthly, Quarterly []ReportLink
	Sent               []records.SentReport
}

// reportFormats are the formats each kind offers (CONTRACT section 4).
var reportFormats = map[string][]string{"monthly": {"html", "csv", "json"}, "quarterly": {"html", "pdf", "json"}}

// Periods lists the last n months ("2026-03") and quarters ("2026-Q1")
// before now, newest first: a report covers a period that has ended.
func Periods(now time.Time, months, quarters int) ([]string, []string) {
	var ms, qs []string
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= months; i++ {
		ms = append(ms, first.AddDate(0, -i, 0).Format("2006-01"))
	}
	qStart := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= quarters; i++ {
		q := qStart.AddDate(0, -3*i, 0)
		// q starts a quarter: January, April, July or October.
		qs = append(qs, fmt.Sprintf("%d-Q%d", q.Year(), int(q.Month()+2)/3))
	}
	return ms, qs
}

func (c *Console) reportsPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	ms, qs := Periods(c.d.Now().UTC(), 12, 4)
	var d ReportsData
	for _, m := range ms {
		d.Monthly = append(d.Monthly, ReportLink{Period: m, Formats: reportFormats["monthly"]})
	}
	for _, q := range qs {
		d.Quarterly = append(d.Quarterly, ReportLink{Period: q, Formats: reportFormats["quarterly"]})
	}
	if d.Sent, err = c.d.Records.SentReports.Range(r.Context(), t, time.Time{}, time.Time{}); err != nil {
		return err
	}
	slices.Reverse(d.Sent)
	return c.render(w, http.StatusOK, "reports", c.page(r, "reports", "Reports", t, d))
}

// ReportCSP is the policy of a report passed through from the API.
const ReportCSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// reportView passes a report from the API to the browser as the API wrote
// it (its own content type and headers), so it opens in the browser or
// downloads, without a function key in the browser.
func (c *Console) reportView(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	kind := r.PathValue("kind")
	formats, ok := reportFormats[kind]
	if !ok {
		return notFound("Reports are monthly or quarterly.")
	}
	q := r.URL.Query()
	param := map[string]string{"monthly": "month", "quarterly": "quarter"}[kind]
	format := q.Get("format")
	if !containsString(formats, format) {
		return badRequest("The %s report comes as %s.", kind, strings.Join(formats, ", "))
	}
	target := "/api/reports/" + kind + "?" + url.Values{"tenant": {t}, param: {q.Get(param)}, "format": {format}}.Encode()
	status, hdr, body := c.d.API(r, http.MethodGet, target, nil)
	if missingRoute(status, body) {
		redirect(w, r, "/reports", t, "reportsMissing")
		return nil
	}
	if status/100 != 2 {
		return &pageError{status, "The report could not be produced: " + apiError(status, body)}
	}
	// A report is a document of its own, often styled inline and with
	// embedded images: it gets ReportCSP (still no script, no outside
	// resource) unless the API set a policy of its own.
	w.Header().Set("Content-Security-Policy", ReportCSP)
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Security-Policy"} {
		if v := hdr.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// SettingsData is the settings page.
type SettingsData struct {
	Targets   controls.Targets
	Settings  settings.Tenant
	Effective struct{ Reports, Incidents []string }
	Models    []string
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	return c.renderSettings(w, r, t, http.StatusOK, "")
}

func (c *Console) renderSettings(w http.ResponseWriter, r *http.Request, t string, status int, problem string) error {
	ctx := r.Context()
	var d SettingsData
	var err error
	if d.Targets, err = c.d.Assess.Targets(ctx, t); err != nil {
		return err
	}
	if d.Settings, err = c.d.Records.Settings.Tenant(ctx, t); err != nil {
		return err
	}
	d.Effective.Reports, d.Effective.Incidents = d.Settings.Reports(c.d.Defaults), d.Settings.Incidents(c.d.Defaults)
	d.Models = []string{settings.CoManaged, settings.FullyManaged}
	p := c.page(r, "settings", "Settings", t, d)
	p.Error = problem
	return c.render(w, status, "settings", p)
}

// percentFields are the targets the form shows as percentages.
var percentFields = []string{"mfaCoverage", "adminMfaCoverage", "deviceCompliance", "endpointProtectionCoverage"}

// TargetsPatch turns the targets form into the API's PUT body: percentages
// become ratios, blank fields are left as they are.
func TargetsPatch(form url.Values) (map[string]any, error) {
	patch := map[string]any{}
	for _, k := range percentFields {
		v := strings.TrimSpace(form.Get(k))
		if v == "" {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%s must be a number of percent", k)
		}
		patch[k] = f / 100
	}
	if v := strings.TrimSpace(form.Get("secureScoreMaxDropPoints")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, errors.New("secureScoreMaxDropPoints must be a number")
		}
		patch["secureScoreMaxDropPoints"] = f
	}
	for _, k := range []string{"restoreTestMaxAgeDays", "alertReviewHours"} {
		v := strings.TrimSpace(form.Get(k))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%s must be a whole number", k)
		}
		patch[k] = n
	}
	return patch, nil
}

// settingsForm is one of the settings page's forms: how it becomes a PUT
// of the JSON API, and what the page says.
type settingsForm struct {
	patch func(url.Values) (map[string]any, error)
	route string // API path, without the tenant
	what  string // "targets", "settings"
	saved string // flash key after saving
}

var (
	targetsForm        = settingsForm{TargetsPatch, "/api/targets", "targets", "targetsSaved"}
	tenantSettingsForm = settingsForm{SettingsPatch, "/api/settings", "settings", "settingsSaved"}
)

func (c *Console) saveTargets(w http.ResponseWriter, r *http.Request) error {
	return c.saveSettingsForm(w, r, targetsForm)
}

func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request) error {
	return c.saveSettingsForm(w, r, tenantSettingsForm)
}

func (c *Console) saveSettingsForm(w http.ResponseWriter, r *http.Request, f settingsForm) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	patch, err := f.patch(r.PostForm)
	if err != nil {
		return c.renderSettings(w, r, t, http.StatusBadRequest, "The "+f.what+" were not saved: "+err.Error())
	}
	body, _ := jsonBody(patch)
	status, _, resp := c.d.API(r, http.MethodPut, f.route+"?tenant="+t, body)
	if status/100 != 2 {
		return c.renderSettings(w, r, t, http.StatusBadRequest, "The "+f.what+" were not saved: "+apiError(status, resp))
	}
	redirect(w, r, "/settings", t, f.saved)
	return nil
}

// SettingsPatch turns the settings form into the API's PUT body.
// Recipients are one address a line or comma-separated; an empty box clears
// the list (the deployment defaults then apply).
func SettingsPatch(form url.Values) (map[string]any, error) {
	patch := map[string]any{}
	if m := form.Get("responsibilityModel"); m != "" {
		patch["responsibilityModel"] = m
	}
	if v := strings.TrimSpace(form.Get("autoActionsPerHour")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, errors.New("autoActionsPerHour must be a whole number")
		}
		patch["autoActionsPerHour"] = n
	}
	for _, k := range []string{"reportRecipients", "incidentRecipients"} {
		if _, ok := form[k]; ok {
			patch[k] = splitList(form.Get(k))
		}
	}
	return patch, nil
}

func splitList(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ';' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
