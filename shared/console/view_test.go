package console

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
)

func TestRate(t *testing.T) {
	cases := []struct {
		name          string
		v, target, m  float64
		lowerIsBetter bool
		want          string
	}{
		{"a value at the target is good", 0.95, 0.95, 0.05, false, RatingGood},
		{"a value above the target is good", 0.99, 0.95, 0.05, false, RatingGood},
		{"a value just short of the target is amber", 0.94, 0.95, 0.05, false, RatingWarn},
		{"a value at the margin's edge is still amber", 0.90, 0.95, 0.05, false, RatingWarn},
		{"a value beyond the margin is red", 0.89, 0.95, 0.05, false, RatingBad},
		{"fewer days than the target is good when lower is better", 30, 90, 22.5, true, RatingGood},
		{"the target itself is good when lower is better", 90, 90, 22.5, true, RatingGood},
		{"a few days over is amber", 100, 90, 22.5, true, RatingWarn},
		{"far over is red", 120, 90, 22.5, true, RatingBad},
		{"exactly at the margin's edge is amber", 112.5, 90, 22.5, true, RatingWarn},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Rate(tc.v, tc.target, tc.m, tc.lowerIsBetter))
		})
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		name, format string
		v            float64
		want         string
	}{
		{"a ratio is a percentage with one decimal", formatPercent, 0.8690909090909091, "86.9%"},
		{"a whole ratio", formatPercent, 1, "100.0%"},
		{"minutes under an hour", formatDuration, 42.4, "42 min"},
		{"an hour is hours", formatDuration, 60, "1.0 h"},
		{"an hour and a half", formatDuration, 90, "1.5 h"},
		{"just under two days stays in hours", formatDuration, 47 * 60, "47.0 h"},
		{"two days and more are days", formatDuration, 48 * 60, "2.0 days"},
		{"days are whole days", formatDays, 12.9, "12 days"},
		{"a count is a whole number", formatCount, 3, "3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, FormatValue(tc.format, tc.v))
		})
	}
}

func f64(v float64) *float64 { return &v }

func TestCards(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ms := map[string]posture.Metric{
		posture.MetricMFACoverage: {Status: posture.Measured, Value: f64(0.93), Numerator: f64(93), Denominator: f64(100)},
		posture.MetricSecureScore: {Status: posture.Measured, Value: f64(0.5)},
		posture.MetricDeviceCompliance: {Status: posture.Unknown, Reason: "managedDevices: forbidden",
			LastMeasured: &posture.Metric{Status: posture.Measured, Value: f64(0.8), AsOf: at}},
		posture.MetricDaysSinceRestore: {Status: posture.Measured, Value: f64(200)},
	}
	hist := []map[string]posture.Metric{
		{posture.MetricMFACoverage: {Status: posture.Measured, Value: f64(0.9)}},
		{posture.MetricMFACoverage: {Status: posture.Unknown}},
		{posture.MetricSecureScore: {Status: posture.Measured, Value: f64(0.4)}},
		{posture.MetricMFACoverage: {Status: posture.Measured, Value: f64(0.93)}},
	}
	cards := Cards(ms, controls.DefaultTargets(), hist)
	require.Len(t, cards, len(metricSpecs))
	by := map[string]MetricCard{}
	for _, c := range cards {
		by[c.Name] = c
	}
	t.Run("a measured ratio shows its value, target, rating, fraction and trend", func(t *testing.T) {
		c := by[posture.MetricMFACoverage]
		require.Equal(t, MetricCard{Name: posture.MetricMFACoverage, Label: "Users protected by MFA", Value: "93.0%", Target: "95.0%",
			Rating: RatingWarn, Detail: "93 of 100", Trend: []float64{0.9, 0.93}}, c)
	})
	t.Run("an unknown metric says why and its last measured value, never 0", func(t *testing.T) {
		c := by[posture.MetricDeviceCompliance]
		require.Equal(t, "unknown", c.Value)
		require.Equal(t, RatingUnknown, c.Rating)
		require.Equal(t, "managedDevices: forbidden (last measured 80.0% on 2026-11-01)", c.Detail)
	})
	t.Run("a metric without a target is measured but not rated", func(t *testing.T) {
		c := by[posture.MetricSecureScore]
		require.Equal(t, RatingNone, c.Rating)
		require.Empty(t, c.Target)
		require.Equal(t, []float64{0.4}, c.Trend)
	})
	t.Run("days beyond a quarter over the target are red", func(t *testing.T) {
		c := by[posture.MetricDaysSinceRestore]
		require.Equal(t, RatingBad, c.Rating)
		require.Equal(t, "90 days", c.Target)
	})
	t.Run("days within a quarter over the target are amber", func(t *testing.T) {
		c := Cards(map[string]posture.Metric{posture.MetricDaysSinceRestore: {Status: posture.Measured, Value: f64(110)}},
			controls.DefaultTargets(), nil)
		for _, card := range c {
			if card.Name == posture.MetricDaysSinceRestore {
				require.Equal(t, RatingWarn, card.Rating)
			}
		}
	})
	t.Run("a metric the view lacks is unknown", func(t *testing.T) {
		c := by[posture.MetricOpenIncidents]
		require.Equal(t, RatingUnknown, c.Rating)
		require.Equal(t, "not reported by this deployment", c.Detail)
	})
	t.Run("the cards follow the spec order, MFA coverage first", func(t *testing.T) {
		require.Equal(t, posture.MetricMFACoverage, cards[0].Name)
		require.Equal(t, posture.MetricPendingApprovals, cards[len(cards)-1].Name)
	})
}

