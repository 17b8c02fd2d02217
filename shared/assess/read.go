package assess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/metrics"
	"m365security/shared/posture"
	"m365security/shared/store"
)

// MetricsView is the /api/metrics answer.
type MetricsView struct {
	TenantID string                    `json:"tenantId"`
	AsOf     time.Time                 `json:"asOf"`
	Metrics  map[string]posture.Metric `json:"metrics"`
}

// lastGoodLookback bounds how far back an unknown metric looks for its last
// measured value.
const lastGoodLookback = 50

// Metrics returns the latest value of every metric: collected areas from
// their latest snapshots, incident and restore-test metrics computed now.
// An unknown metric carries its last measured value, if any.
func (s *Service) Metrics(ctx context.Context, tenantID string) (MetricsView, error) {
	now := s.now().UTC()
	v := MetricsView{TenantID: tenantID, Metrics: map[string]posture.Metric{}}
	for _, area := range []posture.Area{posture.AreaIdentity, posture.AreaDevices, posture.AreaSecureScore} {
		snap, err := s.Latest(ctx, tenantID, area, time.Time{})
		if err != nil {
			return v, err
		}
		for _, name := range posture.AreaMetrics[area] {
			if snap == nil {
				v.Metrics[name] = posture.UnknownMetric(posture.UnitRatio, string(area)+" data has not been collected yet", now)
				continue
			}
			m, ok := snap.Metrics[name]
			if !ok {
				m = posture.UnknownMetric(posture.UnitRatio, "not computed by the latest "+string(area)+" collection", snap.TakenAt)
			}
			if !m.IsMeasured() {
				if last, err := s.lastMeasured(ctx, tenantID, area, name); err != nil {
					return v, err
				} else if last != nil {
					m.LastMeasured = last
				}
			}
			v.Metrics[name] = m
		}
		if snap != nil && snap.TakenAt.After(v.AsOf) {
			v.AsOf = snap.TakenAt
		}
	}
	tests, err := s.RestoreTests(ctx, tenantID)
	if err != nil {
		return v, err
	}
	for k, m := range metrics.RestoreTests(tests, now) {
		v.Metrics[k] = m
	}
	incidents, err := store.DecodeAll[incident.Incident](ctx, s.store, store.Query{Kind: store.KindIncident, TenantID: tenantID, Limit: store.MaxPageSize})
	if err != nil {
		return v, fmt.Errorf("read incidents: %w", err)
	}
	for k, m := range metrics.Incidents(incidents, now) {
		v.Metrics[k] = m
	}
	if v.AsOf.IsZero() {
		v.AsOf = now
	}
	return v, nil
}

// lastMeasured finds the newest history point where the metric was measured.
func (s *Service) lastMeasured(ctx context.Context, tenantID string, area posture.Area, name string) (*posture.Metric, error) {
	q := store.Query{Kind: store.KindHistory, TenantID: tenantID, Descending: true, Limit: lastGoodLookback,
		Attrs: map[string]string{attrArea: string(area)}}
	p, err := s.store.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	for _, d := range p.Docs {
		var hp posture.HistoryPoint
		if err := json.Unmarshal(d.Body, &hp); err != nil {
			return nil, fmt.Errorf("decode history point %s: %w", d.ID, err)
		}
		if m, ok := hp.Metrics[name]; ok && m.IsMeasured() {
			m.LastMeasured = nil
			return &m, nil
		}
	}
	return nil, nil
}

// HistoryEntry is one /api/metrics/history entry: one stored snapshot.
type HistoryEntry struct {
	SnapshotID string                    `json:"snapshotId"`
	Area       posture.Area              `json:"area"`
	AsOf       time.Time                 `json:"asOf"`
	Metrics    map[string]posture.Metric `json:"metrics"`
	Sources    posture.Sources           `json:"sources"`
}

// MaxHistoryEntries bounds one history answer.
const MaxHistoryEntries = 20000

// MetricsHistory returns one entry per snapshot in [from, to), oldest first.
func (s *Service) MetricsHistory(ctx context.Context, tenantID string, from, to time.Time) ([]HistoryEntry, error) {
	points, err := s.historyPoints(ctx, tenantID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, 0, len(points))
	for _, p := range points {
		out = append(out, HistoryEntry{SnapshotID: p.SnapshotID, Area: p.Area, AsOf: p.TakenAt, Metrics: p.Metrics, Sources: p.Sources})
	}
	return out, nil
}

