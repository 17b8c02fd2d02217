package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Error kinds in Graph's terms. Callers test them with errors.Is and never
// look at status codes; Wrap and StatusError classify.
var (
	// ErrThrottled: 429, Graph's throttling answer; retry after RetryAfter.
	ErrThrottled = errors.New("graph: throttled")
	// ErrForbidden: 401 or 403, the app lacks a permission or an Entra role.
	ErrForbidden = errors.New("graph: permission missing")
	// ErrNotLicensed: 403 (sometimes 400) naming a licence the tenant lacks.
	ErrNotLicensed = errors.New("graph: tenant not licensed")
	// ErrNotFound: 404 or 410, the object does not exist (any more).
	ErrNotFound = errors.New("graph: not found")
	// ErrConflict: 409 or 412, the object changed or already exists.
	ErrConflict = errors.New("graph: conflict")
	// ErrBadRequest: any other 4xx, the request itself is wrong.
	ErrBadRequest = errors.New("graph: bad request")
	// ErrUnavailable: a 5xx or a transport failure; transient.
	ErrUnavailable = errors.New("graph: unavailable")
)

// Error is a classified Graph failure. errors.Is matches its Kind and, for
// transport failures, the cause (so context.DeadlineExceeded still matches).
type Error struct {
	// Kind is one of the Err* sentinels; nil for an unclassified status.
	Kind    error
	Op      string
	Status  int // 0 for a transport failure
	Code    string
	Message string
	// RetryAfter is Graph's Retry-After, 0 when it sent none.
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	s := e.Op
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap exposes the kind and the cause for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

// Retryable reports whether err is worth retrying unchanged: Graph throttled
// the call or was unavailable. Everything else (permission, licence, a
// missing object, a conflict, a bad request, a cancelled context) fails the
// same way again.
func Retryable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrUnavailable)
}

// RetryAfter returns the delay Graph asked for, and false when it gave none.
func RetryAfter(err error) (time.Duration, bool) {
	var ge *Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		return ge.RetryAfter, true
	}
	return 0, false
}

// Wrap classifies err from the Graph call op: Graph's ODataError and kiota's
// ApiError by status, code and message; transport failures as
// ErrUnavailable. A cancelled context is wrapped with op unchanged: the
// caller stopped, Graph did not fail.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var odata *odataerrors.ODataError
	if errors.As(err, &odata) {
		e := &Error{Op: op, Status: odata.ResponseStatusCode, RetryAfter: retryAfterHeader(odata.ResponseHeaders)}
		if main := odata.GetErrorEscaped(); main != nil {
			if c := main.GetCode(); c != nil {
				e.Code = *c
			}
			if m := main.GetMessage(); m != nil {
				e.Message = *m
			}
		}
		e.Kind = kindOf(e.Status, e.Code, e.Message)
		return e
	}
	// Calls without an error mapping (raw requests, the $batch envelope)
	// fail with a plain ApiError, which still carries status and headers.
	var api *abstractions.ApiError
	if errors.As(err, &api) && api.ResponseStatusCode != 0 {
		e := &Error{Op: op, Status: api.ResponseStatusCode, Message: api.Message, RetryAfter: retryAfterHeader(api.ResponseHeaders)}
		e.Kind = kindOf(e.Status, "", e.Message)
		return e
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) {
		return &Error{Op: op, Kind: ErrUnavailable, cause: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// StatusError builds a classified error from a raw HTTP status, for answers
// that come without an ODataError (a $batch item).
func StatusError(op string, status int, code, message string) error {
	return &Error{Op: op, Status: status, Code: code, Message: message, Kind: kindOf(status, code, message)}
}

// kindOf recognises licence failures by Graph's codes and wording: Graph has
// no single licence status, it answers 403 (sometimes 400) with a message.
func kindOf(status int, code, message string) error {
	text := strings.ToLower(code + " " + message)
	licence := strings.Contains(text, "licen") || strings.Contains(text, "premium") ||
		strings.Contains(text, "not applicable to target tenant")
	// "subscription" names a licence only in a refusal: a 400 about a
	// change-notification subscription (its validation, its expiry) or a 403
	// for the subscription quota is not about licences.
	licenceSubscription := strings.Contains(text, "subscription") && !strings.Contains(text, "limit") && !strings.Contains(text, "quota")
	switch {
	case status == http.StatusTooManyRequests:
		return ErrThrottled
	case (status == http.StatusForbidden || status == http.StatusBadRequest) && licence,
		status == http.StatusForbidden && licenceSubscription:
		return ErrNotLicensed
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return ErrForbidden
	case status == http.StatusNotFound || status == http.StatusGone:
		return ErrNotFound
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return ErrConflict
	case status >= 400 && status < 500:
		return ErrBadRequest
	case status >= 500 && status < 600:
		return ErrUnavailable
	}
	return nil
}

// retryAfterHeader reads Retry-After in seconds or as an HTTP date.
func retryAfterHeader(h *abstractions.ResponseHeaders) time.Duration {
	if h == nil {
		return 0
	}
	for _, v := range h.Get("Retry-After") {
		if d := ParseRetryAfter(v, time.Now()); d > 0 {
			return d
		}
	}
	return 0
}

// ParseRetryAfter reads a Retry-After value (delay seconds or an HTTP date,
// RFC 9110 section 10.2.3) relative to now; 0 when absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return max(time.Duration(s*float64(time.Second)), 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
