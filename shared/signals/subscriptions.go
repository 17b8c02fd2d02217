package signals

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"m365security/shared/posture"
	"m365security/shared/records"
)

// Subscription is a Graph change-notification subscription as Graph reports
// it.
type Subscription struct {
	ID, Resource, ChangeType      string
	NotificationURL, LifecycleURL string
	Expiration                    time.Time
}

// SubscriptionRequest asks for a new subscription.
type SubscriptionRequest struct {
	Resource, ChangeType          string
	NotificationURL, LifecycleURL string
	ClientState                   string
	Expiration                    time.Time
}

// Subscriber is the tenant's Graph subscriptions API (shared/graph's
// Writer behind an adapter).
type Subscriber interface {
	Create(ctx context.Context, tenantID string, r SubscriptionRequest) (Subscription, error)
	List(ctx context.Context, tenantID string) ([]Subscription, error)
	Renew(ctx context.Context, tenantID, id string, expiration time.Time) (Subscription, error)
	Reauthorize(ctx context.Context, tenantID, id string) error
	Delete(ctx context.Context, tenantID, id string) error
}

// Subscribed are the resources the product subscribes to: the security
// resources that matter and that v1.0 lets an app subscribe to (alerts_v2,
// risky users and role assignments cannot be; the poller and the delta
// backstop cover them).
var Subscribed = []struct{ Resource, ChangeType string }{
	{"/users", "updated,deleted"},
	{"/groups", "updated,deleted"},
}

const (
	// Lifetime is the expiry asked for: under Graph's maximum for users
	// and groups (41,760 minutes) with a margin for clock skew.
	Lifetime = 41_000 * time.Minute
	// renewWhenLeft renews once less than a third of the lifetime remains.
	renewWhenLeft = Lifetime / 3
	// NotificationPath and LifecyclePath are the webhook routes.
	NotificationPath = "/api/notifications"
	LifecyclePath    = "/api/notifications/lifecycle"
	leaseFor         = 2 * time.Minute
)

// Subscription statuses in records.
const (
	SubActive        = "active"
	SubRenewalFailed = "renewalFailed"
)

// Manager keeps each tenant's subscriptions: creates what is missing,
// adopts what Graph already holds for this app, renews before expiry and
// handles lifecycle events.
type Manager struct {
	Records *records.Records
	Graph   Subscriber
	// BaseURL is PUBLIC_BASE_URL; empty creates nothing.
	BaseURL     string
	ClientState string
	Now         func() time.Time
	Classify    func(error) (posture.SourceStatus, string)
	// Holder names this instance in the lease that keeps two managers from
	// creating the same subscription at once.
	Holder string
}

// CheckBaseURL refuses a notification base Graph would not deliver to:
// https, or plain http on loopback (demo and tests).
func CheckBaseURL(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL", base)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not carry a query or fragment", base)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return fmt.Errorf("%q must be https: Graph only delivers notifications to https endpoints (plain http only on loopback)", base)
	}
	return nil
}

// Ensure makes the tenant's subscriptions right: one per subscribed
// resource, adopted if Graph already holds it, created if not, renewed when
// less than a third of its lifetime remains; duplicates are deleted.
func (m *Manager) Ensure(ctx context.Context, tenantID string) ([]records.Subscription, error) {
	now := m.Now().UTC()
	if m.BaseURL == "" {
		return nil, m.report(ctx, tenantID, "notConfigured",
			"PUBLIC_BASE_URL is not set, so no change-notification subscriptions are created; the alert poller and the hourly delta backstop still see every change", now)
	}
	if err := CheckBaseURL(m.BaseURL); err != nil {
		return nil, m.report(ctx, tenantID, "notConfigured", err.Error(), now)
	}
	ok, err := m.Records.Signals.Lease(ctx, tenantID, "subscriptions", m.Holder, now, leaseFor)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Another instance is at it; its result is as good as ours.
		return m.Records.Subscriptions.List(ctx, tenantID)
	}
	defer m.Records.Signals.Release(context.WithoutCancel(ctx), tenantID, "subscriptions", m.Holder)
	held, err := m.Graph.List(ctx, tenantID)
	if err != nil {
		return nil, m.failed(ctx, tenantID, err, now)
	}
	stored, err := m.Records.Subscriptions.List(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	renewed := map[string]time.Time{}
	for _, s := range stored {
		renewed[s.ID] = s.LastRenewedAt
	}
	var out []records.Subscription
	var errs []error
	for _, want := range Subscribed {
		rec, err := m.ensureOne(ctx, tenantID, want.Resource, want.ChangeType, mine(held, want.Resource, m.notificationURL()), renewed, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, rec)
	}
	// Records of subscriptions Graph no longer holds are stale.
	for _, s := range stored {
		if !holds(out, s.ID) {
			errs = append(errs, m.Records.Subscriptions.Delete(ctx, tenantID, s.ID))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, m.failed(ctx, tenantID, err, now)
	}
	return out, m.report(ctx, tenantID, string(posture.SourceOK), "", now)
}

func holds(list []records.Subscription, id string) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}

func (m *Manager) notificationURL() string {
	return strings.TrimRight(m.BaseURL, "/") + NotificationPath
}
func (m *Manager) lifecycleURL() string { return strings.TrimRight(m.BaseURL, "/") + LifecyclePath }

