package graph

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
)

// newTestWriter serves a small generated tenant and returns a Writer with a
// responder configured, the real SDK talking to the simulator.
func newTestWriter(t testing.TB) (*graphsim.Server, *graphsim.Tenant, *Writer) {
	t.Helper()
	tenant := graphsim.Generate(7, graphsim.Size{Users: 20, Devices: 10, CAGroups: 2, Alerts: 3, Now: time.Now().UTC()})
	srv := graphsim.NewServer(tenant, graphsim.Options{})
	require.NoError(t, srv.Start())
	t.Cleanup(func() { srv.Close() })
	clients, err := NewClients(Options{Endpoint: srv.URL(), Responder: Responder{ClientID: "responder"}})
	require.NoError(t, err)
	w, err := clients.Writer(tenant.ID)
	require.NoError(t, err)
	return srv, tenant, w
}

// mustJSON compacts a literal so recorded bodies compare byte for byte.
func mustJSON(t testing.TB, s string) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func bodyOf(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	return mustJSON(t, string(raw))
}

func TestWriteOperationsSendTheDocumentedRequest(t *testing.T) {
	srv, tenant, w := newTestWriter(t)
	user, device, alert := tenant.Users[0].ID, tenant.ManagedDevices[0].ID, tenant.Alerts[0].ID
	tests := []struct {
		name   string
		do     func(ctx context.Context) error
		method string
		path   string
		body   string // JSON, "" for none
		status int
	}{
		{"revoking sessions posts with no body", func(ctx context.Context) error { return w.RevokeSignInSessions(ctx, user) },
			"POST", "/v1.0/users/" + user + "/revokeSignInSessions", "", 200},
		{"disabling an account patches accountEnabled false", func(ctx context.Context) error { return w.DisableAccount(ctx, user) },
			"PATCH", "/v1.0/users/" + user, `{"accountEnabled":false}`, 204},
		{"enabling an account patches accountEnabled true", func(ctx context.Context) error { return w.EnableAccount(ctx, user) },
			"PATCH", "/v1.0/users/" + user, `{"accountEnabled":true}`, 204},
		{"requiring a password change sets only the flag", func(ctx context.Context) error { return w.RequirePasswordChange(ctx, user) },
			"PATCH", "/v1.0/users/" + user, `{"passwordProfile":{"forceChangePasswordNextSignIn":true}}`, 204},
		{"confirming compromise posts the user ids", func(ctx context.Context) error { return w.ConfirmCompromised(ctx, user, "u2") },
			"POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised", `{"userIds":["` + user + `","u2"]}`, 204},
		{"disabling an inbox rule patches isEnabled false", func(ctx context.Context) error { return w.DisableInboxRule(ctx, user, "AQAAAJ5dZqA=") },
			"PATCH", "/v1.0/users/" + user + "/mailFolders/inbox/messageRules/AQAAAJ5dZqA=", `{"isEnabled":false}`, 200},
		{"a quick defender scan posts quickScan true", func(ctx context.Context) error { return w.DefenderScan(ctx, device, true) },
			"POST", "/v1.0/deviceManagement/managedDevices/" + device + "/windowsDefenderScan", `{"quickScan":true}`, 204},
		{"a remote lock posts with no body", func(ctx context.Context) error { return w.RemoteLock(ctx, device) },
			"POST", "/v1.0/deviceManagement/managedDevices/" + device + "/remoteLock", "", 204},
		{"a retire posts with no body", func(ctx context.Context) error { return w.Retire(ctx, device) },
			"POST", "/v1.0/deviceManagement/managedDevices/" + device + "/retire", "", 204},
		{"a wipe posts its documented options", func(ctx context.Context) error {
			return w.Wipe(ctx, device, WipeOptions{KeepUserData: true, MacOSUnlockCode: "123456"})
		}, "POST", "/v1.0/deviceManagement/managedDevices/" + device + "/wipe",
			`{"keepEnrollmentData":false,"keepUserData":true,"macOsUnlockCode":"123456","persistEsimDataPlan":false}`, 204},
		{"an alert update patches only the writable fields given", func(ctx context.Context) error {
			return w.UpdateAlert(ctx, alert, AlertUpdate{Status: "resolved", Classification: "truePositive", Determination: "compromisedAccount", AssignedTo: "soc@contoso.test"})
		}, "PATCH", "/v1.0/security/alerts_v2/" + alert,
			`{"assignedTo":"soc@contoso.test","classification":"truePositive","determination":"compromisedAccount","status":"resolved"}`, 200},
		{"an alert comment posts one alertComment object", func(ctx context.Context) error { return w.CommentOnAlert(ctx, alert, "resolved by m365security") },
			"POST", "/v1.0/security/alerts_v2/" + alert + "/comments",
			`{"@odata.type":"microsoft.graph.security.alertComment","comment":"resolved by m365security"}`, 200},
		{"reauthorizing a subscription posts with no body", func(ctx context.Context) error {
			return w.ReauthorizeSubscription(ctx, "missing")
		}, "POST", "/v1.0/subscriptions/missing/reauthorize", "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetWrites()
			err := tc.do(context.Background())
			if tc.status < 300 {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			writes := srv.Writes()
			require.Len(t, writes, 1, "exactly one write")
			require.Equal(t, tc.method, writes[0].Method)
			require.Equal(t, tc.path, writes[0].Path)
			want := ""
			if tc.body != "" {
				want = mustJSON(t, tc.body)
			}
			require.Equal(t, want, bodyOf(t, writes[0].Body))
			require.Equal(t, tc.status, writes[0].Status)
		})
	}
}

