package assess

import (
	"context"
	"sort"
	"time"

	"m365security/shared/controls"
	"m365security/shared/metrics"
	"m365security/shared/posture"
)

// MetricsView is the /api/metrics answer.
type MetricsView struct {
	TenantID string                    `json:"tenantId"`
	AsOf     time.Time                 `json:"asOf"`
	Metrics  map[string]posture.Metric `json:"metrics"`
	// SnapshotIDs names the snapshot each area's metrics come from, so a
	// report can trace every number to stored evidence.
	SnapshotIDs map[posture.Area]string `json:"snapshotIds,omitempty"`
}

// Metrics returns every metric as of at (zero: now): collected areas from
// their latest snapshots at or before at, incident and restore-test metrics
// computed at at. An unknown metric carries its last measured value, if any.
func (s *Service) Metrics(ctx context.Context, tenantID string, at time.Time) (MetricsView, error) {
	now := s.asOf(at)
	v := MetricsView{TenantID: tenantID, Metrics: map[string]posture.Metric{}, SnapshotIDs: map[posture.Area]string{}}
	for _, area := range posture.Areas {
		names := posture.AreaMetrics[area]
		if len(names) == 0 {
			continue
		}
		snap, err := s.records.Snapshots.Latest(ctx, tenantID, area, at)
		if err != nil {
			return v, err
		}
		for _, name := range names {
			if snap == nil {
				v.Metrics[name] = posture.UnknownMetric(posture.UnitRatio, string(area)+" data has not been collected yet", now)
				continue
			}
			m, ok := snap.Metrics[name]
			if !ok {
				m = posture.UnknownMetric(posture.UnitRatio, "not computed by the latest "+string(area)+" collection", snap.TakenAt)
			}
			if !m.IsMeasured() {
				last, err := s.records.History.LastMeasured(ctx, tenantID, area, name)
				if err != nil {
					return v, err
				}
				m.LastMeasured = last
			}
			v.Metrics[name] = m
		}
		if snap != nil {
			v.SnapshotIDs[area] = snap.ID
			if snap.TakenAt.After(v.AsOf) {
				v.AsOf = snap.TakenAt
			}
		}
	}
	tests, err := s.records.RestoreTests.Range(ctx, tenantID, time.Time{}, now.Add(time.Nanosecond))
	if err != nil {
		return v, err
	}
	for k, m := range metrics.RestoreTests(tests, now) {
		v.Metrics[k] = m
	}
	incidents, err := s.records.Incidents.ForMetrics(ctx, tenantID, now, metrics.IncidentWindow)
	if err != nil {
		return v, err
	}
	for k, m := range metrics.Incidents(incidents, now) {
		v.Metrics[k] = m
	}
	if v.AsOf.IsZero() {
		v.AsOf = now
	}
	return v, nil
}

// asOf resolves a zero "as of" to now.
func (s *Service) asOf(at time.Time) time.Time {
	if at.IsZero() {
		return s.now().UTC()
	}
	return at.UTC()
}

// HistoryEntry is one /api/metrics/history entry: one stored snapshot.
type HistoryEntry struct {
	SnapshotID string                    `json:"snapshotId"`
	Area       posture.Area              `json:"area"`
	AsOf       time.Time                 `json:"asOf"`
	Metrics    map[string]posture.Metric `json:"metrics"`
	Sources    posture.Sources           `json:"sources"`
}

// MetricsHistory returns one entry per snapshot in [from, to), oldest first.
func (s *Service) MetricsHistory(ctx context.Context, tenantID string, from, to time.Time) ([]HistoryEntry, error) {
	points, err := s.records.History.Range(ctx, tenantID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, 0, len(points))
	for _, p := range points {
		out = append(out, HistoryEntry{SnapshotID: p.SnapshotID, Area: p.Area, AsOf: p.TakenAt, Metrics: p.Metrics, Sources: p.Sources})
	}
	return out, nil
}

// ControlsView is the /api/controls answer.
type ControlsView struct {
	TenantID string            `json:"tenantId"`
	AsOf     time.Time         `json:"asOf"`
	Targets  controls.Targets  `json:"targets"`
	Controls []controls.Result `json:"controls"`
}

