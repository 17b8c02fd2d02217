package invoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/handler/invoke"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// syncBuffer is the process log: handlers write it, tests read it after.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestLogger returns a JSON process logger at Debug and what it wrote.
func newTestLogger(tb testing.TB) (*slog.Logger, *syncBuffer) {
	tb.Helper()
	buf := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// fakeParker records parked messages; err makes Park fail.
type fakeParker struct {
	mu     sync.Mutex
	parked []invoke.Parked
	err    error
}

var _ invoke.Parker = (*fakeParker)(nil)

func (p *fakeParker) Park(_ context.Context, m invoke.Parked) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.parked = append(p.parked, m)
	return nil
}

func (p *fakeParker) all() []invoke.Parked {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]invoke.Parked(nil), p.parked...)
}

var fixedNow = time.Date(2025, 3, 1, 6, 0, 2, 0, time.UTC)

// post sends body to h the way the host does and returns the recorder.
func post(tb testing.TB, h http.Handler, function string, body io.Reader) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, "/"+function, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Azure-Functions-InvocationId", "inv-0001")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// responseBody is the union of the success and failure envelopes.
type responseBody struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
	Error       *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func mustDecodeResponse(tb testing.TB, rec *httptest.ResponseRecorder) responseBody {
	tb.Helper()
	require.Equal(tb, "application/json", rec.Header().Get("Content-Type"))
	var r responseBody
	require.NoError(tb, json.Unmarshal(rec.Body.Bytes(), &r), rec.Body.String())
	return r
}

// requireGolden compares got with testdata/name, rewriting it under -update.
func requireGolden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(tb, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(tb, err, "run go test ./handler/invoke -update to create %s", p)
	require.Equal(tb, string(want), string(got))
}

func TestTimerHandler(t *testing.T) {
	tests := []struct {
		name       string
		fixture    string
		fn         invoke.TimerFunc
		wantStatus int
		wantCode   string
		wantLogs   []string
		golden     string
		wantCalled bool
	}{
		{
			name:    "a successful run answers 200 with Info logs copied into Logs",
			fixture: "timer_monitored.json",
			fn: func(ctx context.Context, inv invoke.Invocation, ti invoke.TimerInfo) error {
				inv.Log.Debug("debug lines stay in the process log")
				inv.Log.Info("posture collected", "tenant_id", "contoso", "sources", 4)
				inv.Log.Warn("one source throttled", "source", "secureScores")
				return nil
			},
			wantStatus: http.StatusOK,
			wantLogs: []string{
				"INFO posture collected tenant_id=contoso sources=4",
				"WARN one source throttled source=secureScores",
			},
			golden:     "timer_ok.golden",
			wantCalled: true,
		},
		{
			name:       "a past-due run says so in Logs",
			fixture:    "timer_past_due.json",
			fn:         func(context.Context, invoke.Invocation, invoke.TimerInfo) error { return nil },
			wantStatus: http.StatusOK,
			wantLogs:   []string{"INFO timer is past due; running the missed slot now"},
			wantCalled: true,
		},
		{
			name:    "a failing function answers 500 with an error body",
			fixture: "timer_unmonitored.json",
			fn: func(ctx context.Context, inv invoke.Invocation, ti invoke.TimerInfo) error {
				return errors.New("tenant contoso: graph unavailable")
			},
			wantStatus: http.StatusInternalServerError,
			wantCode:   "invocationFailed",
			wantLogs:   []string{"ERROR invocation failed error=tenant contoso: graph unavailable status=500"},
			golden:     "timer_failed.golden",
			wantCalled: true,
		},
		{
			name:       "a malformed envelope answers 400 without running the function",
			fixture:    "malformed_truncated.json",
			wantStatus: http.StatusBadRequest,
			wantCode:   "badRequest",
		},
		{
			name:       "an envelope without the timer binding answers 400",
			fixture:    "servicebus_5x.json",
			wantStatus: http.StatusBadRequest,
			wantCode:   "badRequest",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log, _ := newTestLogger(t)
			called := false
			var gotInv invoke.Invocation
			fn := func(ctx context.Context, inv invoke.Invocation, ti invoke.TimerInfo) error {
				called, gotInv = true, inv
				return tc.fn(ctx, inv, ti)
			}
			h := invoke.Timer("CollectSecureScore", "timer", fn, log)
			rec := post(t, h, "CollectSecureScore", bytes.NewReader(mustReadFixture(t, tc.fixture)))

			require.Equal(t, tc.wantStatus, rec.Code, rec.Body.String())
			require.Equal(t, tc.wantCalled, called)
			resp := mustDecodeResponse(t, rec)
			if tc.wantCode == "" {
				require.Nil(t, resp.Error)
				require.NotNil(t, resp.Outputs)
				require.Empty(t, resp.Outputs)
				require.Nil(t, resp.ReturnValue)
				require.Contains(t, rec.Body.String(), `"ReturnValue":null`)
			} else {
				require.NotNil(t, resp.Error)
				require.Equal(t, tc.wantCode, resp.Error.Code)
				require.NotEmpty(t, resp.Error.Message)
			}
			if tc.wantLogs != nil {
				require.Equal(t, tc.wantLogs, resp.Logs)
			}
			if called {
				require.Equal(t, "inv-0001", gotInv.ID)
				require.Equal(t, "CollectSecureScore", gotInv.Function)
				require.NotEmpty(t, gotInv.Sys.MethodName)
			}
			if tc.golden != "" {
				requireGolden(t, tc.golden, rec.Body.Bytes())
			}
		})
	}
}