func TestRemediateMessagesIsARawRequestReturningTheActionCenterLink(t *testing.T) {
	srv, _, w := newTestWriter(t)
	loc, err := w.RemediateMessages(context.Background(), Remediation{
		DisplayName: "Phish purge", Severity: "high", Action: "softDelete",
		Messages: []AnalyzedEmail{{NetworkMessageID: "73ca4154-58d8-43d0-a890-08dc18c52e6d", RecipientEmailAddress: "ada@contoso.test"}},
	})
	require.NoError(t, err)
	require.Contains(t, loc, "https://security.microsoft.com/action-center/")
	writes := srv.Writes()
	require.Len(t, writes, 1)
	require.Equal(t, "POST", writes[0].Method)
	require.Equal(t, "/v1.0/security/collaboration/analyzedEmails/remediate", writes[0].Path)
	require.Equal(t, 202, writes[0].Status)
	require.Equal(t, mustJSON(t, `{"displayName":"Phish purge","severity":"high","action":"softDelete","remediateSendersCopy":false,
		"analyzedEmails":[{"networkMessageId":"73ca4154-58d8-43d0-a890-08dc18c52e6d","recipientEmailAddress":"ada@contoso.test"}]}`), bodyOf(t, writes[0].Body))

	srv.SetLicensing(graphsim.Licensing{WithoutMDOP2: true})
	_, err = w.RemediateMessages(context.Background(), Remediation{DisplayName: "x", Severity: "low", Action: "moveToJunk",
		Messages: []AnalyzedEmail{{NetworkMessageID: "n", RecipientEmailAddress: "r@contoso.test"}}})
	require.ErrorIs(t, err, ErrNotLicensed)
	require.False(t, Retryable(err))
}

func TestWriteFailuresAreClassified(t *testing.T) {
	srv, tenant, w := newTestWriter(t)
	user := tenant.Users[1].ID
	revoke := "/users/" + user + "/revokeSignInSessions"
	tests := []struct {
		name       string
		fault      func()
		userID     string
		kind       error
		retryable  bool
		retryAfter time.Duration
	}{
		{"a refused write is forbidden and not retryable", func() { srv.FailWrites(revoke, 1, graphsim.InsufficientPrivileges()) },
			user, ErrForbidden, false, 0},
		{"a throttled write is retryable after Graph's Retry-After", func() { srv.FailWrites(revoke, 1, graphsim.TooManyRequests(7)) },
			user, ErrThrottled, true, 7 * time.Second},
		{"an unavailable service is retryable", func() { srv.FailWrites(revoke, 1, graphsim.ServiceUnavailable(2)) },
			user, ErrUnavailable, true, 2 * time.Second},
		{"an unknown user is not found", func() {}, "00000000-0000-4000-8000-00000000dead", ErrNotFound, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetWrites()
			tc.fault()
			err := w.RevokeSignInSessions(context.Background(), tc.userID)
			require.ErrorIs(t, err, tc.kind)
			require.Equal(t, tc.retryable, Retryable(err))
			d, ok := RetryAfter(err)
			require.Equal(t, tc.retryAfter, d)
			require.Equal(t, tc.retryAfter > 0, ok)
			require.Len(t, srv.Writes(), 1, "a write is sent once, never retried by the client")
		})
	}
}

