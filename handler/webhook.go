package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"m365security/handler/invoke"
	"m365security/shared/changes"
	"m365security/shared/posture"
	"m365security/shared/queue"
)

// notificationsQueue carries change and lifecycle notifications from the
// webhook to ProcessChangeNotification.
const notificationsQueue = "notifications"

// maxNotificationBody bounds a notification POST; Graph batches stay far
// below it.
const maxNotificationBody = 1 << 20

// notificationItem is one element of Graph's changeNotificationCollection.
type notificationItem struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	ChangeType     string `json:"changeType"`
	Resource       string `json:"resource"`
	TenantID       string `json:"tenantId"`
	LifecycleEvent string `json:"lifecycleEvent"`
	ResourceData   *struct {
		ID   string `json:"id"`
		ETag string `json:"@odata.etag"`
	} `json:"resourceData"`
}

func (a *app) notifications(w http.ResponseWriter, r *http.Request) error {
	return a.receiveNotifications(w, r, "change")
}

func (a *app) lifecycleNotifications(w http.ResponseWriter, r *http.Request) error {
	return a.receiveNotifications(w, r, "lifecycle")
}

// receiveNotifications answers Graph's validation handshake, or verifies
// each item's clientState and tenant, enqueues the valid ones and answers 202
// without doing the work (Graph allows 3 seconds).
func (a *app) receiveNotifications(w http.ResponseWriter, r *http.Request, kind string) error {
	if tok, ok := r.URL.Query()["validationToken"]; ok {
		// The query is already URL-decoded; echo it exactly, as text.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, strings.Join(tok, ""))
		return nil
	}
	if a.cfg.ClientState == "" {
		return &httpError{http.StatusServiceUnavailable, "notConfigured", "NOTIFICATION_CLIENT_STATE is not set"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNotificationBody))
	if err != nil {
		return &httpError{http.StatusRequestEntityTooLarge, "payloadTooLarge", fmt.Sprintf("notification body exceeds %d bytes", maxNotificationBody)}
	}
	var coll struct {
		Value []notificationItem `json:"value"`
	}
	if err := json.Unmarshal(body, &coll); err != nil {
		return badRequest("body is not a Graph change notification collection: %v", err)
	}
	if len(coll.Value) == 0 {
		return badRequest("notification collection has no items")
	}
	now := a.now().UTC()
	var msgs []queue.Message
	badState, badTenant := 0, 0
	for _, it := range coll.Value {
		if subtle.ConstantTimeCompare([]byte(it.ClientState), []byte(a.cfg.ClientState.Reveal())) != 1 {
			badState++
			continue
		}
		tenant := strings.ToLower(it.TenantID)
		if !a.tenants[tenant] {
			badTenant++
			continue
		}
		n := it.notification()
		b, err := json.Marshal(changes.NewMessage(kind, n, now))
		if err != nil {
			return fmt.Errorf("encode change message: %w", err)
		}
		msgs = append(msgs, queue.Message{ID: changes.DedupeKey(kind, n), Body: b, ContentType: "application/json", Subject: kind})
	}
	log := a.log.With("function", "notifications", "kind", kind)
	if badState+badTenant > 0 {
		// Counts only: the clientState values themselves are secrets.
		log.Warn("notification items rejected", "bad_client_state", badState, "unknown_tenant", badTenant, "accepted", len(msgs))
	}
	if len(msgs) == 0 {
		if badState > 0 {
			return &httpError{http.StatusForbidden, "invalidClientState", "no notification item carried the expected clientState"}
		}
		return &httpError{http.StatusNotFound, "tenantNotFound", "notification items are for tenants this deployment does not monitor"}
	}
	if err := a.queue.Send(r.Context(), notificationsQueue, msgs...); err != nil {
		// 5xx makes Graph retry the delivery rather than lose it.
		log.Error("enqueue notifications", "error", err.Error())
		return &httpError{http.StatusServiceUnavailable, "enqueueFailed", "could not queue the notifications; retry later"}
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(msgs), "rejected": badState + badTenant})
	return nil
}

// notification is the part of the item the decisions use.
func (it notificationItem) notification() changes.Notification {
	n := changes.Notification{SubscriptionID: it.SubscriptionID, ChangeType: it.ChangeType, Resource: it.Resource,
		TenantID: it.TenantID, LifecycleEvent: it.LifecycleEvent}
	if it.ResourceData != nil {
		n.ResourceID, n.ResourceETag = it.ResourceData.ID, it.ResourceData.ETag
	}
	return n
}

// processChangeNotification handles one queued notification as
// changes.Decide says: directory changes and lifecycle "missed" events
// re-assess identity posture (debounced), so an exclusion added to a policy
// or a new admin shows within minutes.
func (a *app) processChangeNotification(ctx context.Context, inv invoke.Invocation, m invoke.Message) error {
	cm, err := changes.Parse(m.Body)
	if err != nil {
		return err
	}
	if !a.tenants[cm.TenantID] {
		return fmt.Errorf("tenant %q is not monitored", truncate(cm.TenantID, 40))
	}
	log := inv.Log.With("tenant_id", cm.TenantID, "kind", cm.Kind)
	var lastTaken time.Time
	if cm.Kind == changes.KindChange {
		last, err := a.assess.Latest(ctx, cm.TenantID, posture.AreaIdentity, time.Time{})
		if err != nil {
			return invoke.Retry(err)
		}
		if last != nil {
			lastTaken = last.TakenAt
		}
	}
	switch changes.Decide(cm, lastTaken, a.now()) {
	case changes.Reauthorize:
		// No subscription renewer runs yet (README): say so where an
		// operator will look, rather than imply it is handled.
		log.Warn("subscription needs reauthorization and no renewer is deployed; renew it or it will stop delivering", "subscription_id", cm.SubscriptionID)
		return nil
	case changes.Fresh:
		log.Info("directory change noted; identity posture is fresh")
		return nil
	case changes.Ignore:
		log.Info("notification for a resource posture does not track", "resource", truncate(cm.Resource, 80))
		return nil
	}
	res, err := a.assess.Run(ctx, cm.TenantID, posture.AreaIdentity)
	if err != nil {
		return invoke.Retry(err)
	}
	log.Info("identity posture re-assessed after notification", "snapshot_id", res.SnapshotID, "stored", res.Stored)
	return nil
}
