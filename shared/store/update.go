package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrThrottled: the store refused the request for now (Cosmos 429). Errors
// that carry a wait implement RetryAfter.
var ErrThrottled = errors.New("store is throttling requests")

// ThrottledError is ErrThrottled with the wait the store asked for.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: retry after %v", ErrThrottled, e.Wait)
}

// Unwrap makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Retry bounds how often and how long the write helpers retry.
type Retry struct {
	// Attempts is the total number of tries, first included.
	Attempts int
	// Base and Max bound the jittered exponential backoff between tries.
	Base, Max time.Duration
}

// DefaultRetry suits interactive requests and timers alike: a handful of
// tries within about two seconds, then the error is surfaced.
var DefaultRetry = Retry{Attempts: 6, Base: 25 * time.Millisecond, Max: time.Second}

// wait sleeps before try n (1-based retry count): full jitter over an
// exponential ceiling, or the store's own retry-after when it gave one.
func (r Retry) wait(ctx context.Context, n int, err error) error {
	t := time.NewTimer(r.delay(n, err, rand.Int64N))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errors.Join(err, ctx.Err())
	case <-t.C:
		return nil
	}
}

// delay is the wait before retry n: a draw (jitter, [0, ceiling]) under
// Base·2ⁿ capped at Max, raised to the store's retry-after when it asked
// for longer.
func (r Retry) delay(n int, err error, jitter func(int64) int64) time.Duration {
	ceiling := r.Base << min(n, 16)
	if ceiling > r.Max || ceiling <= 0 {
		ceiling = r.Max
	}
	d := time.Duration(jitter(int64(ceiling) + 1))
	var te *ThrottledError
	if errors.As(err, &te) && te.Wait > d {
		d = te.Wait
	}
	return d
}

// transient reports whether a failed write may succeed if simply tried
// again. Invalid documents, conflicts and missing documents will not.
func transient(err error) bool {
	return err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// Write puts doc, retrying throttling and transient failures with backoff.
// Conflicts, invalid documents and missing documents return at once, so
// callers keep their concurrency decisions.
func Write(ctx context.Context, s Store, doc Doc, mode WriteMode) (string, error) {
	return DefaultRetry.Write(ctx, s, doc, mode)
}

// Write is the package-level Write under r.
func (r Retry) Write(ctx context.Context, s Store, doc Doc, mode WriteMode) (string, error) {
	for n := 1; ; n++ {
		etag, err := s.Put(ctx, doc, mode)
		if !transient(err) || n >= r.Attempts {
			return etag, err
		}
		if werr := r.wait(ctx, n, err); werr != nil {
			return "", werr
		}
	}
}

// ErrUnchanged, returned by a Mutation, ends Update without writing.
var ErrUnchanged = errors.New("unchanged")

// Mutation changes v in place. exists is false when there is no document
// yet (v is then the zero T, or what a previous conflicting try left, reset
// to zero). doc carries the stored Time, Attrs and TTL, which the mutation
// may set; Kind, TenantID and ID are fixed. It must be safe to call again:
// Update re-reads and re-applies it after a conflict.
type Mutation[T any] func(v *T, doc *Doc, exists bool) error

// Update is the one read-modify-write: it reads the document, applies
// mutate, and writes back only if nobody wrote in between (If-Match, or
// Create when it did not exist). On a conflict it re-reads and re-applies,
// and it waits out throttling and transient failures, all within
// DefaultRetry. It returns the value as written (or as read, when the
// mutation answered ErrUnchanged); any other mutation error is returned as is.
func Update[T any](ctx context.Context, s Store, kind Kind, tenantID, id string, mutate Mutation[T]) (T, error) {
	return UpdateWith(ctx, DefaultRetry, s, kind, tenantID, id, mutate)
}

// UpdateWith is Update under an explicit retry policy.
func UpdateWith[T any](ctx context.Context, r Retry, s Store, kind Kind, tenantID, id string, mutate Mutation[T]) (T, error) {
	var zero T
	if err := ValidateKey(kind, tenantID, id); err != nil {
		return zero, err
	}
	for n := 1; ; n++ {
		v, doc, exists, err := read[T](ctx, s, kind, tenantID, id)
		if err == nil {
			err = mutate(&v, &doc, exists)
			if errors.Is(err, ErrUnchanged) {
				return v, nil
			}
			if err != nil {
				return zero, err
			}
			err = put(ctx, s, &doc, v, exists)
			if err == nil {
				return v, nil
			}
		}
		retry := errors.Is(err, ErrConflict) || transient(err)
		if !retry || n >= r.Attempts {
			return zero, fmt.Errorf("update %s/%s/%s: %w", kind, tenantID, id, err)
		}
		if werr := r.wait(ctx, n, err); werr != nil {
			return zero, fmt.Errorf("update %s/%s/%s: %w", kind, tenantID, id, werr)
		}
	}
}

func read[T any](ctx context.Context, s Store, kind Kind, tenantID, id string) (T, Doc, bool, error) {
	var v T
	d, err := s.Get(ctx, kind, tenantID, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return v, Doc{Kind: kind, TenantID: tenantID, ID: id}, false, nil
	case err != nil:
		return v, d, false, err
	}
	if err := json.Unmarshal(d.Body, &v); err != nil {
		// A body that no longer decodes will not decode on a retry either.
		return v, d, true, errors.Join(ErrInvalid, fmt.Errorf("decode %s/%s/%s: %w", kind, tenantID, id, err))
	}
	return v, d, true, nil
}

func put[T any](ctx context.Context, s Store, doc *Doc, v T, exists bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errors.Join(ErrInvalid, fmt.Errorf("encode %s/%s/%s: %w", doc.Kind, doc.TenantID, doc.ID, err))
	}
	doc.Body = b
	mode := IfMatch
	if !exists {
		mode = Create
	}
	_, err = s.Put(ctx, *doc, mode)
	return err
}
