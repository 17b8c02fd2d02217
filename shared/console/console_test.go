package console

import (
	"context"
	"encoding/base64"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/assess"
	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/settings"
	"m365security/shared/store/embedded"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	tenant  = "11111111-2222-4333-8444-555555555555"
	hostile = `<img src=x onerror=alert(1)>`
	// escaped is how html/template writes hostile in text and attributes.
	escaped = `&lt;img src=x onerror=alert(1)&gt;`
)

var fixedNow = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

const (
	userA   = "aaaaaaaa-0000-4000-8000-000000000001"
	userB   = "aaaaaaaa-0000-4000-8000-000000000002"
	groupX  = "bbbbbbbb-0000-4000-8000-000000000001"
	policyP = "cccccccc-0000-4000-8000-000000000001"
)

// hostileIdentity is a tenant whose every name is markup: one MFA policy,
// named hostile, excluding a group named hostile that holds user B.
func hostileIdentity() posture.Collected {
	off := false
	id := &posture.Identity{SecurityDefaultsEnabled: &off, Authorization: &posture.Authorization{AllowInvitesFrom: "everyone"},
		Policies: []posture.CAPolicy{{ID: policyP, DisplayName: hostile + " MFA", State: posture.PolicyEnabled,
			IncludeUsers: []string{"All"}, ExcludeGroups: []string{groupX}, IncludeApplications: []string{"All"},
			BuiltInControls: []string{"mfa"}}},
		Groups: []posture.Group{{ID: groupX, DisplayName: hostile + " group", MemberIDs: []string{userB}, Complete: true}},
		Users: []posture.User{
			{ID: userA, UserPrincipalName: "a@contoso.test", DisplayName: hostile + " Ann", AccountEnabled: true, UserType: "Member",
				Registration: &posture.Registration{IsMfaRegistered: true}},
			{ID: userB, UserPrincipalName: "=cmd|' /C calc'!A0@contoso.test", DisplayName: hostile + " Bob", AccountEnabled: true,
				UserType: "Member", Registration: &posture.Registration{IsMfaRegistered: true, IsAdmin: true}},
		}}
	var src posture.Sources
	for _, s := range []string{posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults, posture.SrcConditionalAccess,
		posture.SrcGroupMembers, posture.SrcRoleAssignments, posture.SrcAuthorizationPolicy, posture.SrcDomains} {
		src = append(src, posture.Source{Name: s, Status: posture.SourceOK})
	}
	return posture.Collected{Identity: id, Sources: src}
}

func hostileDevices() posture.Collected {
	last := fixedNow.Add(-time.Hour)
	return posture.Collected{Devices: &posture.Devices{Devices: []posture.Device{
		{ID: "d1", DeviceName: hostile + " laptop", OperatingSystem: "Windows", ComplianceState: "noncompliant", UserPrincipalName: "a@contoso.test", LastSync: last},
		{ID: "d2", DeviceName: hostile + " phone", OperatingSystem: "iOS", ComplianceState: "compliant", LastSync: last},
	}}, Sources: posture.Sources{{Name: posture.SrcManagedDevices, Status: posture.SourceOK},
		{Name: posture.SrcProtectionStates, Status: posture.SourceOK}}}
}

// fakeAPI stands in for the JSON API: it records each call and answers
// with the status and body a test gives per path prefix.
type fakeAPI struct {
	mu      sync.Mutex
	calls   []apiCall
	answers map[string]apiAnswer
}

type apiCall struct {
	Method, Target, Body string
	Principal            string
}

type apiAnswer struct {
	status int
	body   string
}

func (f *fakeAPI) call(r *http.Request, method, target string, body []byte) (int, http.Header, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, apiCall{Method: method, Target: target, Body: string(body)})
	for prefix, a := range f.answers {
		if strings.HasPrefix(method+" "+target, prefix) {
			return a.status, http.Header{"Content-Type": {"application/json"}}, []byte(a.body)
		}
	}
	return http.StatusNotFound, http.Header{}, []byte(`{"error":{"code":"notFound","message":"no route ` + target + `"}}`)
}

type fixture struct {
	c   *Console
	rec *records.Records
	api *fakeAPI
}

