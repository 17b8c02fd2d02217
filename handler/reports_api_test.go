package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReportRoutes(t *testing.T) {
	a, _ := newTestApp(t)
	mux := newTestRouter(t, a)
	cases := []struct {
		name, query string
		status      int
		contentType string
		message     string
	}{
		{"a monthly html report is a self-contained page", "/api/reports/monthly?tenant=" + testTenant + "&month=2026-10", 200, "text/html; charset=utf-8", ""},
		{"a monthly json report", "/api/reports/monthly?tenant=" + testTenant + "&month=2026-10&format=json", 200, "application/json; charset=utf-8", ""},
		{"a monthly csv report is a zip", "/api/reports/monthly?tenant=" + testTenant + "&month=2026-10&format=csv", 200, "application/zip", ""},
		{"a monthly pdf report", "/api/reports/monthly?tenant=" + testTenant + "&month=2026-10&format=pdf", 200, "application/pdf", ""},
		{"a quarterly pdf report", "/api/reports/quarterly?tenant=" + testTenant + "&quarter=2026-Q3&format=pdf", 200, "application/pdf", ""},
		{"a report without a period is the last ended one", "/api/reports/quarterly?tenant=" + testTenant + "&format=json", 200, "application/json; charset=utf-8", ""},
		{"a bad month names the expected form", "/api/reports/monthly?tenant=" + testTenant + "&month=2026-13", 400, "", "month must be YYYY-MM (e.g. 2026-03)"},
		{"a month in another form names the expected form", "/api/reports/monthly?tenant=" + testTenant + "&month=March", 400, "", "month must be YYYY-MM"},
		{"a bad quarter names the expected form", "/api/reports/quarterly?tenant=" + testTenant + "&quarter=2026-Q5", 400, "", "quarter must be YYYY-Qn with n 1 to 4"},
		{"a bad format names the formats", "/api/reports/monthly?tenant=" + testTenant + "&format=xlsx", 400, "", "format must be one of html, json, csv, pdf"},
		{"the quarterly review has no csv", "/api/reports/quarterly?tenant=" + testTenant + "&format=csv", 400, "", "format must be one of html, json, pdf"},
		{"a missing tenant is refused", "/api/reports/monthly?month=2026-10", 400, "", "tenant is required"},
		{"an unmonitored tenant is not found", "/api/reports/monthly?tenant=99999999-2222-4333-8444-555555555555", 404, "", "not monitored"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.query, nil))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			if tc.status != 200 {
				var e struct {
					Error apiError `json:"error"`
				}
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
				require.Contains(t, e.Error.Message, tc.message)
				return
			}
			require.Equal(t, tc.contentType, rec.Header().Get("Content-Type"))
			if tc.contentType == "text/html; charset=utf-8" {
				require.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
				require.Contains(t, rec.Body.String(), "No data.", "an empty store says so")
			}
			if tc.contentType == "application/pdf" {
				require.True(t, bytes.HasPrefix(rec.Body.Bytes(), []byte("%PDF-")))
			}
		})
	}
}

func TestSentLogRoute(t *testing.T) {
	a, _ := newTestApp(t)
	mux := newTestRouter(t, a)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/reports/sent?tenant="+testTenant, nil))
	require.Equal(t, 200, rec.Code)
	require.JSONEq(t, `{"tenantId":"`+testTenant+`","sent":[]}`, rec.Body.String())
	require.Contains(t, a.jobs(), reportJob, "RunTenantWork knows the mailing job")
}
