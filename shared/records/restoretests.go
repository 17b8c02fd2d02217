package records

import (
	"context"
	"fmt"
	"time"

	"m365security/shared/posture"
	"m365security/shared/store"
)

// RestoreTests stores recorded backup restore tests on the time axis of
// when they were performed.
type RestoreTests struct{ s store.Store }

// Add stores a new restore test record.
func (r RestoreTests) Add(ctx context.Context, t posture.RestoreTest) error {
	d, err := store.Encode(store.Doc{Kind: store.KindRestoreTest, TenantID: t.TenantID, ID: t.ID, Time: t.PerformedAt,
		Attrs: map[string]string{attrWorkload: safeAttr(t.Workload)}}, t)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Create); err != nil {
		return fmt.Errorf("store restore test: %w", err)
	}
	return nil
}

// Range lists the tests performed in [from, to) (zero: open ends), oldest
// first.
func (r RestoreTests) Range(ctx context.Context, tenantID string, from, to time.Time) ([]posture.RestoreTest, error) {
	list, err := store.DecodeAll[posture.RestoreTest](ctx, r.s, store.Query{Kind: store.KindRestoreTest, TenantID: tenantID,
		From: from, To: to, Limit: store.MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("read restore tests: %w", err)
	}
	return list, nil
}
