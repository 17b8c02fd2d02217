package records

import (
	"context"
	"fmt"
	"time"

	"m365security/shared/store"
)

// Subscription is a Graph change-notification subscription the product
// holds for a tenant (CONTRACT section 4, GET /api/subscriptions).
type Subscription struct {
	ID                 string    `json:"id"`
	TenantID           string    `json:"tenantId"`
	Resource           string    `json:"resource"`
	ChangeType         string    `json:"changeType,omitempty"`
	ExpirationDateTime time.Time `json:"expirationDateTime"`
	LastRenewedAt      time.Time `json:"lastRenewedAt"`
	// Status is active, renewalFailed or removed; Error says why.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Subscriptions stores subscriptions on the time axis of their expiry, so
// the ones due for renewal are one range read.
type Subscriptions struct{ s store.Store }

func subscriptionDoc(sub Subscription) store.Doc {
	return store.Doc{Kind: store.KindSubscription, TenantID: sub.TenantID, ID: sub.ID, Time: sub.ExpirationDateTime,
		Attrs: map[string]string{attrStatus: safeAttr(sub.Status), attrResource: safeAttr(sub.Resource)}}
}

// Put stores or replaces a subscription's record.
func (r Subscriptions) Put(ctx context.Context, sub Subscription) error {
	d, err := store.Encode(subscriptionDoc(sub), sub)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Upsert); err != nil {
		return fmt.Errorf("store subscription %s: %w", sub.ID, err)
	}
	return nil
}

// Update changes a stored subscription with ETag concurrency.
func (r Subscriptions) Update(ctx context.Context, tenantID, id string, change func(*Subscription, bool) error) (Subscription, error) {
	return store.Update(ctx, r.s, store.KindSubscription, tenantID, id, func(v *Subscription, d *store.Doc, exists bool) error {
		if err := change(v, exists); err != nil {
			return err
		}
		nd := subscriptionDoc(*v)
		d.Time, d.Attrs = nd.Time, nd.Attrs
		return nil
	})
}

// List returns the tenant's subscriptions, soonest expiry first.
func (r Subscriptions) List(ctx context.Context, tenantID string) ([]Subscription, error) {
	return r.ExpiringBefore(ctx, tenantID, time.Time{})
}

// ExpiringBefore returns the subscriptions expiring before t (zero: all).
func (r Subscriptions) ExpiringBefore(ctx context.Context, tenantID string, t time.Time) ([]Subscription, error) {
	list, err := store.DecodeAll[Subscription](ctx, r.s, store.Query{Kind: store.KindSubscription, TenantID: tenantID, To: t, Limit: store.MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	return list, nil
}

// Delete forgets a subscription; a missing one is not an error.
func (r Subscriptions) Delete(ctx context.Context, tenantID, id string) error {
	if _, err := found(r.s.Delete(ctx, store.KindSubscription, tenantID, id, "")); err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	return nil
}
