package graphsim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustDo(t testing.TB, s *Server, method, path, body string, header map[string]string) result {
	t.Helper()
	req, err := http.NewRequest(method, s.BaseURL()+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	res := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &res.body), string(raw))
	}
	return res
}

func TestWritesAreRecordedAndAnsweredAsGraphDocuments(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	user, device := tn.Users[0].ID, tn.ManagedDevices[0].ID
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"revoking sessions answers true", "POST", "/users/" + user + "/revokeSignInSessions", "", 200},
		{"disabling a user answers 204", "PATCH", "/users/" + user, `{"accountEnabled":false}`, 204},
		{"a user is found by UPN too", "PATCH", "/users/" + tn.Users[0].UserPrincipalName, `{"accountEnabled":true}`, 204},
		{"a read-only user property is refused", "PATCH", "/users/" + user, `{"id":"x"}`, 400},
		{"an empty patch is refused", "PATCH", "/users/" + user, `{}`, 400},
		{"a patch that is not an object is refused", "PATCH", "/users/" + user, `[1]`, 400},
		{"an unknown user is 404", "PATCH", "/users/nobody", `{"accountEnabled":false}`, 404},
		{"an unknown device is 404", "POST", "/deviceManagement/managedDevices/nope/retire", "", 404},
		{"a device action answers 204", "POST", "/deviceManagement/managedDevices/" + device + "/remoteLock", "", 204},
		{"a device action with a broken body is refused", "POST", "/deviceManagement/managedDevices/" + device + "/wipe", `{`, 400},
		{"confirming compromise without users is refused", "POST", "/identityProtection/riskyUsers/confirmCompromised", `{"userIds":[]}`, 400},
		{"a remediation with an unknown action is refused", "POST", "/security/collaboration/analyzedEmails/remediate",
			`{"displayName":"x","severity":"low","action":"nuke","analyzedEmails":[{"networkMessageId":"n","recipientEmailAddress":"r"}]}`, 400},
		{"an alert comment as an array is refused", "POST", "/security/alerts_v2/" + tn.Alerts[0].ID + "/comments", `[{"comment":"x"}]`, 400},
		{"an alert property Graph does not let clients write is refused", "PATCH", "/security/alerts_v2/" + tn.Alerts[0].ID, `{"severity":"low"}`, 400},
		{"an unknown alert is 404", "PATCH", "/security/alerts_v2/nope", `{"status":"resolved"}`, 404},
		{"mail without recipients is refused", "POST", "/users/" + user + "/sendMail", `{"message":{"subject":"x"}}`, 400},
		{"mail with bad base64 is refused", "POST", "/users/" + user + "/sendMail",
			`{"message":{"toRecipients":[{"emailAddress":{"address":"a@b"}}],"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"a","contentBytes":"***"}]}}`, 400},
		{"a write to a read route is 405", "DELETE", "/users/" + user, "", 405},
		{"a write to an unknown segment is 400", "POST", "/nonsense", "", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetWrites()
			res := mustDo(t, s, tc.method, tc.path, tc.body, nil)
			require.Equal(t, tc.status, res.status, string(res.raw))
			if tc.status >= 400 {
				require.Contains(t, res.body, "error")
			}
			w := s.Writes()
			require.Len(t, w, 1)
			require.Equal(t, Write{Method: tc.method, Path: "/v1.0" + tc.path, Body: compactOrNil(t, tc.body), Status: tc.status}, w[0])
		})
	}
}

func compactOrNil(t testing.TB, s string) json.RawMessage {
	if s == "" {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) != nil {
		return json.RawMessage(s)
	}
	return b.Bytes()
}

func TestWriteFaultsTouchWritesOnly(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	user := tn.Users[1].ID
	s.FailWrites("/users/"+user, 1, TooManyRequests(5))
	require.Equal(t, 200, mustGet(t, s, "/users/"+user).status, "a read of the same path is served")
	res := mustDo(t, s, "PATCH", "/users/"+user, `{"accountEnabled":false}`, nil)
	require.Equal(t, 429, res.status)
	require.Equal(t, "5", res.header.Get("Retry-After"))
	require.Equal(t, 204, mustDo(t, s, "PATCH", "/users/"+user, `{"accountEnabled":false}`, nil).status, "FailWrites is consumed")

	s.RefuseWrites("/users", InsufficientPrivileges())
	for range 2 {
		require.Equal(t, 403, mustDo(t, s, "POST", "/users/"+user+"/revokeSignInSessions", "", nil).status)
	}
	require.Equal(t, 200, mustGet(t, s, "/users/"+user).status)
	s.ClearFaults()
	require.Equal(t, 200, mustDo(t, s, "POST", "/users/"+user+"/revokeSignInSessions", "", nil).status)

	// General faults (FailNext) cover writes as well as reads.
	s.FailNext("/deviceManagement", 1, ServiceUnavailable(1))
	require.Equal(t, 503, mustDo(t, s, "POST", "/deviceManagement/managedDevices/"+tn.ManagedDevices[0].ID+"/retire", "", nil).status)
	var statuses []int
	for _, w := range s.Writes() {
		statuses = append(statuses, w.Status)
	}
	require.Equal(t, []int{429, 204, 403, 403, 200, 503}, statuses, "refused and failed writes are recorded too")
}

