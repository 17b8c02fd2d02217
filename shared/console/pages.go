package console

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
)

// trendDays is how far back the overview's sparklines reach.
const trendDays = 30

// Display bounds: a page lists at most this many rows and says how many
// more there are (the CSV export has them all).
const (
	maxRows         = 500
	maxFindingsRows = 200
	summaryPageSize = 50
)

// AreaHealth is one collection area's latest run as the overview shows it.
type AreaHealth struct {
	Area    posture.Area
	TakenAt *time.Time
	// Problems are the sources not read completely, with why.
	Problems []posture.Source
	Never    bool
}

// OverviewData is the overview page.
type OverviewData struct {
	AsOf      time.Time
	Cards     []MetricCard
	Failing   []SeverityGroup
	Open      []incident.Incident
	Pending   int
	Health    []AreaHealth
	Unknown   []MetricCard
	LastSent  *records.SentReport
	NoControl bool
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("tenant") == "" && len(c.d.Tenants) != 1 {
		return c.summary(w, r)
	}
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d, err := c.overview(ctx, t)
	if err != nil {
		return err
	}
	return c.render(w, http.StatusOK, "overview", c.page(r, "overview", "Overview", t, d))
}

func (c *Console) overview(ctx context.Context, t string) (OverviewData, error) {
	var d OverviewData
	m, err := c.d.Assess.Metrics(ctx, t, time.Time{})
	if err != nil {
		return d, err
	}
	d.AsOf = m.AsOf
	targets, err := c.d.Assess.Targets(ctx, t)
	if err != nil {
		return d, err
	}
	now := c.d.Now().UTC()
	hist, err := c.d.Assess.MetricsHistory(ctx, t, now.AddDate(0, 0, -trendDays), now.Add(time.Second))
	if err != nil {
		return d, err
	}
	points := make([]map[string]posture.Metric, 0, len(hist))
	for _, h := range hist {
		points = append(points, h.Metrics)
	}
	d.Cards = Cards(m.Metrics, targets, points)
	for _, card := range d.Cards {
		if card.Rating == RatingUnknown {
			d.Unknown = append(d.Unknown, card)
		}
	}
	cv, err := c.d.Assess.Controls(ctx, t, time.Time{})
	if err != nil {
		return d, err
	}
	d.Failing = FailingBySeverity(cv.Controls)
	open, err := c.d.Records.Incidents.List(ctx, t, records.IncidentQuery{OpenOnly: true})
	if err != nil {
		return d, err
	}
	slices.Reverse(open)
	d.Open = open
	for _, in := range open {
		d.Pending += in.PendingApprovals()
	}
	col, err := c.d.Assess.Collection(ctx, t, time.Time{})
	if err != nil {
		return d, err
	}
	for _, a := range posture.Areas {
		st := col.Areas[a]
		h := AreaHealth{Area: a, TakenAt: st.TakenAt, Never: st.TakenAt == nil}
		for _, s := range st.Sources {
			if !s.OK() {
				h.Problems = append(h.Problems, s)
			}
		}
		d.Health = append(d.Health, h)
	}
	sent, err := c.d.Records.SentReports.Range(ctx, t, time.Time{}, time.Time{})
	if err != nil {
		return d, err
	}
	if len(sent) > 0 {
		last := sent[0]
		for _, s := range sent[1:] {
			if s.LastTry.After(last.LastTry) {
				last = s
			}
		}
		d.LastSent = &last
	}
	return d, nil
}

// TenantRow is one tenant in the all-tenants summary.
type TenantRow struct {
	Tenant   string
	Coverage MetricCard
	Failing  int
	Open     string
	Pending  string
	AsOf     time.Time
}

// SummaryData is the all-tenants page.
type SummaryData struct {
	Rows       []TenantRow
	Page, Last int
}

