package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"m365security/handler/invoke"
	"m365security/shared/posture"
	"m365security/shared/queue"
)

// notificationsQueue carries change and lifecycle notifications from the
// webhook to ProcessChangeNotification.
const notificationsQueue = "notifications"

// maxNotificationBody bounds a notification POST; Graph batches stay far
// below it.
const maxNotificationBody = 1 << 20

// changeMessage is the queue message for one notification item.
type changeMessage struct {
	Kind           string    `json:"kind"` // change or lifecycle
	TenantID       string    `json:"tenantId"`
	SubscriptionID string    `json:"subscriptionId"`
	ChangeType     string    `json:"changeType,omitempty"`
	Resource       string    `json:"resource,omitempty"`
	ResourceID     string    `json:"resourceId,omitempty"`
	LifecycleEvent string    `json:"lifecycleEvent,omitempty"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

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
		m := changeMessage{Kind: kind, TenantID: tenant, SubscriptionID: it.SubscriptionID, ChangeType: it.ChangeType,
			Resource: it.Resource, LifecycleEvent: it.LifecycleEvent, ReceivedAt: now}
		if it.ResourceData != nil {
			m.ResourceID = it.ResourceData.ID
		}
		b, _ := json.Marshal(m)
		msgs = append(msgs, queue.Message{ID: dedupeKey(it, kind), Body: b, ContentType: "application/json", Subject: kind})
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

// dedupeKey identifies a notification across Graph's redeliveries, which
// carry no stable id of their own.
func dedupeKey(it notificationItem, kind string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s", kind, it.SubscriptionID, it.ChangeType, it.Resource, it.LifecycleEvent)
	if it.ResourceData != nil {
		fmt.Fprintf(h, "|%s|%s", it.ResourceData.ID, it.ResourceData.ETag)
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// resyncDebounce is the minimum age of the identity snapshot before a
// directory change triggers a new identity assessment.
const resyncDebounce = 15 * time.Minute

// processChangeNotification handles one queued notification. Directory
// changes and lifecycle "missed" events re-assess identity posture (debounced),
// so an exclusion added to a policy or a new admin shows within minutes.
func (a *app) processChangeNotification(ctx context.Context, inv invoke.Invocation, m invoke.Message) error {
	var cm changeMessage
	// Unknown fields are tolerated: a newer producer may add some while an
	// older consumer drains the queue during a deployment.
	if err := json.Unmarshal(m.Body, &cm); err != nil {
		return fmt.Errorf("message body is not a change message: %w", err)
	}
	if !a.tenants[cm.TenantID] {
		return fmt.Errorf("tenant %q is not monitored", truncate(cm.TenantID, 40))
	}
	log := inv.Log.With("tenant_id", cm.TenantID, "kind", cm.Kind)
	switch {
	case cm.Kind == "lifecycle" && cm.LifecycleEvent == "reauthorizationRequired":
		// No subscription renewer runs yet (README): say so where an
		// operator will look, rather than imply it is handled.
		log.Warn("subscription needs reauthorization and no renewer is deployed; renew it or it will stop delivering", "subscription_id", cm.SubscriptionID)
		return nil
	case cm.Kind == "lifecycle" && (cm.LifecycleEvent == "missed" || cm.LifecycleEvent == "subscriptionRemoved"):
		// Changes may have been lost: resynchronise now, no debounce.
	case cm.Kind == "change" && isDirectory(cm.Resource):
		last, err := a.assess.Latest(ctx, cm.TenantID, posture.AreaIdentity, time.Time{})
		if err != nil {
			return invoke.Retry(err)
		}
		if last != nil && a.now().Sub(last.TakenAt) < resyncDebounce {
			log.Info("directory change noted; identity posture is fresh", "snapshot_id", last.ID)
			return nil
		}
	case cm.Kind == "change" || cm.Kind == "lifecycle":
		log.Info("notification for a resource posture does not track", "resource", truncate(cm.Resource, 80))
		return nil
	default:
		return errors.New("message kind must be change or lifecycle")
	}
	res, err := a.assess.Run(ctx, cm.TenantID, posture.AreaIdentity)
	if err != nil {
		return invoke.Retry(err)
	}
	log.Info("identity posture re-assessed after notification", "snapshot_id", res.SnapshotID, "stored", res.Stored)
	return nil
}

func isDirectory(resource string) bool {
	r := strings.ToLower(resource)
	return strings.HasPrefix(r, "users") || strings.HasPrefix(r, "groups") || strings.HasPrefix(r, "directory")
}
