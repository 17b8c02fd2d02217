package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/store"
)

var validationCases = []testCase{
	{"invalid documents are rejected and not written", func(t *testing.T, s store.Store, _ Capabilities) {
		valid := newTestDoc(tenantA, "x", t0, 1)
		for _, tc := range []struct {
			name string
			edit func(*store.Doc)
			mode store.WriteMode
		}{
			{"empty kind", func(d *store.Doc) { d.Kind = "" }, store.Upsert},
			{"unknown kind", func(d *store.Doc) { d.Kind = "widgets" }, store.Upsert},
			{"empty tenant", func(d *store.Doc) { d.TenantID = "" }, store.Upsert},
			{"empty id", func(d *store.Doc) { d.ID = "" }, store.Upsert},
			{"id with a slash", func(d *store.Doc) { d.ID = "a/b" }, store.Upsert},
			{"id with a hash", func(d *store.Doc) { d.ID = "a#b" }, store.Create},
			{"id with a question mark", func(d *store.Doc) { d.ID = "a?b" }, store.Upsert},
			{"id with a backslash", func(d *store.Doc) { d.ID = `a\b` }, store.Upsert},
			{"id longer than 1023 bytes", func(d *store.Doc) { d.ID = strings.Repeat("x", 1024) }, store.Upsert},
			{"body that is not JSON", func(d *store.Doc) { d.Body = json.RawMessage(`{"a":`) }, store.Upsert},
			{"empty body", func(d *store.Doc) { d.Body = nil }, store.Upsert},
			{"attr key that is not an identifier", func(d *store.Doc) { d.Attrs = map[string]string{"control-id": "x"} }, store.Upsert},
			{"attr key with a dot", func(d *store.Doc) { d.Attrs = map[string]string{"a.b": "x"} }, store.Upsert},
			{"if-match without an etag", func(d *store.Doc) {}, store.IfMatch},
			{"unknown write mode", func(d *store.Doc) {}, store.WriteMode(99)},
		} {
			d := valid
			tc.edit(&d)
			_, err := s.Put(t.Context(), d, tc.mode)
			require.ErrorIs(t, err, store.ErrInvalid, tc.name)
		}
		require.Empty(t, queryIDs(t, s, store.Query{Kind: store.KindSnapshot, TenantID: tenantA}), "nothing was written")
	}},
	{"invalid keys are rejected by get and delete", func(t *testing.T, s store.Store, _ Capabilities) {
		for _, tc := range []struct {
			name         string
			kind         store.Kind
			tenantID, id string
		}{
			{"empty kind", "", tenantA, "x"},
			{"unknown kind", "widgets", tenantA, "x"},
			{"empty tenant", store.KindSnapshot, "", "x"},
			{"empty id", store.KindSnapshot, tenantA, ""},
			{"id with a slash", store.KindSnapshot, tenantA, "a/b"},
		} {
			_, err := s.Get(t.Context(), tc.kind, tc.tenantID, tc.id)
			require.ErrorIs(t, err, store.ErrInvalid, "get: %s", tc.name)
			err = s.Delete(t.Context(), tc.kind, tc.tenantID, tc.id, "")
			require.ErrorIs(t, err, store.ErrInvalid, "delete: %s", tc.name)
		}
	}},
	{"invalid queries are rejected", func(t *testing.T, s store.Store, _ Capabilities) {
		for _, tc := range []struct {
			name string
			q    store.Query
		}{
			{"empty kind", store.Query{TenantID: tenantA}},
			{"unknown kind", store.Query{Kind: "widgets", TenantID: tenantA}},
			{"empty tenant", store.Query{Kind: store.KindSnapshot}},
			{"negative limit", store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Limit: -1}},
			{"limit above the maximum", store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Limit: store.MaxPageSize + 1}},
			{"from equal to to", store.Query{Kind: store.KindSnapshot, TenantID: tenantA, From: t0, To: t0}},
			{"from after to", store.Query{Kind: store.KindSnapshot, TenantID: tenantA, From: minutes(1), To: t0}},
			{"attr key that is not an identifier", store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Attrs: map[string]string{"status = 'x' OR 1": "y"}}},
			{"attr key with a dot", store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Attrs: map[string]string{"a.b": "y"}}},
		} {
			_, err := s.Query(t.Context(), tc.q)
			require.ErrorIs(t, err, store.ErrInvalid, tc.name)
		}
	}},
	{"the largest page size is accepted", func(t *testing.T, s store.Store, _ Capabilities) {
		seed(t, s, 3)
		p, err := s.Query(t.Context(), store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Limit: store.MaxPageSize})
		require.NoError(t, err)
		require.Len(t, p.Docs, 3)
	}},
}

const writers, rounds = 8, 4

