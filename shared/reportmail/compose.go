package reportmail

import (
	"fmt"
	"strings"

	"m365security/shared/graph"
	"m365security/shared/report"
)

// attachment is a file the mail may carry, in the order it is given up
// when the mail is too large: the CSV first, then the PDF.
type attachment struct {
	what   string // for the sent log and the note
	format string // the API's format parameter to fetch it instead
	a      graph.Attachment
}

// Compose builds the mail of a report: the HTML body with the charts as
// inline PNG attachments (by content id) and the PDF and the CSV zip
// attached. Attachments are measured against graph.MaxInlineAttachmentBytes;
// what does not fit is left out and the body says where to fetch it
// (download, the report's API address). summary lists what was attached.
func Compose(r report.Report, to []string, download string) (graph.Mail, string, error) {
	pdf, err := report.PDF(r)
	if err != nil {
		return graph.Mail{}, "", err
	}
	zip, err := report.Zip(r)
	if err != nil {
		return graph.Mail{}, "", err
	}
	base := fmt.Sprintf("%s-%s-%s", r.Kind, r.Period.ID, safeName(r.TenantName))
	files := []attachment{
		{"PDF", "pdf", graph.Attachment{Name: base + ".pdf", ContentType: "application/pdf", Content: pdf}},
		{"CSV tables", "csv", graph.Attachment{Name: base + "-csv.zip", ContentType: "application/zip", Content: zip}},
	}
	if r.Kind == report.Quarterly {
		// The quarterly route serves no CSV; its tables still travel.
		files[1].format = ""
	}
	var left []attachment
	for {
		rest := restNote(left, download)
		html, charts, err := report.MailHTML(r, rest)
		if err != nil {
			return graph.Mail{}, "", err
		}
		m := graph.Mail{Subject: subject(r), HTML: string(html), To: to}
		for _, c := range charts {
			m.Attachments = append(m.Attachments, graph.Attachment{Name: c.ContentID + ".png", ContentType: "image/png", ContentID: c.ContentID, Content: c.PNG})
		}
		for _, f := range files {
			m.Attachments = append(m.Attachments, f.a)
		}
		if n := m.AttachmentBytes(); fits(n) || len(files) == 0 {
			if !fits(n) {
				return graph.Mail{}, "", fmt.Errorf("%w even without files (%d bytes of charts)", graph.ErrMailTooLarge, n)
			}
			return m, summarize(charts, files, left, m.AttachmentBytes()), nil
		}
		// Give up the last file (the CSV before the PDF) and say where it is.
		left = append(left, files[len(files)-1])
		files = files[:len(files)-1]
	}
}

// fits reports whether n attachment bytes go in one sendMail request.
func fits(n int) bool { return n <= graph.MaxInlineAttachmentBytes }

func subject(r report.Report) string {
	return fmt.Sprintf("%s: %s, %s", report.Title(r.Kind), r.TenantName, r.Period.Title())
}

func restNote(left []attachment, download string) string {
	if len(left) == 0 {
		return ""
	}
	var parts []string
	for _, l := range left {
		where := download
		if l.format != "" {
			where += "&format=" + l.format
		} else {
			where += " (JSON: &format=json)"
		}
		parts = append(parts, l.what+" at "+where)
	}
	return "This mail had to stay under 3 MB, so it leaves out the " + strings.Join(parts, "; and the ") + "."
}

func summarize(charts []report.Chart, files, left []attachment, bytes int) string {
	var got []string
	for _, f := range files {
		got = append(got, f.what)
	}
	s := fmt.Sprintf("%d inline charts, attached %s, %d attachment bytes", len(charts), orNone(got), bytes)
	if len(left) > 0 {
		var l []string
		for _, f := range left {
			l = append(l, f.what)
		}
		s += "; left out for size: " + strings.Join(l, ", ")
	}
	return s
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, " and ")
}

// safeName keeps a file name to letters, digits, dots and dashes.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '.' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "tenant"
	}
	return b.String()
}