func TestFailingBySeverity(t *testing.T) {
	rs := []controls.Result{
		{ID: "B", Severity: controls.Low, Status: controls.Fail},
		{ID: "C", Severity: controls.Critical, Status: controls.Fail},
		{ID: "A", Severity: controls.Critical, Status: controls.Fail},
		{ID: "D", Severity: controls.High, Status: controls.Pass},
		{ID: "E", Severity: "odd", Status: controls.Fail},
		{ID: "F", Severity: controls.Medium, Status: controls.Fail},
	}
	got := FailingBySeverity(rs)
	var sev []controls.Severity
	for _, g := range got {
		sev = append(sev, g.Severity)
	}
	require.Equal(t, []controls.Severity{controls.Critical, controls.Medium, controls.Low, "odd"}, sev, "most severe first, an unknown severity last, passes left out")
	require.Equal(t, "A", got[0].Controls[0].ID, "in id order within a severity")
	require.Equal(t, "C", got[0].Controls[1].ID)
}

func TestControlFilter(t *testing.T) {
	rs := []controls.Result{
		{ID: "MS.AAD.1.1v1", Title: "Legacy authentication is blocked", Severity: controls.Critical, Status: controls.Fail},
		{ID: "M365SEC.MFA.1", Title: "MFA coverage", Severity: controls.High, Status: controls.Pass},
	}
	cases := []struct {
		name string
		f    ControlFilter
		want []string
	}{
		{"no filter keeps all", ControlFilter{}, []string{"MS.AAD.1.1v1", "M365SEC.MFA.1"}},
		{"status narrows", ControlFilter{Status: "pass"}, []string{"M365SEC.MFA.1"}},
		{"severity narrows", ControlFilter{Severity: "critical"}, []string{"MS.AAD.1.1v1"}},
		{"text matches the title ignoring case", ControlFilter{Query: " LEGACY "}, []string{"MS.AAD.1.1v1"}},
		{"text matches the id", ControlFilter{Query: "m365sec"}, []string{"M365SEC.MFA.1"}},
		{"every field must match", ControlFilter{Status: "fail", Query: "mfa"}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := []string{}
			for _, r := range tc.f.Filter(rs) {
				got = append(got, r.ID)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestMatchUser(t *testing.T) {
	u := posture.UserMFA{DisplayName: "Ann Lee", UserPrincipalName: "ann@contoso.test", Reason: "excluded from \"Pilot\""}
	require.True(t, MatchUser(u, ""))
	require.True(t, MatchUser(u, "ANN L"), "by name")
	require.True(t, MatchUser(u, "contoso"), "by UPN")
	require.True(t, MatchUser(u, "pilot"), "by reason")
	require.False(t, MatchUser(u, "bob"))
}

func TestPlatforms(t *testing.T) {
	require.Nil(t, Platforms(nil))
	require.Nil(t, Platforms(&posture.Snapshot{}))
	var nc, up posture.FindingList
	nc.Add(posture.Finding{ID: "d1", Detail: "compliance state noncompliant (Windows, a@x)"})
	nc.Add(posture.Finding{ID: "d2", Detail: "compliance state unknown (macOS, )"})
	nc.Add(posture.Finding{ID: "d3", Detail: "odd detail"})
	up.Add(posture.Finding{ID: "d1"})
	up.Add(posture.Finding{ID: "d4"})
	un := posture.NewUnmeasured()
	un.Add("iOS", "Graph has no state for iOS")
	snap := &posture.Snapshot{Counts: &posture.Counts{DevicesByOS: map[string]int{"Windows": 3, "macOS": 1, "iOS": 1, "": 1}},
		Findings: map[string]posture.FindingList{posture.ListNoncompliantDevice: nc, posture.ListUnprotectedDevices: up},
		Metrics:  map[string]posture.Metric{posture.MetricEndpointProtection: {Unmeasured: un}}}
	require.Equal(t, []PlatformRow{
		{Platform: "Windows", Devices: 3, Noncompliant: 1, Unprotected: 2},
		{Platform: "iOS", Devices: 1, Unmeasured: 1, UnmeasuredReason: "Graph has no state for iOS"},
		{Platform: "macOS", Devices: 1, Noncompliant: 1},
		{Platform: "unknown", Devices: 1, Noncompliant: 1},
	}, Platforms(snap))
}

func TestDetailPlatform(t *testing.T) {
	cases := map[string]string{
		"compliance state noncompliant (Windows, a@x)": "Windows",
		"compliance state noncompliant (iOS)":          "iOS",
		"compliance state noncompliant ( , a@x)":       "unknown",
		"no parenthesis":                               "unknown",
		"(Android":                                     "Android",
		"compliance state unknown (,a@x)":              "unknown",
	}
	for in, want := range cases {
		require.Equal(t, want, detailPlatform(in), in)
	}
}

func TestNames(t *testing.T) {
	id := &posture.Identity{
		Users:    []posture.User{{ID: "U1", DisplayName: "Ann", UserPrincipalName: "ann@x"}, {ID: "u3", UserPrincipalName: "c@x"}},
		Groups:   []posture.Group{{ID: "G1", DisplayName: "Pilot"}, {ID: "g2"}},
		Policies: []posture.CAPolicy{{ID: "P1", DisplayName: "Require MFA"}},
	}
	n := NamesFrom(id, []posture.UserMFA{{ID: "u2", DisplayName: "Bob"}})
	cases := []struct{ name, got, want string }{
		{"a user is named with the UPN", n.User("u1"), "Ann (ann@x)"},
		{"a user without a display name is the UPN", n.User("U3"), "c@x"},
		{"a user state fills in users the snapshot dropped", n.User("u2"), "Bob"},
		{"an unknown user says so", n.User("u9"), "unresolved id u9"},
		{"a group is named", n.Group("g1"), "Pilot"},
		{"a group without a name says so", n.Group("g2"), "unresolved id g2"},
		{"a policy is named", n.Policy("p1"), "Require MFA"},
		{"security defaults are named", n.Policy(posture.SecurityDefaults), "Security defaults"},
		{"a user exclusion", n.Via("user"), "excluded by name"},
		{"a group exclusion names the group", n.Via("group:g1"), "excluded as a member of group Pilot"},
		{"a role exclusion names the role", n.Via("role:62e90394-69f5-4237-9190-012177145e10"), "excluded as holder of role Global Administrator"},
		{"a guest exclusion", n.Via("guests"), "excluded as a guest or external user"},
		{"anything else is shown as it is", n.Via("odd"), "odd"},
		{"a finding keeps its own name", n.Finding(posture.Finding{Kind: posture.FindingUser, ID: "u1", Name: "given"}), "given"},
		{"a user finding is resolved", n.Finding(posture.Finding{Kind: posture.FindingUser, ID: "u1"}), "Ann (ann@x)"},
		{"a group finding is resolved", n.Finding(posture.Finding{Kind: posture.FindingGroup, ID: "g1"}), "Pilot"},
		{"a policy finding is resolved", n.Finding(posture.Finding{Kind: posture.FindingPolicy, ID: "p1"}), "Require MFA"},
		{"a role finding is resolved", n.Finding(posture.Finding{Kind: posture.FindingRole, ID: "62e90394-69f5-4237-9190-012177145e10"}), "Global Administrator"},
		{"another finding shows its id", n.Finding(posture.Finding{Kind: posture.FindingDevice, ID: "d1"}), "d1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, tc.got) })
	}
	t.Run("pick lists are by name, then id", func(t *testing.T) {
		require.Equal(t, []Option{{"u1", "Ann (ann@x)"}, {"u2", "Bob"}, {"u3", "c@x"}}, n.UserOptions())
		require.Equal(t, []Option{{"g1", "Pilot"}, {"g2", "g2"}}, n.GroupOptions())
	})
	t.Run("no snapshot still names the user states", func(t *testing.T) {
		require.Equal(t, "Bob", NamesFrom(nil, []posture.UserMFA{{ID: "u2", DisplayName: "Bob"}}).User("u2"))
	})
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "\r=1": "'\r=1",
		"ann": "ann", "": "", "a=b": "a=b",
	} {
		require.Equal(t, want, CSVCell(in), "%q", in)
	}
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, []string{"name"}, [][]string{{"=HYPERLINK(\"x\")"}, {"a,b"}}))
	require.Equal(t, "name\n\"'=HYPERLINK(\"\"x\"\")\"\n\"a,b\"\n", buf.String())
}

func TestSparkline(t *testing.T) {
	require.Empty(t, Sparkline(nil), "no line without two points")
	require.Empty(t, Sparkline([]float64{1}))
	s := string(Sparkline([]float64{0, 1, 0.5}))
	require.Contains(t, s, `points="2.0,26.0 60.0,2.0 118.0,14.0"`, "oldest left, highest at the top")
	require.Contains(t, s, `aria-label="trend over 3 measurements"`)
	require.Contains(t, string(Sparkline([]float64{0, 4, 2})), `points="2.0,26.0 60.0,2.0 118.0,14.0"`, "scaled to the span")
	flat := string(Sparkline([]float64{0.5, 0.5}))
	require.Contains(t, flat, `points="2.0,14.0 118.0,14.0"`, "a flat line sits in the middle")
}

func TestPeriods(t *testing.T) {
	ms, qs := Periods(time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC), 3, 3)
	require.Equal(t, []string{"2026-01", "2025-12", "2025-11"}, ms, "ended months, newest first")
	require.Equal(t, []string{"2025-Q4", "2025-Q3", "2025-Q2"}, qs, "ended quarters, newest first")
	_, qs = Periods(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), 0, 1)
	require.Equal(t, []string{"2026-Q3"}, qs)
}

