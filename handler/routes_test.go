package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/handler/hostmeta"
)

func TestEveryFunctionFolderHasAHandlerAndViceVersa(t *testing.T) {
	app, err := hostmeta.Load("..", "../functions", func(string) string { return "" })
	require.NoError(t, err)
	a := &app0
	_, err = a.router(app)
	require.NoError(t, err)

	names := map[string]bool{}
	for _, f := range app.Functions {
		names[f.Name] = true
	}
	for name := range a.functions() {
		require.True(t, names[name], "handler %s has no function folder", name)
	}
	require.Len(t, a.functions(), len(app.Functions))
}

var app0 = app{log: slog.New(slog.DiscardHandler)}

func TestRouterRefusesAFunctionOnOneSideOnly(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../host.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "host.json"), b, 0o644))
	fn := filepath.Join(dir, "functions", "CollectEverything")
	require.NoError(t, os.MkdirAll(fn, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(fn, "function.json"),
		[]byte(`{"bindings":[{"type":"timerTrigger","direction":"in","name":"timer","schedule":"0 0 * * * *"}]}`), 0o644))
	meta, err := hostmeta.Load(dir, filepath.Join(dir, "functions"), func(string) string { return "" })
	require.NoError(t, err)
	a := &app0
	_, err = a.router(meta)
	require.ErrorContains(t, err, "functions/CollectEverything has no handler")
	require.ErrorContains(t, err, "handler Metrics has no functions/Metrics/function.json")
}

func TestMuxPatterns(t *testing.T) {
	cases := []struct {
		name    string
		route   string
		methods []string
		want    []string
		err     bool
	}{
		{"a plain route", "metrics/history", []string{"get"}, []string{"GET /api/metrics/history"}, false},
		{"an optional last segment gives two patterns", "exceptions/{id?}", []string{"get", "delete"},
			[]string{"GET /api/exceptions/{id}", "GET /api/exceptions", "DELETE /api/exceptions/{id}", "DELETE /api/exceptions"}, false},
		{"a constraint is dropped", "incidents/{id:guid}", []string{"get"}, []string{"GET /api/incidents/{id}"}, false},
		{"a catch-all becomes a rest wildcard", "files/{*path}", []string{"get"}, []string{"GET /api/files/{path...}"}, false},
		{"an optional middle segment is refused", "a/{x?}/b", []string{"get"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := muxPatterns("api", tc.route, tc.methods)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// The console takes the site root, so host.json's routePrefix is empty and
// every other HTTP function must keep the JSON API under /api/ itself.
func TestEveryAPIRouteIsUnderAPI(t *testing.T) {
	app, err := hostmeta.Load("..", "../functions", func(string) string { return "" })
	require.NoError(t, err)
	require.Equal(t, "", app.Host.RoutePrefix(), "the console needs an empty routePrefix to serve /")
	for _, f := range app.Functions {
		tr := f.Trigger()
		if tr.Type != hostmeta.HTTPTrigger {
			continue
		}
		if f.Name == consoleFunction {
			require.Equal(t, "{*path}", tr.Route, "the console's route catches every path")
			require.Equal(t, "anonymous", tr.AuthLevel, "a browser sends no function key; App Service Authentication guards the console")
			continue
		}
		require.True(t, strings.HasPrefix(tr.Route, "api/"), "functions/%s: route %q must start with api/ (host.json routePrefix is empty)", f.Name, tr.Route)
	}
}

func TestUnknownAPIPathsStayJSONBesideTheConsole(t *testing.T) {
	a, _ := newTestApp(t)
	mux := newTestRouter(t, a)
	cases := []struct {
		name, method, path string
		status             int
		contentType        string
	}{
		{"an unknown API path is a JSON 404", http.MethodGet, "/api/nope", http.StatusNotFound, "application/json"},
		{"a known API path with another method is a JSON 405", http.MethodPost, "/api/metrics?tenant=" + testTenant, http.StatusMethodNotAllowed, "application/json"},
		{"the root is the console", http.MethodGet, "/", http.StatusOK, "text/html"},
		{"an unknown page is the console's 404", http.MethodGet, "/nope", http.StatusNotFound, "text/html"},
		{"the API keeps its routes", http.MethodGet, "/api/health", http.StatusOK, "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			contractErrors(mux.(*http.ServeMux)).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Contains(t, rec.Header().Get("Content-Type"), tc.contentType)
		})
	}
}
