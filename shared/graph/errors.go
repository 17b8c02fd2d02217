package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"m365security/shared/posture"
)

// Error kinds callers test with errors.Is; Classify maps Graph errors to them.
var (
	ErrForbidden   = errors.New("graph: permission missing")
	ErrNotLicensed = errors.New("graph: tenant not licensed")
	ErrThrottled   = errors.New("graph: throttled")
	ErrNotFound    = errors.New("graph: not found")
)

// Error is a classified Graph failure.
type Error struct {
	Kind    error // one of the sentinels, or nil for other failures
	Status  int
	Code    string
	Message string
	Op      string
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
	return s
}

// Unwrap exposes the kind for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

// Wrap classifies err from the Graph call op. Non-Graph errors (transport,
// context) are wrapped with op unchanged.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var odata *odataerrors.ODataError
	if !errors.As(err, &odata) {
		return fmt.Errorf("%s: %w", op, err)
	}
	e := &Error{Op: op, Status: odata.ResponseStatusCode}
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

// StatusError builds a classified error from a raw HTTP status, for calls
// that get a status without an ODataError (a $batch item).
func StatusError(op string, status int, code, message string) error {
	return &Error{Op: op, Status: status, Code: code, Message: message, Kind: kindOf(status, code, message)}
}

// kindOf recognises licence failures by Graph's codes and wording: Graph has
// no single licence status, it answers 403 (sometimes 400) with a message.
func kindOf(status int, code, message string) error {
	text := strings.ToLower(code + " " + message)
	licence := strings.Contains(text, "licen") || strings.Contains(text, "premium") ||
		strings.Contains(text, "not applicable to target tenant") || strings.Contains(text, "subscription")
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		return ErrThrottled
	case (status == http.StatusForbidden || status == http.StatusBadRequest) && licence:
		return ErrNotLicensed
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// Classify turns a collection error into a source status and a reason fit for
// reports: it names the failure, never a token or a request body.
func Classify(err error) (posture.SourceStatus, string) {
	switch {
	case err == nil:
		return posture.SourceOK, ""
	case errors.Is(err, ErrNotLicensed):
		return posture.SourceNotLicensed, err.Error()
	case errors.Is(err, ErrForbidden):
		return posture.SourceForbidden, err.Error()
	case errors.Is(err, ErrThrottled):
		return posture.SourceThrottled, err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return posture.SourceFailed, "cancelled: " + err.Error()
	}
	return posture.SourceFailed, err.Error()
}