func (c *Console) summary(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	last := (len(c.d.Tenants) - 1) / summaryPageSize
	n = max(0, min(n, last))
	var d SummaryData
	d.Page, d.Last = n, last
	end := min(len(c.d.Tenants), (n+1)*summaryPageSize)
	for _, t := range c.d.Tenants[n*summaryPageSize : end] {
		m, err := c.d.Assess.Metrics(ctx, t, time.Time{})
		if err != nil {
			return err
		}
		targets, err := c.d.Assess.Targets(ctx, t)
		if err != nil {
			return err
		}
		cv, err := c.d.Assess.Controls(ctx, t, time.Time{})
		if err != nil {
			return err
		}
		row := TenantRow{Tenant: t, AsOf: m.AsOf, Coverage: Cards(m.Metrics, targets, nil)[0],
			Open: countOf(m.Metrics[posture.MetricOpenIncidents]), Pending: countOf(m.Metrics[posture.MetricPendingApprovals])}
		for _, res := range cv.Controls {
			if res.Status == controls.Fail {
				row.Failing++
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return c.render(w, http.StatusOK, "tenants", c.page(r, "tenants", "All tenants", "", d))
}

func countOf(m posture.Metric) string {
	if !m.IsMeasured() {
		return "unknown"
	}
	return strconv.FormatFloat(*m.Value, 'f', 0, 64)
}

// ControlsData is the controls list.
type ControlsData struct {
	Filter   ControlFilter
	Controls []controls.Result
	Total    int
	AsOf     time.Time
	Statuses []controls.Status
}

func (c *Console) controlsPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := ControlFilter{Status: q.Get("status"), Severity: q.Get("severity"), Query: truncate(q.Get("q"), 100)}
	if f.Status != "" && !slices.Contains(controls.Statuses, controls.Status(f.Status)) {
		return badRequest("Status must be pass, fail, unknown or excepted.")
	}
	if _, ok := severityOrder[controls.Severity(f.Severity)]; f.Severity != "" && !ok {
		return badRequest("Severity must be critical, high, medium or low.")
	}
	cv, err := c.d.Assess.Controls(r.Context(), t, time.Time{})
	if err != nil {
		return err
	}
	list := f.Filter(cv.Controls)
	sort.SliceStable(list, func(i, j int) bool {
		if rank(list[i].Severity) != rank(list[j].Severity) {
			return rank(list[i].Severity) < rank(list[j].Severity)
		}
		return list[i].ID < list[j].ID
	})
	d := ControlsData{Filter: f, Controls: list, Total: len(cv.Controls), AsOf: cv.AsOf, Statuses: controls.Statuses}
	return c.render(w, http.StatusOK, "controls", c.page(r, "controls", "Controls", t, d))
}

// FindingRow is a finding with its subject named.
type FindingRow struct {
	Kind   string
	Name   string
	Detail string
}

// ExceptionRow is an exception with its scope named.
type ExceptionRow struct {
	controls.Exception
	Users  []string
	Groups []string
	Title  string
}

// ControlData is one control's page.
type ControlData struct {
	Result     controls.Result
	Findings   []FindingRow
	More       int
	Evidence   []KV
	Exceptions []ExceptionRow
	History    *controls.ControlHistory
}

// KV is one evidence entry.
type KV struct {
	Key   string
	Value any
}

func (c *Console) names(ctx context.Context, t string) (Names, []posture.UserMFA, error) {
	snap, err := c.d.Assess.Latest(ctx, t, posture.AreaIdentity, time.Time{})
	if err != nil {
		return Names{}, nil, err
	}
	users, err := c.d.Assess.MFAUsers(ctx, t, time.Time{}, false)
	if err != nil {
		return Names{}, nil, err
	}
	var id *posture.Identity
	if snap != nil {
		id = snap.Identity
	}
	return NamesFrom(id, users.Users), users.Users, nil
}

func (c *Console) controlPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	cv, err := c.d.Assess.Controls(ctx, t, time.Time{})
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	i := slices.IndexFunc(cv.Controls, func(res controls.Result) bool { return res.ID == id })
	if i < 0 {
		return notFound("There is no control with that id.")
	}
	names, _, err := c.names(ctx, t)
	if err != nil {
		return err
	}
	d := ControlData{Result: cv.Controls[i]}
	for k, v := range d.Result.Evidence {
		d.Evidence = append(d.Evidence, KV{k, v})
	}
	sort.Slice(d.Evidence, func(i, j int) bool { return d.Evidence[i].Key < d.Evidence[j].Key })
	for j, f := range d.Result.Findings.Items {
		if j == maxFindingsRows {
			break
		}
		d.Findings = append(d.Findings, FindingRow{Kind: f.Kind, Name: names.Finding(f), Detail: f.Detail})
	}
	d.More = d.Result.Findings.Total - len(d.Findings)
	all, err := c.d.Assess.Exceptions(ctx, t)
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.ControlID == id {
			d.Exceptions = append(d.Exceptions, exceptionRow(e, names))
		}
	}
	now := c.d.Now().UTC()
	h, err := c.d.Assess.ControlsHistory(ctx, t, now.AddDate(0, 0, -trendDays), now.Add(time.Second))
	if err != nil {
		return err
	}
	for k := range h.Controls {
		if h.Controls[k].ID == id {
			d.History = &h.Controls[k]
		}
	}
	return c.render(w, http.StatusOK, "control", c.page(r, "controls", d.Result.Title, t, d))
}

