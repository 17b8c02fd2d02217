package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"m365security/handler/invoke"
	"m365security/shared/changes"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/queue"
	"m365security/shared/signals"
)

// notificationsQueue carries change and lifecycle notifications from the
// webhook to ProcessChangeNotification.
const notificationsQueue = "notifications"

// maxNotificationBody bounds a notification POST; Graph batches stay far
// below it.
const maxNotificationBody = 1 << 20

// maxNotificationItems bounds the items of one POST. Graph batches a few
// hundred at most; a body of ~350k empty items must not become as many
// decoded items.
const maxNotificationItems = 1000

// Concurrent notification work is bounded: a POST waits up to
// notificationSlotWait for one of maxConcurrentNotifications slots, then is
// answered 503 with Retry-After, which Graph retries. Each slot holds at
// most one item being decoded and maxNotificationItems queue messages.
const (
	maxConcurrentNotifications = 8
	notificationSlotWait       = time.Second
	// notificationReadTimeout bounds reading the body once a slot is
	// held; Graph itself gives up after 3 seconds.
	notificationReadTimeout = 2 * time.Second
)

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
	release, err := a.notificationSlots.acquire(r.Context())
	if err != nil {
		w.Header().Set("Retry-After", "1")
		return err
	}
	defer release()
	// A client trickling its body must not hold a slot for long.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(notificationReadTimeout))
	items := newNotificationStream(http.MaxBytesReader(w, r.Body, maxNotificationBody), maxNotificationItems)
	now := a.now().UTC()
	var msgs []queue.Message
	badState, badTenant := 0, 0
	for it := range items.all() {
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
	if err := items.err(); err != nil {
		return err
	}
	if items.count() == 0 {
		return badRequest("notification collection has no items")
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

// notificationGate bounds concurrent notification work. The zero value uses
// the package limits; size and wait override them (tests).
type notificationGate struct {
	size  int
	wait  time.Duration
	once  sync.Once
	slots chan struct{}
}

// acquire takes a slot, waiting up to the gate's wait; release gives it back.
func (g *notificationGate) acquire(ctx context.Context) (release func(), err error) {
	g.once.Do(func() {
		if g.size <= 0 {
			g.size = maxConcurrentNotifications
		}
		if g.wait <= 0 {
			g.wait = notificationSlotWait
		}
		g.slots = make(chan struct{}, g.size)
	})
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, &httpError{http.StatusServiceUnavailable, "busy", "too many notification deliveries at once; retry later"}
	}
}

// notificationStream decodes a changeNotificationCollection one item at a
// time, so memory follows one item rather than the body, and refuses the
// body as soon as it holds more than limit items, without reading the rest.
// Members other than value (validationTokens) are skipped.
type notificationStream struct {
	dec   *json.Decoder
	limit int
	n     int
	fail  error
	// opened is set once the collection's '{' is read: an end of input
	// after it is a truncated body, not an empty one.
	opened bool
}

func newNotificationStream(r io.Reader, limit int) *notificationStream {
	return &notificationStream{dec: json.NewDecoder(r), limit: limit}
}

// all yields the items in order; after it ends, err says whether the body
// was read to its end.
func (s *notificationStream) all() iter.Seq[notificationItem] {
	return func(yield func(notificationItem) bool) {
		s.fail = s.each(yield)
	}
}

func (s *notificationStream) each(yield func(notificationItem) bool) error {
	const notCollection = "body must be a JSON object with a value array of notifications"
	if err := s.delim('{'); err != nil {
		return orBadRequest(err, notCollection)
	}
	s.opened = true
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return s.decodeError(err)
		}
		if tok != "value" {
			var skip json.RawMessage
			if err := s.dec.Decode(&skip); err != nil {
				return s.decodeError(err)
			}
			continue
		}
		if err := s.delim('['); err != nil {
			return orBadRequest(err, "value must be an array of notifications")
		}
		for s.dec.More() {
			if s.n == s.limit {
				return &httpError{http.StatusRequestEntityTooLarge, "payloadTooLarge",
					fmt.Sprintf("a notification collection may hold at most %d items", s.limit)}
			}
			var it notificationItem
			if err := s.dec.Decode(&it); err != nil {
				return s.decodeError(err)
			}
			s.n++
			if !yield(it) {
				return nil
			}
		}
		if err := s.delim(']'); err != nil {
			return s.decodeError(err)
		}
	}
	if err := s.delim('}'); err != nil {
		return s.decodeError(err)
	}
	if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("body has data after the notification collection")
	}
	return nil
}