func TestWritesWithoutResponderAreRefused(t *testing.T) {
	srv := graphsim.NewServer(graphsim.Generate(1, graphsim.Size{Users: 2, Devices: 1, CAGroups: 1}), graphsim.Options{})
	require.NoError(t, srv.Start())
	t.Cleanup(func() { srv.Close() })
	clients, err := NewClients(Options{Endpoint: srv.URL()})
	require.NoError(t, err)
	require.False(t, clients.ResponderConfigured())
	w, err := clients.Writer("t1")
	require.NoError(t, err)
	ctx := context.Background()
	calls := map[string]func() error{
		"RevokeSignInSessions":    func() error { return w.RevokeSignInSessions(ctx, "u") },
		"DisableAccount":          func() error { return w.DisableAccount(ctx, "u") },
		"EnableAccount":           func() error { return w.EnableAccount(ctx, "u") },
		"RequirePasswordChange":   func() error { return w.RequirePasswordChange(ctx, "u") },
		"ConfirmCompromised":      func() error { return w.ConfirmCompromised(ctx, "u") },
		"DisableInboxRule":        func() error { return w.DisableInboxRule(ctx, "u", "r") },
		"RemediateMessages":       func() error { _, err := w.RemediateMessages(ctx, Remediation{}); return err },
		"DefenderScan":            func() error { return w.DefenderScan(ctx, "d", true) },
		"RemoteLock":              func() error { return w.RemoteLock(ctx, "d") },
		"Retire":                  func() error { return w.Retire(ctx, "d") },
		"Wipe":                    func() error { return w.Wipe(ctx, "d", WipeOptions{}) },
		"UpdateAlert":             func() error { return w.UpdateAlert(ctx, "a", AlertUpdate{Status: "resolved"}) },
		"CommentOnAlert":          func() error { return w.CommentOnAlert(ctx, "a", "c") },
		"CreateSubscription":      func() error { _, err := w.CreateSubscription(ctx, SubscriptionRequest{}); return err },
		"ListSubscriptions":       func() error { _, err := w.ListSubscriptions(ctx); return err },
		"RenewSubscription":       func() error { _, err := w.RenewSubscription(ctx, "s", time.Now()); return err },
		"ReauthorizeSubscription": func() error { return w.ReauthorizeSubscription(ctx, "s") },
		"DeleteSubscription":      func() error { return w.DeleteSubscription(ctx, "s") },
		"SendMail":                func() error { return w.SendMail(ctx, "reports@contoso.test", Mail{}) },
	}
	for _, op := range WriteOperations() {
		t.Run(op.Name+" is refused with the reason", func(t *testing.T) {
			call, ok := calls[op.Name]
			require.True(t, ok, "no call for %s", op.Name)
			err := call()
			require.ErrorIs(t, err, ErrNoResponder)
			require.ErrorContains(t, err, "no responder identity configured (RESPONDER_CLIENT_ID)")
			require.False(t, Retryable(err))
		})
	}
	require.Len(t, calls, len(WriteOperations()))
	require.Empty(t, srv.Writes(), "nothing reaches Graph")
	var nilWriter *Writer
	require.ErrorIs(t, nilWriter.Retire(ctx, "d"), ErrNoResponder)
}

