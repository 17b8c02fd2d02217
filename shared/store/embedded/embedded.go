package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"m365security/shared/store"
)

var _ store.Store = (*Store)(nil)

// DefaultLockTimeout is how long Open waits for another process to release
// the file lock before giving up.
const DefaultLockTimeout = 2 * time.Second

// sweepPerWrite bounds how many expired documents one Put removes, so a
// write's latency does not depend on how much has expired.
const sweepPerWrite = 32

// sweepBatch is how many expired documents Sweep removes per transaction.
const sweepBatch = 1000

// File layout: one top-level bucket per kind ("kind/<kind>") holding a
// bucket per tenant, which holds "docs" (id → record, see record.go) and
// "index" (store.TimeKey(time) + "\x00" + id → empty) for ordered range
// scans. The top-level "expiry" bucket lists documents with a TTL by expiry
// time, so sweeping never scans live data; "sys" holds the ETag sequence.
var (
	bucketSys    = []byte("sys")
	bucketExpiry = []byte("expiry")
	bucketDocs   = []byte("docs")
	bucketIndex  = []byte("index")
)

// Store is a bbolt-backed store.Store. It is safe for concurrent use; bbolt
// serialises writers and lets readers run in parallel.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

type options struct {
	now         func() time.Time
	lockTimeout time.Duration
	noSync      bool
}

// Option configures Open.
type Option func(*options)

// WithClock replaces time.Now as the store's clock. TTL expiry is decided by
// this clock, so tests can expire documents without sleeping.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLockTimeout sets how long Open waits for the file lock held by another
// process (DefaultLockTimeout otherwise).
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// WithNoSync skips fsync on commit. Only for tests and benchmarks: a crash
// can lose or corrupt recent writes.
func WithNoSync() Option {
	return func(o *options) { o.noSync = true }
}

// Open opens or creates the store file at path, creating its parent
// directory if missing. If another process holds the file it fails after the
// lock timeout instead of waiting forever.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, lockTimeout: DefaultLockTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout, NoSync: o.noSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: file is locked by another process (waited %s): %w", path, o.lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketSys, bucketExpiry} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		for _, k := range store.Kinds {
			if _, err := tx.CreateBucketIfNotExists(kindBucket(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create buckets in %s: %w", path, err)
	}
	return &Store{db: db, now: o.now}, nil
}

// Close releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Get returns the live document or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, kind store.Kind, tenantID, id string) (store.Doc, error) {
	if err := ctx.Err(); err != nil {
		return store.Doc{}, err
	}
	if err := store.ValidateKey(kind, tenantID, id); err != nil {
		return store.Doc{}, fmt.Errorf("get %s/%s/%s: %w", kind, tenantID, id, err)
	}
	var d store.Doc
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tenantBuckets(tx, kind, tenantID)
		if b.docs == nil {
			return store.ErrNotFound
		}
		raw := b.docs.Get([]byte(id))
		if raw == nil {
			return store.ErrNotFound
		}
		r, err := decodeRecord(raw)
		if err != nil {
			return err
		}
		if r.expired(s.now()) {
			return store.ErrNotFound
		}
		d, err = r.doc(kind, tenantID, id)
		return err
	})
	if err != nil {
		return store.Doc{}, fmt.Errorf("get %s/%s/%s: %w", kind, tenantID, id, err)
	}
	return d, nil
}

// Put writes doc according to mode and returns the new ETag. Create fails
// with store.ErrConflict if the id is taken; IfMatch fails with
// store.ErrConflict if the ETag is stale and store.ErrNotFound if the
// document is gone. Expired documents count as gone.
func (s *Store) Put(ctx context.Context, doc store.Doc, mode store.WriteMode) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := doc.ValidateWrite(mode); err != nil {
		return "", fmt.Errorf("put %s/%s/%s: %w", doc.Kind, doc.TenantID, doc.ID, err)
	}
	var etag string
	err := s.db.Update(func(tx *bolt.Tx) error {
		now := s.now()
		b, err := createTenantBuckets(tx, doc.Kind, doc.TenantID)
		if err != nil {
			return err
		}
		id := []byte(doc.ID)
		old, err := liveRecord(b.docs, id, now)
		if err != nil {
			return err
		}
		switch {
		case mode == store.Create && old != nil:
			return store.ErrConflict
		case mode == store.IfMatch && old == nil:
			return store.ErrNotFound
		case mode == store.IfMatch && old.ETag != doc.ETag:
			return store.ErrConflict
		}
		// Drop the previous version's index and expiry entries even if it
		// had expired: its time or expiry may differ from the new version's.
		if err := removeStale(tx, b, doc.Kind, doc.TenantID, id); err != nil {
			return err
		}
		seq, err := tx.Bucket(bucketSys).NextSequence()
		if err != nil {
			return err
		}
		etag = `"` + strconv.FormatUint(seq, 16) + `"`
		r := record{
			Time:  store.TimeKey(doc.Time),
			Attrs: doc.Attrs,
			ETag:  etag,
			body:  doc.Body,
		}
		if doc.TTL > 0 {
			r.TTL = int64(doc.TTL)
			r.Expires = now.Add(doc.TTL).UnixNano()
		}
		if err := b.docs.Put(id, r.encode()); err != nil {
			return err
		}
		if err := b.index.Put(indexKey(r.Time, doc.ID), nil); err != nil {
			return err
		}
		if r.Expires != 0 {
			key := expiryKey(r.Expires, doc.Kind, doc.TenantID, doc.ID)
			if err := tx.Bucket(bucketExpiry).Put(key, nil); err != nil {
				return err
			}
		}
		_, err = sweep(tx, now, sweepPerWrite)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("put %s/%s/%s: %w", doc.Kind, doc.TenantID, doc.ID, err)
	}
	return etag, nil
}

