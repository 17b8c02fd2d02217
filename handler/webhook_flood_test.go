package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// floodBody is the attack of issue 7: a body just under the 1 MB cap made of
// ~350k empty notification items.
func floodBody() []byte {
	n := (maxNotificationBody - len(`{"value":[]}`)) / 3
	return []byte(`{"value":[` + strings.Repeat(`{},`, n-1) + `{}]}`)
}

// floodResult is what one flood of the webhook did.
type floodResult struct {
	peakRSS  float64 // bytes above the resident size before the flood
	slowest  time.Duration
	statuses map[int]int // status → count; 0 is a transport error
}

// flood POSTs body to the notification endpoint of a loopback server from
// concurrency clients at once, rounds times each, and measures the peak RSS
// of this process meanwhile.
func flood(tb testing.TB, body []byte, concurrency, rounds int) floodResult {
	tb.Helper()
	a, _ := newTestApp(tb)
	srv := httptest.NewServer(a.serve("Notifications", a.notifications))
	defer srv.Close()
	res := floodResult{statuses: map[int]int{}}
	var mu sync.Mutex
	res.peakRSS = peakRSS(tb, func() {
		var wg sync.WaitGroup
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					start := time.Now()
					status := 0
					resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						status = resp.StatusCode
					}
					d := time.Since(start)
					mu.Lock()
					res.statuses[status]++
					res.slowest = max(res.slowest, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	})
	return res
}

// maxItemsBody is the largest collection the webhook accepts: as many
// valid items as it takes, each enqueued.
func maxItemsBody() []byte {
	items := make([]string, maxNotificationItems)
	for i := range items {
		items[i] = fmt.Sprintf(`{"subscriptionId":"s","clientState":%q,"changeType":"updated","resource":"Users/u%d","tenantId":%q,"resourceData":{"id":"u%d"}}`,
			testClientState, i, testTenant, i)
	}
	return []byte(`{"value":[` + strings.Join(items, ",") + `]}`)
}

// BenchmarkNotificationFlood replays issue 7's attack (16 concurrent 1 MB
// bodies of ~350k empty items) against the webhook on loopback, then the
// largest accepted collection from more clients than there are slots. Run it
// alone, in a fresh process, for a meaningful peak RSS:
//
//	go test -run '^$' -bench NotificationFlood -benchtime 1x ./handler
func BenchmarkNotificationFlood(b *testing.B) {
	cases := []struct {
		name        string
		body        []byte
		concurrency int
	}{
		{"empty-items-1MB-x16", floodBody(), 16},
		{"max-valid-items-x32", maxItemsBody(), 32},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				r := flood(b, tc.body, tc.concurrency, 1)
				b.ReportMetric(r.peakRSS/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(r.slowest.Milliseconds()), "slowest-ms")
				keys := make([]int, 0, len(r.statuses))
				for k := range r.statuses {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					b.Logf("status %d: %d", k, r.statuses[k])
				}
			}
		})
	}
}

func TestNotificationFloodKeepsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the webhook")
	}
	r := flood(t, floodBody(), 16, 2)
	if r.peakRSS < 0 {
		t.Skip("no /proc/self/clear_refs to measure the peak with")
	}
	t.Logf("peak RSS +%.0f MB, slowest reply %v, statuses %v", r.peakRSS/(1<<20), r.slowest, r.statuses)
	require.Less(t, r.peakRSS, float64(64<<20), "16 concurrent floods stay within 64 MB")
	require.Less(t, r.slowest, 3*time.Second, "Graph expects an answer within 3 s")
	for status := range r.statuses {
		require.Contains(t, []int{http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable, http.StatusTooManyRequests}, status,
			"every flood request is refused as too large or too busy, never accepted or failed")
	}
}
