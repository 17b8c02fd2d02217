package assess

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/store"
)

// Collector reads one area of one tenant. It returns an error only when
// nothing could be attempted (no credential); per-source failures belong in
// Collected.Sources.
type Collector func(ctx context.Context, tenantID string, area posture.Area) (Collected, error)

// Service runs assessments and answers posture queries.
type Service struct {
	store   store.Store
	collect Collector
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Service.
func New(s store.Store, collect Collector, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: s, collect: collect, now: now, log: log}
}

// Store attributes on snapshot documents.
const (
	attrArea     = "area"
	attrPart     = "part"
	attrSnapshot = "snapshot"
	partHeader   = "header"
	partUsers    = "users"
)

// userChunkSize keeps each per-user chunk well under Cosmos's 2 MB item limit.
const userChunkSize = 2000

// UserChunkTTL expires per-user detail; headers and history stay for trends.
const UserChunkTTL = 120 * 24 * time.Hour

// SnapshotID is the idempotency key: one snapshot per tenant, area and hour.
// A second run in the same hour replaces the first (or, if it is less
// complete, is recorded as an attempt on it).
func SnapshotID(area posture.Area, t time.Time) string {
	return string(area) + "-" + t.UTC().Format("2006010215")
}

// RunResult summarises one assessment for the invocation log.
type RunResult struct {
	SnapshotID string
	Stored     bool // false when an existing, more complete snapshot was kept
	Sources    posture.Sources
	Metrics    map[string]posture.Metric
}

// Run collects one area for a tenant and stores the snapshot. It is safe to
// run twice in a row and concurrently with itself.
func (s *Service) Run(ctx context.Context, tenantID string, area posture.Area) (RunResult, error) {
	log := s.log.With("tenant_id", tenantID, "area", string(area))
	start := s.now()
	c, err := s.collect(ctx, tenantID, area)
	if err != nil {
		// Nothing could be read: store that fact, so metrics turn unknown
		// with the reason rather than silently keeping stale values.
		c = Collected{Sources: posture.Sources{{Name: "graph", Status: posture.SourceFailed, Reason: err.Error()}}}
		for _, n := range areaSources[area] {
			c.Sources = append(c.Sources, posture.Source{Name: n, Status: posture.SourceSkipped, Reason: "graph client unavailable"})
		}
	}
	takenAt := s.now().UTC()
	b := build(tenantID, area, c, takenAt)
	b.snap.ID = SnapshotID(area, takenAt)
	b.snap.RunID = newID()
	res := RunResult{SnapshotID: b.snap.ID, Sources: b.snap.Sources, Metrics: b.snap.Metrics}

	stored, err := s.storeSnapshot(ctx, b)
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
		"sources_failed", failed, "duration_ms", s.now().Sub(start).Milliseconds())
	return res, nil
}

// areaSources lists the sources each area's collector reads, for marking
// them skipped when the collector could not start.
var areaSources = map[posture.Area][]string{
	posture.AreaIdentity:    {posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults, posture.SrcConditionalAccess, posture.SrcRoleAssignments, posture.SrcAuthorizationPolicy, posture.SrcDomains},
	posture.AreaDevices:     {posture.SrcManagedDevices, posture.SrcProtectionStates},
	posture.AreaSecureScore: {posture.SrcSecureScores, posture.SrcControlProfiles},
	posture.AreaBackup:      {posture.SrcBackupService, posture.SrcBackupPolicies},
}

// storeSnapshot writes chunks then the header. If a snapshot for the same period
// exists and has sources this run lost, the existing one is kept and this
// run is appended to its attempts, so a failed re-run never replaces the
// last good data of the period.
func (s *Service) storeSnapshot(ctx context.Context, b built) (bool, error) {
	for attempt := 0; ; attempt++ {
		existing, doc, err := store.GetJSON[posture.Snapshot](ctx, s.store, store.KindSnapshot, b.snap.TenantID, b.snap.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return false, fmt.Errorf("read snapshot %s: %w", b.snap.ID, err)
		case lostSources(existing.Sources, b.snap.Sources):
			existing.Attempts = append(existing.Attempts, posture.Attempt{At: b.snap.TakenAt, RunID: b.snap.RunID, Sources: b.snap.Sources})
			d, err := store.Encode(doc, existing)
			if err != nil {
				return false, err
			}
			_, err = s.store.Put(ctx, d, store.IfMatch)
			if errors.Is(err, store.ErrConflict) && attempt < 5 {
				continue
			}
			if err != nil {
				return false, fmt.Errorf("record attempt on snapshot %s: %w", b.snap.ID, err)
			}
			return false, nil
		}
		break
	}
	chunks := 0
	for i := 0; i < len(b.users); i += userChunkSize {
		end := min(i+userChunkSize, len(b.users))
		d, err := store.Encode(store.Doc{Kind: store.KindSnapshot, TenantID: b.snap.TenantID,
			ID:   fmt.Sprintf("%s-%s-u%d", b.snap.ID, b.snap.RunID, chunks),
			Time: b.snap.TakenAt, TTL: UserChunkTTL,
			Attrs: map[string]string{attrArea: string(b.snap.Area), attrPart: partUsers, attrSnapshot: b.snap.ID + "/" + b.snap.RunID},
		}, b.users[i:end])
		if err != nil {
			return false, err
		}
		if err := putRetry(ctx, s.store, d, store.Upsert); err != nil {
			return false, fmt.Errorf("store user chunk %d of %s: %w", chunks, b.snap.ID, err)
		}
		chunks++
	}
	b.snap.UserChunks = chunks
	d, err := store.Encode(store.Doc{Kind: store.KindSnapshot, TenantID: b.snap.TenantID, ID: b.snap.ID, Time: b.snap.TakenAt,
		Attrs: map[string]string{attrArea: string(b.snap.Area), attrPart: partHeader}}, b.snap)
	if err != nil {
		return false, err
	}
	if err := putRetry(ctx, s.store, d, store.Upsert); err != nil {
		return false, fmt.Errorf("store snapshot %s: %w", b.snap.ID, err)
	}
	return true, nil
}