func TestGzippedWritesAreRecordedDecompressed(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"accountEnabled": false}`)) //nolint:errcheck
	zw.Close()
	req, err := http.NewRequest("PATCH", s.BaseURL()+"/users/"+tn.Users[0].ID, &b)
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 204, resp.StatusCode)
	require.JSONEq(t, `{"accountEnabled":false}`, string(s.Writes()[0].Body))
}

func TestOversizedRequestsAreRefused(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	big := `{"message":{"subject":"` + strings.Repeat("x", maxRequestBytes) + `"}}`
	res := mustDo(t, s, "POST", "/users/"+tn.Users[0].ID+"/sendMail", big, nil)
	require.Equal(t, 413, res.status)
	require.Empty(t, s.SentMail())
}

func TestSubscriptionRules(t *testing.T) {
	tn := newTestTenant(t)
	clock := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	s := newTestServer(t, tn, Options{Clock: clock})
	hook := newValidatingHook(t)
	create := func(resource, change, exp, notify string) result {
		return mustDo(t, s, "POST", "/subscriptions", `{"resource":"`+resource+`","changeType":"`+change+`","notificationUrl":"`+notify+
			`","expirationDateTime":"`+exp+`","clientState":"c"}`, nil)
	}
	in := func(d time.Duration) string { return clock().Add(d).Format(time.RFC3339) }
	tests := []struct {
		name                     string
		resource, change, notify string
		exp                      string
		status                   int
		expiry                   string
	}{
		{"a users subscription is created", "/users", "updated,deleted", hook, in(48 * time.Hour), 201, in(48 * time.Hour)},
		{"a short expiry is raised to 45 minutes", "/groups", "updated", hook, in(10 * time.Minute), 201, in(45 * time.Minute)},
		{"the longest users lifetime is allowed", "users", "deleted", hook, in(41760 * time.Minute), 201, in(41760 * time.Minute)},
		{"a users lifetime beyond 41760 minutes is refused", "/users", "updated", hook, in(41761 * time.Minute), 400, ""},
		{"an expiry in the past is refused", "/users", "updated", hook, in(-time.Minute), 400, ""},
		{"an unreadable expiry is refused", "/users", "updated", hook, "tomorrow", 400, ""},
		{"created is not a users change type", "/users", "created", hook, in(time.Hour), 400, ""},
		{"alerts_v2 cannot be subscribed to", "/security/alerts_v2", "updated", hook, in(time.Hour), 400, ""},
		{"a plain-http notification url off loopback is refused", "/users", "updated", "http://hooks.example.com/api", in(time.Hour), 400, ""},
		{"an unreachable notification url fails validation", "/users", "updated", "https://127.0.0.1:1/api", in(time.Hour), 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := create(tc.resource, tc.change, tc.exp, tc.notify)
			require.Equal(t, tc.status, res.status, string(res.raw))
			if tc.status == 201 {
				require.Equal(t, "c", res.body["clientState"], "the creator sees its clientState")
				got, err := time.Parse(time.RFC3339Nano, res.body["expirationDateTime"].(string))
				require.NoError(t, err)
				require.Equal(t, tc.expiry, got.Format(time.RFC3339))
			}
		})
	}
	list := mustGet(t, s, "/subscriptions")
	require.Equal(t, 200, list.status)
	require.Len(t, list.body["value"], 3)
	for _, v := range list.body["value"].([]any) {
		require.Nil(t, v.(map[string]any)["clientState"], "a list does not echo clientState")
	}
	require.Len(t, s.Subscriptions(), 3)
	require.Equal(t, 404, mustGet(t, s, "/subscriptions/nope").status)
	require.Equal(t, 200, mustGet(t, s, "/subscriptions/"+s.Subscriptions()[0].ID).status)
	require.Equal(t, 400, mustDo(t, s, "PATCH", "/subscriptions/"+s.Subscriptions()[0].ID, `{"lifecycleNotificationUrl":"https://x"}`, nil).status,
		"lifecycleNotificationUrl cannot be added by PATCH")
	require.Equal(t, 405, mustDo(t, s, "PUT", "/subscriptions/"+s.Subscriptions()[0].ID, `{}`, nil).status)
}

func TestSubscriptionQuota(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	hook := newValidatingHook(t)
	exp := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	body := `{"resource":"/users","changeType":"updated","notificationUrl":"` + hook + `","expirationDateTime":"` + exp + `"}`
	for range subscriptionQuota {
		require.Equal(t, 201, mustDo(t, s, "POST", "/subscriptions", body, nil).status)
	}
	res := mustDo(t, s, "POST", "/subscriptions", body, nil)
	require.Equal(t, 403, res.status)
	require.Contains(t, string(res.raw), "limit")
}

// newValidatingHook answers Graph's validation request correctly.
func newValidatingHook(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(r.URL.Query().Get("validationToken"))) //nolint:errcheck
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/notifications"
}
