package reportmail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/assess"
	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/report"
	"m365security/shared/seed"
	"m365security/shared/settings"
	"m365security/shared/store/embedded"
)

const tenant = "11111111-2222-4333-8444-555555555555"

var testNow = time.Date(2026, 11, 15, 8, 0, 0, 0, time.UTC)

type fixture struct {
	rec    *records.Records
	sim    *graphsim.Server
	sender string
	cfg    Config
}

// newFixture seeds 75 days of history (so October, September and the
// third quarter are due on 15 November) and points a real graph.Writer at
// the simulator.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	rec := records.New(s)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := seed.DefaultOptions(tenant, testNow)
	opts.Days = 75
	_, err = seed.Year(context.Background(), rec, seed.Synthetic(20, 10, testNow, ""), opts, log)
	require.NoError(t, err)

	gt := graphsim.Generate(7, graphsim.Size{Users: 5, Devices: 2, CAGroups: 1, Alerts: 1, Now: testNow})
	sim := graphsim.NewServer(gt, graphsim.Options{})
	require.NoError(t, sim.Start())
	t.Cleanup(func() { sim.Close() })
	clients, err := graph.NewClients(graph.Options{Endpoint: sim.URL(), Responder: graph.Responder{ClientID: "responder"}})
	require.NoError(t, err)
	now := func() time.Time { return testNow }
	svc := assess.New(rec, func(context.Context, string, posture.Area) posture.Collected { return posture.Collected{} }, now, log)
	f := &fixture{rec: rec, sim: sim, sender: gt.Users[0].UserPrincipalName}
	f.cfg = Config{Records: rec, Builder: report.NewBuilder(rec, svc, now),
		Writer:              func(string) (Sender, error) { return clients.Writer(gt.ID) },
		ResponderConfigured: true, MailSender: f.sender, Defaults: settings.Defaults{ReportRecipients: []string{"board@contoso.example"}},
		BaseURL: "https://reports.example", Now: now, Log: log}
	return f
}

func (f *fixture) log(t *testing.T) map[string]records.SentReport {
	t.Helper()
	list, err := f.rec.SentReports.Range(context.Background(), tenant, testNow.AddDate(-1, 0, 0), testNow.Add(time.Hour))
	require.NoError(t, err)
	out := map[string]records.SentReport{}
	for _, e := range list {
		out[e.Kind+" "+e.Period] = e
	}
	return out
}

var duePeriods = []string{"monthly 2026-09", "monthly 2026-10", "quarterly 2026-Q3"}

func TestRunSendsEachDuePeriodOnce(t *testing.T) {
	f := newFixture(t)
	m := New(f.cfg)
	require.NoError(t, m.Run(context.Background(), tenant))
	require.NoError(t, m.Run(context.Background(), tenant), "a rerun on the same day")
	mail := f.sim.SentMail()
	require.Len(t, mail, len(duePeriods), "each due period is mailed once")
	log := f.log(t)
	require.Len(t, log, len(duePeriods))
	for _, k := range duePeriods {
		e := log[k]
		require.Equal(t, StatusSent, e.Status, k)
		require.Equal(t, 1, e.Attempts, k)
		require.Equal(t, testNow, e.SentAt.UTC(), k)
		require.Equal(t, []string{"board@contoso.example"}, e.Recipients)
		require.Contains(t, e.Result, "accepted by Graph (202)")
	}
	first := mail[0]
	require.True(t, strings.EqualFold("html", first.ContentType))
	require.Contains(t, first.Subject, "Monthly operational review: contoso.example, September 2026")
	require.Equal(t, []string{"board@contoso.example"}, first.To)
	inline, files := 0, []string{}
	for _, a := range first.Attachments {
		if a.IsInline {
			inline++
			require.Equal(t, "image/png", a.ContentType)
			require.Contains(t, first.Body, "cid:"+a.ContentID, "each inline image is shown by the body")
		} else {
			files = append(files, a.Name)
		}
	}
	require.Positive(t, inline)
	require.ElementsMatch(t, []string{"monthly-2026-09-contoso.example.pdf", "monthly-2026-09-contoso.example-csv.zip"}, files)
	require.Less(t, first.RequestBytes, 4<<20, "the request stays under Graph's 4 MB")
}

