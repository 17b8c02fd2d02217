// Package store persists the product's documents: posture snapshots, incidents,
// exceptions, restore tests, subscription state and parked messages. It owns the
// Store interface, its error contract and the query model; implementations live in
// store/embedded (bbolt file, the default) and store/cosmos (Azure Cosmos DB), and
// both pass the same contract suite in store/storetest. Domain packages encode
// their own types into Doc bodies; this package never imports them.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Kind names a collection of documents. Each kind is its own Cosmos container,
// partitioned by tenant id, and its own bucket in the embedded store.
type Kind string

// The kinds of document the product stores.
const (
	KindSnapshot     Kind = "snapshots"
	KindIncident     Kind = "incidents"
	KindException    Kind = "exceptions"
	KindRestoreTest  Kind = "restoreTests"
	KindSubscription Kind = "subscriptions"
	KindParked       Kind = "parked"
	KindState        Kind = "state"
	KindHistory      Kind = "history"
	KindSentReport   Kind = "sentReports"
)

// Kinds lists every kind, so implementations can create their containers up front.
var Kinds = []Kind{KindSnapshot, KindIncident, KindException, KindRestoreTest, KindSubscription, KindParked, KindState, KindHistory, KindSentReport}

// Sentinel errors. Implementations wrap them so callers use errors.Is.
var (
	// ErrNotFound: no live document with that kind, tenant and id.
	ErrNotFound = errors.New("document not found")
	// ErrConflict: the ETag given no longer matches, or a create-only write found
	// the id taken.
	ErrConflict = errors.New("document changed concurrently")
	// ErrInvalid: the document or query is malformed (empty tenant or id, bad token).
	ErrInvalid = errors.New("invalid store request")
)

// Doc is one stored document. TenantID is the partition key. Time is the
// document's position on the time axis that Query ranges over (snapshot taken,
// incident created, test performed). Attrs are small string fields that Query can
// match exactly (status, area, control id); Body is the domain object as JSON.
type Doc struct {
	Kind     Kind              `json:"kind"`
	TenantID string            `json:"tenantId"`
	ID       string            `json:"id"`
	Time     time.Time         `json:"time"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Body     json.RawMessage   `json:"body"`
	// ETag is set by the store on every read and write; it is opaque.
	ETag string `json:"-"`
	// TTL, when positive, lets the store expire the document that long after
	// it was written. Zero keeps it forever.
	TTL time.Duration `json:"-"`
}

// WriteMode selects the concurrency rule of a Put.
type WriteMode int

const (
	// Upsert writes unconditionally, creating or replacing.
	Upsert WriteMode = iota
	// Create fails with ErrConflict if the id already exists.
	Create
	// IfMatch replaces only if the stored ETag equals Doc.ETag; it fails with
	// ErrConflict if it changed and ErrNotFound if the document is gone.
	IfMatch
)

// Query selects documents of one kind in one tenant. From is inclusive and To
// exclusive; zero values leave that end open. Attrs must all match exactly.
// Results are ordered by Time then ID, ascending unless Descending.
type Query struct {
	Kind       Kind
	TenantID   string
	From, To   time.Time
	Attrs      map[string]string
	Descending bool
	// Limit caps the page size; 0 means the implementation's default (100).
	Limit int
	// Continuation resumes after the previous page; empty starts at the beginning.
	Continuation string
}

// Page is one page of results. Continuation is empty on the last page.
type Page struct {
	Docs         []Doc
	Continuation string
}

// Store is the persistence boundary. All methods are safe for concurrent use.
type Store interface {
	// Get returns the document or ErrNotFound.
	Get(ctx context.Context, kind Kind, tenantID, id string) (Doc, error)
	// Put writes doc according to mode and returns the new ETag. See WriteMode
	// for the errors each mode returns.
	Put(ctx context.Context, doc Doc, mode WriteMode) (etag string, err error)
	// Delete removes the document; with a non-empty etag only if it still
	// matches (ErrConflict otherwise). Deleting a missing document is ErrNotFound.
	Delete(ctx context.Context, kind Kind, tenantID, id, etag string) error
	// Query returns one page of matching documents.
	Query(ctx context.Context, q Query) (Page, error)
	// Close releases the store's resources.
	Close() error
}

// DefaultPageSize is the page size when Query.Limit is 0.
const DefaultPageSize = 100

// MaxPageSize bounds Query.Limit so one request cannot pull a whole tenant.
const MaxPageSize = 1000

// TimeKey renders t as a fixed-width UTC string whose byte order is its time
// order. Both implementations index and compare Time through it, so ranges and
// ordering agree between them.
func TimeKey(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// Validate checks the fields every implementation requires of a document.
func (d Doc) Validate() error {
	switch {
	case d.Kind == "":
		return errors.Join(ErrInvalid, errors.New("document kind is empty"))
	case d.TenantID == "":
		return errors.Join(ErrInvalid, errors.New("document tenant id is empty"))
	case d.ID == "":
		return errors.Join(ErrInvalid, errors.New("document id is empty"))
	case len(d.Body) == 0 || !json.Valid(d.Body):
		return errors.Join(ErrInvalid, errors.New("document body is not valid JSON"))
	}
	return nil
}

// Validate checks the fields every implementation requires of a query.
func (q Query) Validate() error {
	switch {
	case q.Kind == "":
		return errors.Join(ErrInvalid, errors.New("query kind is empty"))
	case q.TenantID == "":
		return errors.Join(ErrInvalid, errors.New("query tenant id is empty"))
	case q.Limit < 0 || q.Limit > MaxPageSize:
		return errors.Join(ErrInvalid, errors.New("query limit out of range"))
	case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
		return errors.Join(ErrInvalid, errors.New("query range is empty: from is not before to"))
	}
	return nil
}

// PageSize returns the effective page size of q.
func (q Query) PageSize() int {
	if q.Limit == 0 {
		return DefaultPageSize
	}
	return q.Limit
}
