package signals

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store/embedded"
)

const tenant = "11111111-2222-3333-4444-555555555555"

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newPipeline(t *testing.T) (*Pipeline, *clock) {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	c := &clock{now: t0}
	return &Pipeline{Records: records.New(s), Now: c.Now}, c
}

func alert(id, user string, created time.Time) incident.AlertRecord {
	return incident.AlertRecord{ID: id, Title: "Impossible travel activity", Severity: "high", Status: "new",
		ServiceSource: "microsoftDefenderForCloudApps", Category: "InitialAccess",
		CreatedDateTime: created, LastUpdateDateTime: created, FirstActivityDateTime: created.Add(-10 * time.Minute),
		Evidence: []incident.Evidence{{ODataType: incident.ODataUserEvidence, UserAccount: &incident.UserAccount{AzureAdUserID: user, UserPrincipalName: user + "@contoso.com"}}}}
}

func list(t *testing.T, p *Pipeline) []incident.Incident {
	t.Helper()
	got, err := p.Records.Incidents.List(context.Background(), tenant, records.IncidentQuery{})
	require.NoError(t, err)
	return got
}

// fakeSource is Graph for the poller's unit tests (the handler's tests run
// the real SDK against the simulator).
type fakeSource struct {
	mu         sync.Mutex
	alerts     []incident.AlertRecord
	truncated  bool
	alertsErr  error
	risky      []incident.RiskyUserRecord
	riskyErr   error
	detections []incident.RiskDetectionRecord
	since      []time.Time
	waits      int
}

func (f *fakeSource) Alerts(ctx context.Context, _ string, since time.Time, _ int, wait Pace) ([]incident.AlertRecord, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.since = append(f.since, since)
	if err := wait(ctx); err != nil {
		return nil, false, err
	}
	f.waits++
	if f.alertsErr != nil {
		return nil, false, f.alertsErr
	}
	var out []incident.AlertRecord
	for _, a := range f.alerts {
		if !a.LastUpdateDateTime.Before(since) {
			out = append(out, a)
		}
	}
	return out, f.truncated, nil
}

func (f *fakeSource) RiskyUsers(ctx context.Context, _ string, wait Pace) ([]incident.RiskyUserRecord, error) {
	if err := wait(ctx); err != nil {
		return nil, err
	}
	return f.risky, f.riskyErr
}

func (f *fakeSource) RiskDetections(ctx context.Context, _ string, _ time.Time, wait Pace) ([]incident.RiskDetectionRecord, error) {
	return f.detections, wait(ctx)
}

var (
	errForbidden   = errors.New("403 forbidden")
	errNotLicensed = errors.New("403 not licensed")
	errThrottled   = errors.New("429 throttled")
)

func classify(err error) (posture.SourceStatus, string) {
	switch {
	case errors.Is(err, errForbidden):
		return posture.SourceForbidden, err.Error()
	case errors.Is(err, errNotLicensed):
		return posture.SourceNotLicensed, err.Error()
	case errors.Is(err, errThrottled):
		return posture.SourceThrottled, err.Error()
	}
	return posture.SourceFailed, err.Error()
}
