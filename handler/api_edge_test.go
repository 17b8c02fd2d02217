package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serveTest sends one request through the full router as run() serves it.
func serveTest(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func requireAPIError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) apiErrorBody {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	var e apiErrorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
	require.Equal(t, code, e.Error.Code)
	require.NotEmpty(t, e.Error.Message)
	return e
}

func TestUnknownRoutesAndMethodsAnswerTheContractsJSONError(t *testing.T) {
	a, _ := newTestApp(t)
	h := contractErrors(newTestRouter(t, a).(*http.ServeMux))
	q := "?tenant=" + testTenant
	cases := []struct {
		name   string
		method string
		target string
		status int
		code   string
		allow  string // in the Allow header
	}{
		{"an unknown API route is a JSON 404", "GET", "/api/nope" + q, 404, "notFound", ""},
		{"an unknown deeper API path is a JSON 404, not a console page", "GET", "/api/nope/deeper", 404, "notFound", ""},
		{"a wrong method on an API route is a JSON 405 with Allow", "POST", "/api/metrics" + q, 405, "methodNotAllowed", "GET"},
		{"a wrong method on targets names the methods allowed", "DELETE", "/api/targets" + q, 405, "methodNotAllowed", "PUT"},
		{"a GET of an invocation route is a JSON 405", "GET", "/CollectIdentity", 405, "methodNotAllowed", "POST"},
		{"a known route still reaches its handler with its path values", "DELETE", "/api/exceptions/no-such-id" + q, 404, "notFound", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serveTest(t, h, tc.method, tc.target, "")
			e := requireAPIError(t, rec, tc.status, tc.code)
			require.Contains(t, rec.Header().Get("Allow"), tc.allow)
			require.NotContains(t, e.Error.Message, "page not found")
		})
	}
	t.Run("a known route answers as before", func(t *testing.T) {
		rec := serveTest(t, h, "GET", "/api/health", "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"status":"ok"`)
	})
	t.Run("the path values reach the handler", func(t *testing.T) {
		rec := serveTest(t, h, "DELETE", "/api/exceptions/no-such-id"+q, "")
		require.Contains(t, rec.Body.String(), "no-such-id")
	})
}

func TestBodyErrorsNameFieldsNotGoTypes(t *testing.T) {
	a, _ := newTestApp(t)
	h := contractErrors(newTestRouter(t, a).(*http.ServeMux))
	q := "?tenant=" + testTenant
	cases := []struct {
		name    string
		method  string
		path    string
		body    string
		message string
	}{
		{"a number for a string field names the field", "POST", "/api/exceptions", `{"controlId":1}`, "field controlId must be a string"},
		{"a string for a list names the nested field", "POST", "/api/exceptions", `{"scope":{"users":"x"}}`, "field scope.users must be an array"},
		{"a list for an object names the field", "POST", "/api/exceptions", `{"scope":[]}`, "field scope must be an object"},
		{"a time that is not RFC 3339 says what a time is", "POST", "/api/exceptions", `{"expiresAt":"soon"}`, "RFC 3339"},
		{"a number for a time says what a time is", "POST", "/api/exceptions", `{"expiresAt":5}`, "RFC 3339"},
		{"an unknown field is named", "POST", "/api/exceptions", `{"expires":"x"}`, `unknown field "expires"`},
		{"a word for a ratio names the field", "PUT", "/api/targets", `{"mfaCoverage":"high"}`, "field mfaCoverage must be a number"},
		{"a fraction for a day count asks for a whole number", "PUT", "/api/targets", `{"restoreTestMaxAgeDays":1.5}`, "field restoreTestMaxAgeDays must be a whole number"},
		{"a number beyond float range names the field", "PUT", "/api/targets", `{"mfaCoverage":1e999}`, "field mfaCoverage must be a number"},
		{"a string for a boolean names the field", "POST", "/api/restore-tests", `{"succeeded":"yes"}`, "field succeeded must be true or false"},
		{"a body that is not an object says so", "PUT", "/api/targets", `[1]`, "request body must be an object"},
		{"broken JSON says where", "PUT", "/api/targets", `{"mfaCoverage":}`, "not valid JSON at byte"},
		{"a truncated body says so", "PUT", "/api/targets", `{"mfaCoverage":0.5`, "ends before its JSON is complete"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := requireAPIError(t, serveTest(t, h, tc.method, tc.path+q, tc.body), http.StatusBadRequest, "badRequest")
			require.Contains(t, e.Error.Message, tc.message)
			for _, goism := range []string{"Go struct", "Go value", "of type", "main.", "controls.", "float64", "int64", "time.Time", "UnmarshalJSON", "json:"} {
				require.NotContains(t, e.Error.Message, goism)
			}
		})
	}
}

