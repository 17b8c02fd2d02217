package console

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/controls"
	"m365security/shared/posture"
	"m365security/shared/records"
)

func TestNewDefaultsTheClock(t *testing.T) {
	c, err := New(Deps{Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	require.NoError(t, err)
	require.NotNil(t, c.d.Now, "a console without a clock uses time.Now")
	require.False(t, c.d.Now().IsZero())
}

func TestErrorPagesKeepTheFrame(t *testing.T) {
	f := newTestConsole(t)
	code, _, body := f.get(t, "/controls/nope?tenant="+tenant)
	require.Equal(t, http.StatusNotFound, code)
	require.True(t, strings.HasSuffix(body, "</html>\n"), "one page, nothing written after it")
	require.Contains(t, body, `href="/controls?tenant=`+tenant+`"`, "the tenant's navigation stays on an error page")
	require.Contains(t, body, "There is no control with that id.")
}

func TestFiltersShowTheirSelection(t *testing.T) {
	f := newTestConsole(t)
	_, _, body := f.get(t, "/controls?status=fail&severity=high&q=mfa&tenant="+tenant)
	require.Contains(t, body, `<option value="fail" selected>`)
	require.NotContains(t, body, `<option value="pass" selected>`)
	require.Contains(t, body, `<option value="high" selected>`)
	require.Contains(t, body, `name="q" value="mfa"`)
	_, _, body = f.get(t, "/mfa?status=all&tenant="+tenant)
	require.Contains(t, body, `<option value="all" selected>`)
}

func TestTenantSummaryPages(t *testing.T) {
	tenants := []string{tenant}
	for i := 1; i <= summaryPageSize; i++ {
		tenants = append(tenants, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
	}
	f := newTestConsole(t, tenants...)
	_, _, first := f.get(t, "/tenants")
	require.Equal(t, summaryPageSize, strings.Count(first, `<tr><td><a href="/?tenant=`), "one page holds the page size")
	require.Contains(t, first, `href="/tenants?page=1">next</a>`)
	require.NotContains(t, first, ">previous<")
	require.Contains(t, first, `<select id="tenant-switch" name="tenant">`, "several tenants get a switcher")
	_, _, second := f.get(t, "/tenants?page=1")
	require.Equal(t, 1, strings.Count(second, `<tr><td><a href="/?tenant=`))
	require.Contains(t, second, `href="/tenants?page=0">previous</a>`)
	require.NotContains(t, second, ">next<")
	_, _, beyond := f.get(t, "/tenants?page=99")
	require.Equal(t, second, beyond, "a page beyond the last shows the last")
}

func TestRevokeRefusedShowsTheAPIsReason(t *testing.T) {
	f := newTestConsole(t)
	f.api.answers["DELETE /api/exceptions/e9"] = apiAnswer{http.StatusNotFound, `{"error":{"code":"notFound","message":"no exception \"e9\" in this tenant"}}`}
	w := f.post(t, "/exceptions/e9/revoke?tenant="+tenant, nil)
	require.Equal(t, http.StatusNotFound, w.Code)
	require.Contains(t, w.Body.String(), "The exception was not revoked: no exception &#34;e9&#34; in this tenant")
}

func TestASignedInApproverIsTheDefault(t *testing.T) {
	f := newTestConsole(t)
	f.c.d.Auth = "appservice"
	f.api.answers["POST /api/exceptions"] = apiAnswer{http.StatusCreated, `{}`}
	form := url.Values{"controlId": {"M365SEC.MFA.1"}, "reason": {"pilot"}, "expires": {"2026-12-31"}}
	w := f.post(t, "/exceptions?tenant="+tenant, form, "X-MS-CLIENT-PRINCIPAL", signedIn("ciso@contoso.test"))
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	require.Contains(t, f.api.calls[0].Body, `"approvedBy":"ciso@contoso.test"`)
	form.Set("approvedBy", "board@contoso.test")
	w = f.post(t, "/exceptions?tenant="+tenant, form, "X-MS-CLIENT-PRINCIPAL", signedIn("ciso@contoso.test"))
	require.Equal(t, http.StatusSeeOther, w.Code)
	require.Contains(t, f.api.calls[1].Body, `"approvedBy":"board@contoso.test"`, "a named approver is kept")
}

func signedIn(upn string) string {
	claims := `{"claims":[{"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"0000-oid"},` +
		`{"typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn","val":"` + upn + `"}]}`
	return base64.StdEncoding.EncodeToString([]byte(claims))
}

func TestAReportTheAPIRefusesSaysWhy(t *testing.T) {
	f := newTestConsole(t)
	f.api.answers["GET /api/reports/monthly"] = apiAnswer{http.StatusBadRequest, `{"error":{"code":"badRequest","message":"month must be YYYY-MM"}}`}
	code, _, body := f.get(t, "/reports/monthly?month=junk&format=csv&tenant="+tenant)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "The report could not be produced: month must be YYYY-MM")
}

func TestTheSentLogIsNewestFirst(t *testing.T) {
	f := newTestConsole(t)
	ctx := context.Background()
	for i, period := range []string{"2026-08", "2026-09"} {
		at := fixedNow.Add(time.Duration(i-5) * 24 * time.Hour)
		_, err := f.rec.SentReports.Update(ctx, tenant, "monthly", period, func(r *records.SentReport, _ bool) error {
			r.Status, r.SentAt, r.LastTry, r.Attempts = "sent", at, at, 1
			return nil
		})
		require.NoError(t, err)
	}
	_, _, body := f.get(t, "/reports?tenant="+tenant)
	i10, i09, i08 := strings.Index(body, "monthly 2026-10</td>"), strings.Index(body, "monthly 2026-09</td>"), strings.Index(body, "monthly 2026-08</td>")
	require.True(t, i10 >= 0 && i09 >= 0 && i08 >= 0, body)
	require.Less(t, i10, i09)
	require.Less(t, i09, i08)
}

func TestRefusedTargetsAndSettingsSayWhy(t *testing.T) {
	cases := []struct {
		name, path string
		form       url.Values
		answer     *apiAnswer
		says       string
	}{
		{"a target that is not a number is refused before the API", "/settings/targets", url.Values{"mfaCoverage": {"lots"}}, nil,
			"The targets were not saved: mfaCoverage must be a number of percent"},
		{"a target the API refuses shows its reason", "/settings/targets", url.Values{"mfaCoverage": {"150"}},
			&apiAnswer{http.StatusBadRequest, `{"error":{"code":"validationFailed","message":"mfaCoverage must be a ratio between 0 and 1"}}`},
			"The targets were not saved: mfaCoverage must be a ratio between 0 and 1"},
		{"a brake that is not a number is refused before the API", "/settings/tenant", url.Values{"autoActionsPerHour": {"many"}}, nil,
			"The settings were not saved: autoActionsPerHour must be a whole number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestConsole(t)
			if tc.answer != nil {
				f.api.answers["PUT /api/targets"] = *tc.answer
			}
			w := f.post(t, tc.path+"?tenant="+tenant, tc.form)
			require.Equal(t, http.StatusBadRequest, w.Code)
			require.Contains(t, w.Body.String(), tc.says)
			require.Contains(t, w.Body.String(), "Save targets", "the settings page is shown again")
			if tc.answer == nil {
				require.Empty(t, f.api.calls)
			}
		})
	}
}

func TestOptionsWithOneNameAreOrderedByID(t *testing.T) {
	n := NamesFrom(&posture.Identity{Groups: []posture.Group{{ID: "g2", DisplayName: "Pilot"}, {ID: "g1", DisplayName: "Pilot"}}}, nil)
	require.Equal(t, []Option{{"g1", "Pilot"}, {"g2", "Pilot"}}, n.GroupOptions())
}

func TestUserLabel(t *testing.T) {
	require.Equal(t, "Ann (a@x)", userLabel("Ann", "a@x"))
	require.Equal(t, "a@x", userLabel("", "a@x"))
	require.Equal(t, "Ann", userLabel("Ann", ""))
	require.Equal(t, "", userLabel("", ""))
}

func TestADecisionTheAPIRefusesSaysWhy(t *testing.T) {
	f := newTestConsole(t)
	f.api.answers["POST /api/incidents/inc-1/actions/act-1/approve"] = apiAnswer{http.StatusConflict, `{"error":{"code":"conflict","message":"the action was decided already"}}`}
	w := f.post(t, "/incidents/inc-1/actions/act-1/approve?tenant="+tenant, url.Values{"by": {"ann"}})
	require.Equal(t, http.StatusConflict, w.Code)
	require.Contains(t, w.Body.String(), "The action could not be approved: the action was decided already")
}

func TestAnEmptyTenantStillHasAnOverview(t *testing.T) {
	other := "22222222-2222-4333-8444-555555555555"
	f := newTestConsole(t, tenant, other)
	code, _, body := f.get(t, "/?tenant="+other)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "No report has been sent yet.")
	require.Contains(t, body, "No incidents are open.")
	require.Contains(t, body, "not collected yet")
}

