package report

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Table is one CSV table of a report.
type Table struct {
	Name   string // file name without .csv
	About  string // one line for the zip's README
	Header []string
	Rows   [][]string
}

// Tables are the report's tabular parts, one per CSV file. Every list is
// whole here (HTML and PDF cut long lists to MaxRows).
func Tables(r Report) []Table {
	var t []Table
	metrics := Table{Name: "metrics", About: "each success metric at the period's end, the previous period's end, target, and the snapshot it comes from",
		Header: []string{"metric", "title", "status", "value", "unit", "previous", "change", "target", "meetsTarget", "reason", "snapshotId"}}
	trend := Table{Name: "trend", About: "each metric at every month end of the twelve-month trend, with the snapshot behind the point",
		Header: []string{"metric", "month", "status", "value", "reason", "snapshotId"}}
	for _, m := range r.Metrics {
		prev := ""
		if m.Previous != nil && m.Previous.IsMeasured() {
			prev = num(*m.Previous.Value)
		}
		metrics.Rows = append(metrics.Rows, []string{m.Name, m.Title, m.Value.Status, optNum(m.Value.Value), m.Unit, prev, optNum(m.Change),
			optNum(m.Target), optBool(m.MeetsTarget), m.Value.Reason, m.SnapshotID})
		for _, p := range m.Trend {
			trend.Rows = append(trend.Rows, []string{m.Name, p.Month, p.Status, optNum(p.Value), p.Reason, p.SnapshotID})
		}
	}
	t = append(t, metrics, trend)
	inc := Table{Name: "incidents", About: "the incidents created in the period",
		Header: []string{"id", "category", "severity", "status", "alerts", "entities", "createdAt", "resolvedAt"}}
	for _, i := range r.Incidents.List {
		inc.Rows = append(inc.Rows, []string{i.ID, i.Category, i.Severity, i.Status, strconv.Itoa(i.Alerts), strings.Join(i.Entities, "; "), ts(i.CreatedAt), optTS(i.ResolvedAt)})
	}
	act := Table{Name: "actions", About: "the response actions of those incidents and who decided them",
		Header: []string{"incidentId", "actionId", "type", "target", "status", "requiresApproval", "decidedBy", "executedAt", "error"}}
	for _, a := range r.Actions {
		act.Rows = append(act.Rows, []string{a.IncidentID, a.ActionID, a.Type, a.Target, a.Status, strconv.FormatBool(a.Approval), a.By, optTS(a.ExecutedAt), a.Error})
	}
	ctl := Table{Name: "controls", About: "controls newly failing, fixed, regressed or still failing in the period",
		Header: []string{"id", "title", "area", "severity", "status", "change", "failingSince", "daysOutOfCompliance"}}
	for _, c := range r.Controls {
		ctl.Rows = append(ctl.Rows, []string{c.ID, c.Title, c.Area, c.Severity, c.Status, string(c.Change), optTS(c.FailingSince), num(c.DaysOutOfCompliance)})
	}
	users := Table{Name: "mfa_users", About: "users not protected by MFA at the period's end, why, and the exceptions covering them",
		Header: []string{"id", "userPrincipalName", "displayName", "admin", "registered", "enforced", "reason", "excludedBy", "coveredBy", "snapshotId"}}
	for _, u := range r.MFA.Users {
		users.Rows = append(users.Rows, []string{u.ID, u.UserPrincipalName, u.DisplayName, strconv.FormatBool(u.Admin), u.Registered, u.Enforced, u.Reason,
			strings.Join(u.ExcludedBy, "; "), strings.Join(u.CoveredBy, "; "), r.MFA.SnapshotID})
	}
	dev := Table{Name: "devices", About: "devices non-compliant, without active endpoint protection, or that cannot be measured",
		Header: []string{"list", "id", "name", "detail", "snapshotId"}}
	for _, l := range []struct {
		name string
		list DeviceList
	}{{"noncompliant", r.Devices.Noncompliant}, {"unprotected", r.Devices.Unprotected}, {"unmeasured", r.Devices.Unmeasured}} {
		for _, d := range l.list.Items {
			dev.Rows = append(dev.Rows, []string{l.name, d.ID, d.Name, d.Detail, r.Devices.SnapshotID})
		}
	}
	rt := Table{Name: "restore_tests", About: "backup restore tests performed in the period",
		Header: []string{"id", "performedAt", "workload", "succeeded", "notes"}}
	for _, x := range r.RestoreTests {
		rt.Rows = append(rt.Rows, []string{x.ID, ts(x.PerformedAt), x.Workload, strconv.FormatBool(x.Succeeded), x.Notes})
	}
	col := Table{Name: "collection", About: "sources that could not be read at the period's end, why, and since when",
		Header: []string{"area", "source", "status", "reason", "failingSince", "snapshotId"}}
	for _, c := range r.Collection {
		col.Rows = append(col.Rows, []string{c.Area, c.Source, c.Status, c.Reason, optTS(c.FailingSince), c.SnapshotID})
	}
	exc := Table{Name: "exceptions", About: "risk acceptances in force in the period",
		Header: []string{"id", "controlId", "reason", "approvedBy", "expiresAt", "status", "scopeSize"}}
	for _, e := range r.Exceptions {
		exc.Rows = append(exc.Rows, []string{e.ID, e.ControlID, e.Reason, e.ApprovedBy, ts(e.ExpiresAt), e.Status, strconv.Itoa(e.Scope)})
	}
	acc := Table{Name: "accountability", About: "who configures, monitors, responds and reports per control area",
		Header: []string{"area", "duty", "role", "contact", "note"}}
	for _, a := range r.Accountability {
		for _, d := range []struct {
			duty string
			p    Party
		}{{"configures", a.Configures}, {"monitors", a.Monitors}, {"responds", a.Responds}, {"reports", a.Reports}} {
			acc.Rows = append(acc.Rows, []string{a.Title, d.duty, d.p.Role, d.p.Contact, d.p.Note})
		}
	}
	ev := Table{Name: "evidence", About: "every stored record the report's numbers come from",
		Header: []string{"kind", "id"}}
	for _, e := range []struct {
		kind string
		ids  []string
	}{{"snapshot", r.Evidence.Snapshots}, {"incident", r.Evidence.Incidents}, {"exception", r.Evidence.Exceptions}, {"restoreTest", r.Evidence.RestoreTests}} {
		for _, id := range e.ids {
			ev.Rows = append(ev.Rows, []string{e.kind, id})
		}
	}
	return append(t, inc, act, ctl, users, dev, rt, col, exc, acc, ev)
}

