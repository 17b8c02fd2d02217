package records

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"m365security/shared/store"
)

// Earliest returns when the tenant's first history point (of any area) was
// taken: since when monitoring has run. ok is false when none is stored.
func (r History) Earliest(ctx context.Context, tenantID string) (time.Time, bool, error) {
	p, err := r.s.Query(ctx, store.Query{Kind: store.KindHistory, TenantID: tenantID, Limit: 1})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("query first history point: %w", err)
	}
	if len(p.Docs) == 0 {
		return time.Time{}, false, nil
	}
	var hp struct {
		TakenAt time.Time `json:"takenAt"`
	}
	if err := json.Unmarshal(p.Docs[0].Body, &hp); err != nil {
		return time.Time{}, false, fmt.Errorf("decode history point %s: %w", p.Docs[0].ID, err)
	}
	return hp.TakenAt, true, nil
}
