package respond

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/playbook"
	"m365security/shared/records"

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

func TestNewRequiresRecordsAndWritersAndFillsDefaults(t *testing.T) {
	_, err := New(Options{})
	require.Error(t, err)
	_, err = New(Options{Records: records.New(nil)})
	require.Error(t, err, "writers are required too")
	e, err := New(Options{Records: records.New(nil), Writers: stubWriters{}})
	require.NoError(t, err)
	assert.NotNil(t, e.o.Now)
	assert.NotNil(t, e.o.Log)
	assert.NotNil(t, e.o.HTTPClient)
	assert.Equal(t, playbook.Playbooks, e.o.Playbooks)
	assert.Equal(t, 5, e.o.MaxAttempts)
	assert.Equal(t, 30*time.Second, e.o.Backoff)
	assert.Equal(t, 5*time.Minute, e.o.ClaimLease)
	own := []playbook.Playbook{{Name: "x"}}
	e, err = New(Options{Records: records.New(nil), Writers: stubWriters{}, Playbooks: own, MaxAttempts: 2, Backoff: time.Second, ClaimLease: time.Minute,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Time{} }})
	require.NoError(t, err)
	assert.Equal(t, own, e.o.Playbooks)
	assert.Equal(t, 2, e.o.MaxAttempts)
	assert.Equal(t, time.Second, e.o.Backoff)
	assert.Equal(t, time.Minute, e.o.ClaimLease)
	assert.True(t, e.o.Now().IsZero(), "a given clock is kept")
}

func TestBackoffHonoursRetryAfterElseDoublesToACap(t *testing.T) {
	e := &Engine{o: Options{Backoff: 30 * time.Second}}
	assert.Equal(t, 30*time.Second, e.backoff(1, errors.New("x")))
	assert.Equal(t, 60*time.Second, e.backoff(2, errors.New("x")))
	assert.Equal(t, 120*time.Second, e.backoff(3, errors.New("x")))
	assert.Equal(t, 15*time.Minute, e.backoff(9, errors.New("x")))
	assert.Equal(t, 15*time.Minute, e.backoff(40, errors.New("x")), "no overflow past the cap")
}

type stubWriters struct{}

func (stubWriters) Writer(string) (*graph.Writer, error) { return nil, errors.New("stub") }
