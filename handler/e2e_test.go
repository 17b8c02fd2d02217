package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/handler/invoke"
	"m365security/shared/collect"
	"m365security/shared/posture"
)

// harness runs the real binary's run() in standalone demo mode on a free
// port with its own store file, the scheduler off so tests fire timers
// themselves in the host's envelope.
type harness struct {
	base   string
	tenant string
	stderr *lockedBuffer
	stop   func()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startHarness(t *testing.T, extra ...string) *harness {
	t.Helper()
	kv := append([]string{"DEMO", "1", "LOCAL_SCHEDULER", "off", "NOTIFICATION_CLIENT_STATE", "test-client-state-value",
		"STORE_PATH", filepath.Join(t.TempDir(), "store.db"), "FUNCTIONS_CUSTOMHANDLER_PORT", strconv.Itoa(freePort(t))}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	stderr := &lockedBuffer{}
	go func() { done <- run(ctx, nil, env(kv...), io.Discard, stderr, ready) }()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("handler exited at start-up: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("handler did not listen within 60 s")
	}
	h := &harness{base: base, stop: func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(40 * time.Second):
			t.Error("handler did not shut down")
		}
	}}
	t.Cleanup(func() { h.stop() })
	var health map[string]any
	h.getJSON(t, "/api/health", http.StatusOK, &health)
	require.Equal(t, "ok", health["status"])
	// The demo tenant id is printed in the start-up log.
	h.tenant = demoTenantFromLog(t, stderr.String())
	h.stderr = stderr
	return h
}

func demoTenantFromLog(t *testing.T, log string) string {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "demo tenant simulator started" {
			return rec["tenant_id"].(string)
		}
	}
	t.Fatalf("no demo tenant in log:\n%s", log)
	return ""
}

