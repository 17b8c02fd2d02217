package graph

import (
	"errors"
	"fmt"

	"github.com/microsoft/kiota-abstractions-go/store"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
)

// ErrNoResponder is the reason every write fails when no responder identity
// is configured. It is permanent: configuration, not Graph, must change.
var ErrNoResponder = errors.New("no responder identity configured (RESPONDER_CLIENT_ID)")

// Writer makes Graph writes for one tenant as the responder identity, one
// typed method per action (WriteOperations lists them with their
// permissions). Plain Go values go in and out; the SDK stays inside. Each
// method sends its request once and returns a classified *Error: callers
// decide about retries with Retryable and RetryAfter.
type Writer struct {
	tenantID string
	// sdk and adapter are nil when no responder identity is configured.
	sdk     *msgraphsdk.GraphServiceClient
	adapter *msgraphsdk.GraphRequestAdapter
}

// TenantID is the tenant the writer is bound to.
func (w *Writer) TenantID() string { return w.tenantID }

// ready refuses the write op when there is no responder identity.
func (w *Writer) ready(op string) error {
	if w == nil || w.sdk == nil {
		return fmt.Errorf("%s: %w", op, ErrNoResponder)
	}
	return nil
}

// invalid is a request refused before it is sent; like Graph's 400 it is
// not retryable.
func invalid(op, format string, args ...any) error {
	return &Error{Op: op, Kind: ErrBadRequest, Message: fmt.Sprintf(format, args...)}
}

// required refuses an empty identifier: Graph would answer the collection
// (or a 405) instead of the object meant, which must never happen on a
// write.
func required(op string, values ...string) error {
	for _, v := range values {
		if v == "" {
			return invalid(op, "an id is required")
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// bare clears the @odata.type an SDK model's constructor sets, for bodies
// Graph documents without one. Clearing it normally would record a change to
// nil, which kiota serialises as "odataType": null (the backing-store key,
// not the JSON name); with initialisation marked incomplete the store keeps
// no change record for it.
func bare[M interface {
	GetBackingStore() store.BackingStore
	SetOdataType(*string)
}](m M) M {
	s := m.GetBackingStore()
	s.SetInitializationCompleted(false)
	m.SetOdataType(nil)
	s.SetInitializationCompleted(true)
	return m
}