// newTestConsole collects the hostile tenant through the real assessment
// pipeline into an embedded store and seeds an incident, an exception, a
// sent report and settings that are all hostile too.
func newTestConsole(tb testing.TB, tenants ...string) *fixture {
	tb.Helper()
	if len(tenants) == 0 {
		tenants = []string{tenant}
	}
	s, err := embedded.Open(filepath.Join(tb.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	rec := records.New(s)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	now := func() time.Time { return fixedNow }
	collect := func(_ context.Context, _ string, area posture.Area) posture.Collected {
		switch area {
		case posture.AreaIdentity:
			return hostileIdentity()
		case posture.AreaDevices:
			return hostileDevices()
		}
		return posture.Collected{Sources: posture.Sources{{Name: "graph", Status: posture.SourceForbidden, Reason: hostile + " denied"}}}
	}
	svc := assess.New(rec, collect, now, log)
	ctx := context.Background()
	for _, a := range posture.Areas {
		_, err := svc.Run(ctx, tenant, a)
		require.NoError(tb, err)
	}
	_, err = svc.AddException(ctx, tenant, controls.Exception{ControlID: "M365SEC.MFA.1", Scope: controls.Scope{Users: []string{userA}, Groups: []string{groupX}},
		Reason: hostile + " reason", ApprovedBy: hostile + " approver", ExpiresAt: fixedNow.Add(30 * 24 * time.Hour)})
	require.NoError(tb, err)
	created := fixedNow.Add(-2 * time.Hour)
	require.NoError(tb, rec.Incidents.Create(ctx, incident.Incident{ID: "inc-1", TenantID: tenant, Category: incident.CategoryAccountCompromise,
		Severity: "high", Status: incident.StatusAwaitingApproval, AlertIDs: []string{hostile}, CreatedAt: created,
		Entities: incident.Entities{Users: []string{userB}, Devices: []string{hostile}},
		Actions: []incident.Action{
			{ID: "act-1", Type: incident.ActionDisableAccount, Target: hostile, Status: incident.ActionProposed, RequiresApproval: true},
			{ID: "act-2", Type: incident.ActionRevokeSessions, Target: userB, Status: incident.ActionExecuted, ExecutedAt: &created},
		},
		Timeline: []incident.Entry{{At: created, Kind: "alert", Message: hostile + " alert"}}}))
	_, err = rec.SentReports.Update(ctx, tenant, "monthly", "2026-10", func(r *records.SentReport, _ bool) error {
		r.Recipients, r.Status, r.Result, r.SentAt, r.LastTry, r.Attempts = []string{hostile}, "sent", hostile, created, created, 1
		return nil
	})
	require.NoError(tb, err)
	_, err = rec.Settings.UpdateTenant(ctx, tenant, func(t *settings.Tenant) error {
		t.ReportRecipients = []string{hostile + "@x.test"}
		return nil
	})
	require.NoError(tb, err)
	api := &fakeAPI{answers: map[string]apiAnswer{}}
	c, err := New(Deps{Assess: svc, Records: rec, Tenants: tenants, Auth: "none", API: api.call, Now: now, Log: log, Version: "test"})
	require.NoError(tb, err)
	return &fixture{c: c, rec: rec, api: api}
}

func (f *fixture) get(tb testing.TB, path string) (int, http.Header, string) {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	w := httptest.NewRecorder()
	f.c.ServeHTTP(w, r)
	return w.Code, w.Header(), w.Body.String()
}

func (f *fixture) post(tb testing.TB, path string, form url.Values, header ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.c.ServeHTTP(w, r)
	return w
}

// pages are every console page, with the text each must show.
var pages = []struct {
	name, path string
	shows      []string
}{
	{"the overview shows metrics, failing controls, incidents, health and the last report", "/?tenant=" + tenant,
		[]string{"Users protected by MFA", "Failing controls", "1 open", "secureScore", escaped + " denied", escaped}},
	{"the controls list shows every control", "/controls?tenant=" + tenant, []string{"M365SEC.MFA.1", "MS.AAD"}},
	{"a control page names its findings", "/controls/M365SEC.MFA.1?tenant=" + tenant, []string{"Remediation", escaped + " group", "Exceptions", "Newly failing"}},
	{"the MFA page says why in words naming the policy and group", "/mfa?tenant=" + tenant, []string{escaped + " Bob", escaped + " MFA", escaped + " group"}},
	{"the MFA page lists everyone on request", "/mfa?status=all&tenant=" + tenant, []string{escaped + " Ann", "no policy"}},
	{"the devices page counts by platform", "/devices?tenant=" + tenant, []string{"Windows", "iOS", escaped + " laptop"}},
	{"the incidents list names the incident", "/incidents?tenant=" + tenant, []string{"accountCompromise"}},
	{"an incident page shows posture, actions and the timeline", "/incidents/inc-1?tenant=" + tenant,
		[]string{"not protected by MFA", escaped + " alert", "approve", "reject", escaped}},
	{"the exceptions page lists them by name with the create form", "/exceptions?tenant=" + tenant,
		[]string{escaped + " reason", escaped + " Ann", "group " + escaped + " group", "Create exception"}},
	{"the reports page links each period and shows the sent log", "/reports?tenant=" + tenant,
		[]string{"/reports/monthly?format=html&amp;month=2026-10&amp;tenant=" + tenant, "2026-Q3", escaped}},
	{"the settings page shows targets and recipients", "/settings?tenant=" + tenant, []string{"95", "co-managed", escaped + "@x.test"}},
	{"the tenants summary lists each tenant", "/tenants", []string{tenant}},
}

// rawTag finds hostile markup that was not escaped: a real tag or event
// handler attribute.
var rawTag = regexp.MustCompile(`<img|onerror=alert\(1\)>|<script`)

func TestEveryPageEscapesHostileTenantData(t *testing.T) {
	f := newTestConsole(t)
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			code, hdr, body := f.get(t, p.path)
			require.Equal(t, http.StatusOK, code, body)
			require.Equal(t, CSP, hdr.Get("Content-Security-Policy"))
			require.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"))
			require.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
			require.NotRegexp(t, rawTag, body, "hostile markup reached the page unescaped")
			for _, s := range p.shows {
				require.Contains(t, body, s)
			}
			require.NotRegexp(t, `(src|href|action)="(https?:)?//`, body, "a page loads and links nothing outside the app")
		})
	}
}

