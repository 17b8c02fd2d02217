package embedded_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/store"
	"m365security/shared/store/embedded"
	"m365security/shared/store/storetest"
)

// fakeClock is a settable clock shared by the stores of one test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestStore(t testing.TB, path string, opts ...embedded.Option) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	clock := newTestClock()
	storetest.Run(t, func(t *testing.T) store.Store {
		return newTestStore(t, filepath.Join(t.TempDir(), "store.db"), embedded.WithClock(clock.Now), embedded.WithNoSync())
	}, storetest.Capabilities{Expire: clock.Advance})
}

func testDoc(id string, version int) store.Doc {
	return store.Doc{
		Kind:     store.KindIncident,
		TenantID: "t1",
		ID:       id,
		Time:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Body:     json.RawMessage(fmt.Sprintf(`{"v":%d}`, version)),
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, dir string)
	}{
		{"documents and etags survive a reopen", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "store.db")
			s, err := embedded.Open(path)
			require.NoError(t, err)
			etag, err := s.Put(context.Background(), testDoc("x", 1), store.Create)
			require.NoError(t, err)
			require.NoError(t, s.Close())

			s = newTestStore(t, path)
			got, err := s.Get(context.Background(), store.KindIncident, "t1", "x")
			require.NoError(t, err)
			require.Equal(t, etag, got.ETag)
			require.JSONEq(t, `{"v":1}`, string(got.Body))
			next, err := s.Put(context.Background(), testDoc("x", 2), store.Upsert)
			require.NoError(t, err)
			require.NotEqual(t, etag, next, "the etag sequence continues after a reopen")
		}},
		{"a missing parent directory is created", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "a", "b", "store.db")
			newTestStore(t, path)
			_, err := os.Stat(path)
			require.NoError(t, err)
		}},
		{"a second open of a locked file fails after the timeout", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "store.db")
			newTestStore(t, path)
			start := time.Now()
			_, err := embedded.Open(path, embedded.WithLockTimeout(200*time.Millisecond))
			require.Error(t, err)
			require.ErrorContains(t, err, "locked by another process")
			require.Less(t, time.Since(start), 5*time.Second, "open gave up instead of hanging")
		}},
		{"a directory in place of the file is an error", func(t *testing.T, dir string) {
			_, err := embedded.Open(dir, embedded.WithLockTimeout(100*time.Millisecond))
			require.Error(t, err)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, t.TempDir()) })
	}
}

func TestSweep(t *testing.T) {
	tests := []struct {
		name      string
		docs      int
		ttl       time.Duration
		advance   time.Duration
		wantSwept int
	}{
		{"nothing has expired yet", 5, time.Hour, 30 * time.Minute, 0},
		{"every expired document is removed", 5, time.Hour, 2 * time.Hour, 5},
		{"more than one batch is removed", 2500, time.Minute, time.Hour, 2500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clock := newTestClock()
			s := newTestStore(t, filepath.Join(t.TempDir(), "store.db"), embedded.WithClock(clock.Now), embedded.WithNoSync())
			for i := range tc.docs {
				d := testDoc(fmt.Sprintf("d%04d", i), i)
				d.TTL = tc.ttl
				_, err := s.Put(ctx, d, store.Create)
				require.NoError(t, err)
			}
			_, err := s.Put(ctx, testDoc("keep", 0), store.Create)
			require.NoError(t, err)
			clock.Advance(tc.advance)

			n, err := s.Sweep(ctx)
			require.NoError(t, err)
			require.Equal(t, tc.wantSwept, n)
			n, err = s.Sweep(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "a second sweep finds nothing")

			page, err := s.Query(ctx, store.Query{Kind: store.KindIncident, TenantID: "t1", Limit: store.MaxPageSize})
			require.NoError(t, err)
			require.Len(t, page.Docs, min(tc.docs-tc.wantSwept+1, store.MaxPageSize))
		})
	}
}

func TestWritesSweepExpiredDocuments(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	s := newTestStore(t, filepath.Join(t.TempDir(), "store.db"), embedded.WithClock(clock.Now), embedded.WithNoSync())
	d := testDoc("short", 1)
	d.TTL = time.Minute
	_, err := s.Put(ctx, d, store.Create)
	require.NoError(t, err)
	clock.Advance(time.Hour)
	_, err = s.Put(ctx, testDoc("other", 1), store.Create)
	require.NoError(t, err)
	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the write already swept the expired document")
}

func BenchmarkPut(b *testing.B) {
	s := newTestStore(b, filepath.Join(b.TempDir(), "store.db"))
	ctx := context.Background()
	body := json.RawMessage(`{"title":"MFA disabled for admins","severity":"high","score":3}`)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := store.Doc{
			Kind: store.KindSnapshot, TenantID: "t1", ID: fmt.Sprintf("d%08d", i),
			Time: time.Unix(int64(i), 0), Attrs: map[string]string{"status": "open"}, Body: body,
		}
		if _, err := s.Put(ctx, d, store.Upsert); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkQueryPage(b *testing.B) {
	s := newTestStore(b, filepath.Join(b.TempDir(), "store.db"), embedded.WithNoSync())
	ctx := context.Background()
	body := json.RawMessage(`{"title":"MFA disabled for admins","severity":"high","score":3}`)
	const n = 10000
	for i := range n {
		status := "open"
		if i%4 == 0 {
			status = "closed"
		}
		d := store.Doc{
			Kind: store.KindSnapshot, TenantID: "t1", ID: fmt.Sprintf("d%08d", i),
			Time: time.Unix(int64(i), 0), Attrs: map[string]string{"status": status}, Body: body,
		}
		if _, err := s.Put(ctx, d, store.Upsert); err != nil {
			b.Fatal(err)
		}
	}
	q := store.Query{
		Kind: store.KindSnapshot, TenantID: "t1", Limit: 100, Descending: true,
		From: time.Unix(n/2, 0), Attrs: map[string]string{"status": "open"},
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.Query(ctx, q)
		if err != nil || len(p.Docs) != 100 {
			b.Fatalf("query: %d docs, %v", len(p.Docs), err)
		}
	}
}