func TestTimerHandlerOversizeBody(t *testing.T) {
	log, _ := newTestLogger(t)
	called := false
	h := invoke.Timer("CollectIdentity", "timer", func(context.Context, invoke.Invocation, invoke.TimerInfo) error {
		called = true
		return nil
	}, log)
	rec := post(t, h, "CollectIdentity", strings.NewReader(strings.Repeat(" ", invoke.MaxEnvelopeBytes+1)))
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.False(t, called)
	require.Equal(t, "payloadTooLarge", mustDecodeResponse(t, rec).Error.Code)
}

func TestTimerHandlerLogsCarryInvocationAttributes(t *testing.T) {
	log, procLog := newTestLogger(t)
	h := invoke.Timer("CollectIdentity", "timer", func(_ context.Context, inv invoke.Invocation, _ invoke.TimerInfo) error {
		inv.Log.Info("hello")
		return nil
	}, log)
	rec := post(t, h, "CollectIdentity", bytes.NewReader(mustReadFixture(t, "timer_monitored.json")))
	require.Equal(t, http.StatusOK, rec.Code)

	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(procLog.String()), "\n") {
		require.NoError(t, json.Unmarshal([]byte(l), &line))
		if line["msg"] == "hello" {
			break
		}
	}
	require.Equal(t, "hello", line["msg"])
	require.Equal(t, "inv-0001", line["invocation_id"])
	require.Equal(t, "CollectIdentity", line["function"])
	// The host already knows them: Logs repeat neither.
	require.Equal(t, []string{"INFO hello"}, mustDecodeResponse(t, rec).Logs)
}

func TestHandlerGeneratesAnInvocationIDWhenTheHeaderIsMissing(t *testing.T) {
	log, _ := newTestLogger(t)
	var id string
	h := invoke.Timer("CollectIdentity", "timer", func(_ context.Context, inv invoke.Invocation, _ invoke.TimerInfo) error {
		id = inv.ID
		return nil
	}, log)
	req := httptest.NewRequest(http.MethodPost, "/CollectIdentity", bytes.NewReader(mustReadFixture(t, "timer_monitored.json")))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	// Shaped like the host's own ids, a version-4 GUID.
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id)
}