func TestInvalidWritesAreRefusedBeforeSending(t *testing.T) {
	srv, _, w := newTestWriter(t)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"an empty user id", func() error { return w.DisableAccount(ctx, "") }},
		{"an empty rule id", func() error { return w.DisableInboxRule(ctx, "u", "") }},
		{"no users to confirm", func() error { return w.ConfirmCompromised(ctx) }},
		{"an empty user among those to confirm", func() error { return w.ConfirmCompromised(ctx, "u", "") }},
		{"an unknown alert status", func() error { return w.UpdateAlert(ctx, "a", AlertUpdate{Status: "closed"}) }},
		{"an unknown alert classification", func() error { return w.UpdateAlert(ctx, "a", AlertUpdate{Classification: "bogus"}) }},
		{"an unknown alert determination", func() error { return w.UpdateAlert(ctx, "a", AlertUpdate{Determination: "bogus"}) }},
		{"an alert update with nothing in it", func() error { return w.UpdateAlert(ctx, "a", AlertUpdate{}) }},
		{"an empty alert comment", func() error { return w.CommentOnAlert(ctx, "a", "") }},
		{"a remediation without a name", func() error {
			_, err := w.RemediateMessages(ctx, Remediation{Severity: "low", Action: "softDelete", Messages: []AnalyzedEmail{{"n", "r"}}})
			return err
		}},
		{"a remediation with an unknown severity", func() error {
			_, err := w.RemediateMessages(ctx, Remediation{DisplayName: "x", Severity: "urgent", Action: "softDelete", Messages: []AnalyzedEmail{{"n", "r"}}})
			return err
		}},
		{"a remediation with an unknown action", func() error {
			_, err := w.RemediateMessages(ctx, Remediation{DisplayName: "x", Severity: "low", Action: "delete", Messages: []AnalyzedEmail{{"n", "r"}}})
			return err
		}},
		{"a remediation of no messages", func() error {
			_, err := w.RemediateMessages(ctx, Remediation{DisplayName: "x", Severity: "low", Action: "softDelete"})
			return err
		}},
		{"a remediation of a message without recipient", func() error {
			_, err := w.RemediateMessages(ctx, Remediation{DisplayName: "x", Severity: "low", Action: "softDelete", Messages: []AnalyzedEmail{{"n", ""}}})
			return err
		}},
		{"a subscription without a resource", func() error {
			_, err := w.CreateSubscription(ctx, SubscriptionRequest{ChangeType: "updated", NotificationURL: "https://x", Expiration: time.Now().Add(time.Hour)})
			return err
		}},
		{"a subscription without an expiry", func() error {
			_, err := w.CreateSubscription(ctx, SubscriptionRequest{Resource: "/users", ChangeType: "updated", NotificationURL: "https://x"})
			return err
		}},
		{"a subscription with a clientState over 128 characters", func() error {
			_, err := w.CreateSubscription(ctx, SubscriptionRequest{Resource: "/users", ChangeType: "updated", NotificationURL: "https://x",
				Expiration: time.Now().Add(time.Hour), ClientState: strings.Repeat("s", 129)})
			return err
		}},
		{"a renewal without an expiry", func() error { _, err := w.RenewSubscription(ctx, "s", time.Time{}); return err }},
		{"a mail without recipients", func() error { return w.SendMail(ctx, "reports@contoso.test", Mail{Subject: "x"}) }},
		{"an attachment without a name", func() error {
			return w.SendMail(ctx, "reports@contoso.test", Mail{To: []string{"a@contoso.test"}, Attachments: []Attachment{{Content: []byte("x")}}})
		}},
		{"an inline image whose content id has angle brackets", func() error {
			return w.SendMail(ctx, "reports@contoso.test", Mail{To: []string{"a@contoso.test"}, Attachments: []Attachment{{Name: "c.png", ContentID: "<c1>"}}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is a bad request", func(t *testing.T) {
			err := tc.call()
			require.ErrorIs(t, err, ErrBadRequest)
			require.False(t, Retryable(err))
		})
	}
	require.Empty(t, srv.Writes(), "nothing reaches Graph")
}

// newTestWebhook answers Graph's validation request as the product must.
func newTestWebhook(t testing.TB, answer func(token string) (int, string)) (*httptest.Server, *[]string) {
	t.Helper()
	var tokens []string
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("validationToken")
		tokens = append(tokens, tok)
		code, body := answer(tok)
		rw.Header().Set("Content-Type", "text/plain")
		rw.WriteHeader(code)
		io.WriteString(rw, body) //nolint:errcheck
	}))
	t.Cleanup(hook.Close)
	return hook, &tokens
}