// errWrongToken marks a well-formed token that is not the one expected.
var errWrongToken = errors.New("unexpected JSON token")

// delim reads the next token and requires it to be d.
func (s *notificationStream) delim(d json.Delim) error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.decodeError(err)
	}
	if tok != d {
		return errWrongToken
	}
	return nil
}

func (s *notificationStream) decodeError(err error) error {
	if _, ok := err.(*httpError); ok {
		return err
	}
	if s.opened && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	he := jsonDecodeError(err, maxNotificationBody)
	if he.status == http.StatusBadRequest {
		he.msg = "body is not a Graph change notification collection: " + he.msg
	}
	return he
}

// orBadRequest turns errWrongToken into a 400 saying what was expected.
func orBadRequest(err error, msg string) error {
	if errors.Is(err, errWrongToken) {
		return badRequest("%s", msg)
	}
	return err
}

// err is why the body was not read to its end, nil when it was.
func (s *notificationStream) err() error { return s.fail }

// count is the number of items decoded.
func (s *notificationStream) count() int { return s.n }

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
	if cm.Kind == changes.KindLifecycle {
		return a.lifecycleEvent(ctx, log, cm)
	}
	if err := a.protectedAccountChange(ctx, log, cm); err != nil {
		return invoke.Retry(err)
	}
	var lastTaken time.Time
	last, err := a.assess.Latest(ctx, cm.TenantID, posture.AreaIdentity, time.Time{})
	if err != nil {
		return invoke.Retry(err)
	}
	if last != nil {
		lastTaken = last.TakenAt
	}
	switch changes.Decide(cm, lastTaken, a.now()) {
	case changes.Fresh:
		log.Info("directory change noted; identity posture is fresh")
		return nil
	case changes.Ignore:
		log.Info("notification for a resource posture does not track", "resource", truncate(cm.Resource, 80))
		return nil
	}
	id, err := a.reassessIdentity(ctx, cm.TenantID, log)
	if err != nil {
		return invoke.Retry(err)
	}
	log.Info("identity posture re-assessed after notification", "snapshot_id", id)
	return nil
}

// lifecycleEvent answers Graph's lifecycle notifications:
// reauthorizationRequired reauthorizes (recreating when Graph refuses),
// subscriptionRemoved recreates, missed reconciles through the delta
// backstop and a re-assessment.
func (a *app) lifecycleEvent(ctx context.Context, log *slog.Logger, cm changes.Message) error {
	if a.signals == nil {
		log.Warn("lifecycle notification with no signal path wired", "event", cm.LifecycleEvent)
		return nil
	}
	var err error
	switch changes.Decide(cm, time.Time{}, a.now()) {
	case changes.Reauthorize:
		err = a.signals.manager.Reauthorize(ctx, cm.TenantID, cm.SubscriptionID)
	case changes.Recreate:
		err = a.signals.manager.Removed(ctx, cm.TenantID, cm.SubscriptionID)
	case changes.Reassess:
		if _, err = a.signals.backstop.Run(ctx, cm.TenantID); err == nil {
			_, err = a.reassessIdentity(ctx, cm.TenantID, log)
		}
	default:
		log.Info("lifecycle event not acted on", "event", truncate(cm.LifecycleEvent, 40))
		return nil
	}
	if err != nil {
		return invoke.Retry(fmt.Errorf("lifecycle %s: %w", cm.LifecycleEvent, err))
	}
	log.Info("lifecycle event handled", "event", cm.LifecycleEvent, "subscription_id", cm.SubscriptionID)
	return nil
}

// protectedAccountChange records a signal when a notification names a user
// an active exception covers (a break-glass account): such an account
// should never change unnoticed.
func (a *app) protectedAccountChange(ctx context.Context, log *slog.Logger, cm changes.Message) error {
	user := signals.UserOfResource(cm.Resource)
	if user == "" || a.signals == nil {
		return nil
	}
	exceptions, err := a.records.Exceptions.Relevant(ctx, cm.TenantID, cm.ReceivedAt)
	if err != nil || len(exceptions) == 0 {
		return err
	}
	c, ok := signals.ProtectedAccountChange(cm.TenantID, user, nil, exceptions, cm.ReceivedAt)
	if !ok {
		return nil
	}
	out, err := a.signals.pipeline.Ingest(ctx, cm.TenantID, incident.FromDirectoryChange(c))
	if err != nil {
		return err
	}
	log.Info("change to a protected account recorded", "incident_id", out.IncidentID, "outcome", out.Kind)
	return nil
}
