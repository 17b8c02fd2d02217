package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/store"
)

// counter is the body the read-modify-write cases update.
type counter struct {
	N       int      `json:"n"`
	Writers []string `json:"writers,omitempty"`
}

var updateCases = []testCase{
	{"update creates a missing document and then changes it in place", func(t *testing.T, s store.Store, _ Capabilities) {
		inc := func(v *counter, d *store.Doc, exists bool) error {
			v.N++
			d.Time = t0
			d.Attrs = map[string]string{"state": "counted"}
			return nil
		}
		got, err := store.Update(t.Context(), s, store.KindState, tenantA, "c", inc)
		require.NoError(t, err)
		require.Equal(t, 1, got.N)
		got, err = store.Update(t.Context(), s, store.KindState, tenantA, "c", inc)
		require.NoError(t, err)
		require.Equal(t, 2, got.N)
		d := mustGet(t, s, store.KindState, tenantA, "c")
		require.JSONEq(t, `{"n":2}`, string(d.Body))
		require.Equal(t, "counted", d.Attrs["state"])
		require.True(t, d.Time.Equal(t0))
	}},
	{"concurrent updates never lose one", func(t *testing.T, s store.Store, _ Capabilities) {
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for w := range n {
			wg.Go(func() {
				_, errs[w] = store.UpdateWith(t.Context(), store.Retry{Attempts: 200, Base: 1e6, Max: 2e7}, s, store.KindState, tenantA, "c",
					func(v *counter, _ *store.Doc, _ bool) error {
						v.N++
						return nil
					})
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		var v counter
		requireJSON(t, mustGet(t, s, store.KindState, tenantA, "c"), &v)
		require.Equal(t, n, v.N)
	}},
	{"an unchanged mutation writes nothing", func(t *testing.T, s store.Store, _ Capabilities) {
		_, err := store.Update(t.Context(), s, store.KindState, tenantA, "c", func(v *counter, _ *store.Doc, _ bool) error { v.N = 5; return nil })
		require.NoError(t, err)
		before := mustGet(t, s, store.KindState, tenantA, "c")
		got, err := store.Update(t.Context(), s, store.KindState, tenantA, "c", func(v *counter, _ *store.Doc, _ bool) error { return store.ErrUnchanged })
		require.NoError(t, err)
		require.Equal(t, 5, got.N)
		require.Equal(t, before.ETag, mustGet(t, s, store.KindState, tenantA, "c").ETag)
	}},
	{"a mutation's own error is returned and nothing is written", func(t *testing.T, s store.Store, _ Capabilities) {
		boom := errors.New("refused")
		_, err := store.Update(t.Context(), s, store.KindState, tenantA, "c", func(*counter, *store.Doc, bool) error { return boom })
		require.ErrorIs(t, err, boom)
		requireMissing(t, s, store.KindState, tenantA, "c")
	}},
	{"update with a bad id is invalid, not a server error", func(t *testing.T, s store.Store, _ Capabilities) {
		for _, id := range []string{"../x", `a\b`, string(make([]byte, 1024)), ""} {
			_, err := store.Update(t.Context(), s, store.KindState, tenantA, id, func(*counter, *store.Doc, bool) error { return nil })
			require.ErrorIs(t, err, store.ErrInvalid, "%q", id)
		}
	}},
}

func requireJSON(t testing.TB, d store.Doc, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(d.Body, v))
}