var concurrencyCases = []testCase{
	{"concurrent if-match writers: exactly one wins each round", func(t *testing.T, s store.Store, _ Capabilities) {
		mustPut(t, s, newTestDoc(tenantA, "x", t0, 0), store.Create)
		for round := 1; round <= rounds; round++ {
			current := mustGet(t, s, store.KindSnapshot, tenantA, "x")
			etags := make([]string, writers)
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					d := newTestDoc(tenantA, "x", t0, round*100+w)
					d.ETag = current.ETag
					etags[w], errs[w] = s.Put(t.Context(), d, store.IfMatch)
				})
			}
			wg.Wait()
			winner := -1
			for w, err := range errs {
				if err == nil {
					require.Equal(t, -1, winner, "round %d: writers %d and %d both won", round, winner, w)
					winner = w
					continue
				}
				require.ErrorIs(t, err, store.ErrConflict, "round %d writer %d", round, w)
			}
			require.NotEqual(t, -1, winner, "round %d: nobody won", round)
			got := mustGet(t, s, store.KindSnapshot, tenantA, "x")
			require.Equal(t, etags[winner], got.ETag, "round %d", round)
			requireBodyVersion(t, s, got, round*100+winner)
		}
	}},
	{"concurrent creates of one id: exactly one wins", func(t *testing.T, s store.Store, _ Capabilities) {
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				_, errs[w] = s.Put(t.Context(), newTestDoc(tenantA, "x", t0, w), store.Create)
			})
		}
		wg.Wait()
		winner := -1
		for w, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "writers %d and %d both created", winner, w)
				winner = w
				continue
			}
			require.ErrorIs(t, err, store.ErrConflict, "writer %d", w)
		}
		require.NotEqual(t, -1, winner, "nobody created the document")
		requireBodyVersion(t, s, newTestDoc(tenantA, "x", t0, 0), winner)
	}},
}

// requireExpireSupported skips an expiry case for stores that cannot expire
// documents on demand.
func requireExpireSupported(t *testing.T, caps Capabilities) {
	t.Helper()
	if caps.Expire == nil {
		t.Skip("the store cannot expire documents on demand")
	}
}

var ttlCases = []testCase{
	{"an expired document is absent to get, query, delete and if-match", func(t *testing.T, s store.Store, caps Capabilities) {
		requireExpireSupported(t, caps)
		short := newTestDoc(tenantA, "short", minutes(0), 1)
		short.TTL = time.Hour
		long := newTestDoc(tenantA, "long", minutes(1), 1)
		long.TTL = 3 * time.Hour
		short.ETag = mustPut(t, s, short, store.Create)
		mustPut(t, s, long, store.Create)
		mustPut(t, s, newTestDoc(tenantA, "forever", minutes(2), 1), store.Create)
		caps.Expire(2 * time.Hour)

		requireMissing(t, s, store.KindSnapshot, tenantA, "short")
		q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA}
		require.Equal(t, []string{"long", "forever"}, queryIDs(t, s, q))
		_, err := s.Put(t.Context(), short, store.IfMatch)
		require.ErrorIs(t, err, store.ErrNotFound, "if-match")
		require.ErrorIs(t, s.Delete(t.Context(), store.KindSnapshot, tenantA, "short", ""), store.ErrNotFound, "delete")

		caps.Expire(2 * time.Hour)
		require.Equal(t, []string{"forever"}, queryIDs(t, s, q))
		requireMissing(t, s, store.KindSnapshot, tenantA, "long")
	}},
	{"an expired id can be created again", func(t *testing.T, s store.Store, caps Capabilities) {
		requireExpireSupported(t, caps)
		d := newTestDoc(tenantA, "x", t0, 1)
		d.TTL = time.Minute
		mustPut(t, s, d, store.Create)
		caps.Expire(2 * time.Minute)
		_, err := s.Put(t.Context(), newTestDoc(tenantA, "x", t0, 2), store.Create)
		require.NoError(t, err)
		caps.Expire(time.Hour)
		requireBodyVersion(t, s, d, 2)
	}},
	{"rewriting without a ttl keeps the document past the old expiry", func(t *testing.T, s store.Store, caps Capabilities) {
		requireExpireSupported(t, caps)
		d := newTestDoc(tenantA, "x", t0, 1)
		d.TTL = time.Minute
		mustPut(t, s, d, store.Create)
		mustPut(t, s, newTestDoc(tenantA, "x", t0, 2), store.Upsert)
		caps.Expire(time.Hour)
		requireBodyVersion(t, s, d, 2)
		require.Equal(t, []string{"x"}, queryIDs(t, s, store.Query{Kind: store.KindSnapshot, TenantID: tenantA}))
	}},
	{"a ttl counts from the latest write", func(t *testing.T, s store.Store, caps Capabilities) {
		requireExpireSupported(t, caps)
		d := newTestDoc(tenantA, "x", t0, 1)
		d.TTL = time.Hour
		mustPut(t, s, d, store.Create)
		caps.Expire(50 * time.Minute)
		d.Body = json.RawMessage(fmt.Sprintf(`{"id":%q,"version":%d}`, d.ID, 2))
		mustPut(t, s, d, store.Upsert)
		caps.Expire(50 * time.Minute)
		requireBodyVersion(t, s, d, 2)
		caps.Expire(20 * time.Minute)
		_, err := s.Get(t.Context(), store.KindSnapshot, tenantA, "x")
		require.True(t, errors.Is(err, store.ErrNotFound), "expired after the second write's ttl: %v", err)
	}},
}