func TestTargetsPatch(t *testing.T) {
	p, err := TargetsPatch(url.Values{"mfaCoverage": {"90"}, "deviceCompliance": {" "}, "secureScoreMaxDropPoints": {"2.5"},
		"alertReviewHours": {"12"}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"mfaCoverage": 0.9, "secureScoreMaxDropPoints": 2.5, "alertReviewHours": 12}, p)
	for _, bad := range []url.Values{{"mfaCoverage": {"x"}}, {"secureScoreMaxDropPoints": {"x"}}, {"restoreTestMaxAgeDays": {"1.5"}}} {
		_, err := TargetsPatch(bad)
		require.Error(t, err, "%v", bad)
	}
}

func TestSettingsPatch(t *testing.T) {
	p, err := SettingsPatch(url.Values{"responsibilityModel": {"co-managed"}, "autoActionsPerHour": {"4"},
		"reportRecipients": {" a@x ; b@x,\r\nc@x\n"}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"responsibilityModel": "co-managed", "autoActionsPerHour": 4,
		"reportRecipients": []string{"a@x", "b@x", "c@x"}}, p, "a box left out of the form is left as it is")
	_, err = SettingsPatch(url.Values{"autoActionsPerHour": {"many"}})
	require.Error(t, err)
	p, err = SettingsPatch(url.Values{"incidentRecipients": {""}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"incidentRecipients": []string{}}, p, "an empty box clears the list")
}

