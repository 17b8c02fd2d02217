package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSchedulerStopLogsOnlyWhatIsStillRunning(t *testing.T) {
	cases := []struct {
		name    string
		running bool // an invocation outlives the deadline
		wantLog bool
	}{
		{"nothing running at an expired deadline logs nothing", false, false},
		{"an invocation past the deadline is logged", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// select picks at random among ready cases: repeat so a coin
			// toss cannot pass the test.
			for range 50 {
				var logs lockedBuffer
				s := &scheduler{log: slog.New(slog.NewJSONHandler(&logs, nil)), cancel: func() {}}
				if tc.running {
					s.wg.Add(1)
					s.running.Add(1)
				}
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				s.stop(ctx)
				if tc.wantLog {
					require.Contains(t, logs.String(), "timer invocations still running")
					require.Contains(t, logs.String(), `"running":1`)
					s.wg.Done()
				} else {
					require.Empty(t, logs.String())
				}
			}
		})
	}
}

func TestDrainGivesHTTPAndTheSchedulerEachTheirOwnBudget(t *testing.T) {
	// An HTTP request that outlives its drain budget...
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started

	// ...and a timer invocation that needs longer than that budget but less
	// than its own.
	var logs lockedBuffer
	s := &scheduler{log: slog.New(slog.NewJSONHandler(&logs, nil)), cancel: func() {}}
	s.wg.Add(1)
	s.running.Add(1)
	time.AfterFunc(300*time.Millisecond, func() { s.running.Add(-1); s.wg.Done() })

	start := time.Now()
	drain(slog.New(slog.NewJSONHandler(&logs, nil)), srv, s, 100*time.Millisecond, 5*time.Second)
	require.Less(t, time.Since(start), 4*time.Second, "drain waits for the invocation, not the whole budget")
	require.Contains(t, logs.String(), "http drain incomplete", "the HTTP budget ran out")
	require.NotContains(t, logs.String(), "timer invocations still running", "the scheduler had its own budget")
}
