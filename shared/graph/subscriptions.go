package graph

import (
	"context"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// SubscriptionRequest asks Graph for a change-notification subscription.
// Graph validates NotificationURL (and LifecycleNotificationURL) with a
// validationToken POST before it creates the subscription.
type SubscriptionRequest struct {
	// Resource is the path subscribed to, e.g. "/users" or "/groups".
	Resource string
	// ChangeType is Graph's comma-separated list, e.g. "updated,deleted".
	ChangeType               string
	NotificationURL          string
	LifecycleNotificationURL string
	// ClientState is the secret Graph echoes in every notification (at most
	// 128 characters). It is sent, never returned or logged.
	ClientState string
	Expiration  time.Time
}

// Subscription is a subscription as Graph reports it (without its
// clientState).
type Subscription struct {
	ID                       string
	Resource                 string
	ChangeType               string
	NotificationURL          string
	LifecycleNotificationURL string
	ApplicationID            string
	Expiration               time.Time
}

// maxClientState is Graph's limit on clientState.
const maxClientState = 128

// CreateSubscription creates a subscription (POST /subscriptions). Graph
// answers 400 when the validation of the notification URL fails.
func (w *Writer) CreateSubscription(ctx context.Context, r SubscriptionRequest) (Subscription, error) {
	op := "create subscription to " + r.Resource
	if err := w.ready(op); err != nil {
		return Subscription{}, err
	}
	switch {
	case r.Resource == "" || r.ChangeType == "" || r.NotificationURL == "":
		return Subscription{}, invalid(op, "resource, change type and notification URL are required")
	case r.Expiration.IsZero():
		return Subscription{}, invalid(op, "an expiration is required")
	case len(r.ClientState) > maxClientState:
		return Subscription{}, invalid(op, "clientState is longer than %d characters", maxClientState)
	}
	s := bare(models.NewSubscription())
	s.SetResource(ptr(r.Resource))
	s.SetChangeType(ptr(r.ChangeType))
	s.SetNotificationUrl(ptr(r.NotificationURL))
	if r.LifecycleNotificationURL != "" {
		s.SetLifecycleNotificationUrl(ptr(r.LifecycleNotificationURL))
	}
	if r.ClientState != "" {
		s.SetClientState(ptr(r.ClientState))
	}
	s.SetExpirationDateTime(ptr(r.Expiration.UTC()))
	got, err := w.sdk.Subscriptions().Post(ctx, s, nil)
	if err != nil {
		return Subscription{}, Wrap(op, err)
	}
	return subscriptionOf(got), nil
}

// ListSubscriptions lists the subscriptions the responder app holds in the
// tenant (GET /subscriptions), following nextLinks on Graph's own root.
func (w *Writer) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	const op = "list subscriptions"
	if err := w.ready(op); err != nil {
		return nil, err
	}
	out := []Subscription{}
	page, err := w.sdk.Subscriptions().Get(ctx, nil)
	for {
		if err != nil {
			return nil, Wrap(op, err)
		}
		for _, s := range page.GetValue() {
			out = append(out, subscriptionOf(s))
		}
		next := page.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		// A nextLink leaving Graph's subscriptions collection would carry the
		// responder's token elsewhere.
		if !strings.HasPrefix(*next, w.adapter.GetBaseUrl()+"/subscriptions?") {
			return nil, &Error{Op: op, Kind: ErrBadRequest, Message: "nextLink outside " + w.adapter.GetBaseUrl() + "/subscriptions"}
		}
		page, err = w.sdk.Subscriptions().WithUrl(*next).Get(ctx, nil)
	}
}

// RenewSubscription moves the subscription's expiry (PATCH
// /subscriptions/{id}); renewing also reauthorizes it.
func (w *Writer) RenewSubscription(ctx context.Context, id string, expiration time.Time) (Subscription, error) {
	op := "renew subscription " + id
	if err := w.check(op, id); err != nil {
		return Subscription{}, err
	}
	if expiration.IsZero() {
		return Subscription{}, invalid(op, "an expiration is required")
	}
	s := bare(models.NewSubscription())
	s.SetExpirationDateTime(ptr(expiration.UTC()))
	got, err := w.sdk.Subscriptions().BySubscriptionId(id).Patch(ctx, s, nil)
	if err != nil {
		return Subscription{}, Wrap(op, err)
	}
	return subscriptionOf(got), nil
}

// ReauthorizeSubscription answers a reauthorizationRequired lifecycle event
// without moving the expiry (POST /subscriptions/{id}/reauthorize).
func (w *Writer) ReauthorizeSubscription(ctx context.Context, id string) error {
	op := "reauthorize subscription " + id
	if err := w.check(op, id); err != nil {
		return err
	}
	return Wrap(op, w.sdk.Subscriptions().BySubscriptionId(id).Reauthorize().Post(ctx, nil))
}

// DeleteSubscription deletes the subscription (DELETE /subscriptions/{id}).
func (w *Writer) DeleteSubscription(ctx context.Context, id string) error {
	op := "delete subscription " + id
	if err := w.check(op, id); err != nil {
		return err
	}
	return Wrap(op, w.sdk.Subscriptions().BySubscriptionId(id).Delete(ctx, nil))
}

func subscriptionOf(s models.Subscriptionable) Subscription {
	if s == nil {
		return Subscription{}
	}
	out := Subscription{
		ID: deref(s.GetId()), Resource: deref(s.GetResource()), ChangeType: deref(s.GetChangeType()),
		NotificationURL: deref(s.GetNotificationUrl()), LifecycleNotificationURL: deref(s.GetLifecycleNotificationUrl()),
		ApplicationID: deref(s.GetApplicationId()),
	}
	if t := s.GetExpirationDateTime(); t != nil {
		out.Expiration = t.UTC()
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
