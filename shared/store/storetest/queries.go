package storetest

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/store"
)

// seed writes n snapshots to tenantA in shuffled order. Every three share a
// time, so ordering and paging must fall back to the id. Document i is
// "doc-%02d" at t0 plus i/3 minutes and attr parity "even" or "odd".
func seed(t testing.TB, s store.Store, n int) []store.Doc {
	t.Helper()
	docs := make([]store.Doc, n)
	for i := range n {
		parity := "even"
		if i%2 == 1 {
			parity = "odd"
		}
		d := newTestDoc(tenantA, fmt.Sprintf("doc-%02d", i), t0.Add(time.Duration(i/3)*time.Minute), 1)
		docs[i] = withAttrs(d, map[string]string{"parity": parity})
	}
	order := rand.New(rand.NewPCG(1, uint64(n))).Perm(n)
	for _, i := range order {
		mustPut(t, s, docs[i], store.Create)
	}
	return docs
}

func minutes(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

var queryCases = []testCase{
	{"from is inclusive and to is exclusive", func(t *testing.T, s store.Store, _ Capabilities) {
		for i := range 5 {
			mustPut(t, s, newTestDoc(tenantA, fmt.Sprintf("d%d", i), minutes(i), 1), store.Create)
		}
		for _, tc := range []struct {
			name     string
			from, to time.Time
			want     []string
		}{
			{"both ends", minutes(1), minutes(3), []string{"d1", "d2"}},
			{"from only", minutes(3), time.Time{}, []string{"d3", "d4"}},
			{"to only", time.Time{}, minutes(1), []string{"d0"}},
			{"neither end", time.Time{}, time.Time{}, []string{"d0", "d1", "d2", "d3", "d4"}},
			{"one nanosecond past a document", minutes(1).Add(time.Nanosecond), minutes(2).Add(time.Nanosecond), []string{"d2"}},
			{"a range with no documents", minutes(10), minutes(20), []string{}},
		} {
			for _, desc := range []bool{false, true} {
				want := slices.Clone(tc.want)
				if desc {
					slices.Reverse(want)
				}
				q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA, From: tc.from, To: tc.to, Descending: desc}
				require.Equal(t, want, queryIDs(t, s, q), "%s, descending %v", tc.name, desc)
			}
		}
	}},
	{"results are ordered by time then id in both directions", func(t *testing.T, s store.Store, _ Capabilities) {
		// Written out of order; ids are not in time order.
		mustPut(t, s, newTestDoc(tenantA, "b", minutes(1), 1), store.Create)
		mustPut(t, s, newTestDoc(tenantA, "z", minutes(0), 1), store.Create)
		mustPut(t, s, newTestDoc(tenantA, "a2", minutes(2), 1), store.Create)
		mustPut(t, s, newTestDoc(tenantA, "c", minutes(1), 1), store.Create)
		mustPut(t, s, newTestDoc(tenantA, "a", minutes(1), 1), store.Create)
		q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA}
		require.Equal(t, []string{"z", "a", "b", "c", "a2"}, queryIDs(t, s, q))
		q.Descending = true
		require.Equal(t, []string{"a2", "c", "b", "a", "z"}, queryIDs(t, s, q))
	}},
	{"query results carry the same fields and etag as get", func(t *testing.T, s store.Store, _ Capabilities) {
		d := withAttrs(newTestDoc(tenantA, "x", t0, 1), map[string]string{"status": "open"})
		d.Kind = store.KindException
		etag := mustPut(t, s, d, store.Create)
		docs, _ := queryAll(t, s, store.Query{Kind: store.KindException, TenantID: tenantA})
		require.Len(t, docs, 1)
		requireSameDoc(t, d, docs[0])
		require.Equal(t, etag, docs[0].ETag)
	}},
	{"every attr in the filter must match exactly", func(t *testing.T, s store.Store, _ Capabilities) {
		put := func(id string, attrs map[string]string) {
			mustPut(t, s, withAttrs(newTestDoc(tenantA, id, t0, 1), attrs), store.Create)
		}
		put("open-identity", map[string]string{"status": "open", "area": "identity"})
		put("open-devices", map[string]string{"status": "open", "area": "devices"})
		put("closed-identity", map[string]string{"status": "closed", "area": "identity"})
		put("open-upper", map[string]string{"status": "Open", "area": "identity"})
		put("no-attrs", nil)
		for _, tc := range []struct {
			name  string
			attrs map[string]string
			want  []string
		}{
			{"one attr", map[string]string{"status": "open"}, []string{"open-devices", "open-identity"}},
			{"two attrs", map[string]string{"status": "open", "area": "identity"}, []string{"open-identity"}},
			{"case matters", map[string]string{"status": "Open"}, []string{"open-upper"}},
			{"a value nobody has", map[string]string{"status": "snoozed"}, []string{}},
			{"an attr nobody has", map[string]string{"owner": "x"}, []string{}},
			{"an empty value matches no missing attr", map[string]string{"status": ""}, []string{}},
			{"no filter", nil, []string{"closed-identity", "no-attrs", "open-devices", "open-identity", "open-upper"}},
		} {
			q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Attrs: tc.attrs}
			require.Equal(t, tc.want, queryIDs(t, s, q), tc.name)
		}
	}},
	{"attr values are data, never query syntax", func(t *testing.T, s store.Store, _ Capabilities) {
		tricky := `x" OR true OR c.id = "y' --`
		mustPut(t, s, withAttrs(newTestDoc(tenantA, "tricky", t0, 1), map[string]string{"status": tricky}), store.Create)
		mustPut(t, s, withAttrs(newTestDoc(tenantA, "plain", t0, 1), map[string]string{"status": "x"}), store.Create)
		q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Attrs: map[string]string{"status": tricky}}
		require.Equal(t, []string{"tricky"}, queryIDs(t, s, q))
		q.Attrs = map[string]string{"status": `x" OR "1" = "1`}
		require.Empty(t, queryIDs(t, s, q))
	}},
	{"a query sees only its own tenant and kind", func(t *testing.T, s store.Store, _ Capabilities) {
		mustPut(t, s, newTestDoc(tenantA, "mine", t0, 1), store.Create)
		mustPut(t, s, newTestDoc(tenantB, "other-tenant", t0, 1), store.Create)
		other := newTestDoc(tenantA, "other-kind", t0, 1)
		other.Kind = store.KindIncident
		mustPut(t, s, other, store.Create)
		require.Equal(t, []string{"mine"}, queryIDs(t, s, store.Query{Kind: store.KindSnapshot, TenantID: tenantA}))
		require.Equal(t, []string{"other-tenant"}, queryIDs(t, s, store.Query{Kind: store.KindSnapshot, TenantID: tenantB}))
		require.Equal(t, []string{"other-kind"}, queryIDs(t, s, store.Query{Kind: store.KindIncident, TenantID: tenantA}))
		require.Empty(t, queryIDs(t, s, store.Query{Kind: store.KindIncident, TenantID: tenantB}))
	}},
	{"paging returns every document exactly once in order", func(t *testing.T, s store.Store, _ Capabilities) {
		docs := seed(t, s, 25)
		want := ids(docs)
		for _, desc := range []bool{false, true} {
			if desc {
				slices.Reverse(want)
			}
			got, sizes := queryAll(t, s, store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Limit: 7, Descending: desc})
			require.Equal(t, want, ids(got), "descending %v", desc)
			require.Equal(t, []int{7, 7, 7, 4}, sizes, "descending %v", desc)
		}
	}},
	{"paging with a range and an attrs filter returns exactly the matches", func(t *testing.T, s store.Store, _ Capabilities) {
		docs := seed(t, s, 25)
		from, to := minutes(2), minutes(7) // doc-06 .. doc-20
		var want []string
		for i, d := range docs {
			if i%2 == 1 && !d.Time.Before(from) && d.Time.Before(to) {
				want = append(want, d.ID)
			}
		}
		require.Len(t, want, 7)
		for _, desc := range []bool{false, true} {
			if desc {
				slices.Reverse(want)
			}
			q := store.Query{
				Kind: store.KindSnapshot, TenantID: tenantA, From: from, To: to,
				Attrs: map[string]string{"parity": "odd"}, Limit: 3, Descending: desc,
			}
			got, sizes := queryAll(t, s, q)
			require.Equal(t, want, ids(got), "descending %v", desc)
			require.Equal(t, []int{3, 3, 1}, sizes, "descending %v", desc)
		}
	}},
	{"a page that ends at the last document has no continuation", func(t *testing.T, s store.Store, _ Capabilities) {
		seed(t, s, 14)
		for _, desc := range []bool{false, true} {
			_, sizes := queryAll(t, s, store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Limit: 7, Descending: desc})
			require.Equal(t, []int{7, 7}, sizes, "descending %v", desc)
		}
	}},
	{"an empty result is one empty page", func(t *testing.T, s store.Store, _ Capabilities) {
		p, err := s.Query(t.Context(), store.Query{Kind: store.KindSnapshot, TenantID: tenantA})
		require.NoError(t, err)
		require.Empty(t, p.Docs)
		require.Empty(t, p.Continuation)
	}},
	{"the default page size is 100", func(t *testing.T, s store.Store, _ Capabilities) {
		seed(t, s, store.DefaultPageSize+5)
		_, sizes := queryAll(t, s, store.Query{Kind: store.KindSnapshot, TenantID: tenantA})
		require.Equal(t, []int{store.DefaultPageSize, 5}, sizes)
	}},
	{"a continuation resumes right after the last document returned", func(t *testing.T, s store.Store, _ Capabilities) {
		for i := range 4 {
			mustPut(t, s, newTestDoc(tenantA, fmt.Sprintf("d%d", i), minutes(i), 1), store.Create)
		}
		q := store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Limit: 2}
		p, err := s.Query(t.Context(), q)
		require.NoError(t, err)
		require.Equal(t, []string{"d0", "d1"}, ids(p.Docs))
		require.NotEmpty(t, p.Continuation)
		// Writes between pages: one before the cursor, one right after it,
		// and the next document is deleted.
		mustPut(t, s, newTestDoc(tenantA, "before", minutes(0), 1), store.Create)
		mustPut(t, s, newTestDoc(tenantA, "d1a", minutes(1), 1), store.Create)
		require.NoError(t, s.Delete(t.Context(), store.KindSnapshot, tenantA, "d2", ""))
		q.Continuation = p.Continuation
		require.Equal(t, []string{"d1a", "d3"}, queryIDs(t, s, q))
	}},
	{"a malformed continuation token is invalid", func(t *testing.T, s store.Store, _ Capabilities) {
		seed(t, s, 3)
		desc, err := s.Query(t.Context(), store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Limit: 1, Descending: true})
		require.NoError(t, err)
		require.NotEmpty(t, desc.Continuation)
		for _, tc := range []struct{ name, token string }{
			{"not base64", "%%%not a token%%%"},
			{"base64 of text", base64.RawURLEncoding.EncodeToString([]byte("hello"))},
			{"base64 of an empty object", base64.RawURLEncoding.EncodeToString([]byte("{}"))},
			{"a token of a descending query", desc.Continuation},
		} {
			_, err := s.Query(t.Context(), store.Query{Kind: store.KindSnapshot, TenantID: tenantA, Continuation: tc.token})
			require.ErrorIs(t, err, store.ErrInvalid, tc.name)
		}
	}},
}