func TestSubscriptionLifecycle(t *testing.T) {
	srv, _, w := newTestWriter(t)
	ctx := context.Background()
	hook, tokens := newTestWebhook(t, func(tok string) (int, string) { return 200, tok })
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	req := SubscriptionRequest{Resource: "/users", ChangeType: "updated,deleted", NotificationURL: hook.URL + "/api/notifications",
		LifecycleNotificationURL: hook.URL + "/api/notifications/lifecycle", ClientState: "s3cret", Expiration: exp}

	sub, err := w.CreateSubscription(ctx, req)
	require.NoError(t, err)
	require.NotEmpty(t, sub.ID)
	require.Equal(t, "/users", sub.Resource)
	require.Equal(t, "updated,deleted", sub.ChangeType)
	require.Equal(t, req.LifecycleNotificationURL, sub.LifecycleNotificationURL)
	require.True(t, exp.Equal(sub.Expiration), "%s != %s", exp, sub.Expiration)
	require.Len(t, *tokens, 2, "Graph validates notificationUrl and lifecycleNotificationUrl")
	require.Contains(t, (*tokens)[0], "Validation: Testing client application reachability", "the token arrives decoded")
	writes := srv.Writes()
	require.Equal(t, mustJSON(t, `{"changeType":"updated,deleted","clientState":"s3cret","expirationDateTime":"`+exp.Format(time.RFC3339)+`",
		"lifecycleNotificationUrl":"`+req.LifecycleNotificationURL+`","notificationUrl":"`+req.NotificationURL+`","resource":"/users"}`), bodyOf(t, writes[0].Body))
	require.Equal(t, 201, writes[0].Status)

	list, err := w.ListSubscriptions(ctx)
	require.NoError(t, err)
	require.Equal(t, []Subscription{sub}, list)

	later := exp.Add(24 * time.Hour)
	renewed, err := w.RenewSubscription(ctx, sub.ID, later)
	require.NoError(t, err)
	require.True(t, later.Equal(renewed.Expiration))
	require.Equal(t, mustJSON(t, `{"expirationDateTime":"`+later.Format(time.RFC3339)+`"}`), bodyOf(t, srv.Writes()[len(srv.Writes())-1].Body))

	require.NoError(t, w.ReauthorizeSubscription(ctx, sub.ID))
	require.NoError(t, w.DeleteSubscription(ctx, sub.ID))
	require.ErrorIs(t, w.DeleteSubscription(ctx, sub.ID), ErrNotFound, "a deleted subscription is gone")
	_, err = w.RenewSubscription(ctx, sub.ID, later)
	require.ErrorIs(t, err, ErrNotFound)
	list, err = w.ListSubscriptions(ctx)
	require.NoError(t, err)
	require.Empty(t, list)
	var methods []string
	for _, wr := range srv.Writes() {
		methods = append(methods, wr.Method+" "+strings.TrimPrefix(wr.Path, "/v1.0"))
	}
	require.Equal(t, []string{"POST /subscriptions", "GET /subscriptions", "PATCH /subscriptions/" + sub.ID,
		"POST /subscriptions/" + sub.ID + "/reauthorize", "DELETE /subscriptions/" + sub.ID, "DELETE /subscriptions/" + sub.ID,
		"PATCH /subscriptions/" + sub.ID, "GET /subscriptions"}, methods)
}

