package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"m365security/shared/posture"
	"m365security/shared/store"
)

// Snapshots stores one posture snapshot per tenant, area and hour: a header
// document, and the per-user MFA states beside it in chunks (a large
// tenant's would not fit one document).
type Snapshots struct{ s store.Store }

const (
	partHeader = "header"
	partUsers  = "users"
)

// userChunkSize keeps each per-user chunk well under Cosmos's 2 MB item limit.
const userChunkSize = 2000

// UserChunkTTL expires per-user detail; headers and history stay for trends.
const UserChunkTTL = 120 * 24 * time.Hour

// maxAttempts bounds the attempts kept on one snapshot.
const maxAttempts = 24

// SnapshotID is the idempotency key: one snapshot per tenant, area and hour.
func SnapshotID(area posture.Area, t time.Time) string {
	return string(area) + "-" + t.UTC().Format("2006010215")
}

func chunkID(snapshotID, runID string, i int) string {
	return fmt.Sprintf("%s-%s-u%d", snapshotID, runID, i)
}

// Put stores snap, with users in chunks, as the snapshot of its period,
// unless the period's stored snapshot read a source that snap lost: then
// snap is recorded as an attempt on it and Put returns false, so a failed
// re-run never replaces the last good data of the period. The decision and
// the write are both conditional on the stored ETag, so same-period runs
// racing each other cannot replace a more complete snapshot either. The
// chunks of a run that is not stored, and of a snapshot that is replaced,
// are deleted; a chunk left by a crash is never referenced and expires.
func (r Snapshots) Put(ctx context.Context, snap posture.Snapshot, users []posture.UserMFA) (bool, error) {
	if err := store.ValidateKey(store.KindSnapshot, snap.TenantID, snap.ID); err != nil {
		return false, err
	}
	retry := store.DefaultRetry
	chunks := -1 // not written yet
	for n := 1; ; n++ {
		existing, doc, err := store.GetJSON[posture.Snapshot](ctx, r.s, store.KindSnapshot, snap.TenantID, snap.ID)
		exists, err := found(err)
		if err != nil {
			return false, fmt.Errorf("read snapshot %s: %w", snap.ID, err)
		}
		if exists && lostSources(existing.Sources, snap.Sources) {
			r.deleteChunks(ctx, snap.TenantID, snap.ID, snap.RunID, chunks)
			existing.Attempts = append(existing.Attempts, posture.Attempt{At: snap.TakenAt, RunID: snap.RunID, Sources: snap.Sources})
			if len(existing.Attempts) > maxAttempts {
				existing.Attempts = existing.Attempts[len(existing.Attempts)-maxAttempts:]
			}
			d, err := store.Encode(doc, existing)
			if err != nil {
				return false, err
			}
			_, err = store.Write(ctx, r.s, d, store.IfMatch)
			if errors.Is(err, store.ErrConflict) && n < retry.Attempts {
				continue
			}
			if err != nil {
				return false, fmt.Errorf("record attempt on snapshot %s: %w", snap.ID, err)
			}
			return false, nil
		}
		if chunks < 0 {
			if chunks, err = r.putChunks(ctx, snap, users); err != nil {
				return false, err
			}
		}
		snap.UserChunks = chunks
		d, err := store.Encode(store.Doc{Kind: store.KindSnapshot, TenantID: snap.TenantID, ID: snap.ID, Time: snap.TakenAt,
			Attrs: map[string]string{attrArea: string(snap.Area), attrPart: partHeader}, ETag: doc.ETag}, snap)
		if err != nil {
			return false, err
		}
		mode := store.Create
		if exists {
			mode = store.IfMatch
		}
		_, err = store.Write(ctx, r.s, d, mode)
		if errors.Is(err, store.ErrConflict) && n < retry.Attempts {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("store snapshot %s: %w", snap.ID, err)
		}
		if exists && existing.RunID != snap.RunID {
			r.deleteChunks(ctx, snap.TenantID, snap.ID, existing.RunID, existing.UserChunks)
		}
		return true, nil
	}
}

