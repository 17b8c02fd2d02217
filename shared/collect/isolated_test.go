package collect

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/procstat"
)

// simEnv makes the test binary serve a generated tenant instead of running
// tests, so a benchmark can measure the collector's memory without the
// simulator's in the same process.
const simEnv = "COLLECT_BENCH_SIMULATOR_USERS"

func TestMain(m *testing.M) {
	if n := os.Getenv(simEnv); n != "" {
		serveSimulator(n)
		return
	}
	os.Exit(m.Run())
}

type simStats struct {
	Requests     int    `json:"requests"`
	HTTPRequests int    `json:"httpRequests"`
	Minimum      int    `json:"minimum"`
	TenantID     string `json:"tenantId"`
}

func serveSimulator(users string) {
	n, err := strconv.Atoi(users)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad user count:", users)
		os.Exit(2)
	}
	tenant := graphsim.Generate(1, graphsim.Size{Users: n, Devices: 40, CAGroups: 200})
	minimum := sum(minIdentityRequests(&testing.B{}, tenant))
	sim := graphsim.NewServer(tenant, graphsim.Options{LogLimit: -1})
	mux := http.NewServeMux()
	mux.HandleFunc("/_stats", func(w http.ResponseWriter, r *http.Request) {
		s := sim.Stats()
		_ = json.NewEncoder(w).Encode(simStats{Requests: s.Requests, HTTPRequests: s.HTTPRequests, Minimum: minimum, TenantID: tenant.ID})
	})
	mux.HandleFunc("/_reset", func(w http.ResponseWriter, r *http.Request) { sim.ResetLog() })
	mux.Handle("/", sim)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("URL http://%s\n", l.Addr().String())
	go func() { _ = http.Serve(l, mux) }()
	// Exit when the parent closes stdin.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}

func startSimulatorProcess(tb testing.TB, users int) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), simEnv+"="+strconv.Itoa(users))
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	cmd.Stderr = os.Stderr
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(tb, err)
	require.True(tb, strings.HasPrefix(line, "URL "), line)
	return strings.TrimSpace(strings.TrimPrefix(line, "URL "))
}

func fetchStats(tb testing.TB, base string) simStats {
	tb.Helper()
	resp, err := http.Get(base + "/_stats")
	require.NoError(tb, err)
	defer resp.Body.Close()
	var s simStats
	require.NoError(tb, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// BenchmarkIdentityIsolated runs the identity collector against a simulator
// in a child process and reports this process's peak RSS during one
// collection (peak-RSS-MB; the test binary's own resident size before it is
// rss-before-MB), wall time, and requests against the minimum.
func BenchmarkIdentityIsolated(b *testing.B) {
	for _, users := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			base := startSimulatorProcess(b, users)
			st := fetchStats(b, base)
			clients, err := graph.NewClients(graph.Options{Endpoint: base})
			require.NoError(b, err)
			c, err := clients.For(st.TenantID)
			require.NoError(b, err)
			ctx := context.Background()
			var peak, before float64
			for b.Loop() {
				_, err := http.Get(base + "/_reset")
				require.NoError(b, err)
				runtime.GC()
				debug.FreeOSMemory()
				before = procstat.Field(0, "VmRSS")
				peak, _ = peakRSS(b, func() {
					_, srcs := Identity(ctx, c, discardLogger())
					requireStatuses(b, srcs, nil)
				})
			}
			st = fetchStats(b, base)
			b.ReportMetric(float64(st.Requests), "requests/op")
			b.ReportMetric(float64(st.Minimum), "min-requests")
			b.ReportMetric(float64(st.HTTPRequests), "http-requests/op")
			reportRSS(b, peak, "peak-RSS-MB")
			if peak >= 0 {
				reportRSS(b, before, "rss-before-MB")
			}
		})
	}
}
