package records

import (
	"context"
	"time"

	"m365security/shared/store"
)

// stateBrake is the id of each tenant's safety-brake log.
const stateBrake = "responseBrake"

// BrakeLog is the safety brake's memory: the automatic destructive actions
// a tenant was allowed recently, keyed by idempotency key so planning the
// same action again counts it once. The response engine prunes entries
// older than its window inside every update, so the document stays small.
type BrakeLog struct {
	Entries []BrakeEntry `json:"entries"`
}

// BrakeEntry is one automatic destructive action counted by the brake.
type BrakeEntry struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// UpdateBrake changes the tenant's brake log with ETag concurrency: two
// incidents planned at once see each other's claims, so a burst never
// passes the limit. change may run more than once.
func (r State) UpdateBrake(ctx context.Context, tenantID string, change func(*BrakeLog) error) (BrakeLog, error) {
	return store.Update(ctx, r.s, store.KindState, tenantID, stateBrake, func(v *BrakeLog, _ *store.Doc, _ bool) error {
		return change(v)
	})
}
