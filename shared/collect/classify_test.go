package collect

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
	"m365security/shared/posture"
)

func TestClassifyMapsGraphKindsToSourceStatus(t *testing.T) {
	status := func(code int, gcode, msg string) error { return graph.StatusError("list things", code, gcode, msg) }
	tests := []struct {
		name   string
		err    error
		want   posture.SourceStatus
		reason string
	}{
		{"no error is ok", nil, posture.SourceOK, ""},
		{"a licence refusal is notLicensed", status(403, "Forbidden", "Your tenant is not licensed for this feature."), posture.SourceNotLicensed, "not licensed"},
		{"a missing permission is forbidden", status(403, "Authorization_RequestDenied", "Insufficient privileges"), posture.SourceForbidden, "HTTP 403"},
		{"an expired token is forbidden", status(401, "InvalidAuthenticationToken", "expired"), posture.SourceForbidden, "HTTP 401"},
		{"429 after retries is throttled", status(429, "TooManyRequests", "later"), posture.SourceThrottled, "HTTP 429"},
		{"503 after retries is throttled", status(503, "serviceNotAvailable", "later"), posture.SourceThrottled, "HTTP 503"},
		{"504 after retries is throttled", status(504, "", ""), posture.SourceThrottled, "HTTP 504"},
		{"500 is failed", status(500, "InternalServerError", "boom"), posture.SourceFailed, "HTTP 500"},
		{"a missing object is failed", status(404, "ResourceNotFound", "gone"), posture.SourceFailed, "HTTP 404"},
		{"a bad request is failed", status(400, "BadRequest", "Invalid filter"), posture.SourceFailed, "Invalid filter"},
		{"a cancelled context says so", fmt.Errorf("read users: %w", context.Canceled), posture.SourceFailed, "cancelled: read users"},
		{"a deadline says so", fmt.Errorf("read users: %w", context.DeadlineExceeded), posture.SourceFailed, "cancelled: "},
		{"any other error is failed", errors.New("decode users: bad json"), posture.SourceFailed, "decode users: bad json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := classify(tc.err)
			require.Equal(t, tc.want, got)
			require.Contains(t, reason, tc.reason)
		})
	}
}

func TestNotLicensedReasonNamesTheCataloguedLicence(t *testing.T) {
	notLicensed := graph.StatusError("list risky users", 403, "Forbidden", "Your tenant is not licensed for this feature.")
	forbidden := graph.StatusError("list risky users", 403, "Authorization_RequestDenied", "Insufficient privileges")
	src := func(licence string, err error) []source[fakeState] {
		s := fakeSource("a", nil, func(context.Context) (int, error) { return 0, err })
		s.Licence = licence
		return []source[fakeState]{s}
	}
	tests := []struct {
		name   string
		srcs   []source[fakeState]
		prefix string
	}{
		{"a not-licensed source with a catalogued licence names it", src("Microsoft Entra ID P2", notLicensed), "requires Microsoft Entra ID P2: "},
		{"a not-licensed source without one keeps Graph's reason", src("", notLicensed), "list risky users: HTTP 403"},
		{"a forbidden source does not blame the licence", src("Microsoft Entra ID P2", forbidden), "list risky users: HTTP 403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st fakeState
			got := run(context.Background(), nil, discardLogger(), tc.srcs, &st)
			require.Len(t, got, 1)
			require.Regexp(t, "^"+regexpQuote(tc.prefix), got[0].Reason)
		})
	}
}

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }
