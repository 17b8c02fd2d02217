package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/handler/invoke"
	"m365security/shared/graphsim"
	"m365security/shared/procstat"
)

// benchSimEnv makes the test binary serve a simulated tenant (users per
// tenant, from the variable) instead of running tests, so the fan-out
// benchmark runs the simulator, with its latency, in a process of its own.
const benchSimEnv = "HANDLER_BENCH_SIMULATOR_USERS"

// simLatency is the simulated Graph latency per HTTP round trip.
const simLatency = 50 * time.Millisecond

func TestMain(m *testing.M) {
	if n := os.Getenv(benchSimEnv); n != "" {
		serveBenchSimulator(n)
		return
	}
	os.Exit(m.Run())
}

func serveBenchSimulator(users string) {
	n, err := strconv.Atoi(users)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad user count:", users)
		os.Exit(2)
	}
	// Every tenant reads the same generated organisation: the simulator
	// does not check tokens (GRAPH_AUTH=none), so tenant ids only route
	// the handler's work.
	sim := graphsim.NewServer(graphsim.Generate(7, graphsim.Size{Users: n, Devices: n / 2, CAGroups: 12}),
		graphsim.Options{Latency: simLatency, LogLimit: -1})
	mux := http.NewServeMux()
	mux.HandleFunc("/_stats", func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(sim.Stats()) })
	mux.Handle("/", sim)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("URL http://%s\n", l.Addr().String())
	go func() { _ = (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(l) }()
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // the parent closes stdin to stop us
}

// startChild starts cmd, reads its first stdout line (its URL or ready
// line) and stops it at cleanup.
func startChild(tb testing.TB, cmd *exec.Cmd, prefix string) string {
	tb.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	r := bufio.NewReader(stdout)
	for {
		line, err := r.ReadString('\n')
		require.NoError(tb, err)
		if i := strings.Index(line, prefix); i >= 0 {
			go func() { _, _ = bufio.NewReader(r).WriteTo(devNull{}) }()
			return strings.Fields(line[i+len(prefix):])[0]
		}
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkFanOut collects N simulated tenants of 500 users through the
// real binary (bin/handler) in standalone mode: the identity timer fans out
// one work item per tenant on the in-process queue, RunTenantWork collects
// each at host.json's per-instance concurrency, and the Graph simulator runs
// in another process adding 50 ms to every round trip. It reports wall time
// from the timer to the last stored snapshot, the handler's peak RSS, and
// Graph requests per tenant. Tenants: BENCH_FANOUT_TENANTS (default 1000).
func BenchmarkFanOut(b *testing.B) {
	handlerBin, err := filepath.Abs("../bin/handler")
	require.NoError(b, err)
	if _, err := os.Stat(handlerBin); err != nil {
		b.Skip("bin/handler not built; run make build (make bench does)")
	}
	tenants := 1000
	if v := os.Getenv("BENCH_FANOUT_TENANTS"); v != "" {
		tenants, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	const users = 500
	for b.Loop() {
		sim := exec.Command(os.Args[0])
		sim.Env = append(os.Environ(), benchSimEnv+"="+strconv.Itoa(users))
		sim.Stderr = os.Stderr
		graphURL := startChild(b, sim, "URL ")

		ids := make([]string, tenants)
		for i := range ids {
			ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i+1, i+1)
		}
		port := freePort(b)
		h := exec.Command(handlerBin, "-root", "..")
		h.Env = append(os.Environ(), "M365_TENANTS="+strings.Join(ids, ","), "GRAPH_ENDPOINT="+graphURL, "GRAPH_AUTH=none",
			"LOCAL_SCHEDULER=off", "NOTIFICATION_CLIENT_STATE=bench", "STORE_PATH="+filepath.Join(b.TempDir(), "store.db"),
			"FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
		base := startChild(b, h, "is running on ")

		now := time.Now().UTC()
		body, err := invoke.TimerEnvelope("CollectIdentity", "timer", now, now.Add(-time.Hour), now.Add(time.Hour), false, invoke.NewGUID())
		require.NoError(b, err)
		start := time.Now()
		resp, err := http.Post(base+"/CollectIdentity", "application/json", bytes.NewReader(body))
		require.NoError(b, err)
		resp.Body.Close()
		require.Equal(b, http.StatusOK, resp.StatusCode)

		// Done when every tenant has an identity snapshot; the last tenant
		// polled is the slowest, so poll from the end of the list.
		done := 0
		deadline := time.Now().Add(30 * time.Minute)
		for done < tenants {
			require.True(b, time.Now().Before(deadline), "fan-out did not finish: %d of %d tenants", done, tenants)
			if collected(b, base, ids[tenants-1-done]) {
				done++
				continue
			}
			time.Sleep(200 * time.Millisecond)
		}
		wall := time.Since(start)
		peak := procstat.Field(h.Process.Pid, "VmHWM")
		require.Positive(b, peak, "the handler's peak RSS is readable")

		var st graphsim.Stats
		r, err := http.Get(graphURL + "/_stats")
		require.NoError(b, err)
		require.NoError(b, json.NewDecoder(r.Body).Decode(&st))
		r.Body.Close()

		b.ReportMetric(float64(tenants), "tenants")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(tenants)/wall.Seconds(), "tenants/s")
		b.ReportMetric(peak/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(st.Requests)/float64(tenants), "graph-requests/tenant")
		b.ReportMetric(float64(st.HTTPRequests)/float64(tenants), "round-trips/tenant")
	}
}

func collected(tb testing.TB, base, tenant string) bool {
	tb.Helper()
	resp, err := http.Get(base + "/api/collection?tenant=" + tenant)
	require.NoError(tb, err)
	defer resp.Body.Close()
	var v struct {
		Areas map[string]struct {
			SnapshotID string `json:"snapshotId"`
		} `json:"areas"`
	}
	require.NoError(tb, json.NewDecoder(resp.Body).Decode(&v))
	return v.Areas["identity"].SnapshotID != ""
}