func TestSubscriptionCreationFailsWhenValidationFails(t *testing.T) {
	srv, _, w := newTestWriter(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		answer func(string) (int, string)
	}{
		{"an endpoint that echoes the token still encoded", func(tok string) (int, string) { return 200, strings.ReplaceAll(tok, " ", "%20") }},
		{"an endpoint that answers 202", func(tok string) (int, string) { return 202, tok }},
		{"an endpoint that answers nothing useful", func(string) (int, string) { return 500, "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name+" gets no subscription", func(t *testing.T) {
			hook, _ := newTestWebhook(t, tc.answer)
			_, err := w.CreateSubscription(ctx, SubscriptionRequest{Resource: "/groups", ChangeType: "updated", NotificationURL: hook.URL,
				ClientState: "s", Expiration: time.Now().Add(time.Hour)})
			require.ErrorIs(t, err, ErrBadRequest)
			require.ErrorContains(t, err, "validation")
			require.Empty(t, srv.Subscriptions())
		})
	}
	_, err := w.CreateSubscription(ctx, SubscriptionRequest{Resource: "/users", ChangeType: "updated", NotificationURL: "https://hook.example",
		Expiration: time.Now().Add(30 * 24 * time.Hour)})
	require.ErrorIs(t, err, ErrBadRequest, "users subscriptions live at most 41,760 minutes")
}

func TestSendMail(t *testing.T) {
	srv, tenant, w := newTestWriter(t)
	ctx := context.Background()
	sender := tenant.Users[2].UserPrincipalName
	chart := []byte("\x89PNG fake chart")
	pdf := []byte("%PDF-1.7 fake")
	err := w.SendMail(ctx, sender, Mail{
		Subject: "Monthly review", HTML: `<p>See <img src="cid:chart1"></p>`, To: []string{"ciso@contoso.test"}, Cc: []string{"it@contoso.test"},
		Attachments: []Attachment{
			{Name: "chart.png", ContentType: "image/png", ContentID: "chart1", Content: chart},
			{Name: "review.pdf", ContentType: "application/pdf", Content: pdf},
		},
		NoSentItemsCopy: true,
	})
	require.NoError(t, err)
	writes := srv.Writes()
	require.Len(t, writes, 1)
	require.Equal(t, "/v1.0/users/"+sender+"/sendMail", writes[0].Path)
	require.Equal(t, 202, writes[0].Status)
	// msgraph-sdk-go names sendMail's parameters Message and SaveToSentItems,
	// as Graph's metadata does; Graph matches action parameters without
	// regard to case, and the simulator does too.
	require.Equal(t, mustJSON(t, `{"Message":{"subject":"Monthly review","body":{"contentType":"html","content":"<p>See <img src=\"cid:chart1\"></p>"},
		"toRecipients":[{"emailAddress":{"address":"ciso@contoso.test"}}],"ccRecipients":[{"emailAddress":{"address":"it@contoso.test"}}],
		"attachments":[
		 {"@odata.type":"#microsoft.graph.fileAttachment","name":"chart.png","contentType":"image/png","isInline":true,"contentId":"chart1","contentBytes":"iVBORyBmYWtlIGNoYXJ0"},
		 {"@odata.type":"#microsoft.graph.fileAttachment","name":"review.pdf","contentType":"application/pdf","contentBytes":"JVBERi0xLjcgZmFrZQ=="}]},
		"SaveToSentItems":false}`), bodyOf(t, writes[0].Body))
	mail := srv.SentMail()
	require.Len(t, mail, 1)
	require.Equal(t, graphsim.SentMail{Sender: sender, Subject: "Monthly review", ContentType: "html", Body: `<p>See <img src="cid:chart1"></p>`,
		To: []string{"ciso@contoso.test"}, Cc: []string{"it@contoso.test"},
		Attachments: []graphsim.SentAttachment{
			{Name: "chart.png", ContentType: "image/png", ContentID: "chart1", IsInline: true, Size: len(chart)},
			{Name: "review.pdf", ContentType: "application/pdf", Size: len(pdf)},
		}, RequestBytes: mail[0].RequestBytes}, mail[0])
}

