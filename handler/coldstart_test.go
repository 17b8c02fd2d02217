package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkColdStart measures process start to the first answered
// /api/health, for bin/handler (make build) and for a minimal Go HTTP server
// built from testdata/minimal, side by side.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	minimal := filepath.Join(dir, "minimal")
	out, err := exec.Command("go", "build", "-o", minimal, "./testdata/minimal").CombinedOutput()
	require.NoError(b, err, string(out))
	handler, err := filepath.Abs("../bin/handler")
	require.NoError(b, err)
	if _, err := os.Stat(handler); err != nil {
		b.Skip("bin/handler not built; run make build (make bench does)")
	}
	cases := []struct {
		name string
		bin  string
		env  []string
	}{
		{"minimal-go-http", minimal, nil},
		{"handler-production-config", handler, []string{"M365_TENANTS=11111111-2222-4333-8444-555555555555", "NOTIFICATION_CLIENT_STATE=x", "LOCAL_SCHEDULER=off"}},
		{"handler-demo", handler, []string{"DEMO=1", "LOCAL_SCHEDULER=off"}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				total += coldStart(b, tc.bin, tc.env)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/start")
		})
	}
}

func coldStart(b *testing.B, bin string, env []string) time.Duration {
	b.Helper()
	port := freePort(b)
	cmd := exec.Command(bin)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), append(env, "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port), "STORE_PATH="+filepath.Join(b.TempDir(), "s.db"))...)
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	require.NoError(b, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/api/health"
	for time.Since(start) < 60*time.Second {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("%s did not answer within 60 s", bin)
	return 0
}