func exceptionRow(e controls.Exception, n Names) ExceptionRow {
	row := ExceptionRow{Exception: e}
	for _, u := range e.Scope.Users {
		row.Users = append(row.Users, n.User(u))
	}
	for _, g := range e.Scope.Groups {
		row.Groups = append(row.Groups, n.Group(g))
	}
	if ctl, ok := controls.ByID(e.ControlID); ok {
		row.Title = ctl.Title
	}
	return row
}

// MFARow is one user on the MFA page, in words.
type MFARow struct {
	posture.UserMFA
	EnforcedByNames []string
	Exclusions      []string
}

// MFAData is the MFA users page.
type MFAData struct {
	Query, Status string
	Rows          []MFARow
	Matched       int
	More          int
	AsOf          time.Time
	Collected     bool
}

func (c *Console) mfaRows(r *http.Request) (string, MFAData, []MFARow, error) {
	t, err := c.tenant(r)
	if err != nil {
		return "", MFAData{}, nil, err
	}
	q := r.URL.Query()
	d := MFAData{Query: truncate(q.Get("q"), 100), Status: q.Get("status")}
	switch d.Status {
	case "":
		d.Status = "unprotected"
	case "unprotected", "all":
	default:
		return t, d, nil, badRequest("Status must be unprotected or all.")
	}
	ctx := r.Context()
	names, _, err := c.names(ctx, t)
	if err != nil {
		return t, d, nil, err
	}
	v, err := c.d.Assess.MFAUsers(ctx, t, time.Time{}, d.Status == "unprotected")
	if err != nil {
		return t, d, nil, err
	}
	d.AsOf, d.Collected = v.AsOf, v.SnapshotID != ""
	var rows []MFARow
	for _, u := range v.Users {
		if !MatchUser(u, d.Query) {
			continue
		}
		row := MFARow{UserMFA: u}
		for _, p := range u.EnforcedBy {
			row.EnforcedByNames = append(row.EnforcedByNames, names.Policy(p))
		}
		for _, e := range u.ExcludedBy {
			row.Exclusions = append(row.Exclusions, `"`+e.PolicyName+`": `+names.Via(e.Via))
		}
		rows = append(rows, row)
	}
	return t, d, rows, nil
}

func (c *Console) mfaPage(w http.ResponseWriter, r *http.Request) error {
	t, d, rows, err := c.mfaRows(r)
	if err != nil {
		return err
	}
	d.Matched = len(rows)
	if len(rows) > maxRows {
		d.More, rows = len(rows)-maxRows, rows[:maxRows]
	}
	d.Rows = rows
	return c.render(w, http.StatusOK, "mfa", c.page(r, "mfa", "MFA users", t, d))
}

func (c *Console) mfaCSV(w http.ResponseWriter, r *http.Request) error {
	t, d, rows, err := c.mfaRows(r)
	if err != nil {
		return err
	}
	out := make([][]string, 0, len(rows))
	for _, u := range rows {
		out = append(out, []string{u.DisplayName, u.UserPrincipalName, strconv.FormatBool(u.IsAdmin), string(u.Registered),
			string(u.Enforced), string(u.Protected), strings.Join(u.EnforcedByNames, "; "), strings.Join(u.Exclusions, "; "), u.Reason})
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []string{"displayName", "userPrincipalName", "isAdmin", "registered", "enforced", "protected",
		"enforcedBy", "excludedBy", "reason"}, out); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mfa-users-`+d.Status+`-`+t+`.csv"`)
	_, err = w.Write(buf.Bytes())
	return err
}

// DevicesData is the devices page.
type DevicesData struct {
	AsOf         time.Time
	Collected    bool
	Platforms    []PlatformRow
	Noncompliant []FindingRow
	Unprotected  []FindingRow
	Unmeasured   []FindingRow
	Lists        map[string]int
}

func (c *Console) devicesPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	snap, err := c.d.Assess.Latest(r.Context(), t, posture.AreaDevices, time.Time{})
	if err != nil {
		return err
	}
	d := DevicesData{Lists: map[string]int{}}
	if snap != nil {
		d.AsOf, d.Collected = snap.TakenAt, true
		d.Platforms = Platforms(snap)
		rows := func(name string) []FindingRow {
			l := snap.Findings[name]
			d.Lists[name] = l.Total
			var out []FindingRow
			for i, f := range l.Items {
				if i == maxFindingsRows {
					break
				}
				out = append(out, FindingRow{Kind: f.Kind, Name: f.Name, Detail: f.Detail})
			}
			return out
		}
		d.Noncompliant = rows(posture.ListNoncompliantDevice)
		d.Unprotected = rows(posture.ListUnprotectedDevices)
		d.Unmeasured = rows(posture.ListUnmeasuredDevices)
	}
	return c.render(w, http.StatusOK, "devices", c.page(r, "devices", "Devices", t, d))
}

