package invoke

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
	"unicode/utf8"
)

// MaxEnvelopeBytes bounds an invocation body. Service Bus standard-tier
// messages are at most 256 KiB; the envelope adds metadata and escaping.
const MaxEnvelopeBytes = 4 << 20

// Invocation describes one call from the host (or the standalone runtime).
type Invocation struct {
	// ID is the host's X-Azure-Functions-InvocationId, or a generated one.
	ID       string
	Function string
	Sys      Sys
	// Log carries invocation_id and function and copies records into the
	// response's Logs.
	Log *slog.Logger
}

// TimerFunc runs a timer-triggered function. An error fails the invocation;
// the host does not retry timers, the next schedule slot runs again.
type TimerFunc func(ctx context.Context, inv Invocation, t TimerInfo) error

// MessageFunc runs a Service Bus-triggered function. nil completes the
// message; an error wrapped with Retry asks for redelivery; any other error is
// permanent and the message is parked with the error as its reason.
type MessageFunc func(ctx context.Context, inv Invocation, m Message) error

// retryable marks an error whose message should be redelivered.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// Retry marks err as transient: the queue should deliver the message again.
func Retry(err error) error {
	if err == nil {
		return nil
	}
	return retryable{err}
}

// IsRetry reports whether err was marked with Retry.
func IsRetry(err error) bool {
	var r retryable
	return errors.As(err, &r)
}

// Parked is a message set aside because processing it can never succeed.
type Parked struct {
	Function      string    `json:"function"`
	MessageID     string    `json:"messageId"`
	DeliveryCount int       `json:"deliveryCount"`
	Reason        string    `json:"reason"`
	Body          string    `json:"body"`
	ParkedAt      time.Time `json:"parkedAt"`
}

// Parker keeps parked messages. Park must be durable before it returns nil:
// the message is completed afterwards and exists nowhere else.
type Parker interface {
	Park(ctx context.Context, p Parked) error
}

// maxParkedBody keeps a hostile oversize body from being stored whole.
const maxParkedBody = 64 << 10

// Timer returns the http.Handler for POST /{function} of a timer function
// whose binding is called binding.
func Timer(function, binding string, fn TimerFunc, log *slog.Logger) http.Handler {
	return handle(function, log, func(ctx context.Context, inv Invocation, body []byte, readErr error) (int, error) {
		if readErr != nil {
			return http.StatusRequestEntityTooLarge, readErr
		}
		req, err := DecodeRequest(body)
		if err != nil {
			return http.StatusBadRequest, err
		}
		t, err := req.DecodeTimer(binding)
		if err != nil {
			return http.StatusBadRequest, err
		}
		inv.Sys = req.Sys()
		if t.IsPastDue {
			inv.Log.Info("timer is past due; running the missed slot now")
		}
		if err := fn(ctx, inv, t); err != nil {
			return http.StatusInternalServerError, err
		}
		return http.StatusOK, nil
	})
}