// errReader fails mid-body, like a connection the host dropped.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestQueueHandler(t *testing.T) {
	bigBody := `{"pad":"` + strings.Repeat("x", 100<<10) + `"}`
	bigEnv, err := invoke.MessageEnvelope("ProcessChangeNotification", "msg",
		invoke.Message{Body: []byte(bigBody), MessageID: "big-1", DeliveryCount: 1, EnqueuedTime: fixedNow}, fixedNow, "g")
	require.NoError(t, err)
	hugeEnv, err := invoke.MessageEnvelope("ProcessChangeNotification", "msg",
		invoke.Message{Body: bytes.Repeat([]byte("y"), 5<<20), MessageID: "huge-1", DeliveryCount: 1, EnqueuedTime: fixedNow}, fixedNow, "g")
	require.NoError(t, err)

	tests := []struct {
		name       string
		body       func() io.Reader
		fn         invoke.MessageFunc
		parkErr    error
		wantStatus int
		wantCalled bool
		// wantParked is nil when nothing may be parked.
		wantParked *invoke.Parked
		// wantParkedBodyLen checks truncation when the body is too long to spell out.
		wantParkedBodyLen int
		wantReason        string
		wantLogs          []string
		golden            string
	}{
		{
			name:       "a completed message answers 200",
			body:       fixture("servicebus_5x.json"),
			fn:         func(context.Context, invoke.Invocation, invoke.Message) error { return nil },
			wantStatus: http.StatusOK,
			wantCalled: true,
		},
		{
			name: "a retryable error answers 500 so Service Bus redelivers",
			body: fixture("servicebus_5x.json"),
			fn: func(context.Context, invoke.Invocation, invoke.Message) error {
				return invoke.Retry(errors.New("graph throttled"))
			},
			wantStatus: http.StatusInternalServerError,
			wantCalled: true,
		},
		{
			name: "a permanent error parks the message and answers 200",
			body: fixture("servicebus_5x.json"),
			fn: func(context.Context, invoke.Invocation, invoke.Message) error {
				return errors.New("user 8a1c does not exist")
			},
			wantStatus: http.StatusOK,
			wantCalled: true,
			wantParked: &invoke.Parked{
				Function: "ProcessChangeNotification", MessageID: "resp-8a1c-revoke-20250301", DeliveryCount: 1,
				Reason: "user 8a1c does not exist", ParkedAt: fixedNow,
				Body: `{"action":"revokeSessions","userId":"8a1c2f3e-5b6d-4e7f-8091-a2b3c4d5e6f7"}`,
			},
			wantLogs: []string{
				"ERROR message parked message_id=resp-8a1c-revoke-20250301 delivery_count=1 reason=user 8a1c does not exist",
			},
			golden: "queue_parked.golden",
		},
		{
			name: "a parked body is cut at 64 KiB",
			body: func() io.Reader { return bytes.NewReader(bigEnv) },
			fn: func(context.Context, invoke.Invocation, invoke.Message) error {
				return errors.New("unknown change kind")
			},
			wantStatus:        http.StatusOK,
			wantCalled:        true,
			wantParkedBodyLen: 64 << 10,
			wantReason:        "unknown change kind",
		},
		{
			name: "a parker that fails answers 500 so the message is not lost",
			body: fixture("servicebus_5x.json"),
			fn: func(context.Context, invoke.Invocation, invoke.Message) error {
				return errors.New("permanent")
			},
			parkErr:    errors.New("store unavailable"),
			wantStatus: http.StatusInternalServerError,
			wantCalled: true,
		},
		{
			name:       "a malformed envelope is parked with the reason and answers 200",
			body:       fixture("malformed_delivery_count.json"),
			wantStatus: http.StatusOK,
			wantParked: &invoke.Parked{
				Function: "ProcessChangeNotification", MessageID: "dc-1",
				Reason: `malformed invocation envelope: DeliveryCount "abc" is not a count`, ParkedAt: fixedNow,
				Body: `{"action":"noop"}`,
			},
		},
		{
			name:              "an envelope that is not JSON is parked whole",
			body:              fixture("malformed_not_json.txt"),
			wantStatus:        http.StatusOK,
			wantParkedBodyLen: len(mustReadFixture(t, "malformed_not_json.txt")),
			wantReason:        "malformed invocation envelope: body is not an invocation envelope",
		},
		{
			name:              "an oversize envelope is parked, not read whole",
			body:              func() io.Reader { return bytes.NewReader(hugeEnv) },
			wantStatus:        http.StatusOK,
			wantParkedBodyLen: 64 << 10,
			wantReason:        "malformed invocation envelope: envelope exceeds 4194304 bytes",
		},
		{
			name:       "a body that cannot be read answers 500 and parks nothing",
			body:       func() io.Reader { return errReader{} },
			wantStatus: http.StatusInternalServerError,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log, _ := newTestLogger(t)
			parker := &fakeParker{err: tc.parkErr}
			called := false
			fn := func(ctx context.Context, inv invoke.Invocation, m invoke.Message) error {
				called = true
				return tc.fn(ctx, inv, m)
			}
			h := invoke.Queue("ProcessChangeNotification", "msg", fn, parker, log, func() time.Time { return fixedNow })
			rec := post(t, h, "ProcessChangeNotification", tc.body())

			require.Equal(t, tc.wantStatus, rec.Code, rec.Body.String())
			require.Equal(t, tc.wantCalled, called)
			resp := mustDecodeResponse(t, rec)
			if tc.wantStatus == http.StatusOK {
				require.Nil(t, resp.Error)
			} else {
				require.NotNil(t, resp.Error)
				require.Equal(t, "invocationFailed", resp.Error.Code)
			}
			parked := parker.all()
			switch {
			case tc.wantParked != nil:
				require.Equal(t, []invoke.Parked{*tc.wantParked}, parked)
			case tc.wantParkedBodyLen > 0:
				require.Len(t, parked, 1)
				require.Len(t, parked[0].Body, tc.wantParkedBodyLen)
				require.Contains(t, parked[0].Reason, tc.wantReason)
				require.Equal(t, "ProcessChangeNotification", parked[0].Function)
			default:
				require.Empty(t, parked)
			}
			if tc.wantLogs != nil {
				require.Equal(t, tc.wantLogs, resp.Logs)
			}
			if tc.golden != "" {
				requireGolden(t, tc.golden, rec.Body.Bytes())
			}
		})
	}
}