// Delete removes the live document; with a non-empty etag only if it still
// matches (store.ErrConflict otherwise). A missing or expired document is
// store.ErrNotFound.
func (s *Store) Delete(ctx context.Context, kind store.Kind, tenantID, id, etag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.ValidateKey(kind, tenantID, id); err != nil {
		return fmt.Errorf("delete %s/%s/%s: %w", kind, tenantID, id, err)
	}
	var outcome error
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tenantBuckets(tx, kind, tenantID)
		if b.docs == nil {
			outcome = store.ErrNotFound
			return nil
		}
		key := []byte(id)
		live, err := liveRecord(b.docs, key, s.now())
		if err != nil {
			return err
		}
		switch {
		case live == nil:
			outcome = store.ErrNotFound
		case etag != "" && live.ETag != etag:
			outcome = store.ErrConflict
			return nil
		}
		// An expired document is removed as well, and the transaction is
		// committed so the sweep is not lost; the caller still sees
		// ErrNotFound.
		return removeStale(tx, b, kind, tenantID, key)
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return fmt.Errorf("delete %s/%s/%s: %w", kind, tenantID, id, err)
	}
	return nil
}

// Query returns one page of matching live documents, ordered by time then
// id. It walks the tenant's time index from the page's start and stops after
// one document past the page, so memory is bounded by the page size.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	if err := ctx.Err(); err != nil {
		return store.Page{}, err
	}
	after, err := validateQuery(q)
	if err != nil {
		return store.Page{}, fmt.Errorf("query %s/%s: %w", q.Kind, q.TenantID, err)
	}
	var page store.Page
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tenantBuckets(tx, q.Kind, q.TenantID)
		if b.docs == nil {
			return nil
		}
		now := s.now()
		size := q.PageSize()
		var lastKey []byte
		it := newScan(b.index.Cursor(), q, after)
		for k := it.first(); k != nil; k = it.next() {
			if len(k) <= timeKeyLen {
				continue
			}
			id := k[timeKeyLen+1:]
			raw := b.docs.Get(id)
			if raw == nil {
				continue
			}
			r, err := decodeRecord(raw)
			if err != nil {
				return err
			}
			if r.expired(now) || !attrsMatch(r.Attrs, q.Attrs) {
				continue
			}
			if len(page.Docs) == size {
				// A further match exists, so the page gets a token that
				// resumes right after its last document.
				page.Continuation = encodeToken(lastKey, q.Descending)
				return nil
			}
			d, err := r.doc(q.Kind, q.TenantID, string(id))
			if err != nil {
				return err
			}
			page.Docs = append(page.Docs, d)
			lastKey = append(lastKey[:0], k...)
		}
		return nil
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("query %s/%s: %w", q.Kind, q.TenantID, err)
	}
	return page, nil
}

// Sweep removes every document whose TTL has passed and returns how many it
// removed. Reads already treat such documents as absent; Sweep only reclaims
// their space. Each Put also sweeps a few.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			n, err = sweep(tx, s.now(), sweepBatch)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("sweep expired documents: %w", err)
		}
		if n < sweepBatch {
			return total, nil
		}
	}
}

// scan walks one tenant's index in query order between the query's bounds.
type scan struct {
	c         *bolt.Cursor
	desc      bool
	start     []byte // seek target; nil starts at an end
	skipStart bool   // ascending: the start key itself was already returned
	stop      []byte // time-key bound that ends the walk; nil for none
}

func newScan(c *bolt.Cursor, q store.Query, after []byte) *scan {
	s := &scan{c: c, desc: q.Descending}
	if !q.Descending {
		if !q.From.IsZero() {
			s.start = []byte(store.TimeKey(q.From))
		}
		// A continuation past From wins; one before From (a token from
		// another query) must not widen the range.
		if after != nil && (s.start == nil || bytes.Compare(after, s.start) >= 0) {
			s.start, s.skipStart = after, true
		}
		if !q.To.IsZero() {
			s.stop = []byte(store.TimeKey(q.To))
		}
		return s
	}
	// Descending walks keys strictly below an upper bound: To, or the
	// continuation if that is lower.
	if !q.To.IsZero() {
		s.start = []byte(store.TimeKey(q.To))
	}
	if after != nil && (s.start == nil || bytes.Compare(after, s.start) < 0) {
		s.start = after
	}
	if !q.From.IsZero() {
		s.stop = []byte(store.TimeKey(q.From))
	}
	return s
}

