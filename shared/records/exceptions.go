package records

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"m365security/shared/controls"
	"m365security/shared/store"
)

// Exceptions stores risk acceptances on the time axis of their expiry, so
// the exceptions in force at a moment are one range read and expired ones
// never load on the hot path.
type Exceptions struct{ s store.Store }

// MaxExceptionsRead bounds one read of a tenant's exceptions.
const MaxExceptionsRead = 5000

func exceptionDoc(e controls.Exception) store.Doc {
	return store.Doc{Kind: store.KindException, TenantID: e.TenantID, ID: e.ID, Time: e.ExpiresAt,
		Attrs: map[string]string{attrControl: safeAttr(e.ControlID)}}
}

// Add stores a new exception; store.ErrConflict if its id is taken.
func (r Exceptions) Add(ctx context.Context, e controls.Exception) error {
	d, err := store.Encode(exceptionDoc(e), e)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Create); err != nil {
		return fmt.Errorf("store exception: %w", err)
	}
	return nil
}

// All lists every exception, active, expired and revoked, with its status
// at now, newest first.
func (r Exceptions) All(ctx context.Context, tenantID string, now time.Time) ([]controls.Exception, error) {
	list, err := r.read(ctx, store.Query{Kind: store.KindException, TenantID: tenantID, Limit: store.MaxPageSize}, now)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].CreatedAt.After(list[j].CreatedAt) })
	return list, nil
}

// ExpiredShown is how long an expired exception stays listed beside the
// control it no longer excuses.
const ExpiredShown = 90 * 24 * time.Hour

// Relevant returns what control evaluation at t needs: the exceptions in
// force at t, and those that expired within ExpiredShown before it (listed
// as expired, never counted). Older ones are not read: the range is on the
// expiry axis.
func (r Exceptions) Relevant(ctx context.Context, tenantID string, t time.Time) ([]controls.Exception, error) {
	list, err := r.read(ctx, store.Query{Kind: store.KindException, TenantID: tenantID, From: t.Add(-ExpiredShown), Limit: store.MaxPageSize}, t)
	if err != nil {
		return nil, err
	}
	kept := list[:0]
	for _, e := range list {
		if e.Status != "" { // "" is an exception made after t
			kept = append(kept, e)
		}
	}
	return kept, nil
}

func (r Exceptions) read(ctx context.Context, q store.Query, at time.Time) ([]controls.Exception, error) {
	out, err := readBounded[controls.Exception](ctx, r.s, q, MaxExceptionsRead, "exceptions stored for this tenant")
	if err != nil {
		return nil, fmt.Errorf("read exceptions: %w", err)
	}
	for i := range out {
		out[i].Status = out[i].StatusAt(at)
	}
	return out, nil
}

var errNoException = errors.New("no such exception")

// Revoke marks an exception revoked at t (kept for history; revoking twice
// keeps the first time) and returns it with its status at t. A missing
// exception is ErrNotFound.
func (r Exceptions) Revoke(ctx context.Context, tenantID, id string, t time.Time) (controls.Exception, error) {
	e, err := store.Update(ctx, r.s, store.KindException, tenantID, id, func(e *controls.Exception, d *store.Doc, exists bool) error {
		if !exists {
			return errNoException
		}
		if e.RevokedAt != nil {
			return store.ErrUnchanged
		}
		rt := t.UTC()
		e.RevokedAt = &rt
		nd := exceptionDoc(*e)
		d.Time, d.Attrs = nd.Time, nd.Attrs
		return nil
	})
	if errors.Is(err, errNoException) {
		return e, fmt.Errorf("revoke exception: %w", ErrNotFound)
	}
	if err != nil {
		return e, err
	}
	e.Status = e.StatusAt(t)
	return e, nil
}
