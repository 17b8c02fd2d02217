package invoke_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/handler/invoke"
)

// mustReadFixture returns a captured-shape payload from testdata.
func mustReadFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(tb, err)
	return b
}

func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

func TestDecodeTimerFixtures(t *testing.T) {
	tests := []struct {
		name       string
		fixture    string
		wantStatus *invoke.ScheduleStatus
		wantPast   bool
		wantMethod string
		wantUtcNow time.Time
	}{
		{
			name:    "a monitored schedule carries last and next occurrences",
			fixture: "timer_monitored.json",
			wantStatus: &invoke.ScheduleStatus{
				Last:        utc(2025, 3, 1, 5, 0, 0, 4123400),
				Next:        utc(2025, 3, 1, 6, 0, 0, 0),
				LastUpdated: utc(2025, 3, 1, 5, 0, 0, 4123400),
			},
			wantMethod: "CollectSecureScore",
			wantUtcNow: utc(2025, 3, 1, 6, 0, 0, 12345600),
		},
		{
			name:       "an unmonitored schedule has a null ScheduleStatus",
			fixture:    "timer_unmonitored.json",
			wantStatus: nil,
			wantMethod: "CollectIdentity",
			wantUtcNow: utc(2025, 3, 1, 8, 0, 0, 100),
		},
		{
			name:    "a past-due first run has a zone-less zero Last",
			fixture: "timer_past_due.json",
			wantStatus: &invoke.ScheduleStatus{
				Next: utc(2025, 3, 2, 5, 40, 0, 0),
			},
			wantPast:   true,
			wantMethod: "CollectSecureScore",
			wantUtcNow: utc(2025, 3, 1, 9, 13, 27, 555123400),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := invoke.DecodeRequest(mustReadFixture(t, tc.fixture))
			require.NoError(t, err)
			info, err := req.DecodeTimer("timer")
			require.NoError(t, err)

			require.True(t, info.Schedule.AdjustForDST)
			require.Equal(t, tc.wantPast, info.IsPastDue)
			if tc.wantStatus == nil {
				require.Nil(t, info.ScheduleStatus)
			} else {
				require.NotNil(t, info.ScheduleStatus)
				requireSameInstant(t, tc.wantStatus.Last, info.ScheduleStatus.Last)
				requireSameInstant(t, tc.wantStatus.Next, info.ScheduleStatus.Next)
				requireSameInstant(t, tc.wantStatus.LastUpdated, info.ScheduleStatus.LastUpdated)
			}
			sys := req.Sys()
			require.Equal(t, tc.wantMethod, sys.MethodName)
			requireSameInstant(t, tc.wantUtcNow, sys.UtcNow)
			require.NotEmpty(t, sys.RandGuid)
		})
	}
}