func TestControlsListOrderAndSummaryCount(t *testing.T) {
	f := newTestConsole(t)
	cv, err := f.c.d.Assess.Controls(context.Background(), tenant, time.Time{})
	require.NoError(t, err)
	failing := 0
	for _, r := range cv.Controls {
		if r.Status == controls.Fail {
			failing++
		}
	}
	_, _, body := f.get(t, "/tenants")
	require.Contains(t, body, fmt.Sprintf("</td><td>%d</td>", failing), "the summary counts the failing controls")

	_, _, body = f.get(t, "/controls?tenant="+tenant)
	var order []string
	for _, m := range regexp.MustCompile(`<td class="sev (\w+)">`).FindAllStringSubmatch(body, -1) {
		order = append(order, m[1])
	}
	require.True(t, slices.IsSortedFunc(order, func(a, b string) int {
		return rank(controls.Severity(a)) - rank(controls.Severity(b))
	}), "most severe first: %v", order)
	ids := regexp.MustCompile(`<tr><td><a href="/controls/([^?]+)\?`).FindAllStringSubmatch(body, -1)
	for i := 1; i < len(ids); i++ {
		if order[i] == order[i-1] {
			require.Less(t, ids[i-1][1], ids[i][1], "in id order within a severity")
		}
	}
	code, _, _ := f.get(t, "/controls/"+cv.Controls[0].ID+"?tenant="+tenant)
	require.Equal(t, http.StatusOK, code, "the first control of the catalogue has its page")
}
