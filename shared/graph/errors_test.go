package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/stretchr/testify/require"
)

func TestStatusesAreClassifiedInGraphTerms(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		code, msg string
		kind      error
		retryable bool
	}{
		{"429 is throttled", 429, "TooManyRequests", "Please retry again later.", ErrThrottled, true},
		{"401 is forbidden", 401, "InvalidAuthenticationToken", "Access token has expired.", ErrForbidden, false},
		{"403 without licence wording is forbidden", 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", ErrForbidden, false},
		{"403 naming a licence is not licensed", 403, "Forbidden", "Your tenant is not licensed for this feature.", ErrNotLicensed, false},
		{"403 naming premium is not licensed", 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license", ErrNotLicensed, false},
		{"400 naming a licence is not licensed", 400, "BadRequest", "Request not applicable to target tenant.", ErrNotLicensed, false},
		{"403 naming a missing subscription is not licensed", 403, "Forbidden", "The tenant has no valid subscription for Intune.", ErrNotLicensed, false},
		{"403 for the subscription quota is forbidden", 403, "ExtensionError", "Subscription limit reached: at most 100 subscriptions.", ErrForbidden, false},
		{"400 about a subscription's validation is a bad request", 400, "InvalidRequest", "Subscription validation request failed.", ErrBadRequest, false},
		{"404 is not found", 404, "Request_ResourceNotFound", "Resource 'x' does not exist.", ErrNotFound, false},
		{"410 is not found", 410, "SyncStateNotFound", "The sync state is gone.", ErrNotFound, false},
		{"409 is a conflict", 409, "Conflict", "Another object with the same value already exists.", ErrConflict, false},
		{"412 is a conflict", 412, "PreconditionFailed", "The ETag does not match.", ErrConflict, false},
		{"400 is a bad request", 400, "BadRequest", "Invalid filter clause.", ErrBadRequest, false},
		{"405 is a bad request", 405, "Request_BadRequest", "Specified HTTP method is not allowed.", ErrBadRequest, false},
		{"499 is a bad request", 499, "", "", ErrBadRequest, false},
		{"500 is unavailable", 500, "InternalServerError", "boom", ErrUnavailable, true},
		{"503 is unavailable", 503, "serviceNotAvailable", "later", ErrUnavailable, true},
		{"599 is unavailable", 599, "", "", ErrUnavailable, true},
		{"a 3xx is unclassified", 302, "", "", nil, false},
		{"600 is unclassified", 600, "", "", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := StatusError("op", tc.status, tc.code, tc.msg)
			var ge *Error
			require.ErrorAs(t, err, &ge)
			require.Equal(t, tc.kind, ge.Kind)
			if tc.kind != nil {
				require.ErrorIs(t, err, tc.kind)
			}
			require.Equal(t, tc.retryable, Retryable(err))
			require.Equal(t, tc.retryable, Retryable(fmt.Errorf("wrapped: %w", err)), "Retryable sees through wrapping")
		})
	}
}

func odata(status int, code, msg string, headers map[string]string) error {
	e := odataerrors.NewODataError()
	e.ResponseStatusCode = status
	main := odataerrors.NewMainError()
	main.SetCode(&code)
	main.SetMessage(&msg)
	e.SetErrorEscaped(main)
	h := abstractions.NewResponseHeaders()
	for k, v := range headers {
		h.Add(k, v)
	}
	e.SetResponseHeaders(h)
	return e
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestWrap(t *testing.T) {
	api := &abstractions.ApiError{Message: "the server returned an unexpected status code and no error factory is registered for this code: 503", ResponseStatusCode: 503, ResponseHeaders: abstractions.NewResponseHeaders()}
	api.ResponseHeaders.Add("Retry-After", "4")
	tests := []struct {
		name       string
		err        error
		kind       error
		retryable  bool
		retryAfter time.Duration
		text       string
	}{
		{"an ODataError keeps Graph's code, message and Retry-After", odata(429, "TooManyRequests", "slow down", map[string]string{"Retry-After": "12"}),
			ErrThrottled, true, 12 * time.Second, "revoke: HTTP 429 TooManyRequests: slow down"},
		{"an ODataError without Retry-After has none", odata(403, "Authorization_RequestDenied", "Insufficient privileges", nil),
			ErrForbidden, false, 0, "revoke: HTTP 403 Authorization_RequestDenied: Insufficient privileges"},
		{"a plain ApiError keeps status and Retry-After", api, ErrUnavailable, true, 4 * time.Second, "revoke: HTTP 503"},
		{"a transport failure is unavailable", &url.Error{Op: "Post", URL: "https://graph.microsoft.com/v1.0/x", Err: errors.New("connection refused")},
			ErrUnavailable, true, 0, "connection refused"},
		{"a network timeout is unavailable", timeoutErr{}, ErrUnavailable, true, 0, "revoke: i/o timeout"},
		{"a cancelled context is the caller's, not Graph's", fmt.Errorf("post: %w", context.Canceled), nil, false, 0, "revoke: post: context canceled"},
		{"a cancelled request is not retryable even as a transport error", &url.Error{Op: "Post", URL: "u", Err: context.Canceled}, nil, false, 0, "context canceled"},
		{"any other error is wrapped with the operation", errors.New("decode: bad json"), nil, false, 0, "revoke: decode: bad json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Wrap("revoke", tc.err)
			require.ErrorContains(t, err, tc.text)
			if tc.kind != nil {
				require.ErrorIs(t, err, tc.kind)
			} else {
				var ge *Error
				require.False(t, errors.As(err, &ge), "unclassified: %v", err)
			}
			if tc.kind == nil || tc.kind == ErrUnavailable && tc.retryAfter == 0 {
				require.ErrorIs(t, err, tc.err, "a transport or other cause stays in the chain")
			}
			require.Equal(t, tc.retryable, Retryable(err))
			d, ok := RetryAfter(err)
			require.Equal(t, tc.retryAfter, d)
			require.Equal(t, tc.retryAfter > 0, ok)
		})
	}
	require.NoError(t, Wrap("op", nil))
}

func TestTransportDeadlineStaysVisible(t *testing.T) {
	err := Wrap("get", &url.Error{Op: "Get", URL: "u", Err: context.DeadlineExceeded})
	require.ErrorIs(t, err, ErrUnavailable)
	require.ErrorIs(t, err, context.DeadlineExceeded, "collect reports it as cancelled")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds", "30", 30 * time.Second},
		{"fractional seconds", "1.5", 1500 * time.Millisecond},
		{"padded seconds", " 2 ", 2 * time.Second},
		{"an HTTP date", now.Add(90 * time.Second).Format(httpDate), 90 * time.Second},
		{"an HTTP date in the past", now.Add(-time.Minute).Format(httpDate), 0},
		{"negative seconds", "-5", 0},
		{"garbage", "soon", 0},
		{"empty", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ParseRetryAfter(tc.value, now))
		})
	}
}

const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestErrorText(t *testing.T) {
	require.Equal(t, "op", (&Error{Op: "op"}).Error())
	require.Equal(t, "op: HTTP 404 NotFound: gone", (&Error{Op: "op", Status: 404, Code: "NotFound", Message: "gone"}).Error())
	require.Equal(t, "op: HTTP 500", (&Error{Op: "op", Status: 500}).Error())
	require.Equal(t, "op: nope", (&Error{Op: "op", Message: "nope"}).Error())
	require.Empty(t, (&Error{Op: "op"}).Unwrap())
}
