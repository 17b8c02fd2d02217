package assess

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"m365security/shared/controls"
	"m365security/shared/metrics"
	"m365security/shared/posture"
	"m365security/shared/records"
)

// Collected is what a collector returns for one area.
type Collected = posture.Collected

// Collector reads one area of one tenant. It never fails as a whole: a
// collection that could not start returns its sources skipped with the
// reason, and per-source failures are in Collected.Sources.
type Collector func(ctx context.Context, tenantID string, area posture.Area) Collected

// Service runs assessments and answers posture queries.
type Service struct {
	records *records.Records
	collect Collector
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Service.
func New(r *records.Records, collect Collector, now func() time.Time, log *slog.Logger) *Service {
	return &Service{records: r, collect: collect, now: now, log: log}
}

// SnapshotID is the idempotency key: one snapshot per tenant, area and hour.
func SnapshotID(area posture.Area, t time.Time) string { return records.SnapshotID(area, t) }

// RunResult summarises one assessment for the invocation log.
type RunResult struct {
	SnapshotID string
	Stored     bool // false when an existing, more complete snapshot was kept
	Sources    posture.Sources
	Metrics    map[string]posture.Metric
	// Repaired counts earlier snapshots whose missing history point this
	// run wrote.
	Repaired int
}

// Run collects one area for a tenant and stores the snapshot and its
// history point. It is safe to run twice in a row and concurrently with
// itself. A snapshot whose history point was never written (a crash between
// the two writes) is repaired by the next run of the area.
func (s *Service) Run(ctx context.Context, tenantID string, area posture.Area) (RunResult, error) {
	log := s.log.With("tenant_id", tenantID, "area", string(area))
	start := s.now()
	c := s.collect(ctx, tenantID, area)
	takenAt := s.now().UTC()
	b, err := build(tenantID, area, c, takenAt)
	if err != nil {
		return RunResult{}, err
	}
	b.snap.ID = SnapshotID(area, takenAt)
	b.snap.RunID = records.NewID()
	res := RunResult{SnapshotID: b.snap.ID, Sources: b.snap.Sources, Metrics: b.snap.Metrics}

	// A failed repair must not cost this run its snapshot: the points stay
	// missing and the next run tries again.
	if res.Repaired, err = s.repairHistory(ctx, tenantID, area, takenAt); err != nil {
		log.Warn("history repair failed; the next run retries it", "error", err.Error())
	}
	stored, err := s.records.Snapshots.Put(ctx, b.snap, b.users)
	if err != nil {
		return res, err
	}
	res.Stored = stored
	if stored {
		if err := s.recordHistory(ctx, b.snap); err != nil {
			return res, err
		}
	}
	failed := 0
	for _, src := range b.snap.Sources {
		if !src.OK() {
			failed++
		}
	}
	log.Info("assessment finished", "snapshot_id", b.snap.ID, "stored", stored, "sources", len(b.snap.Sources),
		"sources_failed", failed, "history_repaired", res.Repaired, "duration_ms", s.now().Sub(start).Milliseconds())
	return res, nil
}

// repairWindow bounds how far back a run looks for snapshots that lack a
// history point, and repairLimit how many it repairs at once.
const (
	repairWindow = 7 * 24 * time.Hour
	repairLimit  = 48
)

// repairHistory writes the history points of snapshots stored after the
// area's newest point. Points are written right after their snapshot, so
// only a crash between the two leaves such a snapshot, and it is always
// newer than the newest point: usually the scan finds nothing.
func (s *Service) repairHistory(ctx context.Context, tenantID string, area posture.Area, before time.Time) (int, error) {
	from := before.Add(-repairWindow)
	last, err := s.records.History.Latest(ctx, tenantID, area, time.Time{})
	if err != nil {
		return 0, fmt.Errorf("read latest history point: %w", err)
	}
	if last != nil && last.TakenAt.After(from) {
		from = last.TakenAt.Add(time.Nanosecond)
	}
	if !from.Before(before) {
		return 0, nil
	}
	repaired := 0
	err = s.records.Snapshots.Each(ctx, tenantID, area, from, before, func(snap posture.Snapshot) error {
		if repaired >= repairLimit {
			return nil
		}
		if err := s.recordHistory(ctx, snap); err != nil {
			return err
		}
		repaired++
		return nil
	})
	if err != nil {
		return repaired, fmt.Errorf("repair history of %s: %w", area, err)
	}
	if repaired > 0 {
		s.log.Warn("history points repaired for snapshots stored without one", "tenant_id", tenantID, "area", string(area), "repaired", repaired)
	}
	return repaired, nil
}

// recordHistory stores the small per-snapshot history point: metrics and
// the statuses of this area's controls as they evaluate at the snapshot's
// time, with the exceptions and targets of then.
func (s *Service) recordHistory(ctx context.Context, snap posture.Snapshot) error {
	// Only this area's controls are recorded, so only this snapshot is
	// needed: reading it back would cost a round trip and, on Cosmos with
	// session consistency, could return the previous version.
	in, exceptions, err := s.input(ctx, snap.TenantID, snap.TakenAt, &snap)
	if err != nil {
		return err
	}
	p := posture.HistoryPoint{SnapshotID: snap.ID, TenantID: snap.TenantID, Area: snap.Area, TakenAt: snap.TakenAt,
		Metrics: snap.Metrics, Controls: map[string]posture.ControlState{}, Sources: snap.Sources}
	for _, c := range controls.Catalogue {
		if c.Area != snap.Area {
			continue
		}
		r := controls.EvaluateOne(c, in, exceptions)
		p.Controls[c.ID] = posture.ControlState{Status: string(r.Status), Findings: r.Findings.Total}
	}
	return s.records.History.Put(ctx, p)
}

// Latest returns the newest snapshot of an area at or before at (zero: now).
func (s *Service) Latest(ctx context.Context, tenantID string, area posture.Area, at time.Time) (*posture.Snapshot, error) {
	return s.records.Snapshots.Latest(ctx, tenantID, area, at)
}

// input gathers what controls need at time at: restore tests, incidents,
// targets, exceptions, and either the one snapshot given (for its area) or
// the latest snapshot of every area at or before at.
func (s *Service) input(ctx context.Context, tenantID string, at time.Time, only *posture.Snapshot) (controls.Input, []controls.Exception, error) {
	in := controls.Input{AsOf: at, Snapshots: map[posture.Area]*posture.Snapshot{}}
	for _, a := range posture.Areas {
		switch {
		case only != nil && only.Area == a:
			in.Snapshots[a] = only
		case only == nil:
			snap, err := s.records.Snapshots.Latest(ctx, tenantID, a, at)
			if err != nil {
				return in, nil, err
			}
			if snap != nil {
				in.Snapshots[a] = snap
			}
		}
	}
	var err error
	if in.RestoreTests, err = s.records.RestoreTests.Range(ctx, tenantID, time.Time{}, at.Add(time.Nanosecond)); err != nil {
		return in, nil, err
	}
	if in.Incidents, err = s.records.Incidents.ForMetrics(ctx, tenantID, at, metrics.IncidentWindow); err != nil {
		return in, nil, err
	}
	if _, in.AlertsCollected, err = s.records.State.AlertPolling(ctx, tenantID); err != nil {
		return in, nil, fmt.Errorf("read alert polling state: %w", err)
	}
	if in.Targets, err = s.records.Settings.Targets(ctx, tenantID); err != nil {
		return in, nil, err
	}
	tenant, err := s.records.Settings.Tenant(ctx, tenantID)
	if err != nil {
		return in, nil, err
	}
	in.FederalAgency = tenant.FederalAgency
	exceptions, err := s.records.Exceptions.Relevant(ctx, tenantID, at)
	if err != nil {
		return in, nil, err
	}
	return in, exceptions, nil
}