// CSV writes one table, every cell guarded against formula injection.
func CSV(t Table) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(guardRow(t.Header))
	for _, r := range t.Rows {
		_ = w.Write(guardRow(r))
	}
	w.Flush()
	return buf.Bytes()
}

// Zip writes every table as <name>.csv in one zip with a README.txt naming
// each file, so a period's tables travel as one download or attachment.
func Zip(r Report) ([]byte, error) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	tables := Tables(r)
	// A fixed modification time keeps the archive byte-identical for the
	// same report.
	mod := r.GeneratedAt
	var readme strings.Builder
	fmt.Fprintf(&readme, "%s, %s, tenant %s (%s).\r\nOne CSV file per table, UTF-8, comma-separated, header row first. Cells that would start a spreadsheet formula are prefixed with an apostrophe.\r\n\r\n", Title(r.Kind), r.Period.Title(), r.TenantName, r.TenantID)
	for _, t := range tables {
		fmt.Fprintf(&readme, "%s.csv: %s (%d rows)\r\n", t.Name, t.About, len(t.Rows))
	}
	files := append([]struct {
		name string
		body []byte
	}{{"README.txt", []byte(readme.String())}}, nil...)
	for _, t := range tables {
		files = append(files, struct {
			name string
			body []byte
		}{t.Name + ".csv", CSV(t)})
	}
	for _, f := range files {
		w, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mod})
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
		if _, err := w.Write(f.body); err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
	}
	if err := z.Close(); err != nil {
		return nil, fmt.Errorf("zip csv tables: %w", err)
	}
	return buf.Bytes(), nil
}

// formulaStart are the first characters a spreadsheet reads as a formula
// (OWASP CSV injection), tab and carriage return included.
const formulaStart = "=+-@\t\r"

// Guard prefixes a cell a spreadsheet would evaluate with an apostrophe. A
// plain number ("-2.5") is left alone: it is data, not a formula.
func Guard(s string) string {
	if s == "" || !strings.ContainsRune(formulaStart, rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

func guardRow(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		out[i] = Guard(c)
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func optNum(v *float64) string {
	if v == nil {
		return ""
	}
	return num(*v)
}

func optBool(v *bool) string {
	if v == nil {
		return ""
	}
	return strconv.FormatBool(*v)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optTS(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}
