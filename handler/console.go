package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"m365security/shared/console"
	"m365security/shared/principal"
)

// consoleFunction is the function folder whose catch-all route serves the
// console at the site root (host.json routePrefix is empty for it).
const consoleFunction = "Console"

// consolePage serves the console. A path under /api/ reaches it only when
// no API function has that route: it is answered as the API answers an
// unknown route (JSON 404 or 405), never with a page.
func (a *app) consolePage(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") || a.otherMethodOnly(r) {
		contractErrors(a.apiMux).ServeHTTP(w, r)
		return nil
	}
	a.consoleOnce.Do(func() {
		a.console, a.consoleErr = console.New(console.Deps{Assess: a.assess, Records: a.records, Tenants: a.cfg.Tenants,
			Auth: a.cfg.Auth, Hosted: a.cfg.Hosted, Defaults: a.cfg.Recipients, API: a.callAPI, Now: a.now, Log: a.log,
			Version: version})
	})
	if a.consoleErr != nil {
		return fmt.Errorf("build console: %w", a.consoleErr)
	}
	a.console.ServeHTTP(w, r)
	return nil
}

// otherMethodOnly reports whether the API or an invocation route has the
// request's path under another method (a GET of POST /CollectIdentity):
// that is the API's 405, not a console page.
func (a *app) otherMethodOnly(r *http.Request) bool {
	h, pattern := a.apiMux.Handler(r)
	if pattern != "" {
		return false
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code == http.StatusMethodNotAllowed
}

// forwardedHeaders travel from a console request to the API call it makes:
// the platform's sign-in (App Service strips any a client sends when
// authentication is on) and the invocation id for the log.
var forwardedHeaders = []string{principal.Header, "X-MS-CLIENT-PRINCIPAL-NAME", "X-MS-CLIENT-PRINCIPAL-ID",
	"X-Azure-Functions-InvocationId"}

// callAPI runs one JSON API request in-process for the console, through
// the same handlers and validation as an API client's request.
func (a *app) callAPI(r *http.Request, method, target string, body []byte) (int, http.Header, []byte) {
	req := httptest.NewRequestWithContext(r.Context(), method, target, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range forwardedHeaders {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	rec := httptest.NewRecorder()
	contractErrors(a.apiMux).ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}
