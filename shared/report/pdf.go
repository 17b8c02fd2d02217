package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"

	"m365security/shared/chart"
)

// Page geometry in millimetres (A4 portrait).
const (
	pdfMargin = 15.0
	pdfWidth  = 210.0 - 2*pdfMargin
	pdfLine   = 4.5
)

// ascii replaces the few characters the reports use that cp1252 lacks, so
// they do not print as dots.
var ascii = strings.NewReplacer("−", "-", "≥", ">=", "→", "->")

// pdfDoc wraps fpdf with the translation every tenant string needs: the
// core fonts are cp1252, so UTF-8 goes through fpdf's translator (runes
// outside cp1252 print as '.'). Text is drawn as text, never interpreted,
// so hostile names stay inert.
type pdfDoc struct {
	*fpdf.Fpdf
	tr func(string) string
}

func (d *pdfDoc) t(s string) string { return d.tr(ascii.Replace(s)) }

// PDF renders the report: charts as PNG images, the tenant name, period
// and page number on every page.
func PDF(r Report) ([]byte, error) {
	charts, risk, err := Charts(r, chart.PNG)
	if err != nil {
		return nil, err
	}
	f := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{Fpdf: f, tr: f.UnicodeTranslatorFromDescriptor("")}
	f.SetCreationDate(r.GeneratedAt)
	f.SetModificationDate(r.GeneratedAt)
	f.SetCatalogSort(true)
	f.SetTitle(d.t(Title(r.Kind)+" "+r.Period.Title()), false)
	f.SetAuthor("m365security", false)
	f.SetMargins(pdfMargin, 22, pdfMargin)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	head := d.t(Title(r.Kind) + " · " + r.TenantName + " · " + r.Period.Title())
	f.SetHeaderFunc(func() {
		f.SetY(10)
		f.SetFont("Helvetica", "", 8)
		f.SetTextColor(90, 90, 90)
		f.CellFormat(pdfWidth, 5, head, "B", 1, "L", false, 0, "")
		f.SetTextColor(0, 0, 0)
		f.SetY(22)
	})
	f.SetFooterFunc(func() {
		f.SetY(-13)
		f.SetFont("Helvetica", "", 8)
		f.SetTextColor(90, 90, 90)
		f.CellFormat(pdfWidth/2, 5, d.t(r.TenantName+" · "+r.Period.ID), "", 0, "L", false, 0, "")
		f.CellFormat(pdfWidth/2, 5, fmt.Sprintf("Page %d of {nb}", f.PageNo()), "", 0, "R", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()
	f.SetFont("Helvetica", "B", 16)
	f.CellFormat(pdfWidth, 8, d.t(Title(r.Kind)), "", 1, "L", false, 0, "")
	f.SetFont("Helvetica", "", 10)
	d.para(r.TenantName + " (" + r.TenantID + "), " + r.Period.Title() + ". Generated " + datetime(r.GeneratedAt) + ".")
	d.para(r.Coverage.Message)

	if e := r.Executive; e != nil {
		d.heading("Risk trend")
		if risk != nil {
			if err := d.image(*risk); err != nil {
				return nil, err
			}
		}
		d.heading("Top open risks")
		rows := [][]string{}
		for _, k := range e.TopRisks {
			rows = append(rows, []string{k.Title + " (" + k.ControlID + ")", k.Severity, k.Owner.Role + ": " + k.Owner.Contact, k.Remediation})
		}
		d.table([]string{"Risk", "Severity", "Owner", "Remediation"}, []float64{50, 18, 45, 67}, rows, "No control was failing at the quarter's end.")
		d.heading("Progress against targets")
		rows = rows[:0]
		for _, t := range e.Targets {
			rows = append(rows, []string{t.Title, pct(t.Start), pct(t.End), FormatValue(t.Target, "ratio")})
		}
		d.table([]string{"Target", "Start", "End", "Target"}, []float64{80, 33, 33, 34}, rows, "")
		d.heading("Then and now")
		c := e.Comparison
		if c.Message != "" {
			d.para(c.Message)
		}
		d.table([]string{"", c.First.Quarter, c.Latest.Quarter}, []float64{80, 50, 50}, [][]string{
			{"Incidents handled", strconv.Itoa(c.First.Incidents), strconv.Itoa(c.Latest.Incidents)},
			{"Response actions executed", strconv.Itoa(c.First.ActionsExecuted), strconv.Itoa(c.Latest.ActionsExecuted)},
			{"Mean time to respond", FormatMetric(c.First.MeanTimeToRespond), FormatMetric(c.Latest.MeanTimeToRespond)},
			{"Mean time to resolve", FormatMetric(c.First.MeanTimeToResolve), FormatMetric(c.Latest.MeanTimeToResolve)},
			{"Failing controls at quarter end", count(c.First.FailingControls), count(c.Latest.FailingControls)},
		}, "")
	}

	d.heading("Success metrics")
	rows := [][]string{}
	for _, m := range r.Metrics {
		rows = append(rows, []string{m.Title, FormatMetric(m.Value), FormatChange(m), FormatTarget(m)})
	}
	d.table([]string{"Metric", "Value", "Change", "Target"}, []float64{55, 75, 22, 28}, rows, "")
	for _, c := range charts {
		if err := d.image(c); err != nil {
			return nil, err
		}
	}

	d.heading("Incidents and alerts")
	if r.Incidents.Total == 0 {
		d.para(r.Incidents.Message)
	} else {
		d.para(fmt.Sprintf("%s from %s. Mean time to detect %s, to respond %s, to resolve %s.", Plural(r.Incidents.Total, "incident"), Plural(r.Incidents.Alerts, "alert"),
			FormatMetric(r.Incidents.MeanTimeToDetect), FormatMetric(r.Incidents.MeanTimeToRespond), FormatMetric(r.Incidents.MeanTimeToResolve)))
		rows = rows[:0]
		for _, i := range limitRows(r.Incidents.List).([]IncidentRow) {
			rows = append(rows, []string{i.ID, i.Category, i.Severity, i.Status, join(i.Entities)})
		}
		d.table([]string{"Incident", "Category", "Severity", "Status", "About"}, []float64{40, 32, 20, 25, 63}, rows, "")
		d.more(len(r.Incidents.List))
	}
	if r.Kind == Monthly {
		d.heading("What was done")
		rows = rows[:0]
		for _, a := range limitRows(r.Actions).([]ActionRow) {
			when := ""
			if a.ExecutedAt != nil {
				when = datetime(*a.ExecutedAt)
			}
			rows = append(rows, []string{a.Type, a.Target, a.Status, a.By, when})
		}
		d.table([]string{"Action", "Target", "Status", "Decided by", "When"}, []float64{35, 45, 25, 40, 35}, rows, "No response actions in this period.")
		d.more(len(r.Actions))
	}
	d.heading("Controls that changed")
	rows = rows[:0]
	for _, c := range r.Controls {
		rows = append(rows, []string{c.ID + " " + c.Title, ChangeText(c.Change), c.Severity, strconv.FormatFloat(c.DaysOutOfCompliance, 'f', 1, 64)})
	}
	d.table([]string{"Control", "Change", "Severity", "Days out"}, []float64{100, 30, 25, 25}, rows, "No control failed, was fixed or regressed in this period.")
	if r.Kind == Monthly {
		d.heading("Users not protected by MFA")
		if r.MFA.Message != "" {
			d.para(r.MFA.Message)
		}
		rows = rows[:0]
		for _, u := range limitRows(r.MFA.Users).([]UserRow) {
			why := u.Reason
			if len(u.ExcludedBy) > 0 {
				why += " (excluded by " + join(u.ExcludedBy) + ")"
			}
			cov := join(u.CoveredBy)
			if cov == "" {
				cov = "none"
			}
			rows = append(rows, []string{u.DisplayName + "\n" + u.UserPrincipalName, why, cov})
		}
		if len(rows) > 0 {
			d.table([]string{"User", "Why", "Exception"}, []float64{60, 90, 30}, rows, "")
			d.more(r.MFA.Total)
		}
		d.heading("Devices")
		if r.Devices.Message != "" {
			d.para(r.Devices.Message)
		} else {
			d.para(fmt.Sprintf("Non-compliant: %d; without active endpoint protection: %d; cannot be measured: %d.",
				r.Devices.Noncompliant.Total, r.Devices.Unprotected.Total, r.Devices.Unmeasured.Total))
			for _, l := range []struct {
				name string
				list DeviceList
			}{{"Non-compliant", r.Devices.Noncompliant}, {"Endpoint protection not active", r.Devices.Unprotected}, {"Cannot be measured", r.Devices.Unmeasured}} {
				rows = rows[:0]
				for _, x := range limitRows(l.list.Items).([]DeviceRow) {
					rows = append(rows, []string{x.Name, x.Detail})
				}
				if len(rows) > 0 {
					d.table([]string{l.name, "Detail"}, []float64{60, 120}, rows, "")
					d.more(l.list.Total)
				}
			}
		}
		d.heading("Backup restore tests")
		rows = rows[:0]
		for _, x := range r.RestoreTests {
			res := "failed"
			if x.Succeeded {
				res = "succeeded"
			}
			rows = append(rows, []string{date(x.PerformedAt), x.Workload, res, x.Notes})
		}
		d.table([]string{"When", "Workload", "Result", "Notes"}, []float64{30, 40, 25, 85}, rows, "No restore test was recorded in this period.")
		d.heading("Collection health")
		rows = rows[:0]
		for _, c := range r.Collection {
			since := ""
			if c.FailingSince != nil {
				since = datetime(*c.FailingSince)
			}
			rows = append(rows, []string{c.Area, c.Source, c.Status + ": " + c.Reason, since})
		}
		d.table([]string{"Area", "Source", "Why it could not be read", "Since"}, []float64{25, 40, 80, 35}, rows, "Every source was read completely.")
	}
	d.heading("Exceptions (accepted risks)")
	rows = rows[:0]
	for _, e := range r.Exceptions {
		rows = append(rows, []string{e.ControlID, e.Reason, e.ApprovedBy, date(e.ExpiresAt), e.Status})
	}
	d.table([]string{"Control", "Reason", "Approved by", "Expires", "Status"}, []float64{30, 65, 35, 25, 25}, rows, "No exception was in force in this period.")
	d.heading("Accountability")
	rows = rows[:0]
	cell := func(p Party) string {
		s := p.Role + "\n" + p.Contact
		if p.Note != "" {
			s += "; " + p.Note
		}
		return s
	}
	for _, a := range r.Accountability {
		rows = append(rows, []string{a.Title, cell(a.Configures), cell(a.Monitors), cell(a.Responds), cell(a.Reports)})
	}
	d.table([]string{"Area", "Configures", "Monitors", "Responds", "Reports"}, []float64{32, 37, 37, 37, 37}, rows, "")
	d.para(fmt.Sprintf("Evidence: %d snapshots and %d incidents, listed by id in the JSON report.", len(r.Evidence.Snapshots), len(r.Evidence.Incidents)))

	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("render %s pdf: %w", r.Kind, err)
	}
	return buf.Bytes(), nil
}

func (d *pdfDoc) heading(s string) {
	_, pageH := d.GetPageSize()
	if d.GetY() > pageH-45 {
		d.AddPage()
	}
	d.Ln(3)
	d.SetFont("Helvetica", "B", 12)
	d.SetTextColor(31, 59, 92)
	d.CellFormat(pdfWidth, 7, d.t(s), "B", 1, "L", false, 0, "")
	d.SetTextColor(0, 0, 0)
	d.SetFont("Helvetica", "", 10)
	d.Ln(1)
}

func (d *pdfDoc) para(s string) {
	if s == "" {
		return
	}
	d.SetFont("Helvetica", "", 10)
	d.MultiCell(pdfWidth, 5, d.t(s), "", "L", false)
	d.Ln(1)
}

func (d *pdfDoc) more(total int) {
	if total > MaxRows {
		d.para(fmt.Sprintf("and %d more: see the CSV and JSON report.", total-MaxRows))
	}
}

func (d *pdfDoc) image(c Chart) error {
	h := pdfWidth * 200 / 560
	_, pageH := d.GetPageSize()
	if d.GetY()+h > pageH-20 {
		d.AddPage()
	}
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	d.RegisterImageOptionsReader(c.ContentID, opt, bytes.NewReader(c.PNG))
	if err := d.Error(); err != nil {
		return fmt.Errorf("embed chart %s: %w", c.ContentID, err)
	}
	d.ImageOptions(c.ContentID, pdfMargin, d.GetY(), pdfWidth, h, true, opt, 0, "")
	d.Ln(2)
	return nil
}

// table draws rows with wrapped cells, repeating the header on each page;
// empty, when rows are none, is said instead.
func (d *pdfDoc) table(header []string, widths []float64, rows [][]string, empty string) {
	if len(rows) == 0 {
		d.para(empty)
		return
	}
	_, pageH := d.GetPageSize()
	var drawRow func(cells []string, bold bool)
	drawRow = func(cells []string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		d.SetFont("Helvetica", style, 8)
		lines := make([][]string, len(cells))
		n := 1
		for i, c := range cells {
			for _, part := range strings.Split(c, "\n") {
				lines[i] = append(lines[i], d.wrap(part, widths[i]-2)...)
			}
			n = max(n, len(lines[i]))
		}
		h := float64(n)*pdfLine + 1
		if d.GetY()+h > pageH-20 {
			d.AddPage()
			if !bold {
				drawRow(header, true)
				d.SetFont("Helvetica", style, 8)
			}
		}
		x, y := d.GetX(), d.GetY()
		for i := range cells {
			if bold {
				d.SetFillColor(238, 242, 246)
			}
			d.Rect(x, y, widths[i], h, map[bool]string{true: "FD", false: "D"}[bold])
			for j, l := range lines[i] {
				d.SetXY(x+1, y+0.5+float64(j)*pdfLine)
				d.CellFormat(widths[i]-2, pdfLine, l, "", 0, "L", false, 0, "")
			}
			x += widths[i]
		}
		d.SetXY(pdfMargin, y+h)
	}
	drawRow(header, true)
	for _, r := range rows {
		drawRow(r, false)
	}
	d.Ln(2)
	d.SetFont("Helvetica", "", 10)
}

// wrap breaks UTF-8 text into translated lines at most w wide, at spaces,
// and inside a word longer than a line. fpdf's SplitText reads its input as
// UTF-8, which translated cp1252 text is not.
func (d *pdfDoc) wrap(s string, w float64) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if d.GetStringWidth(d.t(try)) <= w {
			line = try
			continue
		}
		if line != "" {
			out = append(out, d.t(line))
			line = ""
		}
		for d.GetStringWidth(d.t(word)) > w {
			r := []rune(word)
			n := len(r) - 1
			for n > 1 && d.GetStringWidth(d.t(string(r[:n]))) > w {
				n--
			}
			// A single character wider than the cell still takes a line,
			// so the loop always moves on.
			n = max(n, 1)
			out = append(out, d.t(string(r[:n])))
			word = string(r[n:])
		}
		line = word
	}
	if line != "" || len(out) == 0 {
		out = append(out, d.t(line))
	}
	return out
}
