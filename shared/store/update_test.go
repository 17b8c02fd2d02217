package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// memStore is the least Store that keeps ETags, for testing the helpers
// without a real implementation (those run the same cases in storetest).
type memStore struct {
	mu    sync.Mutex
	docs  map[string]Doc
	seq   int
	puts  int
	fails []error // returned by the next Puts, in order
	// beforePut runs once, before the first Put, outside the lock.
	beforePut func()
}

func newMem() *memStore { return &memStore{docs: map[string]Doc{}} }

func (m *memStore) Get(_ context.Context, k Kind, t, id string) (Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[string(k)+"/"+t+"/"+id]
	if !ok {
		return Doc{}, ErrNotFound
	}
	return d, nil
}

func (m *memStore) Put(_ context.Context, d Doc, mode WriteMode) (string, error) {
	if f := m.beforePut; f != nil {
		m.beforePut = nil
		f()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	if len(m.fails) > 0 {
		err := m.fails[0]
		m.fails = m.fails[1:]
		return "", err
	}
	key := string(d.Kind) + "/" + d.TenantID + "/" + d.ID
	old, exists := m.docs[key]
	switch {
	case mode == Create && exists:
		return "", ErrConflict
	case mode == IfMatch && !exists:
		return "", ErrNotFound
	case mode == IfMatch && old.ETag != d.ETag:
		return "", ErrConflict
	}
	m.seq++
	d.ETag = strconv.Itoa(m.seq)
	m.docs[key] = d
	return d.ETag, nil
}

func (m *memStore) Delete(context.Context, Kind, string, string, string) error { return nil }
func (m *memStore) Query(context.Context, Query) (Page, error)                 { return Page{}, nil }
func (m *memStore) Close() error                                               { return nil }

type box struct {
	N int `json:"n"`
}

var fast = Retry{Attempts: 4, Base: time.Microsecond, Max: time.Microsecond}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	inc := func(v *box, d *Doc, exists bool) error {
		v.N++
		d.Attrs = map[string]string{"exists": strconv.FormatBool(exists)}
		return nil
	}

	t.Run("a missing document is created, then updated in place", func(t *testing.T) {
		m := newMem()
		got, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.NoError(t, err)
		require.Equal(t, 1, got.N)
		require.Equal(t, "false", m.docs["state/t/x"].Attrs["exists"])
		got, err = UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.NoError(t, err)
		require.Equal(t, 2, got.N)
		require.Equal(t, "true", m.docs["state/t/x"].Attrs["exists"])
		require.JSONEq(t, `{"n":2}`, string(m.docs["state/t/x"].Body))
	})
	t.Run("a conflicting write is re-read and re-applied", func(t *testing.T) {
		m := newMem()
		_, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.NoError(t, err)
		m.beforePut = func() { _, _ = UpdateWith(ctx, fast, m, KindState, "t", "x", inc) } // someone else writes first
		got, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.NoError(t, err)
		require.Equal(t, 3, got.N, "neither increment is lost")
	})
	t.Run("throttling and transient failures are waited out", func(t *testing.T) {
		m := newMem()
		m.fails = []error{&ThrottledError{Wait: time.Microsecond}, errors.New("connection reset")}
		got, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.NoError(t, err)
		require.Equal(t, 1, got.N)
		require.Equal(t, 3, m.puts)
	})
	t.Run("conflicts beyond the attempts are surfaced", func(t *testing.T) {
		m := newMem()
		m.fails = []error{ErrConflict, ErrConflict, ErrConflict, ErrConflict, ErrConflict}
		_, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.ErrorIs(t, err, ErrConflict)
		require.Equal(t, fast.Attempts, m.puts)
	})
	t.Run("an invalid write is not retried", func(t *testing.T) {
		m := newMem()
		m.fails = []error{ErrInvalid}
		_, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.ErrorIs(t, err, ErrInvalid)
		require.Equal(t, 1, m.puts)
	})
	t.Run("ErrUnchanged returns the stored value without writing", func(t *testing.T) {
		m := newMem()
		_, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.NoError(t, err)
		got, err := UpdateWith(ctx, fast, m, KindState, "t", "x", func(*box, *Doc, bool) error { return ErrUnchanged })
		require.NoError(t, err)
		require.Equal(t, 1, got.N)
		require.Equal(t, 1, m.puts)
	})
	t.Run("a body that no longer decodes is invalid at once", func(t *testing.T) {
		m := newMem()
		m.docs["state/t/x"] = Doc{Kind: KindState, TenantID: "t", ID: "x", Body: json.RawMessage(`"not a box"`), ETag: "1"}
		_, err := UpdateWith(ctx, fast, m, KindState, "t", "x", inc)
		require.ErrorIs(t, err, ErrInvalid)
		require.Zero(t, m.puts)
	})
	t.Run("a bad key is invalid before any read", func(t *testing.T) {
		_, err := Update(ctx, newMem(), KindState, "t", "a/b", inc)
		require.ErrorIs(t, err, ErrInvalid)
		_, err = Update(ctx, newMem(), "nope", "t", "x", inc)
		require.ErrorIs(t, err, ErrInvalid)
	})
	t.Run("the default policy writes", func(t *testing.T) {
		m := newMem()
		_, err := Update(ctx, m, KindState, "t", "x", inc)
		require.NoError(t, err)
		_, err = Write(ctx, m, Doc{Kind: KindState, TenantID: "t", ID: "y", Body: []byte(`{}`)}, Upsert)
		require.NoError(t, err)
	})
}

func TestJSONHelpers(t *testing.T) {
	ctx := context.Background()
	m := newMem()
	d, err := Encode(Doc{Kind: KindState, TenantID: "t", ID: "x"}, box{N: 4})
	require.NoError(t, err)
	_, err = m.Put(ctx, d, Create)
	require.NoError(t, err)
	v, got, err := GetJSON[box](ctx, m, KindState, "t", "x")
	require.NoError(t, err)
	require.Equal(t, 4, v.N)
	require.Equal(t, "1", got.ETag)
	_, _, err = GetJSON[box](ctx, m, KindState, "t", "missing")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Encode(Doc{}, make(chan int))
	require.Error(t, err)
	require.Equal(t, DefaultPageSize, Query{}.PageSize())
	require.Equal(t, 7, Query{Limit: 7}.PageSize())
}