// Controls evaluates the catalogue as of at (zero: now) over the latest
// snapshots then, with the exceptions and targets in force then.
func (s *Service) Controls(ctx context.Context, tenantID string, at time.Time) (ControlsView, error) {
	when := s.asOf(at)
	in, exceptions, err := s.input(ctx, tenantID, when, nil)
	if err != nil {
		return ControlsView{}, err
	}
	return ControlsView{TenantID: tenantID, AsOf: when, Targets: in.Targets, Controls: controls.Evaluate(in, exceptions)}, nil
}

// ControlsHistoryView is the /api/controls/history answer.
type ControlsHistoryView struct {
	TenantID string                    `json:"tenantId"`
	From     time.Time                 `json:"from"`
	To       time.Time                 `json:"to"`
	Controls []controls.ControlHistory `json:"controls"`
}

// historyLead is how far before from history reads to know each control's
// state at the start of the window.
const historyLead = 45 * 24 * time.Hour

// ControlsHistory returns each control's changes over [from, to).
func (s *Service) ControlsHistory(ctx context.Context, tenantID string, from, to time.Time) (ControlsHistoryView, error) {
	points, err := s.records.History.Range(ctx, tenantID, from.Add(-historyLead), to)
	if err != nil {
		return ControlsHistoryView{}, err
	}
	return ControlsHistoryView{TenantID: tenantID, From: from, To: to, Controls: controls.History(points, from, to, s.now())}, nil
}

// UsersView is the per-user MFA answer of the latest identity snapshot.
type UsersView struct {
	TenantID   string            `json:"tenantId"`
	AsOf       time.Time         `json:"asOf"`
	SnapshotID string            `json:"snapshotId"`
	Users      []posture.UserMFA `json:"users"`
}

// MFAUsers returns the per-user MFA states of the latest identity snapshot
// at or before at (zero: now); onlyUnprotected filters to users not (or not
// provably) protected.
func (s *Service) MFAUsers(ctx context.Context, tenantID string, at time.Time, onlyUnprotected bool) (UsersView, error) {
	v := UsersView{TenantID: tenantID, Users: []posture.UserMFA{}}
	snap, err := s.records.Snapshots.Latest(ctx, tenantID, posture.AreaIdentity, at)
	if err != nil || snap == nil {
		return v, err
	}
	v.AsOf, v.SnapshotID = snap.TakenAt, snap.ID
	var keep func(posture.UserMFA) bool
	if onlyUnprotected {
		keep = func(u posture.UserMFA) bool { return u.Protected != posture.Yes }
	}
	if v.Users, err = s.records.Snapshots.UserStates(ctx, *snap, keep); err != nil {
		return v, err
	}
	sort.SliceStable(v.Users, func(i, j int) bool { return v.Users[i].UserPrincipalName < v.Users[j].UserPrincipalName })
	return v, nil
}

// CollectionView is the collection health of the latest run of each area.
type CollectionView struct {
	TenantID string                      `json:"tenantId"`
	Areas    map[posture.Area]AreaStatus `json:"areas"`
}

// AreaStatus is one area's latest collection.
type AreaStatus struct {
	SnapshotID string            `json:"snapshotId,omitempty"`
	TakenAt    *time.Time        `json:"takenAt,omitempty"`
	Sources    posture.Sources   `json:"sources"`
	Attempts   []posture.Attempt `json:"attempts,omitempty"`
	Counts     *posture.Counts   `json:"counts,omitempty"`
}

// Collection returns the collection health per area as of at (zero: now).
func (s *Service) Collection(ctx context.Context, tenantID string, at time.Time) (CollectionView, error) {
	v := CollectionView{TenantID: tenantID, Areas: map[posture.Area]AreaStatus{}}
	for _, a := range posture.Areas {
		snap, err := s.records.Snapshots.Latest(ctx, tenantID, a, at)
		if err != nil {
			return v, err
		}
		if snap == nil {
			v.Areas[a] = AreaStatus{Sources: posture.Sources{}}
			continue
		}
		t := snap.TakenAt
		v.Areas[a] = AreaStatus{SnapshotID: snap.ID, TakenAt: &t, Sources: snap.Sources, Attempts: snap.Attempts, Counts: snap.Counts}
	}
	return v, nil
}
