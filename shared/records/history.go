package records

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"m365security/shared/posture"
	"m365security/shared/store"
)

// History stores the small per-snapshot history points trends read, keyed
// by the snapshot id they summarise.
type History struct{ s store.Store }

// MaxHistoryEntries bounds one range read.
const MaxHistoryEntries = 20000

// Put stores (or replaces) the point of a snapshot.
func (r History) Put(ctx context.Context, p posture.HistoryPoint) error {
	d, err := store.Encode(store.Doc{Kind: store.KindHistory, TenantID: p.TenantID, ID: p.SnapshotID, Time: p.TakenAt,
		Attrs: map[string]string{attrArea: string(p.Area)}}, p)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Upsert); err != nil {
		return fmt.Errorf("store history point %s: %w", p.SnapshotID, err)
	}
	return nil
}

// Range returns every point taken in [from, to), oldest first, all areas.
func (r History) Range(ctx context.Context, tenantID string, from, to time.Time) ([]posture.HistoryPoint, error) {
	return r.query(ctx, store.Query{Kind: store.KindHistory, TenantID: tenantID, From: from, To: to, Limit: store.MaxPageSize})
}

// AreaRange returns one area's points taken in [from, to), oldest first.
func (r History) AreaRange(ctx context.Context, tenantID string, area posture.Area, from, to time.Time) ([]posture.HistoryPoint, error) {
	return r.query(ctx, store.Query{Kind: store.KindHistory, TenantID: tenantID, From: from, To: to, Limit: store.MaxPageSize,
		Attrs: map[string]string{attrArea: string(area)}})
}

func (r History) query(ctx context.Context, q store.Query) ([]posture.HistoryPoint, error) {
	return readBounded[posture.HistoryPoint](ctx, r.s, q, MaxHistoryEntries, "snapshots in the history range; narrow it")
}

// Latest returns the newest point of an area taken at or before at (zero:
// the newest), or nil.
func (r History) Latest(ctx context.Context, tenantID string, area posture.Area, at time.Time) (*posture.HistoryPoint, error) {
	q := store.Query{Kind: store.KindHistory, TenantID: tenantID, Descending: true, Limit: 1,
		Attrs: map[string]string{attrArea: string(area)}}
	if !at.IsZero() {
		q.To = at.Add(time.Nanosecond)
	}
	p, err := r.s.Query(ctx, q)
	if err != nil || len(p.Docs) == 0 {
		return nil, err
	}
	var hp posture.HistoryPoint
	if err := json.Unmarshal(p.Docs[0].Body, &hp); err != nil {
		return nil, fmt.Errorf("decode history point %s: %w", p.Docs[0].ID, err)
	}
	return &hp, nil
}

// lastGoodLookback bounds how far back an unknown metric looks for its last
// measured value.
const lastGoodLookback = 50

// LastMeasured finds the newest of an area's last 50 points where the
// metric was measured, or nil.
func (r History) LastMeasured(ctx context.Context, tenantID string, area posture.Area, metric string) (*posture.Metric, error) {
	q := store.Query{Kind: store.KindHistory, TenantID: tenantID, Descending: true, Limit: lastGoodLookback,
		Attrs: map[string]string{attrArea: string(area)}}
	p, err := r.s.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	for _, d := range p.Docs {
		var hp posture.HistoryPoint
		if err := json.Unmarshal(d.Body, &hp); err != nil {
			return nil, fmt.Errorf("decode history point %s: %w", d.ID, err)
		}
		if m, ok := hp.Metrics[metric]; ok && m.IsMeasured() {
			m.LastMeasured = nil
			return &m, nil
		}
	}
	return nil, nil
}