func (s *scan) first() []byte {
	var k []byte
	switch {
	case !s.desc && s.start == nil:
		k, _ = s.c.First()
	case !s.desc:
		k, _ = s.c.Seek(s.start)
		if s.skipStart && bytes.Equal(k, s.start) {
			k, _ = s.c.Next()
		}
	case s.start == nil:
		k, _ = s.c.Last()
	default:
		// Seek finds the first key at or above the bound; the walk starts
		// just below it.
		if k, _ = s.c.Seek(s.start); k == nil {
			k, _ = s.c.Last()
		} else {
			k, _ = s.c.Prev()
		}
	}
	return s.check(k)
}

func (s *scan) next() []byte {
	var k []byte
	if s.desc {
		k, _ = s.c.Prev()
	} else {
		k, _ = s.c.Next()
	}
	return s.check(k)
}

// check ends the walk at the far bound of the range.
func (s *scan) check(k []byte) []byte {
	if k == nil || len(k) <= timeKeyLen || s.stop == nil {
		return k
	}
	c := bytes.Compare(k[:timeKeyLen], s.stop)
	if (!s.desc && c >= 0) || (s.desc && c < 0) {
		return nil
	}
	return k
}

type buckets struct {
	kind, tenant, docs, index *bolt.Bucket
}

func kindBucket(k store.Kind) []byte { return []byte("kind/" + string(k)) }

// tenantBuckets returns the tenant's buckets, with nil docs if the tenant
// has never been written.
func tenantBuckets(tx *bolt.Tx, kind store.Kind, tenantID string) buckets {
	var b buckets
	if b.kind = tx.Bucket(kindBucket(kind)); b.kind == nil {
		return b
	}
	if b.tenant = b.kind.Bucket([]byte(tenantID)); b.tenant == nil {
		return b
	}
	b.docs, b.index = b.tenant.Bucket(bucketDocs), b.tenant.Bucket(bucketIndex)
	if b.index == nil {
		b.docs = nil
	}
	return b
}

func createTenantBuckets(tx *bolt.Tx, kind store.Kind, tenantID string) (buckets, error) {
	var b buckets
	var err error
	if b.kind, err = tx.CreateBucketIfNotExists(kindBucket(kind)); err != nil {
		return b, err
	}
	if b.tenant, err = b.kind.CreateBucketIfNotExists([]byte(tenantID)); err != nil {
		return b, err
	}
	if b.docs, err = b.tenant.CreateBucketIfNotExists(bucketDocs); err != nil {
		return b, err
	}
	b.index, err = b.tenant.CreateBucketIfNotExists(bucketIndex)
	return b, err
}

// liveRecord returns the stored record for id, or nil if it is missing or
// expired.
func liveRecord(docs *bolt.Bucket, id []byte, now time.Time) (*record, error) {
	raw := docs.Get(id)
	if raw == nil {
		return nil, nil
	}
	r, err := decodeRecord(raw)
	if err != nil {
		return nil, err
	}
	if r.expired(now) {
		return nil, nil
	}
	return &r, nil
}

// removeStale deletes the stored version of id (live or expired) with its
// index and expiry entries. A missing document is not an error.
func removeStale(tx *bolt.Tx, b buckets, kind store.Kind, tenantID string, id []byte) error {
	raw := b.docs.Get(id)
	if raw == nil {
		return nil
	}
	r, err := decodeRecord(raw)
	if err != nil {
		return err
	}
	if err := b.index.Delete(indexKey(r.Time, string(id))); err != nil {
		return err
	}
	if r.Expires != 0 {
		key := expiryKey(r.Expires, kind, tenantID, string(id))
		if err := tx.Bucket(bucketExpiry).Delete(key); err != nil {
			return err
		}
	}
	return b.docs.Delete(id)
}

// sweep removes up to limit documents whose expiry is at or before now and
// reports how many expiry entries it consumed.
func sweep(tx *bolt.Tx, now time.Time, limit int) (int, error) {
	exp := tx.Bucket(bucketExpiry)
	bound := []byte(store.TimeKey(now))
	var due [][]byte
	c := exp.Cursor()
	for k, _ := c.First(); k != nil && len(due) < limit; k, _ = c.Next() {
		if bytes.Compare(k[:timeKeyLen], bound) > 0 {
			break
		}
		due = append(due, bytes.Clone(k))
	}
	for _, k := range due {
		kind, tenantID, id, err := parseExpiryKey(k)
		if err != nil {
			return 0, err
		}
		if b := tenantBuckets(tx, kind, tenantID); b.docs != nil {
			// Check the stored version itself: only an expired one goes.
			live, err := liveRecord(b.docs, []byte(id), now)
			if err != nil {
				return 0, err
			}
			if live == nil {
				if err := removeStale(tx, b, kind, tenantID, []byte(id)); err != nil {
					return 0, err
				}
			}
		}
		// removeStale deleted the entry if it belonged to the stored
		// version; an orphan is dropped here.
		if err := exp.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}
