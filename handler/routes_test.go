package main

import (
	"log/slog"
	"os"
	"path/filepath"
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
