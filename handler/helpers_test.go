package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/handler/hostmeta"
	"m365security/shared/assess"
	"m365security/shared/procstat"
	"m365security/shared/queue"
	"m365security/shared/records"
	"m365security/shared/report"
	"m365security/shared/store/embedded"
)

// testTenant is the one tenant a test app monitors.
const testTenant = "11111111-2222-4333-8444-555555555555"

// testClientState is the webhook secret of a test app.
const testClientState = "test-client-state-value"

// recordingQueue is a queue.Sender that keeps what it is sent.
type recordingQueue struct {
	mu   sync.Mutex
	msgs []queue.Message
	n    int
	err  error
	// countOnly keeps no messages, only their number (fuzzing sends
	// millions).
	countOnly bool
}

var _ queue.Sender = (*recordingQueue)(nil)

func (q *recordingQueue) Send(_ context.Context, _ string, msgs ...queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.n += len(msgs)
	if !q.countOnly {
		q.msgs = append(q.msgs, msgs...)
	}
	return nil
}

func (q *recordingQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// newTestApp wires an app without run(): an embedded store (no fsync) in a
// temporary directory, the assessment service without a collector, a
// recording queue and one monitored tenant.
func newTestApp(tb testing.TB) (*app, *recordingQueue) {
	tb.Helper()
	s, err := embedded.Open(filepath.Join(tb.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	q := &recordingQueue{}
	a := &app{cfg: Config{ClientState: testClientState, Tenants: []string{testTenant}}, log: log, store: s, queue: q,
		now: time.Now, tenants: map[string]bool{testTenant: true}, records: records.New(s)}
	a.parker = storeParker{a.records.Parked}
	a.assess = assess.New(a.records, nil, a.now, log)
	a.reports = report.NewBuilder(a.records, a.assess, a.now)
	return a, q
}

// newTestRouter returns the app's full HTTP surface as run() serves it,
// from the repository's host.json and function folders.
func newTestRouter(tb testing.TB, a *app) http.Handler {
	tb.Helper()
	wd, err := os.Getwd()
	require.NoError(tb, err)
	hostDir, fnDir, err := hostmeta.Locate(wd)
	require.NoError(tb, err)
	meta, err := hostmeta.Load(hostDir, fnDir, func(string) string { return "" })
	require.NoError(tb, err)
	mux, err := a.router(meta)
	require.NoError(tb, err)
	return mux
}

// peakRSS runs f and returns how far the process's peak resident set size
// rose above its resident size before f, in bytes. It resets the kernel's
// high-water mark first (writing 5 to clear_refs) so the peak belongs to f;
// it returns -1 where /proc does not allow that.
func peakRSS(tb testing.TB, f func()) float64 {
	tb.Helper()
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		f()
		return -1
	}
	before := procstat.Field(0, "VmRSS")
	f()
	peak := procstat.Field(0, "VmHWM")
	if peak < 0 || before < 0 {
		return -1
	}
	return peak - before
}