func (r Snapshots) putChunks(ctx context.Context, snap posture.Snapshot, users []posture.UserMFA) (int, error) {
	chunks := 0
	for i := 0; i < len(users); i += userChunkSize {
		end := min(i+userChunkSize, len(users))
		d, err := store.Encode(store.Doc{Kind: store.KindSnapshot, TenantID: snap.TenantID, ID: chunkID(snap.ID, snap.RunID, chunks),
			Time: snap.TakenAt, TTL: UserChunkTTL,
			Attrs: map[string]string{attrArea: string(snap.Area), attrPart: partUsers, attrSnapshot: snap.ID + "/" + snap.RunID},
		}, users[i:end])
		if err != nil {
			return 0, err
		}
		if _, err := store.Write(ctx, r.s, d, store.Upsert); err != nil {
			return 0, fmt.Errorf("store user chunk %d of %s: %w", chunks, snap.ID, err)
		}
		chunks++
	}
	return chunks, nil
}

// deleteChunks removes a run's chunks. It is best effort: a chunk it misses
// is referenced by no header and expires with its TTL.
func (r Snapshots) deleteChunks(ctx context.Context, tenantID, snapshotID, runID string, n int) {
	for i := 0; i < n; i++ {
		_ = r.s.Delete(ctx, store.KindSnapshot, tenantID, chunkID(snapshotID, runID, i), "")
	}
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

func headerQuery(tenantID string, area posture.Area) store.Query {
	return store.Query{Kind: store.KindSnapshot, TenantID: tenantID,
		Attrs: map[string]string{attrArea: string(area), attrPart: partHeader}}
}

// Latest returns the newest snapshot of an area taken at or before at (zero
// at: the newest of all), or nil when there is none.
func (r Snapshots) Latest(ctx context.Context, tenantID string, area posture.Area, at time.Time) (*posture.Snapshot, error) {
	q := headerQuery(tenantID, area)
	q.Descending, q.Limit = true, 1
	if !at.IsZero() {
		q.To = at.Add(time.Nanosecond)
	}
	p, err := r.s.Query(ctx, q)
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

// Get returns one snapshot header by id.
func (r Snapshots) Get(ctx context.Context, tenantID, id string) (posture.Snapshot, error) {
	snap, _, err := store.GetJSON[posture.Snapshot](ctx, r.s, store.KindSnapshot, tenantID, id)
	if err != nil {
		return snap, fmt.Errorf("read snapshot %s: %w", id, err)
	}
	return snap, nil
}

// Each calls fn for every snapshot of an area taken in [from, to), oldest
// first. Headers can be large: callers bound the range.
func (r Snapshots) Each(ctx context.Context, tenantID string, area posture.Area, from, to time.Time, fn func(posture.Snapshot) error) error {
	q := headerQuery(tenantID, area)
	q.From, q.To, q.Limit = from, to, 10
	return store.Each(ctx, r.s, q, func(d store.Doc) error {
		var snap posture.Snapshot
		if err := json.Unmarshal(d.Body, &snap); err != nil {
			return fmt.Errorf("decode snapshot %s: %w", d.ID, err)
		}
		return fn(snap)
	})
}

// UserStates returns the per-user MFA states stored with snap, in chunk
// order; keep (nil: all) filters them as they are read.
func (r Snapshots) UserStates(ctx context.Context, snap posture.Snapshot, keep func(posture.UserMFA) bool) ([]posture.UserMFA, error) {
	out := []posture.UserMFA{}
	q := store.Query{Kind: store.KindSnapshot, TenantID: snap.TenantID, Limit: 50,
		Attrs: map[string]string{attrPart: partUsers, attrSnapshot: snap.ID + "/" + snap.RunID}}
	err := store.Each(ctx, r.s, q, func(d store.Doc) error {
		var chunk []posture.UserMFA
		if err := json.Unmarshal(d.Body, &chunk); err != nil {
			return fmt.Errorf("decode user chunk %s: %w", d.ID, err)
		}
		for _, u := range chunk {
			if keep == nil || keep(u) {
				out = append(out, u)
			}
		}
		return nil
	})
	return out, err
}
