package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// logField returns field of the first JSON log record with message msg.
func logField(t *testing.T, log, msg, field string) any {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec[field]
		}
	}
	t.Fatalf("no %q record in log:\n%s", msg, log)
	return nil
}

// demoNotification is what the demo simulator, standing for Graph, sends to
// the webhook: the collection and the clientState it carries.
func demoNotification(t *testing.T, h *harness) (body []byte, clientState string) {
	t.Helper()
	notify, _ := logField(t, h.stderr.String(), "demo tenant simulator started", "notify_url").(string)
	require.NotEmpty(t, notify)
	resp, err := http.Get(notify)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var coll struct {
		Value []struct{ ClientState string } `json:"value"`
	}
	require.NoError(t, json.Unmarshal(body, &coll))
	require.Len(t, coll.Value, 1)
	return body, coll.Value[0].ClientState
}

func TestDemoWebhookWorksEndToEnd(t *testing.T) {
	h := startHarness(t, "NOTIFICATION_CLIENT_STATE", "")
	require.Equal(t, true, logField(t, h.stderr.String(), "demo tenant simulator started", "client_state_generated"))
	body, state := demoNotification(t, h)
	require.Len(t, state, 43, "32 random bytes, base64url")

	code, _, b := h.do(t, http.MethodPost, "/api/notifications", body, "Content-Type", "application/json")
	require.Equal(t, http.StatusAccepted, code, "a notification with the generated clientState is accepted: %s", b)

	// The simulator delivers one itself, as Graph would.
	notify := logField(t, h.stderr.String(), "demo tenant simulator started", "notify_url").(string)
	resp, err := http.Post(notify+"?changeType=created", "application/json", nil)
	require.NoError(t, err)
	var sent struct {
		Status int `json:"status"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sent))
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, sent.Status)

	// Accepted notifications re-assess identity posture through the queue.
	require.Eventually(t, func() bool {
		var hist struct {
			History []struct{ Area string } `json:"history"`
		}
		h.getJSON(t, "/api/metrics/history?tenant="+h.tenant, http.StatusOK, &hist)
		return len(hist.History) >= 1 && hist.History[0].Area == "identity"
	}, 30*time.Second, 200*time.Millisecond)
	require.NotContains(t, h.stderr.String(), state, "the generated clientState never reaches the log")

	h2 := startHarness(t, "NOTIFICATION_CLIENT_STATE", "")
	_, state2 := demoNotification(t, h2)
	require.NotEqual(t, state, state2, "a new value per start")
}

func TestDemoSharesAConfiguredClientState(t *testing.T) {
	h := startHarness(t)
	require.Equal(t, false, logField(t, h.stderr.String(), "demo tenant simulator started", "client_state_generated"))
	_, state := demoNotification(t, h)
	require.Equal(t, "test-client-state-value", state, "a configured NOTIFICATION_CLIENT_STATE is the one the simulator signs with")
}