func TestSendMailGuardsTheInlineAttachmentLimit(t *testing.T) {
	srv, tenant, w := newTestWriter(t)
	sender := tenant.Users[2].ID
	tests := []struct {
		name string
		size int
		ok   bool
	}{
		{"attachments of exactly 3 MB are sent inside the 4 MB request limit", MaxInlineAttachmentBytes, true},
		{"one byte more is refused before sending", MaxInlineAttachmentBytes + 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetWrites()
			half := tc.size / 2
			m := Mail{Subject: "big", To: []string{"a@contoso.test"}, Attachments: []Attachment{
				{Name: "a.bin", Content: make([]byte, half)}, {Name: "b.bin", Content: make([]byte, tc.size-half)}}}
			require.Equal(t, tc.size, m.AttachmentBytes())
			err := w.SendMail(context.Background(), sender, m)
			if tc.ok {
				require.NoError(t, err)
				require.Len(t, srv.SentMail(), 1)
				require.LessOrEqual(t, srv.SentMail()[0].RequestBytes, 4<<20, "inside Graph's 4 MB request limit")
				return
			}
			require.ErrorIs(t, err, ErrMailTooLarge)
			require.False(t, Retryable(err))
			require.Empty(t, srv.Writes())
		})
	}
}

func TestEveryWriterMethodIsAWriteOperation(t *testing.T) {
	ops := map[string]WriteOperation{}
	for _, op := range WriteOperations() {
		_, dup := ops[op.Name]
		require.False(t, dup, "%s listed twice", op.Name)
		ops[op.Name] = op
		require.NotEmpty(t, op.Permissions, op.Name)
		require.True(t, strings.HasPrefix(op.Path, "/"), op.Name)
		require.Contains(t, []string{"GET", "POST", "PATCH", "DELETE"}, op.Method, op.Name)
		require.GreaterOrEqual(t, op.Status, 200, op.Name)
		require.Less(t, op.Status, 300, op.Name)
	}
	wt := reflect.TypeFor[*Writer]()
	var methods []string
	for i := range wt.NumMethod() {
		if m := wt.Method(i).Name; m != "TenantID" {
			methods = append(methods, m)
		}
	}
	require.ElementsMatch(t, methods, keys(ops), "every Writer method is declared in WriteOperations, and only those")
	perms := WritePermissions()
	require.IsIncreasing(t, perms)
	require.Contains(t, perms, "Mail.Send")
	WriteOperations()[0].Permissions[0] = "changed"
	require.NotEqual(t, "changed", WriteOperations()[0].Permissions[0], "the table is a copy")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestUpdateAlertWithComment(t *testing.T) {
	srv, tenant, w := newTestWriter(t)
	alert := tenant.Alerts[1].ID
	ctx := context.Background()
	require.NoError(t, w.UpdateAlert(ctx, alert, AlertUpdate{Status: "inProgress", Comment: "taken"}))
	var got []string
	for _, wr := range srv.Writes() {
		got = append(got, wr.Method+" "+strings.TrimPrefix(wr.Path, "/v1.0"))
	}
	require.Equal(t, []string{"PATCH /security/alerts_v2/" + alert, "POST /security/alerts_v2/" + alert + "/comments"}, got,
		"the update, then the comment")

	srv.ResetWrites()
	require.NoError(t, w.UpdateAlert(ctx, alert, AlertUpdate{Comment: "only a comment"}))
	require.Len(t, srv.Writes(), 1, "a comment alone sends no PATCH")
	require.Equal(t, "POST", srv.Writes()[0].Method)

	srv.ResetWrites()
	srv.FailWrites("/security/alerts_v2", 1, graphsim.InsufficientPrivileges())
	require.ErrorIs(t, w.UpdateAlert(ctx, alert, AlertUpdate{Status: "resolved", Comment: "done"}), ErrForbidden)
	require.Len(t, srv.Writes(), 1, "a failed update posts no comment")
}

func TestSendMailSendsOnlyWhatIsGiven(t *testing.T) {
	srv, tenant, w := newTestWriter(t)
	require.NoError(t, w.SendMail(context.Background(), tenant.Users[0].ID, Mail{Subject: "s", HTML: "<p>x</p>", To: []string{"a@contoso.test"}}))
	require.Equal(t, mustJSON(t, `{"Message":{"subject":"s","body":{"contentType":"html","content":"<p>x</p>"},
		"toRecipients":[{"emailAddress":{"address":"a@contoso.test"}}]}}`), bodyOf(t, srv.Writes()[0].Body),
		"no ccRecipients, attachments or saveToSentItems unless asked for")
	require.True(t, srv.SentMail()[0].SaveToSentItems, "Graph's default keeps a copy")
}
