package collect

import (
	"context"
	"runtime"
	"testing"

	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

// Run with e.g.
//
//	go test ./shared/collect/ -run '^$' -bench 'Identity|Devices' -benchtime 1x -benchmem
//
// requests/op counts Graph requests (plain requests and $batch items) as the
// simulator saw them; min-requests is the fewest the paging allows;
// http-requests/op counts round trips ($batch envelopes once); retained-B/user
// is the heap the returned section holds per user (or device); peak-RSS-MB
// is the process's peak resident size during one more run and
// peak-RSS-rise-MB how far it rose above the resident size before that run.

func BenchmarkIdentity1k(b *testing.B)   { benchmarkIdentity(b, 1_000) }
func BenchmarkIdentity10k(b *testing.B)  { benchmarkIdentity(b, 10_000) }
func BenchmarkIdentity100k(b *testing.B) { benchmarkIdentity(b, 100_000) }

func BenchmarkDevices1k(b *testing.B)   { benchmarkDevices(b, 1_000) }
func BenchmarkDevices10k(b *testing.B)  { benchmarkDevices(b, 10_000) }
func BenchmarkDevices100k(b *testing.B) { benchmarkDevices(b, 100_000) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// retainedBytes measures the live heap that keep holds after a collection.
func retainedBytes(collect func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := collect()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	return float64(after.HeapAlloc) - float64(before.HeapAlloc)
}

func benchmarkIdentity(b *testing.B, users int) {
	tenant := graphsim.Generate(1, graphsim.Size{Users: users, Devices: 40, CAGroups: 200})
	srv, c := newTestServer(b, tenant, graphsim.Options{LogLimit: -1})
	minimum := sum(minIdentityRequests(b, tenant))
	ctx := context.Background()

	var stats graphsim.Stats
	b.ResetTimer()
	for b.Loop() {
		srv.ResetLog()
		_, srcs := Identity(ctx, c, discardLogger())
		stats = srv.Stats()
		requireStatuses(b, srcs, nil)
	}
	b.StopTimer()
	b.ReportMetric(float64(stats.Requests), "requests/op")
	b.ReportMetric(float64(minimum), "min-requests")
	b.ReportMetric(float64(stats.HTTPRequests), "http-requests/op")
	kept := retainedBytes(func() any { id, _ := Identity(ctx, c, discardLogger()); return id })
	b.ReportMetric(kept/float64(users), "retained-B/user")
	peak, delta := peakRSS(b, func() { _, _ = Identity(ctx, c, discardLogger()) })
	reportRSS(b, peak, "peak-RSS-MB")
	reportRSS(b, delta, "peak-RSS-rise-MB")
}

func benchmarkDevices(b *testing.B, devices int) {
	tenant := graphsim.Generate(1, graphsim.Size{Users: 40, Devices: devices, CAGroups: 6})
	srv, c := newTestServer(b, tenant, graphsim.Options{LogLimit: -1})
	minimum := sum(minDeviceRequests(tenant))
	ctx := context.Background()

	var stats graphsim.Stats
	b.ResetTimer()
	for b.Loop() {
		srv.ResetLog()
		_, srcs := Devices(ctx, c, discardLogger())
		stats = srv.Stats()
		requireStatuses(b, srcs, nil)
	}
	b.StopTimer()
	b.ReportMetric(float64(stats.Requests), "requests/op")
	b.ReportMetric(float64(minimum), "min-requests")
	b.ReportMetric(float64(stats.HTTPRequests), "http-requests/op")
	kept := retainedBytes(func() any { d, _ := Devices(ctx, c, discardLogger()); return d })
	b.ReportMetric(kept/float64(devices), "retained-B/device")
	peak, delta := peakRSS(b, func() { _, _ = Devices(ctx, c, discardLogger()) })
	reportRSS(b, peak, "peak-RSS-MB")
	reportRSS(b, delta, "peak-RSS-rise-MB")
}

// BenchmarkPaging compares the two ways to follow nextLinks over 10k users:
// the request builder's WithUrl (what the collectors use) and
// msgraphcore.PageIterator. Both make the same requests; the difference is
// CPU and allocations on the client.
func BenchmarkPaging(b *testing.B) {
	tenant := graphsim.Generate(1, graphsim.Size{Users: 10_000, Devices: 40, CAGroups: 6})
	_, c := newTestServer(b, tenant, graphsim.Options{LogLimit: -1})
	ctx := context.Background()
	tests := []struct {
		name string
		read func() ([]posture.User, error)
	}{
		{"request builder WithUrl", func() ([]posture.User, error) {
			out, _, err := readUsers(ctx, &reader{c: c}, false)
			return out, err
		}},
		{"msgraphcore PageIterator", func() ([]posture.User, error) {
			first, err := c.SDK().Users().Get(ctx, userListConfig(false))
			if err != nil {
				return nil, err
			}
			it, err := msgraphcore.NewPageIterator[models.Userable](first, c.SDK().GetAdapter(), models.CreateUserCollectionResponseFromDiscriminatorValue)
			if err != nil {
				return nil, err
			}
			var out []posture.User
			err = it.Iterate(ctx, func(u models.Userable) bool {
				out = append(out, convertUser(u))
				return true
			})
			return out, err
		}},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := tc.read()
				require.NoError(b, err)
				require.Len(b, out, len(tenant.Users))
			}
		})
	}
}