// lostSources reports whether next has a failed source that prev read.
func lostSources(prev, next posture.Sources) bool {
	for _, p := range prev {
		if !p.OK() {
			continue
		}
		if n, ok := next.Get(p.Name); !ok || !n.OK() {
			return true
		}
	}
	return false
}

// putRetry retries transient store failures a few times; invalid documents
// and conflicts are returned at once.
func putRetry(ctx context.Context, s store.Store, d store.Doc, mode store.WriteMode) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if _, err = s.Put(ctx, d, mode); err == nil || errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(200<<attempt) * time.Millisecond):
		}
	}
	return err
}

// recordHistory stores the small per-snapshot history point: metrics and
// the statuses of this area's controls as they evaluate now.
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
	d, err := store.Encode(store.Doc{Kind: store.KindHistory, TenantID: snap.TenantID, ID: snap.ID, Time: snap.TakenAt,
		Attrs: map[string]string{attrArea: string(snap.Area)}}, p)
	if err != nil {
		return err
	}
	if err := putRetry(ctx, s.store, d, store.Upsert); err != nil {
		return fmt.Errorf("store history point %s: %w", snap.ID, err)
	}
	return nil
}

// Latest returns the newest snapshot of an area at or before t (zero t: now).
func (s *Service) Latest(ctx context.Context, tenantID string, area posture.Area, at time.Time) (*posture.Snapshot, error) {
	q := store.Query{Kind: store.KindSnapshot, TenantID: tenantID, Descending: true, Limit: 1,
		Attrs: map[string]string{attrArea: string(area), attrPart: partHeader}}
	if !at.IsZero() {
		q.To = at.Add(time.Nanosecond)
	}
	p, err := s.store.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query latest %s snapshot: %w", area, err)
	}
	if len(p.Docs) == 0 {
		return nil, nil
	}
	var snap posture.Snapshot
	if err := json.Unmarshal(p.Docs[0].Body, &snap); err != nil {
		return nil, fmt.Errorf("decode snapshot %s: %w", p.Docs[0].ID, err)
	}
	return &snap, nil
}

// input gathers what controls need at time at: restore tests, incidents,
// targets, exceptions, and either the one snapshot given (for its area) or
// the latest snapshot of every area at or before at.
func (s *Service) input(ctx context.Context, tenantID string, at time.Time, only *posture.Snapshot) (controls.Input, []controls.Exception, error) {
	in := controls.Input{AsOf: at}
	for _, a := range posture.Areas {
		var snap *posture.Snapshot
		switch {
		case only != nil && only.Area == a:
			snap = only
		case only == nil:
			var err error
			if snap, err = s.Latest(ctx, tenantID, a, at); err != nil {
				return in, nil, err
			}
		}
		switch a {
		case posture.AreaIdentity:
			in.Identity = snap
		case posture.AreaDevices:
			in.Devices = snap
		case posture.AreaSecureScore:
			in.SecureScore = snap
		case posture.AreaBackup:
			in.Backup = snap
		}
	}
	var err error
	if in.RestoreTests, err = s.RestoreTests(ctx, tenantID); err != nil {
		return in, nil, err
	}
	if in.Incidents, err = store.DecodeAll[incident.Incident](ctx, s.store, store.Query{Kind: store.KindIncident, TenantID: tenantID, Limit: store.MaxPageSize}); err != nil {
		return in, nil, fmt.Errorf("read incidents: %w", err)
	}
	if _, _, err := store.GetJSON[json.RawMessage](ctx, s.store, store.KindState, tenantID, stateAlertsPolled); err == nil {
		in.AlertsCollected = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return in, nil, fmt.Errorf("read alert polling state: %w", err)
	}
	if in.Targets, err = s.Targets(ctx, tenantID); err != nil {
		return in, nil, err
	}
	exceptions, err := s.Exceptions(ctx, tenantID)
	if err != nil {
		return in, nil, err
	}
	return in, exceptions, nil
}

// stateAlertsPolled is the state document the alert poller writes after its
// first successful poll.
const stateAlertsPolled = "alertsPolled"

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
