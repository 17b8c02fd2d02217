package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseBenchFindsTheRowsLine(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: m365security/shared/collect
BenchmarkIdentityIsolated/users=1000-2         	       1	 131000000 ns/op	       228.0 min-requests	        30.12 peak-RSS-MB	       228.0 requests/op	  5000 B/op	  40 allocs/op
BenchmarkIdentityIsolated/users=10000-2        	       1	 700000000 ns/op	       258.0 requests/op
PASS
`
	line, m, ok := parseBench(out, "BenchmarkIdentityIsolated/users=1000")
	require.True(t, ok)
	require.True(t, strings.HasPrefix(line, "BenchmarkIdentityIsolated/users=1000-2 "))
	require.Equal(t, map[string]float64{"ns/op": 131000000, "min-requests": 228, "peak-RSS-MB": 30.12, "requests/op": 228, "B/op": 5000, "allocs/op": 40}, m)

	_, _, ok = parseBench(out, "BenchmarkIdentityIsolated/users=100")
	require.False(t, ok, "a name is matched whole, not as a prefix")
	_, _, ok = parseBench("BenchmarkX-2 --- FAIL\n", "BenchmarkX")
	require.False(t, ok, "a failure line is not a result")
}

func TestBenchRegexpSelectsExactlyOneBenchmark(t *testing.T) {
	require.Equal(t, `^BenchmarkIdentityIsolated$/^users=1000$`, benchRegexp("BenchmarkIdentityIsolated/users=1000"))
	require.Equal(t, `^BenchmarkColdStart$/^handler-demo$`, benchRegexp("BenchmarkColdStart/handler-demo"))
	require.Equal(t, `^BenchmarkIdentity1k$`, benchRegexp("BenchmarkIdentity1k"))
	require.Equal(t, `^Benchmark\.x\+$`, benchRegexp("Benchmark.x+"))
}

func TestCellFormats(t *testing.T) {
	r := RowResult{Metrics: map[string]float64{"requests/op": 58372, "ns/op": 6.5e9, "peak-RSS-MB": 193.6, "rss-before-MB": 24.2}}
	cases := []struct {
		name string
		col  Column
		want string
	}{
		{"%N groups thousands", Column{Metrics: []string{"requests/op"}, Format: "%N"}, "58,372"},
		{"a scale turns nanoseconds into seconds", Column{Metrics: []string{"ns/op"}, Format: "%.1f s", Scale: 1e-9}, "6.5 s"},
		{"two metrics in one cell", Column{Metrics: []string{"peak-RSS-MB", "rss-before-MB"}, Format: "%.0f MB (%.0f MB before)"}, "194 MB (24 MB before)"},
		{"a literal percent sign survives", Column{Metrics: []string{"requests/op"}, Format: "%N (100%%)"}, "58,372 (100%)"},
		{"a missing metric is a dash, not a zero", Column{Metrics: []string{"http-requests/op"}, Format: "%N"}, "—"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, cell(tc.col, r, true)) })
	}
	require.Equal(t, "—", cell(Column{Metrics: []string{"ns/op"}, Format: "%f"}, RowResult{}, false), "an unmeasured row")
	require.Equal(t, "999", thousands(999))
	require.Equal(t, "1,000", thousands(1000))
	require.Equal(t, "100,000", thousands(100000))
	require.Equal(t, "-1,234", thousands(-1234))
}

func TestConfigCheck(t *testing.T) {
	ok := Table{ID: "a", Package: "./x", Rows: []Row{{Bench: "BenchmarkX"}}, Columns: []Column{{Metrics: []string{"ns/op"}, Format: "%.0f"}}}
	require.NoError(t, Config{Tables: []Table{ok}}.check())
	require.ErrorContains(t, Config{Tables: []Table{ok, ok}}.check(), "repeated")
	bad := ok
	bad.Columns = []Column{{Header: "h", Metrics: []string{"ns/op", "B/op"}, Format: "%.0f"}}
	require.ErrorContains(t, Config{Tables: []Table{bad}}.check(), "1 verbs for 2 metrics")
}

// TestCommittedConfigNamesRealBenchmarks keeps bench/benchmarks.json in step
// with the code: every row's benchmark function exists in its package.
func TestCommittedConfigNamesRealBenchmarks(t *testing.T) {
	var cfg Config
	require.NoError(t, readJSON("../../bench/benchmarks.json", &cfg))
	require.NoError(t, cfg.check())
	for _, tb := range cfg.Tables {
		files, err := filepath.Glob(filepath.Join("../..", tb.Package, "*_test.go"))
		require.NoError(t, err)
		var src strings.Builder
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			src.Write(b)
		}
		for _, r := range tb.Rows {
			top, _, _ := strings.Cut(r.Bench, "/")
			require.Contains(t, src.String(), "func "+top+"(b *testing.B)", "table %s row %s", tb.ID, r.Label)
		}
	}
}

func TestRenderRefreshesTheReadmeBlock(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Tables: []Table{{ID: "t", Title: "Things", Package: "./x", RowHeader: "size", Benchtime: "1x",
		Columns: []Column{{Header: "requests", Metrics: []string{"requests/op"}, Format: "%N"}},
		Rows:    []Row{{Label: "big", Bench: "BenchmarkBig"}, {Label: "new", Bench: "BenchmarkNew"}}}}}
	at := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	res := Results{Machine: Machine{At: at, CPU: "Test CPU", Cores: 2, MemoryGB: 8, OS: "linux/amd64", GoVersion: "go1.26"},
		Tables: map[string][]RowResult{"t": {{Bench: "BenchmarkBig", Command: "go test ./x -bench '^BenchmarkBig$'", At: at, Line: "BenchmarkBig-2 1 5 requests/op",
			Metrics: map[string]float64{"requests/op": 12345}}}},
		Runs: map[string]time.Time{"t": at}}
	write := func(name string, v any) string {
		p := filepath.Join(dir, name)
		switch v := v.(type) {
		case string:
			require.NoError(t, os.WriteFile(p, []byte(v), 0o644))
		default:
			require.NoError(t, writeJSON(p, v))
		}
		return p
	}
	cfgPath, resPath := write("benchmarks.json", cfg), write("results.json", res)
	readme := write("README.md", "# R\n\nbefore\n<!-- bench:begin -->\nold typed-in numbers\n<!-- bench:end -->\nafter\n")
	md := filepath.Join(dir, "RESULTS.md")
	require.NoError(t, mainErr(cfgPath, resPath, md, readme, "", true))

	got, err := os.ReadFile(readme)
	require.NoError(t, err)
	s := string(got)
	require.NotContains(t, s, "old typed-in numbers")
	require.Contains(t, s, "before\n<!-- bench:begin -->\nMeasured on Test CPU (2 cores, 8 GB, linux/amd64, go1.26) on 2026-11-01")
	require.Contains(t, s, "| size | requests |\n| --- | --- |\n| big | 12,345 |\n| new | — |\n")
	require.True(t, strings.HasSuffix(s, "<!-- bench:end -->\nafter\n"))

	page, err := os.ReadFile(md)
	require.NoError(t, err)
	require.Contains(t, string(page), "$ go test ./x -bench '^BenchmarkBig$'")
	require.Contains(t, string(page), "| CPU | Test CPU, 2 cores |")

	require.NoError(t, os.WriteFile(readme, []byte("no markers"), 0o644))
	require.ErrorContains(t, mainErr(cfgPath, resPath, md, readme, "", true), "markers")
}