func requireSameInstant(tb testing.TB, want, got time.Time) {
	tb.Helper()
	require.True(tb, want.Equal(got), "want %s, got %s", want.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
}

func TestDecodeMessageFixtures(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    invoke.Message
	}{
		{
			name:    "a 5.x envelope has a JSON-string body, quoted strings and both property sets",
			fixture: "servicebus_5x.json",
			want: invoke.Message{
				Body:                  []byte(`{"action":"revokeSessions","userId":"8a1c2f3e-5b6d-4e7f-8091-a2b3c4d5e6f7"}`),
				MessageID:             "resp-8a1c-revoke-20250301",
				ContentType:           "application/json",
				LockToken:             "5d1c2b7e-3f0a-4a53-9a84-1c2f3e4d5a6b",
				DeliveryCount:         1,
				SequenceNumber:        42,
				EnqueuedTime:          utc(2025, 3, 1, 6, 0, 1, 0),
				ApplicationProperties: map[string]any{"kind": "revoke"},
			},
		},
		{
			name:    "a 4.x envelope has only UserProperties, Label and zone-less Utc times",
			fixture: "servicebus_4x.json",
			want: invoke.Message{
				Body:                  []byte(`{"action":"isolateDevice","deviceId":"d-0042"}`),
				MessageID:             "alert-d-0042-isolate",
				CorrelationID:         "incident-17",
				Subject:               "alert",
				LockToken:             "b3f1a2c4-0d9e-4f8a-8b7c-6d5e4f3a2b1c",
				DeliveryCount:         3,
				SequenceNumber:        9001,
				EnqueuedTime:          utc(2025, 2, 28, 23, 59, 59, 123456700),
				ApplicationProperties: map[string]any{"kind": "isolate", "attempt": float64(2)},
			},
		},
		{
			name:    "a body sent as a JSON object comes back as its bytes",
			fixture: "servicebus_body_object.json",
			want: invoke.Message{
				Body:           []byte(`{"action":"revokeSessions","userId":"u-1"}`),
				MessageID:      "obj-1",
				DeliveryCount:  2,
				SequenceNumber: 7,
				EnqueuedTime:   utc(2025, 3, 1, 6, 0, 1, 0),
			},
		},
		{
			name:    "a base64 body of JSON is decoded",
			fixture: "servicebus_body_base64.json",
			want: invoke.Message{
				Body:           []byte(`{"action":"wipe","deviceId":"d-7"}`),
				MessageID:      "b64-1",
				DeliveryCount:  2,
				SequenceNumber: 7,
				EnqueuedTime:   utc(2025, 3, 1, 6, 0, 1, 0),
			},
		},
		{
			name:    "a plain-text body is kept as text",
			fixture: "servicebus_body_plain.json",
			want: invoke.Message{
				Body:           []byte(`plain text alert: disk 91% full`),
				MessageID:      "plain-1",
				DeliveryCount:  2,
				SequenceNumber: 7,
				EnqueuedTime:   utc(2025, 3, 1, 6, 0, 1, 0),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := invoke.DecodeRequest(mustReadFixture(t, tc.fixture))
			require.NoError(t, err)
			got, err := req.DecodeMessage("msg")
			require.NoError(t, err)

			require.Equal(t, string(tc.want.Body), string(got.Body))
			requireSameInstant(t, tc.want.EnqueuedTime, got.EnqueuedTime)
			require.Equal(t, time.UTC, got.EnqueuedTime.Location())
			// Times compared above; compare the rest field by field.
			got.EnqueuedTime, tc.want.EnqueuedTime = time.Time{}, time.Time{}
			got.Body, tc.want.Body = nil, nil
			require.Equal(t, tc.want, got)
			require.Equal(t, "ProcessChangeNotification", req.Sys().MethodName)
		})
	}
}