func TestRunRecordsWhyNothingWasSent(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		reason string
	}{
		{"without MAIL_SENDER the log says so", func(c *Config) { c.MailSender = "" }, "MAIL_SENDER is not set"},
		{"without a responder identity the log says so", func(c *Config) { c.ResponderConfigured = false }, "no responder identity"},
		{"without recipients the log says so", func(c *Config) { c.Defaults = settings.Defaults{} }, "no report recipients"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.change(&f.cfg)
			require.NoError(t, New(f.cfg).Run(context.Background(), tenant), "a configuration problem is not retried by redelivery")
			require.Empty(t, f.sim.SentMail())
			log := f.log(t)
			require.Len(t, log, len(duePeriods))
			for _, e := range log {
				require.Equal(t, StatusFailed, e.Status)
				require.Contains(t, e.Result, tc.reason)
				require.True(t, e.SentAt.IsZero(), "never marked sent")
			}
		})
	}
}

func TestAFailedSendIsRetriedAndVisible(t *testing.T) {
	f := newFixture(t)
	m := New(f.cfg)
	f.sim.FailWrites("/users", 1, graphsim.ServiceUnavailable(1))
	err := m.Run(context.Background(), tenant)
	require.ErrorIs(t, err, ErrRetry, "a throttled send asks for redelivery")
	log := f.log(t)
	failed := log["monthly 2026-09"]
	require.Equal(t, StatusFailed, failed.Status, "the failure is visible in the sent log")
	require.Equal(t, 1, failed.Attempts)
	require.NotEmpty(t, failed.Result)
	require.True(t, failed.SentAt.IsZero())
	require.Equal(t, StatusSent, log["monthly 2026-10"].Status, "one period's failure does not hold up the others")
	require.Len(t, f.sim.SentMail(), 2)

	require.NoError(t, m.Run(context.Background(), tenant))
	log = f.log(t)
	require.Equal(t, StatusSent, log["monthly 2026-09"].Status, "the retry sends it")
	require.Equal(t, 2, log["monthly 2026-09"].Attempts)
	require.Len(t, f.sim.SentMail(), 3, "and nothing else twice")
}

