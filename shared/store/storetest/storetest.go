package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/store"
)

// Capabilities tells the suite what an implementation can do on demand.
type Capabilities struct {
	// Expire advances the clock the store decides TTL expiry by, for every
	// store open returns. Nil when the implementation cannot expire documents
	// on demand (cosmosdb-server never expires items); the expiry cases are
	// then skipped.
	Expire func(d time.Duration)
}

// testCase is one contract rule; run gets a fresh, empty store.
type testCase struct {
	name string
	run  func(t *testing.T, s store.Store, caps Capabilities)
}

// Run runs the contract suite. open must return a fresh, empty store for
// each subtest and close it in t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store, caps Capabilities) {
	t.Helper()
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"documents", documentCases},
		{"queries", queryCases},
		{"validation", validationCases},
		{"concurrency", concurrencyCases},
		{"ttl", ttlCases},
		{"update", updateCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, open(t), caps)
				})
			}
		})
	}
}

// t0 is the suite's base time: not UTC and with nanoseconds, so the stores
// must normalise the zone and keep TimeKey's precision.
var t0 = time.Date(2025, 3, 1, 12, 30, 15, 123456789, time.FixedZone("UTC+1", 3600))

const tenantA, tenantB = "tenant-a", "tenant-b"

// newTestDoc builds a snapshot document whose body records its id and a
// version, so tests can tell versions apart.
func newTestDoc(tenantID, id string, at time.Time, version int) store.Doc {
	return store.Doc{
		Kind:     store.KindSnapshot,
		TenantID: tenantID,
		ID:       id,
		Time:     at,
		Body:     json.RawMessage(fmt.Sprintf(`{"id":%q,"version":%d}`, id, version)),
	}
}

func withAttrs(d store.Doc, attrs map[string]string) store.Doc {
	d.Attrs = attrs
	return d
}

func mustPut(t testing.TB, s store.Store, d store.Doc, mode store.WriteMode) string {
	t.Helper()
	etag, err := s.Put(context.Background(), d, mode)
	require.NoError(t, err, "put %s/%s/%s", d.Kind, d.TenantID, d.ID)
	require.NotEmpty(t, etag, "put returns an etag")
	return etag
}

func mustGet(t testing.TB, s store.Store, kind store.Kind, tenantID, id string) store.Doc {
	t.Helper()
	d, err := s.Get(context.Background(), kind, tenantID, id)
	require.NoError(t, err, "get %s/%s/%s", kind, tenantID, id)
	return d
}

func requireMissing(t testing.TB, s store.Store, kind store.Kind, tenantID, id string) {
	t.Helper()
	_, err := s.Get(context.Background(), kind, tenantID, id)
	require.ErrorIs(t, err, store.ErrNotFound, "get %s/%s/%s", kind, tenantID, id)
}

// requireSameDoc compares what a store returned with what was written: body
// as JSON, attrs with nil equal to empty, and time at TimeKey's precision in
// UTC.
func requireSameDoc(t testing.TB, want, got store.Doc) {
	t.Helper()
	require.Equal(t, want.Kind, got.Kind, "kind")
	require.Equal(t, want.TenantID, got.TenantID, "tenant id")
	require.Equal(t, want.ID, got.ID, "id")
	require.Equal(t, store.TimeKey(want.Time), store.TimeKey(got.Time), "time")
	require.Equal(t, time.UTC, got.Time.Location(), "time is returned in UTC")
	if len(want.Attrs) == 0 {
		require.Empty(t, got.Attrs, "attrs")
	} else {
		require.Equal(t, want.Attrs, got.Attrs, "attrs")
	}
	require.JSONEq(t, string(want.Body), string(got.Body), "body")
	require.NotEmpty(t, got.ETag, "etag")
}

// requireBodyVersion asserts which version of a test document is stored.
func requireBodyVersion(t testing.TB, s store.Store, d store.Doc, version int) {
	t.Helper()
	got := mustGet(t, s, d.Kind, d.TenantID, d.ID)
	require.JSONEq(t, fmt.Sprintf(`{"id":%q,"version":%d}`, d.ID, version), string(got.Body))
}

// queryAll walks every page of q and returns the documents and the page
// sizes, failing if a page exceeds the limit or paging does not end.
func queryAll(t testing.TB, s store.Store, q store.Query) ([]store.Doc, []int) {
	t.Helper()
	var docs []store.Doc
	var sizes []int
	for range 1000 {
		p, err := s.Query(context.Background(), q)
		require.NoError(t, err, "query page %d", len(sizes)+1)
		require.LessOrEqual(t, len(p.Docs), q.PageSize(), "page size")
		docs = append(docs, p.Docs...)
		sizes = append(sizes, len(p.Docs))
		if p.Continuation == "" {
			return docs, sizes
		}
		q.Continuation = p.Continuation
	}
	require.FailNow(t, "paging did not end after 1000 pages")
	return nil, nil
}

func ids(docs []store.Doc) []string {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

func queryIDs(t testing.TB, s store.Store, q store.Query) []string {
	t.Helper()
	docs, _ := queryAll(t, s, q)
	return ids(docs)
}