// mine returns Graph's subscriptions to resource that deliver to our
// notification URL, latest expiry first.
func mine(held []Subscription, resource, notify string) []Subscription {
	var out []Subscription
	for _, s := range held {
		if strings.EqualFold(strings.Trim(s.Resource, "/"), strings.Trim(resource, "/")) && s.NotificationURL == notify {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Expiration.After(out[j].Expiration) })
	return out
}

// ensureOne makes one resource's subscription right; renewed holds the
// stored last renewal of each subscription the product tracks.
func (m *Manager) ensureOne(ctx context.Context, tenantID, resource, changeType string, existing []Subscription, renewed map[string]time.Time, now time.Time) (records.Subscription, error) {
	for _, extra := range existing[min(1, len(existing)):] {
		if err := m.Graph.Delete(ctx, tenantID, extra.ID); err != nil {
			return records.Subscription{}, fmt.Errorf("delete duplicate subscription %s: %w", extra.ID, err)
		}
	}
	rec := records.Subscription{TenantID: tenantID, Resource: resource, ChangeType: changeType, Status: SubActive}
	if len(existing) == 0 || existing[0].LifecycleURL != m.lifecycleURL() {
		// A lifecycle URL can only be set at creation: one without ours is
		// replaced.
		if len(existing) > 0 {
			if err := m.Graph.Delete(ctx, tenantID, existing[0].ID); err != nil {
				return rec, fmt.Errorf("replace subscription %s without lifecycle URL: %w", existing[0].ID, err)
			}
		}
		s, err := m.create(ctx, tenantID, resource, changeType, now)
		if err != nil {
			return rec, err
		}
		rec.ID, rec.ExpirationDateTime, rec.LastRenewedAt = s.ID, s.Expiration, now
		return rec, m.Records.Subscriptions.Put(ctx, rec)
	}
	s := existing[0]
	rec.ID, rec.ExpirationDateTime, rec.LastRenewedAt = s.ID, s.Expiration, renewed[s.ID]
	if s.Expiration.Sub(now) < renewWhenLeft {
		renewed, err := m.Graph.Renew(ctx, tenantID, s.ID, now.Add(Lifetime))
		if err != nil {
			rec.Status, rec.Error = SubRenewalFailed, err.Error()
			_ = m.Records.Subscriptions.Put(ctx, rec)
			return rec, fmt.Errorf("renew subscription %s: %w", s.ID, err)
		}
		rec.ExpirationDateTime, rec.LastRenewedAt = renewed.Expiration, now
	}
	return rec, m.Records.Subscriptions.Put(ctx, rec)
}

func (m *Manager) create(ctx context.Context, tenantID, resource, changeType string, now time.Time) (Subscription, error) {
	s, err := m.Graph.Create(ctx, tenantID, SubscriptionRequest{
		Resource: resource, ChangeType: changeType, NotificationURL: m.notificationURL(), LifecycleURL: m.lifecycleURL(),
		ClientState: m.ClientState, Expiration: now.Add(Lifetime),
	})
	if err != nil {
		return s, fmt.Errorf("create subscription to %s: %w", resource, err)
	}
	return s, nil
}

// Lifecycle events (changes.Event*).
const (
	EventReauthorizationRequired = "reauthorizationRequired"
	EventSubscriptionRemoved     = "subscriptionRemoved"
	EventMissed                  = "missed"
)

// Reauthorize answers reauthorizationRequired: POST reauthorize, and when
// Graph refuses, delete and recreate the subscription.
func (m *Manager) Reauthorize(ctx context.Context, tenantID, id string) error {
	now := m.Now().UTC()
	err := m.Graph.Reauthorize(ctx, tenantID, id)
	if err == nil {
		_, uerr := m.Records.Subscriptions.Update(ctx, tenantID, id, func(s *records.Subscription, exists bool) error {
			if !exists {
				return errors.New("not stored")
			}
			s.LastRenewedAt, s.Status, s.Error = now, SubActive, ""
			return nil
		})
		if uerr != nil {
			// Not ours to track (or lost): the next Ensure adopts it.
			return nil
		}
		return nil
	}
	_ = m.Graph.Delete(ctx, tenantID, id)
	if derr := m.Records.Subscriptions.Delete(ctx, tenantID, id); derr != nil {
		return derr
	}
	_, eerr := m.Ensure(ctx, tenantID)
	if eerr != nil {
		return fmt.Errorf("reauthorize %s failed (%v); recreating failed: %w", id, err, eerr)
	}
	return nil
}

// Removed answers subscriptionRemoved: forget it and create it again.
func (m *Manager) Removed(ctx context.Context, tenantID, id string) error {
	if err := m.Records.Subscriptions.Delete(ctx, tenantID, id); err != nil {
		return err
	}
	_, err := m.Ensure(ctx, tenantID)
	return err
}

func (m *Manager) failed(ctx context.Context, tenantID string, err error, now time.Time) error {
	st, reason := posture.SourceFailed, err.Error()
	if m.Classify != nil {
		st, reason = m.Classify(err)
	}
	if rerr := m.report(ctx, tenantID, string(st), reason, now); rerr != nil {
		return errors.Join(err, rerr)
	}
	if st == posture.SourceForbidden || st == posture.SourceNotLicensed {
		return nil
	}
	return err
}

func (m *Manager) report(ctx context.Context, tenantID, status, reason string, now time.Time) error {
	return m.Records.Signals.Report(ctx, tenantID, SourceSubscriptions, status, reason, now)
}
