package report

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"m365security/shared/posture"
)

func mustBuild(t *testing.T, f fixture, k Kind, id string) Report {
	t.Helper()
	p, err := Parse(k, id)
	require.NoError(t, err)
	r, err := f.builder.Build(context.Background(), tenant, p)
	require.NoError(t, err)
	return r
}

// seededOnce holds the seeded store every read-only test shares: seeding a
// year takes a second or two, and mutation testing reruns the suite for
// each mutant.
var seededOnce struct {
	sync.Once
	f fixture
}

func seeded(t *testing.T) fixture {
	t.Helper()
	seededOnce.Do(func() { seededOnce.f = newSeeded(sharedTB{t}) })
	return seededOnce.f
}

// sharedTB keeps the shared store alive past the test that created it:
// its Cleanup (closing the store, removing its directory) is not run.
type sharedTB struct{ *testing.T }

func (sharedTB) Cleanup(func()) {}

func (s sharedTB) TempDir() string {
	d, err := os.MkdirTemp("", "report-test-")
	require.NoError(s.T, err)
	sharedDirs = append(sharedDirs, d)
	return d
}

// sharedDirs are removed when the test binary ends.
var sharedDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range sharedDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

func TestGoldenReports(t *testing.T) {
	f := seeded(t)
	cases := []struct {
		name string
		kind Kind
		id   string
	}{
		{"the monthly review of a partly covered month", Monthly, "2026-10"},
		{"the quarterly review of a whole quarter", Quarterly, "2026-Q3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustBuild(t, f, tc.kind, tc.id)
			j, err := JSON(r)
			require.NoError(t, err)
			golden(t, string(tc.kind)+"-"+tc.id+".json.golden", j)
			m, charts, err := MailHTML(r, "")
			require.NoError(t, err)
			golden(t, string(tc.kind)+"-"+tc.id+".mail.html.golden", m)
			require.NotEmpty(t, charts)
			for _, c := range charts {
				require.Contains(t, string(m), `src="cid:`+c.ContentID+`"`, "every inline chart is referenced by its content id")
				require.True(t, bytes.HasPrefix(c.PNG, []byte("\x89PNG")), "mail charts are PNG")
			}
		})
	}
}

func TestMailHTMLIsSelfContained(t *testing.T) {
	r := mustBuild(t, seeded(t), Monthly, "2026-10")
	m, _, err := MailHTML(r, "the CSV is elsewhere")
	require.NoError(t, err)
	s := strings.ToLower(string(m))
	for _, banned := range []string{"<script", "<svg", "<link", "href=", "@import", "javascript:", "url("} {
		require.NotContains(t, s, banned)
	}
	for _, src := range regexp.MustCompile(`src="([^"]*)"`).FindAllStringSubmatch(s, -1) {
		require.True(t, strings.HasPrefix(src[1], "cid:"), "every image is an inline attachment: %s", src[1])
	}
	require.Contains(t, s, `width="600"`, "the mail is laid out 600 px wide")
	require.Regexp(t, `<td[^>]*style="[^"]*padding`, s, "the stylesheet is inlined into style attributes")
	require.Contains(t, s, "the csv is elsewhere", "the note on what was left out is in the body")

	web, err := HTML(r)
	require.NoError(t, err)
	require.Contains(t, string(web), "<svg", "the web page draws charts as inline SVG")
	require.NotContains(t, strings.ToLower(string(web)), "<script")
}

