package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// NotifyPath is the simulator's own route (outside /v1.0) that makes it send
// one change notification to the webhook, as Graph does after a change to a
// subscribed resource: POST delivers it and answers with the webhook's
// status; GET answers with the notification collection POST would send.
// Query: changeType (default updated), resource (default the first user,
// Users/{id}).
const NotifyPath = "/graphsim/notify"

// Webhook is where the simulator delivers change notifications: a
// subscription's notificationUrl and the clientState Graph echoes in every
// notification item.
type Webhook struct {
	URL         string
	ClientState string
}

// SetWebhook sets where Notify delivers. The simulator creates no
// subscriptions (writes are not reproduced); this stands for one.
func (s *Server) SetWebhook(w Webhook) { s.hook.Store(&w) }

// ErrNoWebhook is Notify's error when no webhook has been set.
var ErrNoWebhook = errors.New("graphsim: no webhook set (SetWebhook)")

// notificationItem is microsoft.graph.changeNotification as Graph delivers it.
type notificationItem struct {
	SubscriptionID                 string            `json:"subscriptionId"`
	SubscriptionExpirationDateTime string            `json:"subscriptionExpirationDateTime"`
	ChangeType                     string            `json:"changeType"`
	Resource                       string            `json:"resource"`
	ResourceData                   map[string]string `json:"resourceData"`
	ClientState                    string            `json:"clientState"`
	TenantID                       string            `json:"tenantId"`
}

// Notification renders the change-notification collection Graph would POST
// for changeType on resource ("Users/{id}"; empty: the first user), carrying
// the webhook's clientState.
func (s *Server) Notification(changeType, resource string) ([]byte, error) {
	hook := s.hook.Load()
	if hook == nil {
		return nil, ErrNoWebhook
	}
	if changeType == "" {
		changeType = "updated"
	}
	if resource == "" {
		if len(s.t.Users) == 0 {
			return nil, errors.New("graphsim: the tenant has no users to notify about")
		}
		resource = "Users/" + s.t.Users[0].ID
	}
	id := resource[strings.LastIndex(resource, "/")+1:]
	typ := "#Microsoft.Graph." + strings.TrimSuffix(strings.ToUpper(resource[:1])+resource[1:strings.Index(resource+"/", "/")], "s")
	item := notificationItem{
		SubscriptionID:                 subscriptionID(s.t.ID),
		SubscriptionExpirationDateTime: s.clock().UTC().Add(72 * time.Hour).Format("2006-01-02T15:04:05.0000000Z"),
		ChangeType:                     changeType,
		Resource:                       resource,
		ResourceData:                   map[string]string{"@odata.type": typ, "@odata.id": resource, "id": id},
		ClientState:                    hook.ClientState,
		TenantID:                       s.t.ID,
	}
	return json.Marshal(map[string][]notificationItem{"value": {item}})
}

// subscriptionID is the demo's one standing subscription, stable per tenant.
func subscriptionID(tenantID string) string {
	tail := strings.ReplaceAll(tenantID, "-", "")
	if len(tail) > 12 {
		tail = tail[len(tail)-12:]
	}
	return "5ab5c41b-0000-4000-8000-" + fmt.Sprintf("%012s", tail)
}

// Notify POSTs one change notification to the webhook, as Graph does, and
// returns the webhook's status and body.
func (s *Server) Notify(ctx context.Context, changeType, resource string) (int, []byte, error) {
	body, err := s.Notification(changeType, resource)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.hook.Load().URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("deliver change notification: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b, nil
}

func (s *Server) serveNotify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, err error) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"code": "notifyFailed", "message": err.Error()}})
	}
	switch r.Method {
	case http.MethodGet:
		b, err := s.Notification(q.Get("changeType"), q.Get("resource"))
		if err != nil {
			fail(http.StatusConflict, err)
			return
		}
		_, _ = w.Write(b)
	case http.MethodPost:
		status, body, err := s.Notify(r.Context(), q.Get("changeType"), q.Get("resource"))
		switch {
		case errors.Is(err, ErrNoWebhook):
			fail(http.StatusConflict, err)
			return
		case err != nil:
			fail(http.StatusBadGateway, err)
			return
		}
		answer := map[string]any{"notificationUrl": s.hook.Load().URL, "status": status}
		if json.Valid(body) {
			answer["response"] = json.RawMessage(body)
		}
		_ = json.NewEncoder(w).Encode(answer)
	default:
		w.Header().Set("Allow", "GET, POST")
		fail(http.StatusMethodNotAllowed, errors.New("use POST to send a change notification, GET to see one"))
	}
}