func (s *Service) historyPoints(ctx context.Context, tenantID string, from, to time.Time) ([]posture.HistoryPoint, error) {
	var out []posture.HistoryPoint
	err := store.Each(ctx, s.store, store.Query{Kind: store.KindHistory, TenantID: tenantID, From: from, To: to, Limit: store.MaxPageSize},
		func(d store.Doc) error {
			if len(out) >= MaxHistoryEntries {
				return fmt.Errorf("history range holds more than %d snapshots; narrow it", MaxHistoryEntries)
			}
			var p posture.HistoryPoint
			if err := json.Unmarshal(d.Body, &p); err != nil {
				return fmt.Errorf("decode history point %s: %w", d.ID, err)
			}
			out = append(out, p)
			return nil
		})
	return out, err
}

// ControlsView is the /api/controls answer.
type ControlsView struct {
	TenantID string            `json:"tenantId"`
	AsOf     time.Time         `json:"asOf"`
	Targets  controls.Targets  `json:"targets"`
	Controls []controls.Result `json:"controls"`
}

// Controls evaluates the catalogue over the latest snapshots with the
// exceptions and targets in force now.
func (s *Service) Controls(ctx context.Context, tenantID string) (ControlsView, error) {
	now := s.now().UTC()
	in, exceptions, err := s.input(ctx, tenantID, now, nil)
	if err != nil {
		return ControlsView{}, err
	}
	return ControlsView{TenantID: tenantID, AsOf: now, Targets: in.Targets, Controls: controls.Evaluate(in, exceptions)}, nil
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
	points, err := s.historyPoints(ctx, tenantID, from.Add(-historyLead), to)
	if err != nil {
		return ControlsHistoryView{}, err
	}
	return ControlsHistoryView{TenantID: tenantID, From: from, To: to, Controls: controls.History(points, from, to)}, nil
}

// UsersView is the per-user MFA answer of the latest identity snapshot.
type UsersView struct {
	TenantID   string            `json:"tenantId"`
	AsOf       time.Time         `json:"asOf"`
	SnapshotID string            `json:"snapshotId"`
	Users      []posture.UserMFA `json:"users"`
}

// MFAUsers returns the latest per-user MFA states; onlyUnprotected filters
// to users not (or not provably) protected.
func (s *Service) MFAUsers(ctx context.Context, tenantID string, onlyUnprotected bool) (UsersView, error) {
	v := UsersView{TenantID: tenantID, Users: []posture.UserMFA{}}
	snap, err := s.Latest(ctx, tenantID, posture.AreaIdentity, time.Time{})
	if err != nil || snap == nil {
		return v, err
	}
	v.AsOf, v.SnapshotID = snap.TakenAt, snap.ID
	q := store.Query{Kind: store.KindSnapshot, TenantID: tenantID, Limit: 50,
		Attrs: map[string]string{attrPart: partUsers, attrSnapshot: snap.ID + "/" + snap.RunID}}
	err = store.Each(ctx, s.store, q, func(d store.Doc) error {
		var chunk []posture.UserMFA
		if err := json.Unmarshal(d.Body, &chunk); err != nil {
			return fmt.Errorf("decode user chunk %s: %w", d.ID, err)
		}
		for _, u := range chunk {
			if !onlyUnprotected || u.Protected != posture.Yes {
				v.Users = append(v.Users, u)
			}
		}
		return nil
	})
	sort.SliceStable(v.Users, func(i, j int) bool { return v.Users[i].UserPrincipalName < v.Users[j].UserPrincipalName })
	return v, err
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

// Collection returns the latest collection health per area.
func (s *Service) Collection(ctx context.Context, tenantID string) (CollectionView, error) {
	v := CollectionView{TenantID: tenantID, Areas: map[posture.Area]AreaStatus{}}
	for _, a := range posture.Areas {
		snap, err := s.Latest(ctx, tenantID, a, time.Time{})
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

// ErrNotFound is returned for an unknown exception id.
var ErrNotFound = errors.New("not found")