func TestAPeriodBeingSentIsLeftToItsSender(t *testing.T) {
	f := newFixture(t)
	_, err := f.rec.SentReports.Update(context.Background(), tenant, "monthly", "2026-10", func(e *records.SentReport, _ bool) error {
		e.Status, e.LastTry, e.Attempts = StatusSending, testNow.Add(-time.Minute), 1
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, New(f.cfg).Run(context.Background(), tenant))
	require.Len(t, f.sim.SentMail(), 2)
	require.Equal(t, StatusSending, f.log(t)["monthly 2026-10"].Status)

	// A claim older than claimFor belongs to a run that died: sent again.
	f.cfg.Now = func() time.Time { return testNow.Add(claimFor) }
	require.NoError(t, New(f.cfg).Run(context.Background(), tenant))
	require.Equal(t, StatusSent, f.log(t)["monthly 2026-10"].Status)
}

func TestNeverMonitoredTenantGetsTheLastPeriodSayingNoData(t *testing.T) {
	f := newFixture(t)
	const other = "99999999-2222-4333-8444-555555555555"
	require.NoError(t, New(f.cfg).Run(context.Background(), other))
	mail := f.sim.SentMail()
	require.Len(t, mail, 2, "the last month and the last quarter")
	require.Contains(t, mail[0].Body, "No data.")
}

// bigReport is a report whose CSV cannot fit a mail: many users with
// incompressible names.
func bigReport(users int) report.Report {
	p, _ := report.ParseMonth("2026-10")
	r := report.Report{Kind: report.Monthly, Period: p, TenantID: tenant, TenantName: "contoso.example", GeneratedAt: testNow}
	for i := 0; i < users; i++ {
		h := sha256.Sum256([]byte(fmt.Sprint(i)))
		r.MFA.Users = append(r.MFA.Users, report.UserRow{ID: hex.EncodeToString(h[:]), DisplayName: hex.EncodeToString(h[:16]), Reason: "not registered for MFA"})
	}
	r.MFA.Total = users
	return r
}

func TestComposeStaysUnderTheLimit(t *testing.T) {
	download := "https://reports.example/api/reports/monthly?month=2026-10&tenant=" + tenant
	cases := []struct {
		name    string
		users   int
		leftOut []string
	}{
		{"a small report carries the PDF and the CSV", 10, nil},
		{"a report too large for the CSV leaves it out and says where it is", 120000, []string{"CSV tables"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, summary, err := Compose(bigReport(tc.users), []string{"a@b.example"}, download)
			require.NoError(t, err)
			require.LessOrEqual(t, m.AttachmentBytes(), graph.MaxInlineAttachmentBytes)
			names := []string{}
			for _, a := range m.Attachments {
				if a.ContentID == "" {
					names = append(names, a.Name)
				}
			}
			if tc.leftOut == nil {
				require.Len(t, names, 2)
				require.NotContains(t, m.HTML, "leaves out")
				return
			}
			require.Len(t, names, 1)
			require.True(t, strings.HasSuffix(names[0], ".pdf"))
			require.Contains(t, summary, "left out for size: CSV tables")
			require.Contains(t, m.HTML, "leaves out the CSV tables at "+strings.ReplaceAll(download, "&", "&amp;")+"&amp;format=csv")
		})
	}
}

func TestSafeName(t *testing.T) {
	require.Equal(t, "contoso.example", safeName("contoso.example"))
	require.Equal(t, "imgsrcxonerroralert1", safeName(`<img src=x onerror=alert(1)>`))
	require.Equal(t, "tenant", safeName("東京"))
}

func TestFits(t *testing.T) {
	require.True(t, fits(graph.MaxInlineAttachmentBytes), "exactly the limit fits")
	require.False(t, fits(graph.MaxInlineAttachmentBytes+1))
	require.True(t, fits(0))
}

func TestSummaryAndNames(t *testing.T) {
	_, summary, err := Compose(bigReport(3), []string{"a@b.example"}, "https://x.example/r?month=2026-10")
	require.NoError(t, err)
	require.NotContains(t, summary, "left out", "nothing left out, nothing said")
	require.Contains(t, summary, "attached PDF and CSV tables")
	require.Equal(t, "nothing", orNone(nil))
	require.Equal(t, "a and b", orNone([]string{"a", "b"}))
	require.Equal(t, "09AZaz.-", safeName("/09:@AZ[`az{.-\x7fé"), "only ASCII letters, digits, dots and dashes, at every edge of those ranges")
	require.Empty(t, restNote(nil, "x"))
	require.Equal(t, "This mail had to stay under 3 MB, so it leaves out the PDF at u (JSON: &format=json).",
		restNote([]attachment{{what: "PDF"}}, "u"), "an attachment without a format names the JSON instead")
}

func TestDownloadURL(t *testing.T) {
	m := New(Config{BaseURL: "https://reports.example/"})
	mp, _ := report.ParseMonth("2026-10")
	qp, _ := report.ParseQuarter("2026-Q3")
	require.Equal(t, "https://reports.example/api/reports/monthly?month=2026-10&tenant="+tenant,
		m.downloadURL(report.Report{Kind: report.Monthly, Period: mp, TenantID: tenant}))
	require.Equal(t, "https://reports.example/api/reports/quarterly?quarter=2026-Q3&tenant="+tenant,
		m.downloadURL(report.Report{Kind: report.Quarterly, Period: qp, TenantID: tenant}))
	require.Equal(t, "/api/reports/monthly?month=2026-10&tenant="+tenant,
		New(Config{}).downloadURL(report.Report{Kind: report.Monthly, Period: mp, TenantID: tenant}), "without PUBLIC_BASE_URL, the path alone")
}
