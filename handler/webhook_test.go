package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// notificationItemJSON is one change notification for the test tenant.
func notificationItemJSON(state string) string {
	return `{"subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","clientState":"` + state +
		`","changeType":"updated","resource":"Users/6e7b","tenantId":"` + testTenant + `","resourceData":{"id":"6e7b"}}`
}

func collectionOf(n int, item string) string {
	return `{"value":[` + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + `]}`
}

type apiErrorBody struct {
	Error struct{ Code, Message string } `json:"error"`
}

func TestNotificationBodiesAreBoundedAndStreamed(t *testing.T) {
	valid := notificationItemJSON(testClientState)
	cases := []struct {
		name     string
		body     string
		status   int
		code     string
		message  string // substring of the error message
		enqueued int
	}{
		{"as many items as the bound are accepted", collectionOf(maxNotificationItems, valid), http.StatusAccepted, "", "", maxNotificationItems},
		{"one item beyond the bound refuses the whole body", collectionOf(maxNotificationItems+1, valid), http.StatusRequestEntityTooLarge, "payloadTooLarge", "at most 1000 items", 0},
		{"a megabyte of empty items is refused by count", string(floodBody()), http.StatusRequestEntityTooLarge, "payloadTooLarge", "at most 1000 items", 0},
		{"repeated value members count together", `{"value":[` + valid + `],"value":` + collectionOf(maxNotificationItems, valid)[9:], http.StatusRequestEntityTooLarge, "payloadTooLarge", "", 0},
		{"validation tokens beside the items are skipped", `{"value":[` + valid + `],"validationTokens":["a.b.c"]}`, http.StatusAccepted, "", "", 1},
		{"a body over the byte cap is too large", `{"value":[` + valid + `],"x":"` + strings.Repeat("a", maxNotificationBody) + `"}`, http.StatusRequestEntityTooLarge, "payloadTooLarge", "exceeds", 0},
		{"an array body is not a collection", `[` + valid + `]`, http.StatusBadRequest, "badRequest", "JSON object with a value array", 0},
		{"a value that is not an array is refused", `{"value":{}}`, http.StatusBadRequest, "badRequest", "value must be an array", 0},
		{"a truncated body is refused", `{"value":[` + valid, http.StatusBadRequest, "badRequest", "ends before", 0},
		{"data after the collection is refused", `{"value":[` + valid + `]} {}`, http.StatusBadRequest, "badRequest", "data after", 0},
		{"an empty body is refused", ``, http.StatusBadRequest, "badRequest", "empty", 0},
		{"an empty collection is refused", `{"value":[]}`, http.StatusBadRequest, "badRequest", "no items", 0},
		{"a field of the wrong type is named without Go types", `{"value":[{"clientState":7}]}`, http.StatusBadRequest, "badRequest", "field clientState must be a string", 0},
		{"bad JSON says where", `{"value":[x]}`, http.StatusBadRequest, "badRequest", "not valid JSON at byte", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, q := newTestApp(t)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/api/notifications", strings.NewReader(tc.body))
			a.serve("Notifications", a.notifications).ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, tc.enqueued, q.count())
			if tc.code == "" {
				return
			}
			var e apiErrorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
			require.Equal(t, tc.code, e.Error.Code)
			require.Contains(t, e.Error.Message, tc.message)
			require.NotContains(t, e.Error.Message, "Go ")
			require.NotContains(t, e.Error.Message, "main.")
		})
	}
}

func TestNotificationWorkIsBoundedInConcurrency(t *testing.T) {
	body := collectionOf(1, notificationItemJSON(testClientState))
	t.Run("a delivery beyond the free slots is answered 503 with Retry-After", func(t *testing.T) {
		a, q := newTestApp(t)
		a.notificationSlots = notificationGate{size: 1, wait: 20 * time.Millisecond}
		release, err := a.notificationSlots.acquire(context.Background())
		require.NoError(t, err)
		defer release()
		rec := httptest.NewRecorder()
		a.serve("Notifications", a.notifications).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/notifications", strings.NewReader(body)))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
		require.Equal(t, "1", rec.Header().Get("Retry-After"))
		require.Contains(t, rec.Body.String(), `"busy"`)
		require.Zero(t, q.count())
	})
	t.Run("a delivery waits for a slot freed in time", func(t *testing.T) {
		a, q := newTestApp(t)
		a.notificationSlots = notificationGate{size: 1, wait: 5 * time.Second}
		release, err := a.notificationSlots.acquire(context.Background())
		require.NoError(t, err)
		time.AfterFunc(20*time.Millisecond, release)
		rec := httptest.NewRecorder()
		a.serve("Notifications", a.notifications).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/notifications", strings.NewReader(body)))
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		require.Equal(t, 1, q.count())
	})
	t.Run("a slot is given back after every delivery, refused or not", func(t *testing.T) {
		a, _ := newTestApp(t)
		a.notificationSlots = notificationGate{size: 1, wait: time.Millisecond}
		h := a.serve("Notifications", a.notifications)
		for _, b := range []string{body, `{"value":[`, string(floodBody()), body} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/notifications", strings.NewReader(b)))
			require.NotEqual(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
		}
	})
	t.Run("a client that leaves while waiting gives up its place", func(t *testing.T) {
		a, q := newTestApp(t)
		a.notificationSlots = notificationGate{size: 1, wait: time.Minute}
		release, err := a.notificationSlots.acquire(context.Background())
		require.NoError(t, err)
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		rec := httptest.NewRecorder()
		a.serve("Notifications", a.notifications).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/notifications", strings.NewReader(body)).WithContext(ctx))
		require.Less(t, time.Since(start), 10*time.Second)
		require.Zero(t, q.count())
		require.NotEqual(t, http.StatusInternalServerError, rec.Code)
	})
}
