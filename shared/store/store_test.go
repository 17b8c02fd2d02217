package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidateID(t *testing.T) {
	cases := []struct {
		name string
		id   string
		ok   bool
	}{
		{"a plain id is valid", "abc-123", true},
		{"an id of exactly the limit is valid", strings.Repeat("a", MaxIDBytes), true},
		{"an empty id is invalid", "", false},
		{"an id over the limit is invalid", strings.Repeat("a", MaxIDBytes+1), false},
		{"a slash is invalid", "../x", false},
		{"a backslash is invalid", `a\b`, false},
		{"a question mark is invalid", "a?b", false},
		{"a hash is invalid", "a#b", false},
		{"invalid UTF-8 is invalid", "a\xffb", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateID(tc.id)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrInvalid)
			}
		})
	}
}

func TestValidateWrite(t *testing.T) {
	good := Doc{Kind: KindState, TenantID: "t", ID: "x", Body: []byte(`{}`)}
	require.NoError(t, good.ValidateWrite(Upsert))
	require.NoError(t, good.ValidateWrite(Create))
	require.ErrorIs(t, good.ValidateWrite(IfMatch), ErrInvalid, "if-match needs an etag")
	withTag := good
	withTag.ETag = `"1"`
	require.NoError(t, withTag.ValidateWrite(IfMatch))
	require.ErrorIs(t, good.ValidateWrite(WriteMode(9)), ErrInvalid)
	bad := good
	bad.Kind = "nope"
	require.ErrorIs(t, bad.ValidateWrite(Upsert), ErrInvalid)
	bad = good
	bad.Attrs = map[string]string{"not a key": "v"}
	require.ErrorIs(t, bad.ValidateWrite(Upsert), ErrInvalid)
	bad = good
	bad.TenantID = ""
	require.ErrorIs(t, bad.ValidateWrite(Upsert), ErrInvalid)
	require.NoError(t, Query{Kind: KindState, TenantID: "t", Attrs: map[string]string{"k_1": "v"}}.ValidateRead())
	require.ErrorIs(t, Query{Kind: "nope", TenantID: "t"}.ValidateRead(), ErrInvalid)
	require.ErrorIs(t, Query{Kind: KindState, TenantID: "t", Attrs: map[string]string{"1k": "v"}}.ValidateRead(), ErrInvalid)
}

// flaky is a Store whose Put fails with the queued errors first.
type flaky struct {
	Store
	errs []error
	puts int
}

func (f *flaky) Put(ctx context.Context, d Doc, m WriteMode) (string, error) {
	f.puts++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return "", err
	}
	return `"ok"`, nil
}

func TestWriteRetries(t *testing.T) {
	fast := Retry{Attempts: 3, Base: time.Microsecond, Max: time.Millisecond}
	doc := Doc{Kind: KindState, TenantID: "t", ID: "x", Body: []byte(`{}`)}
	cases := []struct {
		name     string
		errs     []error
		wantErr  error
		wantPuts int
	}{
		{"a transient failure is retried", []error{errors.New("connection reset")}, nil, 2},
		{"throttling is retried", []error{&ThrottledError{Wait: time.Millisecond}}, nil, 2},
		{"a conflict is returned at once", []error{ErrConflict}, ErrConflict, 1},
		{"an invalid document is returned at once", []error{ErrInvalid}, ErrInvalid, 1},
		{"a missing document is returned at once", []error{ErrNotFound}, ErrNotFound, 1},
		{"retries stop at the attempt bound", []error{ErrThrottled, ErrThrottled, ErrThrottled, ErrThrottled}, ErrThrottled, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{errs: tc.errs}
			_, err := fast.Write(context.Background(), f, doc, Upsert)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			require.Equal(t, tc.wantPuts, f.puts)
		})
	}
}

func TestRetryWaitHonoursRetryAfterAndCancellation(t *testing.T) {
	r := Retry{Attempts: 3, Base: time.Nanosecond, Max: time.Nanosecond}
	start := time.Now()
	require.NoError(t, r.wait(context.Background(), 1, &ThrottledError{Wait: 30 * time.Millisecond}))
	require.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "the store's retry-after is a floor")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Retry{Attempts: 3, Base: time.Hour, Max: time.Hour}.wait(ctx, 1, ErrThrottled)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrThrottled)
	require.True(t, errors.Is(&ThrottledError{}, ErrThrottled))
}

func TestRetryDelay(t *testing.T) {
	r := Retry{Attempts: 5, Base: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	top := func(n int64) int64 { return n - 1 } // the largest draw
	zero := func(int64) int64 { return 0 }
	cases := []struct {
		name   string
		n      int
		err    error
		jitter func(int64) int64
		want   time.Duration
	}{
		{"the first retry draws up to twice the base", 1, ErrConflict, top, 20 * time.Millisecond},
		{"the ceiling doubles per retry", 3, ErrConflict, top, 80 * time.Millisecond},
		{"the ceiling is capped at max", 4, ErrConflict, top, 100 * time.Millisecond},
		{"a large retry count is capped at max", 70, ErrConflict, top, 100 * time.Millisecond},
		{"the draw can be zero", 3, ErrConflict, zero, 0},
		{"a retry-after longer than the draw is waited", 1, &ThrottledError{Wait: 70 * time.Millisecond}, top, 70 * time.Millisecond},
		{"a retry-after shorter than the draw does not shorten it", 3, &ThrottledError{Wait: 5 * time.Millisecond}, top, 80 * time.Millisecond},
		{"a retry-after equal to the draw is the draw", 1, &ThrottledError{Wait: 20 * time.Millisecond}, top, 20 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, r.delay(tc.n, tc.err, tc.jitter))
		})
	}
	huge := Retry{Base: time.Duration(1) << 62, Max: time.Second}
	require.Equal(t, time.Second, huge.delay(3, nil, top), "a negative ceiling from overflow is capped")
}
