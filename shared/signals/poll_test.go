package signals

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
)

func newPoller(t *testing.T) (*Poller, *fakeSource, *clock) {
	p, c := newPipeline(t)
	src := &fakeSource{}
	return &Poller{Pipeline: p, Source: src, Classify: classify}, src, c
}

func TestTheWatermarkAdvancesAfterStoringAndOverlapsTheBoundary(t *testing.T) {
	ctx := context.Background()
	po, src, c := newPoller(t)
	src.alerts = []incident.AlertRecord{alert("a1", "u1", t0.Add(-time.Hour))}
	res, err := po.Poll(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(-InitialLookback), src.since[0], "the first poll looks back a week")
	assert.Equal(t, t0.Add(-time.Hour), res.Watermark, "the watermark is the newest update stored")

	// An alert updated just before the watermark, listed late by Defender,
	// is still read: the next poll starts Overlap before the watermark.
	late := alert("a2", "u2", t0.Add(-time.Hour-5*time.Minute))
	src.alerts = append(src.alerts, late)
	c.Add(5 * time.Minute)
	res, err = po.Poll(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(-time.Hour-Overlap), src.since[1])
	assert.Equal(t, 1, res.Created, "the late alert made its incident")
	assert.Equal(t, t0.Add(-time.Hour), res.Watermark, "an older update never moves the watermark back")
	assert.Len(t, list(t, po.Pipeline), 2)

	h, err := po.Pipeline.Records.Signals.Health(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, "ok", h[SourceAlerts].Status)
}

func TestTheWatermarkStaysWhenAnAlertCannotBeStored(t *testing.T) {
	ctx := context.Background()
	po, src, _ := newPoller(t)
	bad := alert("", "u1", t0)
	src.alerts = []incident.AlertRecord{alert("a1", "u1", t0.Add(-2*time.Hour)), bad}
	_, err := po.Poll(ctx, tenant)
	require.Error(t, err)
	_, seen, err := po.Pipeline.Records.State.AlertPolling(ctx, tenant)
	require.NoError(t, err)
	assert.False(t, seen, "no watermark was stored")
}

func TestATruncatedPollKeepsTheWatermark(t *testing.T) {
	ctx := context.Background()
	po, src, _ := newPoller(t)
	src.alerts = []incident.AlertRecord{alert("a1", "u1", t0.Add(-time.Hour))}
	src.truncated = true
	res, err := po.Poll(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, "throttled", res.AlertsStatus)
	_, seen, err := po.Pipeline.Records.State.AlertPolling(ctx, tenant)
	require.NoError(t, err)
	assert.False(t, seen)
	assert.Len(t, list(t, po.Pipeline), 1, "what was read is stored")
}

func TestSourceFailures(t *testing.T) {
	cases := []struct {
		name              string
		alertsErr         error
		riskyErr          error
		wantErr           bool
		wantAlerts        string
		wantRisky         string
		wantIncidentsLeft int
	}{
		{"a 403 on alerts is recorded as forbidden, not zero incidents, and nothing else fails", errForbidden, nil, false, "forbidden", "ok", 1},
		{"risky users without Entra ID P2 are notLicensed and alerts still count", nil, errNotLicensed, false, "ok", "notLicensed", 1},
		{"throttling is returned so the work is retried", errThrottled, nil, true, "throttled", "ok", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			po, src, _ := newPoller(t)
			src.alerts = []incident.AlertRecord{alert("a1", "u1", t0)}
			src.alertsErr, src.riskyErr = tc.alertsErr, tc.riskyErr
			src.risky = []incident.RiskyUserRecord{{ID: "u9", UserPrincipalName: "u9@contoso.com", RiskLevel: "high", RiskState: "atRisk", RiskLastUpdatedDateTime: t0}}
			res, err := po.Poll(ctx, tenant)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantAlerts, res.AlertsStatus)
			assert.Equal(t, tc.wantRisky, res.RiskyStatus)
			h, err := po.Pipeline.Records.Signals.Health(ctx, tenant)
			require.NoError(t, err)
			assert.Equal(t, tc.wantAlerts, h[SourceAlerts].Status)
			assert.Equal(t, tc.wantRisky, h[SourceRiskyUsers].Status)
			if tc.wantAlerts != "ok" {
				assert.NotEmpty(t, h[SourceAlerts].Reason)
			}
			assert.Len(t, list(t, po.Pipeline), tc.wantIncidentsLeft)
		})
	}
}

func TestRiskyUsersBecomeAccountCompromiseIncidentsWithDetectionTimes(t *testing.T) {
	ctx := context.Background()
	po, src, _ := newPoller(t)
	src.risky = []incident.RiskyUserRecord{{ID: "u9", UserPrincipalName: "u9@contoso.com", RiskLevel: "high", RiskState: "atRisk", RiskLastUpdatedDateTime: t0}}
	src.detections = []incident.RiskDetectionRecord{{ID: "d1", UserID: "u9", ActivityDateTime: t0.Add(-2 * time.Hour), DetectedDateTime: t0.Add(-time.Hour)}}
	_, err := po.Poll(ctx, tenant)
	require.NoError(t, err)
	_, err = po.Poll(ctx, tenant)
	require.NoError(t, err)
	got := list(t, po.Pipeline)
	require.Len(t, got, 1, "the same risk episode polled twice is one incident")
	assert.Equal(t, incident.CategoryAccountCompromise, got[0].Category)
	assert.Equal(t, t0.Add(-2*time.Hour), *got[0].FirstActivityAt)
	assert.Equal(t, t0.Add(-time.Hour), *got[0].DetectedAt)
}

func TestPacerSpacesRequestsPerTenantAndService(t *testing.T) {
	c := &clock{now: t0}
	var slept []time.Duration
	p := &Pacer{Now: c.Now, Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	w := p.Wait(tenant, "security", 400*time.Millisecond)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		require.NoError(t, w(ctx))
	}
	assert.Equal(t, []time.Duration{400 * time.Millisecond, 800 * time.Millisecond}, slept, "the second and third wait their turn")
	require.NoError(t, p.Wait("other", "security", time.Second)(ctx))
	assert.Len(t, slept, 2, "another tenant has its own budget")
	c.Add(time.Hour)
	require.NoError(t, w(ctx))
	assert.Len(t, slept, 2, "an idle budget refills")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var nilPacer *Pacer
	require.Error(t, nilPacer.Wait(tenant, "x", time.Second)(cancelled))
	require.Error(t, (&Pacer{}).Wait(tenant, "x", time.Hour)(cancelled))
}
