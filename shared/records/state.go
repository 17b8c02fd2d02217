package records

import (
	"context"
	"fmt"
	"time"

	"m365security/shared/store"
)

// The ids of state documents, named once. Per-tenant state lives in the
// tenant's partition, process-wide state under SystemTenant.
const (
	stateTargets      = "targets"
	stateSettings     = "settings"
	stateAlertsPolled = "alertsPolled"
	stateTimerPrefix  = "timer-"
)

// State holds small per-tenant and process-wide state: scheduler slots and
// poller watermarks.
type State struct{ s store.Store }

// TimerState is what the standalone scheduler remembers per timer function.
type TimerState struct {
	Last time.Time `json:"last"`
}

// Timer returns a timer function's last run (zero state when it never ran).
func (r State) Timer(ctx context.Context, function string) (TimerState, error) {
	v, _, err := store.GetJSON[TimerState](ctx, r.s, store.KindState, SystemTenant, stateTimerPrefix+function)
	if ok, err := found(err); err != nil || !ok {
		return TimerState{}, err
	}
	return v, nil
}

// SetTimer records a timer function's run.
func (r State) SetTimer(ctx context.Context, function string, st TimerState) error {
	d, err := store.Encode(store.Doc{Kind: store.KindState, TenantID: SystemTenant, ID: stateTimerPrefix + function, Time: st.Last}, st)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Upsert); err != nil {
		return fmt.Errorf("store timer state of %s: %w", function, err)
	}
	return nil
}

// AlertPolling is the alert poller's per-tenant state.
type AlertPolling struct {
	// Watermark is the lastUpdateDateTime up to which alerts are stored.
	Watermark time.Time `json:"watermark"`
	// LastPolledAt is when the last complete poll finished.
	LastPolledAt time.Time `json:"lastPolledAt"`
}

// AlertPolling returns the tenant's alert poller state; ok is false before
// the first complete poll.
func (r State) AlertPolling(ctx context.Context, tenantID string) (AlertPolling, bool, error) {
	v, _, err := store.GetJSON[AlertPolling](ctx, r.s, store.KindState, tenantID, stateAlertsPolled)
	ok, err := found(err)
	return v, ok, err
}

// UpdateAlertPolling changes the poller state with ETag concurrency.
func (r State) UpdateAlertPolling(ctx context.Context, tenantID string, change func(*AlertPolling) error) (AlertPolling, error) {
	return store.Update(ctx, r.s, store.KindState, tenantID, stateAlertsPolled, func(v *AlertPolling, d *store.Doc, _ bool) error {
		if err := change(v); err != nil {
			return err
		}
		d.Time = v.LastPolledAt
		return nil
	})
}
