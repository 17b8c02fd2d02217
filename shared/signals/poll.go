package signals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
)

// Pace is called before each Graph request of a source; it waits until the
// tenant's budget allows one, or returns the context's error.
type Pace func(context.Context) error

// Source is the tenant's Graph, as the poller reads it (shared/collect
// behind an adapter in the handler).
type Source interface {
	// Alerts lists alerts_v2 updated at or after since, at most maxPages
	// pages; truncated says more were pending.
	Alerts(ctx context.Context, tenantID string, since time.Time, maxPages int, wait Pace) (alerts []incident.AlertRecord, truncated bool, err error)
	// RiskyUsers lists high-risk users at risk or confirmed compromised.
	RiskyUsers(ctx context.Context, tenantID string, wait Pace) ([]incident.RiskyUserRecord, error)
	// RiskDetections lists detections detected at or after since.
	RiskDetections(ctx context.Context, tenantID string, since time.Time, wait Pace) ([]incident.RiskDetectionRecord, error)
}

// Signal source names in collection health.
const (
	SourceAlerts        = "alerts"
	SourceRiskyUsers    = "riskyUsers"
	SourceSubscriptions = "subscriptions"
	SourceUsersDelta    = "usersDelta"
	SourceGroupsDelta   = "groupsDelta"
)

// Poller settings.
const (
	// Overlap re-reads alerts updated shortly before the watermark: Defender
	// may list an update after a later one, and an alert updated at the
	// boundary must not fall between two polls.
	Overlap = 10 * time.Minute
	// InitialLookback is how far back the first poll of a tenant reads.
	InitialLookback = 7 * 24 * time.Hour
	// maxAlertPages keeps one poll under the security API's 150 requests a
	// minute per app and tenant, with room for alert updates.
	maxAlertPages = 100
	// securityInterval paces security API requests (150/min).
	securityInterval = 400 * time.Millisecond
	// identityProtectionInterval paces Identity Protection (1/s per tenant
	// for all apps, and no Retry-After on its 429).
	identityProtectionInterval = 1100 * time.Millisecond
	// detectionLookback bounds the risk detections read for first-activity
	// times.
	detectionLookback = 30 * 24 * time.Hour
)

// Poller polls a tenant's alerts and risky users into incidents.
type Poller struct {
	Pipeline *Pipeline
	Source   Source
	// Classify names a source error's status and reason for health.
	Classify func(error) (posture.SourceStatus, string)
	Pacer    *Pacer
	Log      *slog.Logger
}

// PollResult summarizes one poll of a tenant.
type PollResult struct {
	Alerts       int       `json:"alerts"`
	RiskyUsers   int       `json:"riskyUsers"`
	Created      int       `json:"created"`
	Updated      int       `json:"updated"`
	Watermark    time.Time `json:"watermark"`
	AlertsStatus string    `json:"alertsStatus"`
	RiskyStatus  string    `json:"riskyStatus"`
}

// Poll reads the tenant's alerts updated since the watermark (less the
// overlap) and its risky users, stores them as incidents, and only then
// advances the watermark. A source Graph refuses (no permission, no
// licence) is recorded in the tenant's signal health and skipped; an error
// that may pass (throttling, an outage, a store failure) is returned so the
// work is retried, with the watermark where it was.
func (p *Poller) Poll(ctx context.Context, tenantID string) (PollResult, error) {
	var res PollResult
	now := p.Pipeline.Now().UTC()
	st, seen, err := p.Pipeline.Records.State.AlertPolling(ctx, tenantID)
	if err != nil {
		return res, fmt.Errorf("read alert watermark: %w", err)
	}
	since := now.Add(-InitialLookback)
	if seen && !st.Watermark.IsZero() {
		since = st.Watermark.Add(-Overlap)
	}
	alertsErr := p.pollAlerts(ctx, tenantID, since, now, &res)
	riskyErr := p.pollRisky(ctx, tenantID, now, &res)
	return res, errors.Join(alertsErr, riskyErr)
}

