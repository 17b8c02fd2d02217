package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/assess"
)

// Fuzz targets of the HTTP edge. Seed corpora are committed under
// testdata/fuzz/<target>; make test runs each for a few seconds (make fuzz).
// Every target asserts the same three things about any input: no panic
// (serve would answer it 500), no 500 (bad input is the client's fault),
// and allocation bounded by the input's size.

// allocBudget bounds what one request may allocate: proportional to its
// input, plus a fixed allowance for the work any request does.
func allocBudget(inputLen int) uint64 { return 16<<20 + 64*uint64(inputLen) }

// fuzzRequest serves one request and checks the invariants; it returns the
// response for target-specific checks.
func fuzzRequest(t *testing.T, h http.Handler, req *http.Request, inputLen int, allowed ...int) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	require.NotEqual(t, http.StatusInternalServerError, rec.Code, "bad input is never a 500: %s", rec.Body.String())
	require.Contains(t, allowed, rec.Code, rec.Body.String())
	require.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, allocBudget(inputLen), "allocation is bounded by the input")
	if rec.Code >= 400 {
		var e apiErrorBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), "errors are the contract's JSON: %s", rec.Body.String())
		require.NotEmpty(t, e.Error.Code)
		require.NotEmpty(t, e.Error.Message)
		require.NotContains(t, e.Error.Message, "Go struct")
	}
	require.NotContains(t, rec.Body.String(), testClientState, "the clientState is never echoed")
	return rec
}

// newFuzzApp is a test app on a fixed clock, so the seed corpora keep
// meaning what they meant (a valid expiry stays valid) and the full router
// as run() serves it.
func newFuzzApp(f *testing.F) (*recordingQueue, http.Handler) {
	a, q := newTestApp(f)
	q.countOnly = true
	a.now = func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }
	a.assess = assess.New(a.records, nil, a.now, a.log)
	return q, contractErrors(newTestRouter(f, a).(*http.ServeMux))
}

func fuzzNotifications(f *testing.F, lifecycle bool) {
	q, h := newFuzzApp(f)
	path := "/api/notifications"
	if lifecycle {
		path += "/lifecycle"
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := q.count()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := fuzzRequest(t, h, req, len(body), http.StatusAccepted, http.StatusBadRequest, http.StatusForbidden,
			http.StatusNotFound, http.StatusRequestEntityTooLarge)
		added := q.count() - before
		if rec.Code == http.StatusAccepted {
			require.Positive(t, added)
			require.LessOrEqual(t, added, maxNotificationItems)
		} else {
			require.Zero(t, added, "a refused delivery enqueues nothing")
		}
	})
}

func FuzzNotifications(f *testing.F) { fuzzNotifications(f, false) }

func FuzzLifecycleNotifications(f *testing.F) { fuzzNotifications(f, true) }

func FuzzExceptionsBody(f *testing.F) {
	_, h := newFuzzApp(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/exceptions?tenant="+testTenant, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := fuzzRequest(t, h, req, len(body), http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		if rec.Code == http.StatusCreated {
			// What is stored stays within the limits of a risk acceptance.
			require.Less(t, rec.Body.Len(), 16<<10)
		}
	})
}

func FuzzTargetsBody(f *testing.F) {
	_, h := newFuzzApp(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPut, "/api/targets?tenant="+testTenant, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		fuzzRequest(t, h, req, len(body), http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	})
}

// queryRoutes are the GET routes; every one takes tenant, and some read
// from, to or status.
var queryRoutes = []string{"/api/health", "/api/metrics", "/api/metrics/history", "/api/controls", "/api/controls/history",
	"/api/mfa/users", "/api/collection", "/api/exceptions", "/api/restore-tests", "/api/targets"}

func FuzzQueryParameters(f *testing.F) {
	_, h := newFuzzApp(f)
	f.Fuzz(func(t *testing.T, route uint8, tenant, from, to, status string) {
		q := url.Values{}
		for k, v := range map[string]string{"tenant": tenant, "from": from, "to": to, "status": status} {
			if v != "" {
				q.Set(k, v)
			}
		}
		path := queryRoutes[int(route)%len(queryRoutes)]
		req := httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil)
		rec := fuzzRequest(t, h, req, len(tenant)+len(from)+len(to)+len(status),
			http.StatusOK, http.StatusBadRequest, http.StatusNotFound)
		if rec.Code == http.StatusOK {
			require.NotEmpty(t, rec.Body.Bytes(), "a 200 always has a body")
			require.True(t, json.Valid(rec.Body.Bytes()), rec.Body.String())
			if path != "/api/health" {
				require.True(t, slices.Contains([]string{testTenant}, strings.ToLower(strings.TrimSpace(tenant))), "only the monitored tenant is answered")
			}
		}
	})
}