func TestGoldenPages(t *testing.T) {
	f := newTestConsole(t)
	for _, g := range []struct{ file, path string }{
		{"overview.golden", "/?tenant=" + tenant},
		{"control.golden", "/controls/M365SEC.MFA.1?tenant=" + tenant},
		{"mfa.golden", "/mfa?tenant=" + tenant},
		{"incident.golden", "/incidents/inc-1?tenant=" + tenant},
	} {
		t.Run(g.file, func(t *testing.T) {
			_, _, body := f.get(t, g.path)
			// Exception ids are random per run.
			body = regexp.MustCompile(`\b[0-9a-f]{16}\b`).ReplaceAllString(body, "ID")
			p := filepath.Join("testdata", g.file)
			if *update {
				require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
			}
			want, err := os.ReadFile(p)
			require.NoError(t, err, "run go test ./shared/console -update to write it")
			require.Equal(t, string(want), body)
		})
	}
}

func TestBadRequestsGetAPageNotAPanic(t *testing.T) {
	f := newTestConsole(t, tenant, "22222222-2222-4333-8444-555555555555")
	cases := []struct {
		name, path string
		status     int
	}{
		{"a tenant not monitored is not found", "/controls?tenant=99999999-2222-4333-8444-555555555555", http.StatusNotFound},
		{"a page needs a tenant when several are monitored", "/controls", http.StatusBadRequest},
		{"an unknown control is not found", "/controls/" + url.PathEscape(hostile) + "?tenant=" + tenant, http.StatusNotFound},
		{"an unknown incident is not found", "/incidents/" + url.PathEscape(hostile) + "?tenant=" + tenant, http.StatusNotFound},
		{"a junk status filter is refused", "/controls?status=junk&tenant=" + tenant, http.StatusBadRequest},
		{"a junk severity filter is refused", "/controls?severity=junk&tenant=" + tenant, http.StatusBadRequest},
		{"a junk MFA status is refused", "/mfa?status=junk&tenant=" + tenant, http.StatusBadRequest},
		{"a junk incident status is refused", "/incidents?status=junk&tenant=" + tenant, http.StatusBadRequest},
		{"an unknown report kind is not found", "/reports/weekly?tenant=" + tenant, http.StatusNotFound},
		{"an unknown report format is refused", "/reports/monthly?format=exe&tenant=" + tenant, http.StatusBadRequest},
		{"an unknown page is not found", "/" + url.PathEscape(hostile), http.StatusNotFound},
		{"several tenants show the summary at the root", "/", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, body := f.get(t, tc.path)
			require.Equal(t, tc.status, code, body)
			require.Equal(t, CSP, hdr.Get("Content-Security-Policy"))
			require.NotRegexp(t, rawTag, body)
		})
	}
}

func TestMFAExportGuardsFormulas(t *testing.T) {
	f := newTestConsole(t)
	code, hdr, body := f.get(t, "/mfa/export.csv?status=all&tenant="+tenant)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/csv; charset=utf-8", hdr.Get("Content-Type"))
	require.Contains(t, hdr.Get("Content-Disposition"), "attachment")
	require.Contains(t, body, "'=cmd|' /C calc'!A0@contoso.test", "a formula-like cell is prefixed with an apostrophe")
	require.NotContains(t, body, ",=cmd")
	require.Contains(t, body, hostile+" Bob", "CSV is not HTML: names stay as they are")
	require.Equal(t, 3, strings.Count(body, "\n"), "a header and the two users")
}