// pdfText validates a PDF with pdfcpu and returns the text its pages
// draw, decoded from cp1252, one string per page.
func pdfText(t *testing.T, b []byte) []string {
	t.Helper()
	require.NoError(t, api.Validate(bytes.NewReader(b), nil), "pdfcpu validates the file")
	var pages []string
	show := regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
	unescape := strings.NewReplacer(`\\`, `\`, `\(`, `(`, `\)`, `)`)
	err := api.ExtractContent(bytes.NewReader(b), nil, func(r io.Reader, page int) error {
		raw, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for _, m := range show.FindAllSubmatch(raw, -1) {
			s, err := charmap.Windows1252.NewDecoder().String(unescape.Replace(string(m[1])))
			if err != nil {
				return err
			}
			sb.WriteString(s)
			sb.WriteByte('\n')
		}
		pages = append(pages, sb.String())
		return nil
	}, nil)
	require.NoError(t, err)
	return pages
}

func TestPDF(t *testing.T) {
	f := seeded(t)
	for _, k := range []struct {
		kind Kind
		id   string
	}{{Monthly, "2026-10"}, {Quarterly, "2026-Q3"}} {
		t.Run(string(k.kind)+" review has the tenant, period and page number on every page", func(t *testing.T) {
			r := mustBuild(t, f, k.kind, k.id)
			b, err := PDF(r)
			require.NoError(t, err)
			pages := pdfText(t, b)
			require.Greater(t, len(pages), 1)
			for i, p := range pages {
				require.Contains(t, p, "contoso.example", "page %d names the tenant", i+1)
				require.Contains(t, p, r.Period.Title(), "page %d names the period", i+1)
				require.Contains(t, p, "Page "+strconv.Itoa(i+1)+" of "+strconv.Itoa(len(pages)), "page %d is numbered", i+1)
			}
			all := strings.Join(pages, "\n")
			require.Contains(t, all, "Zoë Ångström", "cp1252 letters survive the translation")
			require.Contains(t, all, "Accountability")
			require.Contains(t, string(b), "/Subtype /Image", "the charts are embedded as images")
		})
	}
}

// zipTables reads the CSV zip back: file name to records.
func zipTables(t *testing.T, b []byte) map[string][][]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	out := map[string][][]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		require.NoError(t, err)
		raw, err := io.ReadAll(rc)
		require.NoError(t, err)
		if strings.HasSuffix(f.Name, ".csv") {
			recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
			require.NoError(t, err, f.Name)
			out[f.Name] = recs
		} else {
			out[f.Name] = [][]string{{string(raw)}}
		}
	}
	return out
}

func TestHostileNamesStayTextInEveryFormat(t *testing.T) {
	r := mustBuild(t, seeded(t), Monthly, "2026-10")
	require.Equal(t, hostile, r.MFA.Users[0].DisplayName, "the seeded hostile user is listed as unprotected")
	escaped := "&lt;img src=x onerror=alert(1)&gt;"

	web, err := HTML(r)
	require.NoError(t, err)
	mail, _, err := MailHTML(r, "")
	require.NoError(t, err)
	for name, b := range map[string][]byte{"web": web, "mail": mail} {
		require.NotContains(t, string(b), hostile, "%s html carries the name as markup", name)
		require.NotContains(t, string(b), "=HYPERLINK(\"http://x\")\"", name)
		require.Contains(t, string(b), escaped, "%s html shows the name as text", name)
	}

	j, err := JSON(r)
	require.NoError(t, err)
	require.NotContains(t, string(j), hostile, "json escapes < and >")
	var back Report
	require.NoError(t, json.Unmarshal(j, &back))
	require.Equal(t, hostile, back.MFA.Users[0].DisplayName, "and decodes to the same name")

	z, err := Zip(r)
	require.NoError(t, err)
	tables := zipTables(t, z)
	users := tables["mfa_users.csv"]
	require.Equal(t, hostile, users[1][2], "csv keeps a name that is no formula as it is")
	found := false
	for _, row := range tables["accountability.csv"][1:] {
		if row[2] == RoleProvider {
			require.True(t, strings.HasPrefix(row[3], "'=HYPERLINK"), "a cell starting with = is prefixed: %q", row[3])
			found = true
		}
	}
	require.True(t, found)
	require.Contains(t, tables["README.txt"][0][0], "mfa_users.csv: ", "the zip's README names each file")
	for _, row := range tables["metrics.csv"][1:] {
		for _, m := range r.Metrics {
			if m.Name == row[0] && m.Value.IsMeasured() {
				v, err := strconv.ParseFloat(row[3], 64)
				require.NoError(t, err)
				require.Equal(t, *m.Value.Value, v, "csv keeps %s at full precision", m.Name)
			}
		}
	}

	pdf, err := PDF(r)
	require.NoError(t, err)
	require.Contains(t, strings.Join(pdfText(t, pdf), "\n"), hostile, "the pdf draws the name as text")
}

func TestGuard(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"an equals sign is prefixed", "=1+1", "'=1+1"},
		{"a plus sign is prefixed", "+cmd", "'+cmd"},
		{"a minus formula is prefixed", "-1+2", "'-1+2"},
		{"an at sign is prefixed", "@SUM(A1)", "'@SUM(A1)"},
		{"a leading tab is prefixed", "\t=x", "'\t=x"},
		{"a leading carriage return is prefixed", "\r=x", "'\r=x"},
		{"a negative number stays a number", "-2.5", "-2.5"},
		{"plain text is kept", "alice", "alice"},
		{"an empty cell is kept", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, Guard(tc.in)) })
	}
}

func TestPeriodsWithoutData(t *testing.T) {
	f := seeded(t)
	t.Run("a month before monitoring began says so and shows no zeros", func(t *testing.T) {
		r := mustBuild(t, f, Monthly, "2024-01")
		require.False(t, r.Coverage.HasData)
		require.Contains(t, r.Coverage.Message, "monitoring began on 2025-11-15")
		for _, m := range r.Metrics {
			require.Equal(t, posture.Unknown, m.Value.Status, "%s is not rendered as a value", m.Name)
			require.NotEmpty(t, m.Value.Reason)
		}
		require.Equal(t, "No incidents recorded in this period.", r.Incidents.Message)
		require.Empty(t, r.Evidence.Snapshots)
		html, err := HTML(r)
		require.NoError(t, err)
		require.Contains(t, string(html), "No data.")
	})
	t.Run("a month of a never-monitored tenant says monitoring has not collected", func(t *testing.T) {
		e := newFixture(t, newTestStore(t))
		r := mustBuild(t, e, Monthly, "2026-10")
		require.False(t, r.Coverage.HasData)
		require.Nil(t, r.Coverage.MonitoringSince)
		require.Contains(t, r.Coverage.Message, "has not collected anything")
		require.Equal(t, []string{"2026-10-01 to 2026-10-31"}, r.Coverage.MissingDays)
		for _, k := range []Kind{Monthly, Quarterly} {
			r := mustBuild(t, e, k, map[Kind]string{Monthly: "2026-10", Quarterly: "2026-Q3"}[k])
			_, err := PDF(r)
			require.NoError(t, err, "an empty %s still renders", k)
			_, err = Zip(r)
			require.NoError(t, err)
		}
	})
	t.Run("a partly covered month names the missing days", func(t *testing.T) {
		r := mustBuild(t, f, Monthly, "2026-10")
		require.True(t, r.Coverage.HasData)
		// DefaultOptions leaves days 43 to 40 before 15 November empty.
		require.Equal(t, []string{"2026-10-03 to 2026-10-06"}, r.Coverage.MissingDays)
		require.Equal(t, 27, r.Coverage.DaysCovered)
		require.Contains(t, r.Coverage.Message, "missing 2026-10-03 to 2026-10-06")
	})
	t.Run("the running month is covered up to now", func(t *testing.T) {
		r := mustBuild(t, f, Monthly, "2026-11")
		require.Contains(t, r.Coverage.Message, "in progress")
		require.Equal(t, testNow, r.AsOf)
	})
	t.Run("a month in the future has not started", func(t *testing.T) {
		r := mustBuild(t, f, Monthly, "2027-03")
		require.False(t, r.Coverage.HasData)
		require.Equal(t, "This period has not started yet.", r.Coverage.Message)
	})
}

func TestEveryNumberIsTraceable(t *testing.T) {
	f := seeded(t)
	r := mustBuild(t, f, Monthly, "2026-10")
	cited := map[string]bool{}
	for _, id := range r.Evidence.Snapshots {
		cited[id] = true
		_, err := f.rec.Snapshots.Get(context.Background(), tenant, id)
		require.NoError(t, err, "evidence snapshot %s is stored", id)
	}
	for _, m := range r.Metrics {
		if m.SnapshotID != "" {
			require.True(t, cited[m.SnapshotID], "%s's snapshot is in the evidence", m.Name)
		}
		for _, p := range m.Trend {
			if p.SnapshotID != "" {
				require.True(t, cited[p.SnapshotID], "%s's %s point is in the evidence", m.Name, p.Month)
			}
		}
	}
	require.True(t, cited[r.MFA.SnapshotID])
	require.True(t, cited[r.Devices.SnapshotID])
	require.Len(t, r.Evidence.Incidents, r.Incidents.Total)
	for _, id := range r.Evidence.Incidents {
		_, err := f.rec.Incidents.Get(context.Background(), tenant, id)
		require.NoError(t, err, "evidence incident %s is stored", id)
	}
	require.ElementsMatch(t, []string{"seed-exc-active", "seed-exc-expired"}, r.Evidence.Exceptions)
}

func TestQuarterlyExecutive(t *testing.T) {
	f := seeded(t)
	r := mustBuild(t, f, Quarterly, "2026-Q3")
	e := r.Executive
	require.NotNil(t, e)
	require.Len(t, e.RiskTrend, TrendMonths, "a risk point per month of the trend")
	require.Len(t, e.TopRisks, TopRisks)
	rank := map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3}
	for i := 1; i < len(e.TopRisks); i++ {
		require.LessOrEqual(t, rank[e.TopRisks[i-1].Severity], rank[e.TopRisks[i].Severity], "most severe first")
	}
	for _, k := range e.TopRisks {
		require.Equal(t, RoleCustomer, k.Owner.Role, "co-managed: the customer owns configuration")
		require.NotEmpty(t, k.Remediation)
	}
	require.Equal(t, "2025-Q4", e.Comparison.First.Quarter, "the earliest monitored quarter of the last four")
	require.Equal(t, "2026-Q3", e.Comparison.Latest.Quarter)
	require.Empty(t, e.Comparison.Message)
	require.True(t, e.Comparison.First.HasData)
	require.Less(t, *e.Comparison.Latest.MeanTimeToRespond.Value, *e.Comparison.First.MeanTimeToRespond.Value, "response got faster over the year")
	var mfa *TargetRow
	for i := range e.Targets {
		if e.Targets[i].Metric == posture.MetricMFACoverage {
			mfa = &e.Targets[i]
		}
	}
	require.NotNil(t, mfa)
	require.Less(t, *mfa.Start, *mfa.End, "MFA coverage rose over the quarter")
	require.False(t, *mfa.Met)

	early := mustBuild(t, f, Quarterly, "2025-Q4")
	require.Equal(t, "A comparison needs a monitored quarter before this one.", early.Executive.Comparison.Message)
	require.Equal(t, early.Executive.Comparison.Latest, early.Executive.Comparison.First)

	m := mustBuild(t, f, Monthly, "2026-10")
	require.Nil(t, m.Executive, "the monthly review has no executive view")
}

func TestFailingSince(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 4, d, 6, 0, 0, 0, time.UTC) }
	pt := func(d int, a posture.Area, st posture.SourceStatus) posture.HistoryPoint {
		return posture.HistoryPoint{Area: a, TakenAt: at(d), Sources: posture.Sources{{Name: "users", Status: st}}}
	}
	cases := []struct {
		name   string
		points []posture.HistoryPoint
		want   *time.Time
	}{
		{"a source failing in the last run only fails since then", []posture.HistoryPoint{pt(1, posture.AreaIdentity, posture.SourceOK), pt(2, posture.AreaIdentity, posture.SourceForbidden)}, ptr(at(2))},
		{"an unbroken streak counts from its first failure", []posture.HistoryPoint{pt(1, posture.AreaIdentity, posture.SourceOK), pt(2, posture.AreaIdentity, posture.SourceFailed), pt(3, posture.AreaIdentity, posture.SourceForbidden)}, ptr(at(2))},
		{"a recovery restarts the streak", []posture.HistoryPoint{pt(1, posture.AreaIdentity, posture.SourceFailed), pt(2, posture.AreaIdentity, posture.SourceOK), pt(3, posture.AreaIdentity, posture.SourceFailed)}, ptr(at(3))},
		{"other areas' points do not count", []posture.HistoryPoint{pt(1, posture.AreaDevices, posture.SourceFailed), pt(2, posture.AreaIdentity, posture.SourceFailed)}, ptr(at(2))},
		{"a healthy source has no streak", []posture.HistoryPoint{pt(1, posture.AreaIdentity, posture.SourceFailed), pt(2, posture.AreaIdentity, posture.SourceOK)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, failingSince(tc.points, posture.AreaIdentity, "users"))
		})
	}
}

func ptr[T any](v T) *T { return &v }