func TestDecodeMalformedFixtures(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		wantErr string
	}{
		{"a body that is not JSON is refused", "malformed_not_json.txt", "body is not an invocation envelope"},
		{"a truncated envelope is refused", "malformed_truncated.json", "body is not an invocation envelope"},
		{"a JSON array is not an envelope", "malformed_array.json", "body is not an invocation envelope"},
		{"an envelope without Data is refused", "malformed_missing_data.json", "envelope has no Data object"},
		{"a null message binding is refused", "malformed_msg_null.json", `binding "msg" is null`},
		{"a numeric message binding is refused", "malformed_msg_number.json", `binding "msg" is neither a string nor an object`},
		{"a DeliveryCount that is not a number is refused, not read as zero", "malformed_delivery_count.json", `DeliveryCount "abc" is not a count`},
		{"an EnqueuedTimeUtc that is not a time is refused", "malformed_enqueued_time.json", `EnqueuedTimeUtc "yesterday" is not a timestamp`},
		{"ApplicationProperties as a string is refused", "malformed_application_properties.json", "ApplicationProperties is not an object"},
		{"trailing garbage after the envelope is refused", "malformed_trailing_garbage.json", "trailing data after the envelope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := mustReadFixture(t, tc.fixture)
			var err error
			require.NotPanics(t, func() {
				var req invoke.Request
				req, err = invoke.DecodeRequest(body)
				if err == nil {
					_, err = req.DecodeMessage("msg")
				}
			})
			require.ErrorIs(t, err, invoke.ErrMalformed)
			require.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestDecodeRequestTrailingData(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"an envelope followed by whitespace is accepted", "{\"Data\":{}}\n\t ", false},
		{"an extra closing brace is refused", `{"Data":{}}}`, true},
		{"an extra closing bracket is refused", `{"Data":{}}]`, true},
		{"a second envelope is refused", `{"Data":{}}{"Data":{}}`, true},
		{"a stray word is refused", `{"Data":{}} x`, true},
		{"JSON null is refused", `null`, true},
		{"an empty body is refused", ``, true},
		{"Data that is a string is refused", `{"Data":"x"}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invoke.DecodeRequest([]byte(tc.body))
			if tc.wantErr {
				require.ErrorIs(t, err, invoke.ErrMalformed)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestDecodeRequestHugeBody(t *testing.T) {
	// The handler bounds envelope size; DecodeRequest itself must neither
	// truncate nor choke on a large body.
	body := strings.Repeat("a", 5<<20)
	env, err := invoke.MessageEnvelope("Fn", "msg", invoke.Message{Body: []byte(body), MessageID: "big"}, time.Now(), "g")
	require.NoError(t, err)
	req, err := invoke.DecodeRequest(env)
	require.NoError(t, err)
	m, err := req.DecodeMessage("msg")
	require.NoError(t, err)
	require.Len(t, m.Body, 5<<20)
}

func TestMetaString(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   string
		wantOK bool
	}{
		{"a host-quoted string loses its inner quotes", `"\"abc\""`, "abc", true},
		{"a number sent as a string stays a number", `"1"`, "1", true},
		{"a bare number is usable", `42`, "42", true},
		{"a bare bool is usable", `true`, "true", true},
		{"an unquoted string is kept as is", `"2025-03-01T06:00:01"`, "2025-03-01T06:00:01", true},
		{"JSON escapes in the inner layer unescape as JSON", `"\"a\\/b \\u00e9\""`, "a/b é", true},
		{"a value whose inner layer is itself quoted unwraps once", `"\"\\\"x\\\"\""`, `"x"`, true},
		{"a lone leading quote is kept", `"\"abc"`, `"abc`, true},
		{"null is absent", `null`, "", false},
		{"an object is not a scalar", `{"a":1}`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := invoke.Request{Metadata: map[string]json.RawMessage{"Key": json.RawMessage(tc.raw)}}
			got, ok := req.MetaString("Key")
			require.Equal(t, tc.wantOK, ok)
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("names match case-insensitively when no exact match exists", func(t *testing.T) {
		req := invoke.Request{Metadata: map[string]json.RawMessage{"messageid": json.RawMessage(`"\"m-1\""`)}}
		got, ok := req.MetaString("MessageId")
		require.True(t, ok)
		require.Equal(t, "m-1", got)
	})
	t.Run("an exact name wins over a case-insensitive one", func(t *testing.T) {
		req := invoke.Request{Metadata: map[string]json.RawMessage{
			"messageid": json.RawMessage(`"\"promoted\""`),
			"MessageId": json.RawMessage(`"\"real\""`),
		}}
		got, _ := req.MetaString("MessageId")
		require.Equal(t, "real", got)
	})
	t.Run("a missing name is absent", func(t *testing.T) {
		_, ok := invoke.Request{}.MetaString("MessageId")
		require.False(t, ok)
	})
}

func TestBindingBytes(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string
		wantErr string
	}{
		{"a JSON string holding JSON is the body", `"{\"a\":1}"`, `{"a":1}`, ""},
		{"a JSON object is the body", `{"a":1}`, `{"a":1}`, ""},
		{"a JSON array is the body", `[1,2]`, `[1,2]`, ""},
		{"base64 of a JSON object is decoded", `"eyJhIjoxfQ=="`, `{"a":1}`, ""},
		{"text that happens to be base64 of a number stays text", `"MTIz"`, `MTIz`, ""},
		{"plain text stays text", `"hello world"`, `hello world`, ""},
		{"an empty string is an empty body", `""`, ``, ""},
		{"a JSON string holding a JSON string keeps its quotes", `"\"hi\""`, `"hi"`, ""},
		{"null is refused", `null`, "", `binding "msg" is null`},
		{"a number is refused", `7`, "", "neither a string nor an object"},
		{"a bool is refused", `false`, "", "neither a string nor an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := invoke.Request{Data: map[string]json.RawMessage{"msg": json.RawMessage(tc.raw)}}
			got, err := req.BindingBytes("msg")
			if tc.wantErr != "" {
				require.ErrorIs(t, err, invoke.ErrMalformed)
				require.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}

	t.Run("a missing binding names itself", func(t *testing.T) {
		_, err := invoke.Request{Data: map[string]json.RawMessage{}}.BindingBytes("msg")
		require.ErrorIs(t, err, invoke.ErrMalformed)
		require.Contains(t, err.Error(), `binding "msg" is missing from Data`)
	})
}

func TestEnqueuedTime(t *testing.T) {
	tests := []struct {
		name    string
		meta    string
		want    time.Time
		wantErr string
	}{
		{"the zoned time is preferred", `{"EnqueuedTime":"2025-03-01T07:00:01+01:00","EnqueuedTimeUtc":"2025-03-01T06:00:01"}`, utc(2025, 3, 1, 6, 0, 1, 0), ""},
		{"the zone-less Utc time is read as UTC", `{"EnqueuedTimeUtc":"2025-03-01T06:00:01.5"}`, utc(2025, 3, 1, 6, 0, 1, 500000000), ""},
		{"a Utc time with a Z suffix is accepted", `{"EnqueuedTimeUtc":"2025-03-01T06:00:01Z"}`, utc(2025, 3, 1, 6, 0, 1, 0), ""},
		{"host-quoted times are unwrapped", `{"EnqueuedTimeUtc":"\"2025-03-01T06:00:01\""}`, utc(2025, 3, 1, 6, 0, 1, 0), ""},
		{"no time at all is the zero time", `{}`, time.Time{}, ""},
		{"a bad Utc time is refused even beside a good zoned one", `{"EnqueuedTime":"2025-03-01T06:00:01+00:00","EnqueuedTimeUtc":"soon"}`, time.Time{}, `EnqueuedTimeUtc "soon"`},
		{"a bad zoned time is refused", `{"EnqueuedTime":"yesterday"}`, time.Time{}, `EnqueuedTime "yesterday"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"Data":{"msg":"{}"},"Metadata":` + tc.meta + `}`
			req, err := invoke.DecodeRequest([]byte(body))
			require.NoError(t, err)
			m, err := req.DecodeMessage("msg")
			if tc.wantErr != "" {
				require.ErrorIs(t, err, invoke.ErrMalformed)
				require.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			requireSameInstant(t, tc.want, m.EnqueuedTime)
		})
	}
}

func TestMessageEnvelopeRoundTrip(t *testing.T) {
	enq := utc(2025, 3, 1, 6, 0, 1, 123456700) // .NET tick precision
	tests := []struct {
		name string
		msg  invoke.Message
	}{
		{
			name: "a JSON message with every field survives",
			msg: invoke.Message{
				Body: []byte(`{"kind":"change","tenantId":"t1","resource":"users/1"}`), MessageID: "change-t1-users-1",
				CorrelationID: "corr-9", ContentType: "application/json", Subject: "change", LockToken: "lt-1",
				DeliveryCount: 3, SequenceNumber: 1 << 40, EnqueuedTime: enq,
				ApplicationProperties: map[string]any{"attempt": float64(2), "kind": "change", "urgent": true},
			},
		},
		{
			name: "a plain-text body survives",
			msg:  invoke.Message{Body: []byte("plain text, not JSON"), MessageID: "p-1", DeliveryCount: 1, SequenceNumber: 1, EnqueuedTime: enq},
		},
		{
			name: "text that is also valid base64 survives",
			msg:  invoke.Message{Body: []byte("MTIz"), MessageID: "b-1", DeliveryCount: 1, SequenceNumber: 2, EnqueuedTime: enq},
		},
		{
			name: "body properties named like trigger metadata do not shadow it",
			msg: invoke.Message{
				Body:      []byte(`{"contentType":"text/evil","MessageId":"spoofed","deliverycount":99,"subject":"x","sys":1,"CorrelationId":"no"}`),
				MessageID: "real-id", DeliveryCount: 4, SequenceNumber: 3, EnqueuedTime: enq,
			},
		},
		{
			name: "ids with quotes, slashes and non-ASCII survive",
			msg:  invoke.Message{Body: []byte(`{}`), MessageID: `a/"b"\c é`, Subject: "ünïcode", DeliveryCount: 1, EnqueuedTime: enq},
		},
		{
			name: "an empty body survives",
			msg:  invoke.Message{Body: []byte{}, MessageID: "empty", DeliveryCount: 1, EnqueuedTime: enq},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, err := invoke.MessageEnvelope("ProcessChangeNotification", "msg", tc.msg, enq.Add(time.Second), "guid-1")
			require.NoError(t, err)
			req, err := invoke.DecodeRequest(env)
			require.NoError(t, err)
			got, err := req.DecodeMessage("msg")
			require.NoError(t, err)

			requireSameInstant(t, tc.msg.EnqueuedTime, got.EnqueuedTime)
			require.Equal(t, string(tc.msg.Body), string(got.Body))
			want := tc.msg
			want.EnqueuedTime, got.EnqueuedTime = time.Time{}, time.Time{}
			want.Body, got.Body = nil, nil
			require.Equal(t, want, got)
			require.Equal(t, "ProcessChangeNotification", req.Sys().MethodName)
			require.Equal(t, "guid-1", req.Sys().RandGuid)
		})
	}

	t.Run("the envelope has the host's shape", func(t *testing.T) {
		env, err := invoke.MessageEnvelope("Fn", "msg", tests[0].msg, enq, "g")
		require.NoError(t, err)
		var raw struct {
			Data     map[string]any
			Metadata map[string]any
		}
		require.NoError(t, json.Unmarshal(env, &raw))
		require.Equal(t, string(tests[0].msg.Body), raw.Data["msg"], "the body travels as a JSON string")
		require.Equal(t, `"change-t1-users-1"`, raw.Metadata["MessageId"], "strings are quoted twice")
		require.Equal(t, "3", raw.Metadata["DeliveryCount"], "numbers travel as strings")
		require.Equal(t, "2025-03-01T06:00:01.1234567", raw.Metadata["EnqueuedTimeUtc"], "Utc times carry no zone")
		require.Equal(t, "2025-03-01T06:00:01.1234567+00:00", raw.Metadata["EnqueuedTime"])
		require.Equal(t, `"t1"`, raw.Metadata["tenantId"], "a JSON body's properties are promoted")
		require.Equal(t, raw.Metadata["ApplicationProperties"], raw.Metadata["UserProperties"])
	})

	t.Run("a body that is not UTF-8 is refused rather than mangled", func(t *testing.T) {
		_, err := invoke.MessageEnvelope("Fn", "msg", invoke.Message{Body: []byte{0xff, 0xfe, 0x00}, MessageID: "bin"}, enq, "g")
		require.ErrorContains(t, err, "not UTF-8")
	})
}

func TestTimerEnvelopeRoundTrip(t *testing.T) {
	now := utc(2025, 3, 1, 6, 0, 0, 5)
	tests := []struct {
		name    string
		last    time.Time
		next    time.Time
		pastDue bool
	}{
		{"a regular firing carries last and next", utc(2025, 3, 1, 5, 0, 0, 0), utc(2025, 3, 1, 7, 0, 0, 0), false},
		{"a first, past-due firing has a zero last", time.Time{}, utc(2025, 3, 1, 7, 0, 0, 0), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, err := invoke.TimerEnvelope("CollectIdentity", "timer", now, tc.last, tc.next, tc.pastDue, "guid-2")
			require.NoError(t, err)
			req, err := invoke.DecodeRequest(env)
			require.NoError(t, err)
			info, err := req.DecodeTimer("timer")
			require.NoError(t, err)
			require.Equal(t, tc.pastDue, info.IsPastDue)
			require.True(t, info.Schedule.AdjustForDST)
			require.NotNil(t, info.ScheduleStatus)
			requireSameInstant(t, tc.last, info.ScheduleStatus.Last)
			requireSameInstant(t, tc.next, info.ScheduleStatus.Next)
			sys := req.Sys()
			require.Equal(t, "CollectIdentity", sys.MethodName)
			require.Equal(t, "guid-2", sys.RandGuid)
			requireSameInstant(t, now, sys.UtcNow)
		})
	}
}

func TestDecodeTimerMalformed(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"a missing timer binding is refused", `{"Data":{}}`, `binding "timer" is missing`},
		{"a timer binding that is a number is refused", `{"Data":{"timer":5}}`, "neither a string nor an object"},
		{"a ScheduleStatus time that is not a time is refused", `{"Data":{"timer":{"ScheduleStatus":{"Last":"never"}}}}`, `ScheduleStatus.Last "never"`},
		{"IsPastDue that is not a bool is refused", `{"Data":{"timer":{"IsPastDue":"maybe"}}}`, `timer binding "timer"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := invoke.DecodeRequest([]byte(tc.body))
			require.NoError(t, err)
			_, err = req.DecodeTimer("timer")
			require.ErrorIs(t, err, invoke.ErrMalformed)
			require.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

// FuzzDecodeRequest feeds arbitrary bodies through every decoder: none may
// panic, and every refusal must be ErrMalformed so the handler parks or
// rejects it rather than asking for redelivery.
func FuzzDecodeRequest(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	require.NoError(f, err)
	for _, e := range entries {
		if !e.IsDir() && !strings.HasSuffix(e.Name(), ".golden") {
			f.Add(mustReadFixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"Data":{"msg":"eyJhIjoxfQ=="},"Metadata":{"DeliveryCount":1,"EnqueuedTime":"\"2025-01-01T00:00:00Z\""}}`))
	f.Add([]byte(`{"Data":{"timer":{"ScheduleStatus":{"Last":""}}},"Metadata":{"sys":{"UtcNow":"x"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := invoke.DecodeRequest(body)
		if err != nil {
			require.ErrorIs(t, err, invoke.ErrMalformed)
			return
		}
		_ = req.Sys()
		for _, k := range []string{"MessageId", "DeliveryCount", "EnqueuedTimeUtc", "sys"} {
			_, _ = req.MetaString(k)
		}
		if _, err := req.DecodeTimer("timer"); err != nil {
			require.ErrorIs(t, err, invoke.ErrMalformed)
		}
		m, err := req.DecodeMessage("msg")
		if err != nil {
			require.ErrorIs(t, err, invoke.ErrMalformed)
			return
		}
		// Whatever decoded must encode again for the in-process queue,
		// unless the body is not text.
		if _, err := invoke.MessageEnvelope("Fn", "msg", m, time.Now(), "g"); err != nil {
			require.ErrorContains(t, err, "not UTF-8")
		}
	})
}