func (h *harness) do(t *testing.T, method, path string, body []byte, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

func (h *harness) getJSON(t *testing.T, path string, status int, v any) {
	t.Helper()
	code, hdr, b := h.do(t, http.MethodGet, path, nil)
	require.Equal(t, status, code, "GET %s: %s", path, b)
	require.Contains(t, hdr.Get("Content-Type"), "application/json")
	require.NoError(t, json.Unmarshal(b, v), string(b))
}

// fireTimerOnly fires a timer without waiting for the work it queues.
func (h *harness) fireTimerOnly(t *testing.T, function string) invoke.Response {
	t.Helper()
	return h.fire(t, function, false)
}

// fireTimer fires a timer; for a collection timer it waits until the
// fanned-out work has stored the area's snapshot.
func (h *harness) fireTimer(t *testing.T, function string) invoke.Response {
	t.Helper()
	return h.fire(t, function, true)
}

func (h *harness) fire(t *testing.T, function string, wait bool) invoke.Response {
	t.Helper()
	now := time.Now().UTC()
	body, err := invoke.TimerEnvelope(function, "timer", now, now.Add(-4*time.Hour), now.Add(4*time.Hour), false, "0f8fad5b-d9cb-469f-a165-70867728950e")
	require.NoError(t, err)
	code, _, b := h.do(t, http.MethodPost, "/"+function, body, "Content-Type", "application/json",
		"X-Azure-Functions-InvocationId", "5d1c2b7e-3f0a-4a53-9a84-1c2f3e4d5a6b", "User-Agent", "Azure-Functions-Host/4.1040.300")
	require.Equal(t, http.StatusOK, code, "%s: %s", function, b)
	var resp invoke.Response
	require.NoError(t, json.Unmarshal(b, &resp))
	if ar, ok := areaOfTimer(function); ok && wait {
		h.waitCollected(t, ar, now)
	}
	return resp
}

func areaOfTimer(function string) (posture.Area, bool) {
	for _, a := range collect.Areas() {
		if a.Timer == function {
			return a.Name, true
		}
	}
	return "", false
}

// waitCollected waits for the fanned-out collection of area to store (or
// record an attempt on) a snapshot taken at or after since.
func (h *harness) waitCollected(t *testing.T, area posture.Area, since time.Time) {
	t.Helper()
	require.Eventually(t, func() bool {
		var v struct {
			Areas map[string]struct {
				TakenAt  *time.Time `json:"takenAt"`
				Attempts []struct {
					At time.Time `json:"at"`
				} `json:"attempts"`
			} `json:"areas"`
		}
		h.getJSON(t, "/api/collection?tenant="+h.tenant, http.StatusOK, &v)
		a := v.Areas[string(area)]
		if a.TakenAt != nil && !a.TakenAt.Before(since.Truncate(time.Second)) {
			return true
		}
		for _, at := range a.Attempts {
			if !at.At.Before(since.Truncate(time.Second)) {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "%s was not collected through the queue", area)
}

func TestEndToEndCollectionThroughTheHostProtocol(t *testing.T) {
	h := startHarness(t)
	q := "?tenant=" + h.tenant

	var before struct {
		Metrics map[string]struct{ Status string } `json:"metrics"`
	}
	h.getJSON(t, "/api/metrics"+q, http.StatusOK, &before)
	require.Equal(t, "unknown", before.Metrics["mfaCoverage"].Status, "nothing collected yet")

	for _, fn := range []string{"CollectIdentity", "CollectDevices", "CollectSecureScore", "CollectBackup"} {
		resp := h.fireTimer(t, fn)
		require.NotEmpty(t, resp.Logs, "%s copies its log into the response", fn)
		require.Contains(t, strings.Join(resp.Logs, "\n"), "posture collection queued")
	}

	var m struct {
		TenantID string `json:"tenantId"`
		AsOf     time.Time
		Metrics  map[string]struct {
			Status      string   `json:"status"`
			Value       *float64 `json:"value"`
			Numerator   *float64 `json:"numerator"`
			Denominator *float64 `json:"denominator"`
			Reason      string   `json:"reason"`
		} `json:"metrics"`
	}
	h.getJSON(t, "/api/metrics"+q, http.StatusOK, &m)
	require.Equal(t, h.tenant, m.TenantID)
	for _, name := range []string{"mfaRegistration", "mfaEnforcement", "mfaCoverage", "adminMfaCoverage", "deviceCompliance", "endpointProtectionCoverage", "secureScore"} {
		got := m.Metrics[name]
		require.Equal(t, "measured", got.Status, "%s: %s", name, got.Reason)
		require.NotNil(t, got.Value)
		require.Greater(t, *got.Value, 0.0, name)
		require.LessOrEqual(t, *got.Value, 1.0, name)
		require.InDelta(t, *got.Numerator / *got.Denominator, *got.Value, 1e-9, name)
	}
	for _, name := range []string{"meanTimeToDetectMinutes", "restoreTestSuccess", "daysSinceRestoreTest", "openIncidents", "pendingApprovals"} {
		require.Contains(t, m.Metrics, name)
	}

	var c struct {
		Controls []struct {
			ID       string `json:"id"`
			Status   string `json:"status"`
			Severity string `json:"severity"`
		} `json:"controls"`
	}
	h.getJSON(t, "/api/controls"+q, http.StatusOK, &c)
	statuses := map[string]string{}
	for _, ctl := range c.Controls {
		statuses[ctl.ID] = ctl.Status
		require.Contains(t, []string{"pass", "fail", "unknown", "excepted"}, ctl.Status)
	}
	require.Contains(t, statuses, "MS.AAD.1.1v1")
	require.NotEqual(t, "unknown", statuses["MS.AAD.3.2v2"], "identity was collected")

	var users struct {
		Users []struct {
			ID        string `json:"id"`
			Protected string `json:"protected"`
			Reason    string `json:"reason"`
		} `json:"users"`
	}
	h.getJSON(t, "/api/mfa/users"+q+"&status=unprotected", http.StatusOK, &users)
	require.NotEmpty(t, users.Users)
	for _, u := range users.Users {
		require.NotEqual(t, "yes", u.Protected)
		require.NotEmpty(t, u.Reason)
	}

	var hist struct {
		History []struct {
			Area string `json:"area"`
		} `json:"history"`
	}
	h.getJSON(t, "/api/metrics/history"+q, http.StatusOK, &hist)
	require.Len(t, hist.History, 4, "one entry per stored snapshot")

	// Timers are idempotent per period: firing again adds no snapshot.
	h.fireTimerOnly(t, "CollectIdentity")
	h.getJSON(t, "/api/metrics/history"+q, http.StatusOK, &hist)
	require.Len(t, hist.History, 4)
}

func TestHTTPBadInput(t *testing.T) {
	h := startHarness(t)
	q := "?tenant=" + h.tenant
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		code   string
	}{
		{"a missing tenant", "GET", "/api/metrics", "", 400, "badRequest"},
		{"an unknown tenant", "GET", "/api/metrics?tenant=99999999-9999-4999-8999-999999999999", "", 404, "tenantNotFound"},
		{"a hostile tenant value", "GET", "/api/controls?tenant=%3Cscript%3E", "", 404, "tenantNotFound"},
		{"a bad date", "GET", "/api/metrics/history" + q + "&from=2026-13-45", "", 400, "badRequest"},
		{"a reversed range", "GET", "/api/controls/history" + q + "&from=2026-05-01&to=2026-04-01", "", 400, "badRequest"},
		{"malformed JSON", "POST", "/api/exceptions" + q, `{"controlId":`, 400, "badRequest"},
		{"an unknown field", "POST", "/api/exceptions" + q, `{"controlId":"MS.AAD.1.1v1","scope":{},"expires":"x"}`, 400, "badRequest"},
		{"an invalid exception", "POST", "/api/exceptions" + q, `{"controlId":"MS.AAD.1.1v1","scope":{"users":[]},"reason":"","approvedBy":"","expiresAt":"2020-01-01T00:00:00Z"}`, 400, "validationFailed"},
		{"an oversize body", "POST", "/api/restore-tests" + q, `{"notes":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "payloadTooLarge"},
		{"a restore test without succeeded", "POST", "/api/restore-tests" + q, `{"performedAt":"2026-01-01T00:00:00Z","workload":"exchange"}`, 400, "badRequest"},
		{"a bad restore date", "POST", "/api/restore-tests" + q, `{"performedAt":"last tuesday","workload":"exchange","succeeded":true}`, 400, "badRequest"},
		{"deleting a missing exception", "DELETE", "/api/exceptions/nope" + q, "", 404, "notFound"},
		{"deleting an exception id with escaped slashes", "DELETE", "/api/exceptions/..%2f..%2fx" + q, "", 400, "badRequest"},
		{"deleting an exception id with a backslash", "DELETE", "/api/exceptions/a%5cb" + q, "", 400, "badRequest"},
		{"deleting an exception id over 1,023 bytes", "DELETE", "/api/exceptions/" + strings.Repeat("a", 1100) + q, "", 400, "badRequest"},
		{"targets out of range", "PUT", "/api/targets" + q, `{"mfaCoverage":7}`, 400, "validationFailed"},
		{"a status filter that is not a status", "GET", "/api/mfa/users" + q + "&status=maybe", "", 400, "badRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, b := h.do(t, tc.method, tc.path, []byte(tc.body), "Content-Type", "application/json")
			require.Equal(t, tc.status, code, string(b))
			require.Contains(t, hdr.Get("Content-Type"), "application/json")
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			require.NoError(t, json.Unmarshal(b, &e), string(b))
			require.Equal(t, tc.code, e.Error.Code)
			require.NotEmpty(t, e.Error.Message)
			require.NotContains(t, string(b), "goroutine", "no stack traces")
			require.NotContains(t, string(b), "<script>")
		})
	}
}

func TestConcurrentTargetUpdatesAllLand(t *testing.T) {
	h := startHarness(t)
	q := "?tenant=" + h.tenant
	fields := []string{"mfaCoverage", "adminMfaCoverage", "deviceCompliance", "endpointProtectionCoverage"}
	var wg sync.WaitGroup
	for i, f := range fields {
		wg.Go(func() {
			body := fmt.Sprintf(`{%q:0.%d}`, f, 51+i)
			code, _, b := h.do(t, "PUT", "/api/targets"+q, []byte(body), "Content-Type", "application/json")
			require.Equal(t, http.StatusOK, code, string(b))
		})
	}
	wg.Wait()
	var got struct {
		Targets map[string]float64 `json:"targets"`
	}
	h.getJSON(t, "/api/targets"+q, http.StatusOK, &got)
	for i, f := range fields {
		require.InDelta(t, float64(51+i)/100, got.Targets[f], 1e-9, "%s was lost to a concurrent PUT", f)
	}
}

func TestExceptionsAndRestoreTestsAPI(t *testing.T) {
	h := startHarness(t)
	q := "?tenant=" + h.tenant
	h.fireTimer(t, "CollectIdentity")
	exp := time.Now().UTC().Add(30 * 24 * time.Hour).Format(time.RFC3339)
	body := `{"controlId":"MS.AAD.1.1v1","scope":{"users":[],"groups":["bbbbbbbb-0000-4000-8000-000000000001"]},"reason":"break-glass","approvedBy":"ciso@contoso.com","expiresAt":"` + exp + `"}`
	code, hdr, b := h.do(t, "POST", "/api/exceptions"+q, []byte(body), "Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, code, string(b))
	var e struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(b, &e))
	require.NotEmpty(t, e.ID)
	require.Equal(t, "active", e.Status)
	require.Contains(t, hdr.Get("Location"), e.ID)

	var list struct {
		Exceptions []struct{ ID string } `json:"exceptions"`
	}
	h.getJSON(t, "/api/exceptions"+q, http.StatusOK, &list)
	require.Len(t, list.Exceptions, 1)

	code, _, b = h.do(t, "DELETE", "/api/exceptions/"+url.PathEscape(e.ID)+q, nil)
	require.Equal(t, http.StatusOK, code, string(b))
	require.Contains(t, string(b), `"status":"revoked"`)

	code, _, b = h.do(t, "POST", "/api/restore-tests"+q, []byte(`{"performedAt":"`+time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)+`","workload":"exchange","succeeded":true,"notes":"<b>mailbox</b> restored"}`), "Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, code, string(b))
	var m struct {
		Metrics map[string]struct {
			Status string   `json:"status"`
			Value  *float64 `json:"value"`
		} `json:"metrics"`
	}
	h.getJSON(t, "/api/metrics"+q, http.StatusOK, &m)
	require.Equal(t, "measured", m.Metrics["restoreTestSuccess"].Status)
	require.Equal(t, 1.0, *m.Metrics["restoreTestSuccess"].Value)
}

func TestNotificationWebhook(t *testing.T) {
	h := startHarness(t)
	t.Run("the validation handshake echoes the decoded token as plain text", func(t *testing.T) {
		token := "Validation: Token <abc> & 123"
		code, hdr, b := h.do(t, "POST", "/api/notifications?validationToken="+url.QueryEscape(token), nil, "Content-Type", "text/plain; charset=utf-8")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, token, string(b))
		require.True(t, strings.HasPrefix(hdr.Get("Content-Type"), "text/plain"))
		require.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"))
		code, _, b = h.do(t, "POST", "/api/notifications/lifecycle?validationToken=xyz", nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "xyz", string(b))
	})
	item := func(state, tenant string) string {
		return `{"subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","clientState":"` + state + `","changeType":"updated","resource":"Users/6e7b768e-07e2-4810-8459-485f84f8f204","tenantId":"` + tenant + `","resourceData":{"@odata.type":"#Microsoft.Graph.User","id":"6e7b768e-07e2-4810-8459-485f84f8f204"}}`
	}
	cases := []struct {
		name   string
		body   string
		status int
	}{
		{"a wrong clientState is refused", `{"value":[` + item("guess", h.tenant) + `]}`, http.StatusForbidden},
		{"malformed JSON is a bad request", `{"value":[`, http.StatusBadRequest},
		{"an empty collection is a bad request", `{"value":[]}`, http.StatusBadRequest},
		{"an unmonitored tenant is not found", `{"value":[` + item("test-client-state-value", "99999999-9999-4999-8999-999999999999") + `]}`, http.StatusNotFound},
		{"valid items are accepted and the wrong ones dropped", `{"value":[` + item("test-client-state-value", h.tenant) + `,` + item("guess", h.tenant) + `]}`, http.StatusAccepted},
		{"an oversize body is refused", `{"value":[` + strings.Repeat(item("x", h.tenant)+",", 4000) + item("x", h.tenant) + `]}`, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, b := h.do(t, "POST", "/api/notifications", []byte(tc.body), "Content-Type", "application/json")
			require.Equal(t, tc.status, code, string(b))
			require.NotContains(t, string(b), "test-client-state-value", "the secret is never echoed")
		})
	}
	require.NotContains(t, h.stderr.String(), "test-client-state-value", "the secret never reaches the log")

	// The accepted notification travels through the in-process queue to
	// ProcessChangeNotification, which re-assesses identity posture.
	require.Eventually(t, func() bool {
		var hist struct {
			History []struct{ Area string } `json:"history"`
		}
		h.getJSON(t, "/api/metrics/history?tenant="+h.tenant, http.StatusOK, &hist)
		return len(hist.History) == 1 && hist.History[0].Area == "identity"
	}, 30*time.Second, 200*time.Millisecond)
}

func TestServiceBusInvocationParksABadMessage(t *testing.T) {
	h := startHarness(t)
	body, err := invoke.MessageEnvelope("ProcessChangeNotification", "msg", invoke.Message{
		Body: []byte(`{"kind":"change","tenantId":"not-ours"}`), MessageID: "m-1", DeliveryCount: 1, EnqueuedTime: time.Now()}, time.Now(), "guid")
	require.NoError(t, err)
	code, _, b := h.do(t, "POST", "/ProcessChangeNotification", body, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, code, "a permanent failure completes the message: %s", b)
	require.Contains(t, h.stderr.String(), "message parked")

	code, _, b = h.do(t, "POST", "/ProcessChangeNotification", []byte(`{"Data":`), "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, code, "a malformed envelope is parked, not retried forever: %s", b)
}

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	bytes.Buffer
	mu sync.Mutex
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}

func TestShutdownDrainsQueuedWork(t *testing.T) {
	storePath := filepath.Join(t.TempDir(), "store.db")
	h := startHarness(t, "STORE_PATH", storePath)
	body := `{"value":[{"subscriptionId":"s","clientState":"test-client-state-value","changeType":"updated","resource":"Users/u","tenantId":"` + h.tenant + `","resourceData":{"id":"u"}}]}`
	code, _, b := h.do(t, "POST", "/api/notifications", []byte(body), "Content-Type", "application/json")
	require.Equal(t, http.StatusAccepted, code, string(b))
	// Stop at once: the queued notification (an identity assessment) must be
	// delivered before the process exits, not dropped.
	h.stop()
	h.stop = func() {}

	h2 := startHarness(t, "STORE_PATH", storePath)
	var hist struct {
		History []struct{ Area string } `json:"history"`
	}
	h2.getJSON(t, "/api/metrics/history?tenant="+h2.tenant, http.StatusOK, &hist)
	require.Len(t, hist.History, 1, "the queued work ran before shutdown")
	require.Equal(t, "identity", hist.History[0].Area)
}