func fixture(name string) func() io.Reader {
	return func() io.Reader {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			panic(err)
		}
		return bytes.NewReader(b)
	}
}

func TestQueueHandlerDeliversTheDecodedMessage(t *testing.T) {
	log, _ := newTestLogger(t)
	var got invoke.Message
	var gotInv invoke.Invocation
	h := invoke.Queue("ProcessChangeNotification", "msg", func(_ context.Context, inv invoke.Invocation, m invoke.Message) error {
		got, gotInv = m, inv
		return nil
	}, &fakeParker{}, log, time.Now)
	rec := post(t, h, "ProcessChangeNotification", bytes.NewReader(mustReadFixture(t, "servicebus_4x.json")))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "alert-d-0042-isolate", got.MessageID)
	require.Equal(t, 3, got.DeliveryCount)
	require.Equal(t, `{"action":"isolateDevice","deviceId":"d-0042"}`, string(got.Body))
	require.Equal(t, "ProcessChangeNotification", gotInv.Sys.MethodName)
	require.Equal(t, "inv-0001", gotInv.ID)
}

func TestHandlerPanicIsA500WithoutInternals(t *testing.T) {
	tests := []struct {
		name    string
		handler func(log *slog.Logger) http.Handler
		fixture string
	}{
		{
			name: "a panicking queue function answers 500 for redelivery",
			handler: func(log *slog.Logger) http.Handler {
				return invoke.Queue("ProcessChangeNotification", "msg", func(context.Context, invoke.Invocation, invoke.Message) error {
					panic("nil map in responder: token=eyJhbGciOi")
				}, &fakeParker{}, log, time.Now)
			},
			fixture: "servicebus_5x.json",
		},
		{
			name: "a panicking timer function answers 500",
			handler: func(log *slog.Logger) http.Handler {
				return invoke.Timer("CollectIdentity", "timer", func(context.Context, invoke.Invocation, invoke.TimerInfo) error {
					panic("nil map in responder: token=eyJhbGciOi")
				}, log)
			},
			fixture: "timer_monitored.json",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log, procLog := newTestLogger(t)
			rec := post(t, tc.handler(log), "Fn", bytes.NewReader(mustReadFixture(t, tc.fixture)))

			require.Equal(t, http.StatusInternalServerError, rec.Code)
			resp := mustDecodeResponse(t, rec)
			require.Equal(t, "internal error", resp.Error.Message)
			body := rec.Body.String()
			require.NotContains(t, body, "goroutine")
			require.NotContains(t, body, "nil map")
			require.NotContains(t, body, "eyJhbGciOi")
			require.NotContains(t, body, ".go:")

			out := procLog.String()
			require.Contains(t, out, `"msg":"invocation panicked"`)
			require.Contains(t, out, "nil map in responder")
			require.Contains(t, out, "goroutine")
			require.Contains(t, out, "handler_test.go")
		})
	}
}