func TestDateRangeIsBounded(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	cases := []struct {
		name     string
		query    string
		from, to string // the range returned, to exclusive
		err      string
	}{
		{"no dates default to the last days up to today", "", "2026-08-28", "2026-11-27", ""},
		{"the first accepted date is accepted", "from=2000-01-01&to=2002-12-31", "2000-01-01", "2003-01-01", ""},
		{"the last accepted date is accepted", "from=2099-01-01&to=2099-12-31", "2099-01-01", "2100-01-01", ""},
		{"year 1 is refused rather than read as no date", "from=0001-01-01", "", "", "from must be a date between 2000-01-01 and 2099-12-31"},
		{"the day before the first accepted date is refused", "from=1999-12-31", "", "", "from must be a date between"},
		{"year 9999 is refused rather than overflowing", "to=9999-12-31", "", "", "to must be a date between"},
		{"the day after the last accepted date is refused", "to=2100-01-01", "", "", "to must be a date between"},
		{"a date that is not a date is refused", "to=2026-02-30", "", "", "to must be a date YYYY-MM-DD"},
		{"a reversed range is refused", "from=2026-05-01&to=2026-04-01", "", "", "from must not be after to"},
		{"more than three years is refused", "from=2020-01-01&to=2026-01-01", "", "", "at most three years"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from, to, err := dateRange(httptest.NewRequest("GET", "/api/metrics/history?"+tc.query, nil), now, 90)
			if tc.err != "" {
				var he *httpError
				require.ErrorAs(t, err, &he)
				require.Equal(t, http.StatusBadRequest, he.status)
				require.Contains(t, he.msg, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, day(tc.from), from)
			require.Equal(t, day(tc.to), to)
		})
	}
}

func TestHistoryAtTheDateEdgesAnswers400NotAnEmpty200(t *testing.T) {
	a, _ := newTestApp(t)
	h := contractErrors(newTestRouter(t, a).(*http.ServeMux))
	for _, path := range []string{"/api/metrics/history", "/api/controls/history"} {
		for _, q := range []string{"to=9999-12-31", "from=0001-01-01"} {
			t.Run(path+"?"+q, func(t *testing.T) {
				requireAPIError(t, serveTest(t, h, "GET", path+"?tenant="+testTenant+"&"+q, ""), http.StatusBadRequest, "badRequest")
			})
		}
	}
}

func TestWriteJSONNeverDropsAnEncodingFailure(t *testing.T) {
	cases := []struct {
		name string
		v    any
	}{
		{"a value JSON cannot hold", math.Inf(1)},
		{"a time beyond year 9999", map[string]time.Time{"to": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"a type JSON cannot encode", map[string]any{"c": make(chan int)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := writeJSON(rec, http.StatusOK, tc.v)
			require.Error(t, err)
			e := requireAPIError(t, rec, http.StatusInternalServerError, "internalError")
			require.Contains(t, e.Error.Message, "could not be encoded")
		})
	}
	t.Run("a value that encodes is written with its status", func(t *testing.T) {
		rec := httptest.NewRecorder()
		require.NoError(t, writeJSON(rec, http.StatusCreated, map[string]string{"a": "<b>"}))
		require.Equal(t, http.StatusCreated, rec.Code)
		require.Equal(t, `{"a":"\u003cb\u003e"}`+"\n", rec.Body.String())
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})
}

// oversizeExceptionBody is an otherwise valid exception whose scope names
// 200,000 users.
func oversizeExceptionBody() string {
	ids := make([]string, 200_000)
	for i := range ids {
		ids[i] = `"x"`
	}
	return `{"controlId":"MS.AAD.1.1v1","scope":{"users":[` + strings.Join(ids, ",") + `]},"reason":"r","approvedBy":"a","expiresAt":"` +
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`
}

func TestExceptionRequestOfAClientThatLeftDoesNoWork(t *testing.T) {
	a, _ := newTestApp(t)
	h := a.serve("Exceptions", a.exceptions)
	body := oversizeExceptionBody()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("POST", "/api/exceptions?tenant="+testTenant, strings.NewReader(body)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, req)
	require.Less(t, time.Since(start), 5*time.Second)
	require.NotContains(t, rec.Body.String(), "validationFailed", "the request stopped before validating")
	require.NotEqual(t, http.StatusInternalServerError, rec.Code)
	list, err := a.assess.Exceptions(context.Background(), testTenant)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestOversizeExceptionScopeIsOneShortProblem(t *testing.T) {
	a, _ := newTestApp(t)
	h := a.serve("Exceptions", a.exceptions)
	body := oversizeExceptionBody()
	req := httptest.NewRequest("POST", "/api/exceptions?tenant="+testTenant, strings.NewReader(body))
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, req)
	require.Less(t, time.Since(start), 5*time.Second, "no minutes of CPU")
	e := requireAPIError(t, rec, http.StatusBadRequest, "validationFailed")
	require.Contains(t, e.Error.Message, "scope names 200000 ids; at most 100")
	require.Less(t, len(e.Error.Message), 1024)
}