// Queue returns the http.Handler for POST /{function} of a Service Bus
// function whose binding is called binding. It answers non-2xx only when it
// wants redelivery: retryable errors, panics, a body that could not be read
// and a Parker that failed. Malformed and oversize envelopes are parked.
func Queue(function, binding string, fn MessageFunc, parker Parker, log *slog.Logger, now func() time.Time) http.Handler {
	return handle(function, log, func(ctx context.Context, inv Invocation, body []byte, readErr error) (int, error) {
		decoded := false
		park := func(m Message, reason error) (int, error) {
			p := Parked{Function: function, MessageID: m.MessageID, DeliveryCount: m.DeliveryCount,
				Reason: reason.Error(), Body: truncate(string(m.Body), maxParkedBody), ParkedAt: now().UTC()}
			if err := parker.Park(ctx, p); err != nil {
				// Completing the message now would lose it: ask for redelivery.
				return http.StatusInternalServerError, fmt.Errorf("park message after %v: %w", reason, err)
			}
			l := inv.Log
			if !decoded {
				// Once decoded, inv.Log already carries the message id.
				l = l.With("message_id", m.MessageID)
			}
			l.Error("message parked", "reason", reason.Error())
			return http.StatusOK, nil
		}
		if readErr != nil {
			return park(Message{Body: body}, readErr)
		}
		req, err := DecodeRequest(body)
		if err != nil {
			return park(Message{Body: body}, err)
		}
		inv.Sys = req.Sys()
		m, err := req.DecodeMessage(binding)
		if err != nil {
			// Keep what did decode (id, body); without a body, the envelope
			// itself is the evidence worth parking.
			if m.Body == nil {
				m.Body = body
			}
			return park(m, err)
		}
		inv.Log = inv.Log.With("message_id", m.MessageID, "delivery_count", m.DeliveryCount)
		decoded = true
		err = fn(ctx, inv, m)
		switch {
		case err == nil:
			return http.StatusOK, nil
		case IsRetry(err):
			return http.StatusInternalServerError, err
		default:
			return park(m, err)
		}
	})
}

type work func(ctx context.Context, inv Invocation, body []byte, readErr error) (int, error)

// handle owns what every invocation shares: the body limit, the logger with
// invocation attributes, panic recovery and the response envelope.
func handle(function string, base *slog.Logger, do work) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Azure-Functions-InvocationId")
		if id == "" {
			id = NewGUID()
		}
		logs := &collector{}
		log := slog.New(teeHandler{next: base.Handler(), c: logs}).With("invocation_id", id, "function", function)
		inv := Invocation{ID: id, Function: function, Log: log}
		start := time.Now()
		status, err := func() (status int, err error) {
			defer func() {
				if p := recover(); p != nil {
					// The stack goes to stderr only; the response carries no internals.
					base.Error("invocation panicked", "invocation_id", id, "function", function,
						"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					status, err = http.StatusInternalServerError, errors.New("internal error")
				}
			}()
			body, readErr := io.ReadAll(io.LimitReader(r.Body, MaxEnvelopeBytes+1))
			if readErr != nil {
				// A broken connection says nothing about the message: fail so
				// the host retries instead of parking a half-read body.
				return http.StatusInternalServerError, fmt.Errorf("read invocation body: %w", readErr)
			}
			if len(body) > MaxEnvelopeBytes {
				readErr = fmt.Errorf("%w: envelope exceeds %d bytes", ErrMalformed, MaxEnvelopeBytes)
				body = body[:MaxEnvelopeBytes]
			}
			return do(r.Context(), inv, body, readErr)
		}()
		if err != nil && status < 300 {
			// Permanent failures already handled (parked) still show in the log.
			log.Warn("invocation finished with a handled failure", "error", err.Error())
		} else if err != nil {
			log.Error("invocation failed", "error", err.Error(), "status", status)
		}
		log.Debug("invocation done", "status", status, "duration_ms", time.Since(start).Milliseconds())
		writeResponse(w, status, err, logs.lines())
	})
}

func writeResponse(w http.ResponseWriter, status int, err error, logs []string) {
	w.Header().Set("Content-Type", "application/json")
	if logs == nil {
		logs = []string{}
	}
	if status >= 300 {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(struct {
			Error errorBody `json:"error"`
			Logs  []string  `json:"Logs"`
		}{errorBody{Code: codeFor(status), Message: err.Error()}, logs})
		return
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Response{Outputs: map[string]any{}, Logs: logs, ReturnValue: nil})
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "badRequest"
	case http.StatusRequestEntityTooLarge:
		return "payloadTooLarge"
	default:
		return "invocationFailed"
	}
}

// NewGUID returns a random (version 4) GUID: it stands in for the host's
// invocation id when a caller (a test, a manual POST, the standalone
// runtime) sends none, so log lines still correlate.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