func TestActionRows(t *testing.T) {
	rows := ActionRows([]incident.Action{
		{ID: "1", Type: incident.ActionDisableAccount, Status: incident.ActionProposed, RequiresApproval: true},
		{ID: "2", Type: incident.ActionRevokeSessions, Status: incident.ActionProposed},
		{ID: "3", Type: incident.ActionDisableAccount, Status: incident.ActionExecuted},
		{ID: "4", Type: incident.ActionRevokeSessions, Status: incident.ActionExecuted},
		{ID: "5", Type: incident.ActionDisableAccount, Status: incident.ActionRejected, RequiresApproval: true},
	})
	got := map[string][2]bool{}
	for _, r := range rows {
		got[r.ID] = [2]bool{r.CanDecide, r.CanUndo}
	}
	require.Equal(t, map[string][2]bool{
		"1": {true, false},  // waiting for a person
		"2": {false, false}, // proposed without approval runs by itself
		"3": {false, true},  // a disabled account can be re-enabled
		"4": {false, false}, // revoked sessions cannot be restored
		"5": {false, false}, // decided already
	}, got)
}

func TestLinkAndAPIErrors(t *testing.T) {
	require.Equal(t, "/controls", Link("/controls", "tenant", ""))
	require.Equal(t, "/controls?q=a%26b&tenant=t", Link("/controls", "tenant", "t", "q", "a&b"))
	require.Equal(t, "bad field", apiError(400, []byte(`{"error":{"code":"badRequest","message":"bad field"}}`)))
	require.Equal(t, "the API answered 502 Bad Gateway", apiError(502, []byte(`<html>`)))
	require.True(t, missingRoute(404, []byte(`{"error":{"code":"notFound","message":"no route /api/x"}}`)))
	require.False(t, missingRoute(404, []byte(`{"error":{"code":"notFound","message":"no exception x"}}`)))
	require.False(t, missingRoute(400, []byte(`"no route `)))
	require.Equal(t, "ab", truncate("abc", 2))
	require.Equal(t, "abc", truncate("abc", 3))
	require.True(t, strings.HasPrefix(CSP, "default-src 'none'"))
}