func TestFormsGoThroughTheAPI(t *testing.T) {
	t.Run("creating an exception posts the form as the API's JSON and redirects", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["POST /api/exceptions"] = apiAnswer{http.StatusCreated, `{"id":"x"}`}
		w := f.post(t, "/exceptions?tenant="+tenant, url.Values{"controlId": {"M365SEC.MFA.1"}, "user": {userA, userB},
			"reason": {"pilot"}, "approvedBy": {"ciso@contoso.test"}, "expires": {"2026-12-31"}})
		require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
		require.Equal(t, "/exceptions?done=created&tenant="+tenant, w.Header().Get("Location"))
		require.Len(t, f.api.calls, 1)
		require.Equal(t, "/api/exceptions?tenant="+tenant, f.api.calls[0].Target)
		require.JSONEq(t, `{"controlId":"M365SEC.MFA.1","scope":{"users":["`+userA+`","`+userB+`"],"groups":[]},"reason":"pilot",
			"approvedBy":"ciso@contoso.test","expiresAt":"2026-12-31T23:59:59Z"}`, f.api.calls[0].Body)
	})
	t.Run("a refused exception shows the API's reason, escaped, with the form kept", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["POST /api/exceptions"] = apiAnswer{http.StatusBadRequest, `{"error":{"code":"validationFailed","message":"` + hostile + `"}}`}
		w := f.post(t, "/exceptions?tenant="+tenant, url.Values{"controlId": {"M365SEC.MFA.1"}, "reason": {hostile}, "approvedBy": {"x"}, "expires": {"2026-12-31"}})
		require.Equal(t, http.StatusBadRequest, w.Code)
		require.NotRegexp(t, rawTag, w.Body.String())
		require.Contains(t, w.Body.String(), "The exception was not created: "+escaped)
		require.Contains(t, w.Body.String(), ">"+escaped+"</textarea>")
	})
	t.Run("an expiry that is not a date is refused before the API", func(t *testing.T) {
		f := newTestConsole(t)
		w := f.post(t, "/exceptions?tenant="+tenant, url.Values{"controlId": {"M365SEC.MFA.1"}, "expires": {"soon"}})
		require.Equal(t, http.StatusBadRequest, w.Code)
		require.Empty(t, f.api.calls)
	})
	t.Run("revoking deletes through the API", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["DELETE /api/exceptions/e1"] = apiAnswer{http.StatusOK, `{}`}
		w := f.post(t, "/exceptions/e1/revoke?tenant="+tenant, nil)
		require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
		require.Equal(t, "DELETE", f.api.calls[0].Method)
	})
	t.Run("approving posts by and reason to the contract route", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["POST /api/incidents/inc-1/actions/act-1/approve"] = apiAnswer{http.StatusOK, `{}`}
		w := f.post(t, "/incidents/inc-1/actions/act-1/approve?tenant="+tenant, url.Values{"by": {"ann"}, "reason": {"confirmed"}})
		require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
		require.Equal(t, "/api/incidents/inc-1/actions/act-1/approve?tenant="+tenant, f.api.calls[0].Target)
		require.JSONEq(t, `{"by":"ann","reason":"confirmed"}`, f.api.calls[0].Body)
	})
	t.Run("a decision route the build lacks says so", func(t *testing.T) {
		f := newTestConsole(t)
		w := f.post(t, "/incidents/inc-1/actions/act-1/reject?tenant="+tenant, url.Values{"by": {"ann"}})
		require.Equal(t, http.StatusNotImplemented, w.Code)
		require.Contains(t, w.Body.String(), "not available in this build")
	})
	t.Run("an unknown decision is not found", func(t *testing.T) {
		f := newTestConsole(t)
		w := f.post(t, "/incidents/inc-1/actions/act-1/explode?tenant="+tenant, nil)
		require.Equal(t, http.StatusNotFound, w.Code)
		require.Empty(t, f.api.calls)
	})
	t.Run("targets are sent as ratios", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["PUT /api/targets"] = apiAnswer{http.StatusOK, `{}`}
		w := f.post(t, "/settings/targets?tenant="+tenant, url.Values{"mfaCoverage": {"90"}, "restoreTestMaxAgeDays": {"30"}})
		require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
		require.JSONEq(t, `{"mfaCoverage":0.9,"restoreTestMaxAgeDays":30}`, f.api.calls[0].Body)
	})
	t.Run("a report is passed on as the API wrote it, with the report policy", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["GET /api/reports/monthly"] = apiAnswer{http.StatusOK, `<html>report</html>`}
		code, hdr, body := f.get(t, "/reports/monthly?month=2026-10&format=html&tenant="+tenant)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "<html>report</html>", body)
		require.Equal(t, ReportCSP, hdr.Get("Content-Security-Policy"))
		require.Equal(t, "/api/reports/monthly?format=html&month=2026-10&tenant="+tenant, f.api.calls[0].Target)
	})
	t.Run("a report route the build lacks sends the person back to the reports page, saying so", func(t *testing.T) {
		f := newTestConsole(t)
		code, hdr, _ := f.get(t, "/reports/quarterly?quarter=2026-Q3&format=pdf&tenant="+tenant)
		require.Equal(t, http.StatusSeeOther, code)
		require.Equal(t, "/reports?done=reportsMissing&tenant="+tenant, hdr.Get("Location"))
	})
	t.Run("settings send the model and recipient lists", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["PUT /api/settings"] = apiAnswer{http.StatusOK, `{}`}
		w := f.post(t, "/settings/tenant?tenant="+tenant, url.Values{"responsibilityModel": {"fully-managed"}, "autoActionsPerHour": {"3"},
			"reportRecipients": {"a@x.test\nb@x.test"}, "incidentRecipients": {""}})
		require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
		require.JSONEq(t, `{"responsibilityModel":"fully-managed","autoActionsPerHour":3,"reportRecipients":["a@x.test","b@x.test"],"incidentRecipients":[]}`, f.api.calls[0].Body)
	})
	t.Run("a refused setting shows the API's reason", func(t *testing.T) {
		f := newTestConsole(t)
		f.api.answers["PUT /api/settings"] = apiAnswer{http.StatusBadRequest, `{"error":{"code":"badRequest","message":"bad address"}}`}
		w := f.post(t, "/settings/tenant?tenant="+tenant, url.Values{"reportRecipients": {"nope"}})
		require.Equal(t, http.StatusBadRequest, w.Code)
		require.Contains(t, w.Body.String(), "The settings were not saved: bad address")
	})
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	f := newTestConsole(t)
	w := f.post(t, "/exceptions/e1/revoke?tenant="+tenant, nil, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "cross-site request forgery")
	require.Empty(t, f.api.calls, "nothing reached the API")
	w = f.post(t, "/exceptions/e1/revoke?tenant="+tenant, nil, "Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, w.Code)
}