func (p *Poller) pollAlerts(ctx context.Context, tenantID string, since, now time.Time, res *PollResult) error {
	alerts, truncated, err := p.Source.Alerts(ctx, tenantID, since, maxAlertPages, p.Pacer.Wait(tenantID, "security", securityInterval))
	if err != nil {
		return p.failed(ctx, tenantID, SourceAlerts, err, now, &res.AlertsStatus)
	}
	newest := since
	batch := p.Pipeline.NewBatch(tenantID)
	for _, a := range alerts {
		a.TenantID = tenantID
		out, err := batch.Ingest(ctx, incident.FromAlert(a))
		if err != nil {
			return fmt.Errorf("store alert %s: %w", a.ID, err)
		}
		res.count(out)
		if a.LastUpdateDateTime.After(newest) {
			newest = a.LastUpdateDateTime
		}
	}
	res.Alerts = len(alerts)
	if truncated {
		// Graph documents no order for alerts_v2, so the newest update seen
		// says nothing about the pages not read: keep the watermark.
		res.AlertsStatus = string(posture.SourceThrottled)
		return p.report(ctx, tenantID, SourceAlerts, posture.SourceThrottled,
			fmt.Sprintf("more than %d pages of alerts changed since %s; the rest are read on the next polls", maxAlertPages, since.Format(time.RFC3339)), now)
	}
	st, err := p.Pipeline.Records.State.UpdateAlertPolling(ctx, tenantID, func(v *records.AlertPolling) error {
		if newest.After(v.Watermark) {
			v.Watermark = newest
		}
		v.LastPolledAt = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("advance alert watermark: %w", err)
	}
	res.Watermark, res.AlertsStatus = st.Watermark, string(posture.SourceOK)
	return p.report(ctx, tenantID, SourceAlerts, posture.SourceOK, "", now)
}

func (p *Poller) pollRisky(ctx context.Context, tenantID string, now time.Time, res *PollResult) error {
	wait := p.Pacer.Wait(tenantID, "identityProtection", identityProtectionInterval)
	users, err := p.Source.RiskyUsers(ctx, tenantID, wait)
	if err != nil {
		return p.failed(ctx, tenantID, SourceRiskyUsers, err, now, &res.RiskyStatus)
	}
	var detections []incident.RiskDetectionRecord
	if len(users) > 0 {
		// Without detections the risk's last update stands in for the
		// detection time; not worth failing the signal for.
		if detections, err = p.Source.RiskDetections(ctx, tenantID, now.Add(-detectionLookback), wait); err != nil {
			p.log().Warn("risk detections not read; risky users use their last update as detection time",
				"tenant_id", tenantID, "error", err.Error())
		}
	}
	batch := p.Pipeline.NewBatch(tenantID)
	for _, u := range users {
		out, err := batch.Ingest(ctx, incident.FromRiskyUser(tenantID, u, detections))
		if err != nil {
			return fmt.Errorf("store risky user %s: %w", u.ID, err)
		}
		res.count(out)
	}
	res.RiskyUsers, res.RiskyStatus = len(users), string(posture.SourceOK)
	return p.report(ctx, tenantID, SourceRiskyUsers, posture.SourceOK, "", now)
}

func (r *PollResult) count(o Outcome) {
	switch o.Kind {
	case Created:
		r.Created++
	case Joined, Updated:
		r.Updated++
	}
}

// failed records a source failure. A refusal (permission, licence) is a
// state of the tenant, not of this run: recorded and not retried. Anything
// else is returned for a retry.
func (p *Poller) failed(ctx context.Context, tenantID, source string, err error, now time.Time, status *string) error {
	st, reason := posture.SourceFailed, err.Error()
	if p.Classify != nil {
		st, reason = p.Classify(err)
	}
	*status = string(st)
	if rerr := p.report(ctx, tenantID, source, st, reason, now); rerr != nil {
		return errors.Join(err, rerr)
	}
	p.log().Warn("signal source not read", "tenant_id", tenantID, "source", source, "status", string(st), "reason", reason)
	if st == posture.SourceForbidden || st == posture.SourceNotLicensed {
		return nil
	}
	return fmt.Errorf("%s: %w", source, err)
}

func (p *Poller) report(ctx context.Context, tenantID, source string, st posture.SourceStatus, reason string, now time.Time) error {
	return p.Pipeline.Records.Signals.Report(ctx, tenantID, source, string(st), reason, now)
}

func (p *Poller) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// Pacer spaces one process's requests to a tenant's service at a minimum
// interval. Graph's limits are per app and tenant across instances; pacing
// each instance keeps a single poller well inside them, and the SDK's
// retry handler waits out a 429's Retry-After if several instances meet.
type Pacer struct {
	mu   sync.Mutex
	next map[string]time.Time
	// Sleep waits (tests replace it); nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
}

// Wait returns the Pace for one tenant's service.
func (p *Pacer) Wait(tenantID, service string, interval time.Duration) Pace {
	if p == nil {
		return func(ctx context.Context) error { return ctx.Err() }
	}
	key := tenantID + "|" + service
	return func(ctx context.Context) error {
		now := p.now()
		p.mu.Lock()
		if p.next == nil {
			p.next = map[string]time.Time{}
		}
		at := p.next[key]
		if at.Before(now) {
			at = now
		}
		p.next[key] = at.Add(interval)
		p.mu.Unlock()
		if d := at.Sub(now); d > 0 {
			return p.sleep(ctx, d)
		}
		return ctx.Err()
	}
}

func (p *Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