// IncidentsData is the incidents list.
type IncidentsData struct {
	Status    string
	Incidents []incident.Incident
	Statuses  []string
}

var incidentStatuses = []string{incident.StatusNew, incident.StatusAwaitingApproval, incident.StatusInProgress, incident.StatusResolved}

func (c *Console) incidentsPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	d := IncidentsData{Status: r.URL.Query().Get("status"), Statuses: incidentStatuses}
	if d.Status != "" && !slices.Contains(incidentStatuses, d.Status) {
		return badRequest("Status must be one of %s.", strings.Join(incidentStatuses, ", "))
	}
	list, err := c.d.Records.Incidents.List(r.Context(), t, records.IncidentQuery{Status: d.Status})
	if err != nil {
		return err
	}
	slices.Reverse(list)
	d.Incidents = list
	return c.render(w, http.StatusOK, "incidents", c.page(r, "incidents", "Incidents", t, d))
}

// EntityPosture is what the console knows about one user an incident names.
type EntityPosture struct {
	ID   string
	Name string
	MFA  *posture.UserMFA
}

// ActionRow is an action with the decisions a person may take on it.
type ActionRow struct {
	incident.Action
	CanDecide bool
	CanUndo   bool
}

// IncidentData is one incident's page.
type IncidentData struct {
	Incident incident.Incident
	Users    []EntityPosture
	Actions  []ActionRow
}

// undoable are the action types undo reverses (CONTRACT section 7).
var undoable = map[string]bool{incident.ActionDisableAccount: true}

// ActionRows says which buttons each action gets: approve and reject while
// it waits for a person, undo once a reversible one ran.
func ActionRows(actions []incident.Action) []ActionRow {
	out := make([]ActionRow, 0, len(actions))
	for _, a := range actions {
		out = append(out, ActionRow{Action: a,
			CanDecide: a.RequiresApproval && a.Status == incident.ActionProposed,
			CanUndo:   undoable[a.Type] && a.Status == incident.ActionExecuted})
	}
	return out
}

func (c *Console) incidentPage(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	in, err := c.d.Records.Incidents.Get(ctx, t, r.PathValue("id"))
	if err != nil {
		if isNotFound(err) {
			return notFound("There is no incident with that id.")
		}
		return err
	}
	names, users, err := c.names(ctx, t)
	if err != nil {
		return err
	}
	d := IncidentData{Incident: in, Actions: ActionRows(in.Actions)}
	for _, u := range in.Entities.Users {
		e := EntityPosture{ID: u, Name: names.User(u)}
		for i := range users {
			if strings.EqualFold(users[i].ID, u) || strings.EqualFold(users[i].UserPrincipalName, u) {
				e.MFA = &users[i]
				e.Name = userLabel(users[i].DisplayName, users[i].UserPrincipalName)
			}
		}
		d.Users = append(d.Users, e)
	}
	sort.SliceStable(d.Incident.Timeline, func(i, j int) bool { return d.Incident.Timeline[i].At.Before(d.Incident.Timeline[j].At) })
	return c.render(w, http.StatusOK, "incident", c.page(r, "incidents", "Incident", t, d))
}

// decisions maps a button to its contract route verb and flash.
var decisions = map[string]string{"approve": "approved", "reject": "rejected", "undo": "undone"}

func (c *Console) decide(w http.ResponseWriter, r *http.Request) error {
	t, err := c.tenant(r)
	if err != nil {
		return err
	}
	decision := r.PathValue("decision")
	done, ok := decisions[decision]
	if !ok {
		return notFound("An action can be approved, rejected or undone.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	id, action := r.PathValue("id"), r.PathValue("actionId")
	body, _ := jsonBody(map[string]string{"by": strings.TrimSpace(r.PostForm.Get("by")), "reason": strings.TrimSpace(r.PostForm.Get("reason"))})
	target := "/api/incidents/" + pathEscape(id) + "/actions/" + pathEscape(action) + "/" + decision + "?tenant=" + t
	status, _, resp := c.d.API(r, http.MethodPost, target, body)
	switch {
	case status/100 == 2:
		redirect(w, r, "/incidents/"+pathEscape(id), t, done)
		return nil
	case missingRoute(status, resp):
		return &pageError{http.StatusNotImplemented, "Approving, rejecting and undoing actions is not available in this build yet."}
	}
	return &pageError{status, "The action could not be " + done + ": " + apiError(status, resp)}
}