func TestMessageBodySecretsStayOutOfLogs(t *testing.T) {
	const secret = "s3cr3t-client-state-value"
	env, err := invoke.MessageEnvelope("ProcessChangeNotification", "msg", invoke.Message{
		Body:      []byte(`{"clientState":"` + secret + `","resource":"users/1"}`),
		MessageID: "m-1", DeliveryCount: 1, EnqueuedTime: fixedNow,
		ApplicationProperties: map[string]any{"note": "no secret here"},
	}, fixedNow, "g")
	require.NoError(t, err)
	require.Contains(t, string(env), secret, "the envelope must carry the secret for this test to mean anything")

	tests := []struct {
		name       string
		fn         invoke.MessageFunc
		wantSecret bool
	}{
		{
			name: "a completed message logs no body",
			fn: func(_ context.Context, inv invoke.Invocation, m invoke.Message) error {
				inv.Log.Info("change processed", "resource", "users/1")
				return nil
			},
		},
		{
			name: "a parked message logs no body",
			fn: func(context.Context, invoke.Invocation, invoke.Message) error {
				return errors.New("resource gone")
			},
		},
		{
			name: "a retried message logs no body",
			fn: func(context.Context, invoke.Invocation, invoke.Message) error {
				return invoke.Retry(errors.New("throttled"))
			},
		},
		{
			name: "what the function itself logs does appear",
			fn: func(_ context.Context, inv invoke.Invocation, m invoke.Message) error {
				inv.Log.Info("careless", "body", string(m.Body))
				return nil
			},
			wantSecret: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log, procLog := newTestLogger(t)
			h := invoke.Queue("ProcessChangeNotification", "msg", tc.fn, &fakeParker{}, log, time.Now)
			rec := post(t, h, "ProcessChangeNotification", bytes.NewReader(env))
			logs := strings.Join(mustDecodeResponse(t, rec).Logs, "\n")
			if tc.wantSecret {
				require.Contains(t, logs, secret)
				return
			}
			require.NotContains(t, logs, secret)
			require.NotContains(t, rec.Body.String(), secret)
			require.NotContains(t, procLog.String(), secret)
		})
	}
}

func TestRetry(t *testing.T) {
	base := errors.New("throttled")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a Retry-wrapped error is retryable", invoke.Retry(base), true},
		{"a Retry error wrapped again stays retryable", errors.Join(errors.New("ctx"), invoke.Retry(base)), true},
		{"a plain error is permanent", base, false},
		{"nil is not retryable", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, invoke.IsRetry(tc.err))
		})
	}
	t.Run("Retry keeps the cause reachable", func(t *testing.T) {
		require.ErrorIs(t, invoke.Retry(base), base)
		require.Equal(t, "throttled", invoke.Retry(base).Error())
	})
	t.Run("Retry of nil is nil", func(t *testing.T) {
		require.NoError(t, invoke.Retry(nil))
	})
}
