package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/store"
)

var documentCases = []testCase{
	{"a document reads back with its body, attrs and time", func(t *testing.T, s store.Store, _ Capabilities) {
		d := store.Doc{
			Kind:     store.KindIncident,
			TenantID: tenantA,
			ID:       "inc-1",
			Time:     t0,
			Attrs:    map[string]string{"status": "open", "area": "identity"},
			Body:     json.RawMessage(`{"title":"MFA disabled","score":3.5,"tags":["a","b"],"nested":{"ok":true,"n":null}}`),
		}
		etag := mustPut(t, s, d, store.Upsert)
		got := mustGet(t, s, d.Kind, d.TenantID, d.ID)
		requireSameDoc(t, d, got)
		require.Equal(t, etag, got.ETag, "get returns the etag the write returned")
	}},
	{"a document without attrs reads back without attrs", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "plain", t0, 1)
		mustPut(t, s, d, store.Upsert)
		requireSameDoc(t, d, mustGet(t, s, d.Kind, d.TenantID, d.ID))
	}},
	{"every write returns a new etag", func(t *testing.T, s store.Store, _ Capabilities) {
		seen := map[string]bool{}
		var last string
		for v := 1; v <= 3; v++ {
			last = mustPut(t, s, newTestDoc(tenantA, "x", t0, v), store.Upsert)
			require.False(t, seen[last], "etag %s was returned before", last)
			seen[last] = true
		}
		got := mustGet(t, s, store.KindSnapshot, tenantA, "x")
		require.Equal(t, last, got.ETag)
		requireBodyVersion(t, s, got, 3)
	}},
	{"create on a taken id is a conflict and keeps the document", func(t *testing.T, s store.Store, _ Capabilities) {
		first := newTestDoc(tenantA, "x", t0, 1)
		etag := mustPut(t, s, first, store.Create)
		_, err := s.Put(t.Context(), newTestDoc(tenantA, "x", t0, 2), store.Create)
		require.ErrorIs(t, err, store.ErrConflict)
		got := mustGet(t, s, first.Kind, first.TenantID, first.ID)
		require.Equal(t, etag, got.ETag)
		requireBodyVersion(t, s, first, 1)
	}},
	{"if-match with the current etag replaces the document", func(t *testing.T, s store.Store, _ Capabilities) {
		etag1 := mustPut(t, s, newTestDoc(tenantA, "x", t0, 1), store.Create)
		next := newTestDoc(tenantA, "x", t0.Add(time.Minute), 2)
		next.ETag = etag1
		etag2 := mustPut(t, s, next, store.IfMatch)
		require.NotEqual(t, etag1, etag2)
		got := mustGet(t, s, next.Kind, next.TenantID, next.ID)
		require.Equal(t, etag2, got.ETag)
		next.ETag = ""
		requireSameDoc(t, next, got)
	}},
	{"if-match with a stale etag is a conflict and keeps the document", func(t *testing.T, s store.Store, _ Capabilities) {
		stale := mustPut(t, s, newTestDoc(tenantA, "x", t0, 1), store.Create)
		current := mustPut(t, s, newTestDoc(tenantA, "x", t0, 2), store.Upsert)
		d := newTestDoc(tenantA, "x", t0, 3)
		d.ETag = stale
		_, err := s.Put(t.Context(), d, store.IfMatch)
		require.ErrorIs(t, err, store.ErrConflict)
		require.Equal(t, current, mustGet(t, s, d.Kind, d.TenantID, d.ID).ETag)
		requireBodyVersion(t, s, d, 2)
	}},
	{"if-match on a missing document is not found", func(t *testing.T, s store.Store, _ Capabilities) {
		// A real etag from another document, so only the absence can fail it.
		etag := mustPut(t, s, newTestDoc(tenantA, "other", t0, 1), store.Create)
		d := newTestDoc(tenantA, "x", t0, 1)
		d.ETag = etag
		_, err := s.Put(t.Context(), d, store.IfMatch)
		require.ErrorIs(t, err, store.ErrNotFound)
		requireMissing(t, s, d.Kind, d.TenantID, d.ID)
	}},
	{"if-match on a deleted document is not found", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "x", t0, 1)
		d.ETag = mustPut(t, s, d, store.Create)
		require.NoError(t, s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, ""))
		_, err := s.Put(t.Context(), d, store.IfMatch)
		require.ErrorIs(t, err, store.ErrNotFound)
		requireMissing(t, s, d.Kind, d.TenantID, d.ID)
	}},
	{"get of a missing document is not found", func(t *testing.T, s store.Store, _ Capabilities) {
		mustPut(t, s, newTestDoc(tenantA, "present", t0, 1), store.Create)
		requireMissing(t, s, store.KindSnapshot, tenantA, "absent")
	}},
	{"delete with a stale etag is a conflict and keeps the document", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "x", t0, 1)
		stale := mustPut(t, s, d, store.Create)
		mustPut(t, s, newTestDoc(tenantA, "x", t0, 2), store.Upsert)
		err := s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, stale)
		require.ErrorIs(t, err, store.ErrConflict)
		requireBodyVersion(t, s, d, 2)
	}},
	{"delete with the current etag removes the document", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "x", t0, 1)
		etag := mustPut(t, s, d, store.Create)
		mustPut(t, s, newTestDoc(tenantA, "y", t0, 1), store.Create)
		require.NoError(t, s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, etag))
		requireMissing(t, s, d.Kind, d.TenantID, d.ID)
		require.Equal(t, []string{"y"}, queryIDs(t, s, store.Query{Kind: d.Kind, TenantID: tenantA}))
	}},
	{"delete without an etag removes the document", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "x", t0, 1)
		mustPut(t, s, d, store.Create)
		mustPut(t, s, newTestDoc(tenantA, "x", t0, 2), store.Upsert)
		require.NoError(t, s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, ""))
		requireMissing(t, s, d.Kind, d.TenantID, d.ID)
		require.Empty(t, queryIDs(t, s, store.Query{Kind: d.Kind, TenantID: tenantA}))
	}},
	{"deleting a missing document is not found", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "x", t0, 1)
		etag := mustPut(t, s, d, store.Create)
		require.ErrorIs(t, s.Delete(t.Context(), d.Kind, d.TenantID, "absent", ""), store.ErrNotFound)
		require.NoError(t, s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, ""))
		require.ErrorIs(t, s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, ""), store.ErrNotFound, "second delete")
		require.ErrorIs(t, s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, etag), store.ErrNotFound, "delete with the old etag")
	}},
	{"a document can be created again after it was deleted", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "x", t0, 1)
		old := mustPut(t, s, d, store.Create)
		require.NoError(t, s.Delete(t.Context(), d.Kind, d.TenantID, d.ID, ""))
		fresh := mustPut(t, s, newTestDoc(tenantA, "x", t0, 2), store.Create)
		require.NotEqual(t, old, fresh)
		requireBodyVersion(t, s, d, 2)
	}},
	{"the same id in two tenants is independent", func(t *testing.T, s store.Store, _ Capabilities) {
		a := newTestDoc(tenantA, "x", t0, 1)
		b := newTestDoc(tenantB, "x", t0.Add(time.Hour), 2)
		mustPut(t, s, a, store.Create)
		mustPut(t, s, b, store.Create)
		requireSameDoc(t, a, mustGet(t, s, a.Kind, tenantA, "x"))
		requireSameDoc(t, b, mustGet(t, s, b.Kind, tenantB, "x"))
		require.NoError(t, s.Delete(t.Context(), a.Kind, tenantA, "x", ""))
		requireMissing(t, s, a.Kind, tenantA, "x")
		requireSameDoc(t, b, mustGet(t, s, b.Kind, tenantB, "x"))
		require.Empty(t, queryIDs(t, s, store.Query{Kind: a.Kind, TenantID: tenantA}))
		require.Equal(t, []string{"x"}, queryIDs(t, s, store.Query{Kind: b.Kind, TenantID: tenantB}))
	}},
	{"the same id in two kinds is independent", func(t *testing.T, s store.Store, _ Capabilities) {
		a := newTestDoc(tenantA, "x", t0, 1)
		b := newTestDoc(tenantA, "x", t0, 2)
		b.Kind = store.KindIncident
		mustPut(t, s, a, store.Create)
		mustPut(t, s, b, store.Create)
		requireSameDoc(t, a, mustGet(t, s, store.KindSnapshot, tenantA, "x"))
		requireSameDoc(t, b, mustGet(t, s, store.KindIncident, tenantA, "x"))
		require.NoError(t, s.Delete(t.Context(), store.KindIncident, tenantA, "x", ""))
		requireMissing(t, s, store.KindIncident, tenantA, "x")
		requireSameDoc(t, a, mustGet(t, s, store.KindSnapshot, tenantA, "x"))
	}},
	{"rewriting a document with a new time moves it in queries", func(t *testing.T, s store.Store, _ Capabilities) {
		mustPut(t, s, newTestDoc(tenantA, "x", t0, 1), store.Create)
		mustPut(t, s, newTestDoc(tenantA, "y", t0.Add(time.Minute), 1), store.Create)
		mustPut(t, s, newTestDoc(tenantA, "x", t0.Add(2*time.Minute), 2), store.Upsert)
		q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA}
		require.Equal(t, []string{"y", "x"}, queryIDs(t, s, q))
		q.To = t0.Add(time.Minute)
		require.Empty(t, queryIDs(t, s, q), "the old position is gone")
	}},
	{"ids with spaces, quotes, percent signs and non-ASCII letters work", func(t *testing.T, s store.Store, _ Capabilities) {
		odd := []string{"a b", "50%off", "a+b", "a'b\"c", "a:b;c", "ü-ñ-日本", "%2F"}
		for _, id := range odd {
			mustPut(t, s, newTestDoc(tenantA, id, t0, 1), store.Create)
		}
		for _, id := range odd {
			requireSameDoc(t, newTestDoc(tenantA, id, t0, 1), mustGet(t, s, store.KindSnapshot, tenantA, id))
		}
		q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA}
		require.Equal(t, slices.Sorted(slices.Values(odd)), queryIDs(t, s, q))
		for _, id := range odd {
			require.NoError(t, s.Delete(t.Context(), store.KindSnapshot, tenantA, id, ""), id)
			requireMissing(t, s, store.KindSnapshot, tenantA, id)
		}
	}},
	{"a document with a ttl is readable before it expires", func(t *testing.T, s store.Store, _ Capabilities) {
		d := newTestDoc(tenantA, "x", t0, 1)
		d.TTL = time.Hour
		mustPut(t, s, d, store.Create)
		requireSameDoc(t, d, mustGet(t, s, d.Kind, d.TenantID, d.ID))
		require.Equal(t, []string{"x"}, queryIDs(t, s, store.Query{Kind: d.Kind, TenantID: tenantA}))
	}},
}
