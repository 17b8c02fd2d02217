package respond

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"m365security/shared/graph"
	"m365security/shared/incident"
)

func TestDescribeSaysWhatWouldHaveToChange(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		err    error
		want   []string
		absent string
	}{
		{"no responder", incident.ActionDisableAccount, fmt.Errorf("x: %w", graph.ErrNoResponder), []string{"not executed", "RESPONDER_CLIENT_ID"}, ""},
		{"no licence names the licence", incident.ActionRemediateMessage, graph.StatusError("op", 403, "Forbidden", "not licensed"), []string{"not licensed", "Defender for Office 365 Plan 2"}, ""},
		{"a 403 on an account names the permission and the Entra role", incident.ActionDisableAccount, graph.StatusError("op", 403, "Authorization_RequestDenied", "Insufficient privileges"),
			[]string{"permission missing", "User.EnableDisableAccount.All", "privileged Entra role"}, ""},
		{"a 403 on a device names the permission only", incident.ActionRemoteLock, graph.StatusError("op", 403, "Forbidden", "denied"),
			[]string{"DeviceManagementManagedDevices.PrivilegedOperations.All"}, "Entra role"},
		{"a missing object", incident.ActionRemoteLock, graph.StatusError("op", 404, "NotFound", "gone"), []string{"no such object"}, ""},
		{"retries ran out", incident.ActionRevokeSessions, graph.StatusError("op", 503, "x", "busy"), []string{"gave up after 5 attempts"}, ""},
		{"anything else is said as it is", incident.ActionRevokeSessions, errors.New("boom"), []string{"boom"}, "gave up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.typ, 5, tt.err)
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			if tt.absent != "" {
				assert.NotContains(t, got, tt.absent)
			}
		})
	}
}

func TestRemediationSeverityIsOneDefenderTakes(t *testing.T) {
	for in, want := range map[string]string{"high": "high", "medium": "medium", "low": "low", "informational": "medium", "": "medium", "HIGH": "medium"} {
		assert.Equal(t, want, remediationSeverity(in), in)
	}
}