func TestSignInGate(t *testing.T) {
	f := newTestConsole(t)
	t.Run("in Azure without App Service Authentication the console is off", func(t *testing.T) {
		f.c.d.Hosted, f.c.d.Auth = true, "none"
		code, _, body := f.get(t, "/?tenant="+tenant)
		require.Equal(t, http.StatusForbidden, code)
		require.Contains(t, body, "AUTH=appservice")
		require.NotContains(t, body, "Users protected by MFA")
	})
	t.Run("with App Service Authentication a request without a principal is refused", func(t *testing.T) {
		f.c.d.Hosted, f.c.d.Auth = true, "appservice"
		code, _, _ := f.get(t, "/?tenant="+tenant)
		require.Equal(t, http.StatusUnauthorized, code)
	})
	t.Run("a signed-in person is named in the header and proposed as approver", func(t *testing.T) {
		f.c.d.Hosted, f.c.d.Auth = true, "appservice"
		claims := `{"claims":[{"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"0000-oid"},` +
			`{"typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn","val":"` + hostile + `@contoso.test"}]}`
		r := httptest.NewRequest(http.MethodGet, "/exceptions?tenant="+tenant, nil)
		r.Header.Set("X-MS-CLIENT-PRINCIPAL", base64.StdEncoding.EncodeToString([]byte(claims)))
		w := httptest.NewRecorder()
		f.c.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "Signed in as <strong>"+escaped+"@contoso.test</strong>")
		require.Contains(t, w.Body.String(), `name="approvedBy" required value="`+escaped+`@contoso.test"`)
		require.NotContains(t, w.Body.String(), `name="by"`, "a verified person types no name")
		require.NotRegexp(t, rawTag, w.Body.String())
	})
	t.Run("the stylesheet needs no sign-in", func(t *testing.T) {
		code, hdr, _ := f.get(t, "/static/console.css")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, hdr.Get("Content-Type"), "text/css")
	})
}
