package records

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"m365security/shared/store"
)

// Signal state: which incident holds each signal (the claim that keeps a
// signal seen twice, by two pollers or a rerun, in one incident), the delta
// links of the backstop, and the health of each signal source.

const (
	claimPrefix       = "signal-"
	stateDeltaPrefix  = "delta-"
	stateSignalHealth = "signalHealth"
)

// Signals holds the per-tenant signal state.
type Signals struct{ s store.Store }

// SignalClaim records the incident a signal belongs to.
type SignalClaim struct {
	SignalID   string    `json:"signalId"`
	IncidentID string    `json:"incidentId"`
	ClaimedAt  time.Time `json:"claimedAt"`
}

// claimID hashes the signal id: alert ids are long and their alphabet is
// Defender's, not the store's.
func claimID(signalID string) string {
	h := sha256.Sum256([]byte(signalID))
	return claimPrefix + hex.EncodeToString(h[:16])
}

// Claim returns the signal's claim, ok false when none exists.
func (r Signals) Claim(ctx context.Context, tenantID, signalID string) (SignalClaim, bool, error) {
	v, _, err := store.GetJSON[SignalClaim](ctx, r.s, store.KindState, tenantID, claimID(signalID))
	ok, err := found(err)
	if err != nil {
		return v, false, fmt.Errorf("read claim of signal: %w", err)
	}
	return v, ok, nil
}

// ClaimFor records that the signal belongs to incidentID unless another
// incident claimed it first; it returns the claim that holds, so concurrent
// callers agree on one incident.
func (r Signals) ClaimFor(ctx context.Context, tenantID, signalID, incidentID string, at time.Time) (SignalClaim, error) {
	c := SignalClaim{SignalID: signalID, IncidentID: incidentID, ClaimedAt: at}
	d, err := store.Encode(store.Doc{Kind: store.KindState, TenantID: tenantID, ID: claimID(signalID), Time: at}, c)
	if err != nil {
		return c, err
	}
	_, err = store.Write(ctx, r.s, d, store.Create)
	if errors.Is(err, store.ErrConflict) {
		held, ok, err := r.Claim(ctx, tenantID, signalID)
		if err != nil {
			return held, err
		}
		if !ok {
			return held, fmt.Errorf("claim of signal vanished after a conflict")
		}
		return held, nil
	}
	if err != nil {
		return c, fmt.Errorf("claim signal: %w", err)
	}
	return c, nil
}

// DeltaState is the backstop's position for one resource.
type DeltaState struct {
	// Link is the last @odata.deltaLink; empty before the first full sync.
	Link       string    `json:"link"`
	SyncedAt   time.Time `json:"syncedAt"`
	FullSyncAt time.Time `json:"fullSyncAt"`
}

// Delta returns the delta state of resource ("users", "groups").
func (r Signals) Delta(ctx context.Context, tenantID, resource string) (DeltaState, error) {
	v, _, err := store.GetJSON[DeltaState](ctx, r.s, store.KindState, tenantID, stateDeltaPrefix+resource)
	if _, err := found(err); err != nil {
		return v, fmt.Errorf("read delta state of %s: %w", resource, err)
	}
	return v, nil
}

// SetDelta stores the delta state of resource.
func (r Signals) SetDelta(ctx context.Context, tenantID, resource string, v DeltaState) error {
	d, err := store.Encode(store.Doc{Kind: store.KindState, TenantID: tenantID, ID: stateDeltaPrefix + resource, Time: v.SyncedAt}, v)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Upsert); err != nil {
		return fmt.Errorf("store delta state of %s: %w", resource, err)
	}
	return nil
}

// SourceHealth is the state of one signal source for a tenant: ok, or
// why not (forbidden, notLicensed, throttled, unavailable, notConfigured).
type SourceHealth struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Since is when the source entered this status.
	Since     time.Time `json:"since"`
	CheckedAt time.Time `json:"checkedAt"`
	// LastSuccessAt is the last time the source was read completely.
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
}

// SignalHealth is every signal source's health, by source name.
type SignalHealth map[string]SourceHealth

// Health returns the tenant's signal-source health.
func (r Signals) Health(ctx context.Context, tenantID string) (SignalHealth, error) {
	v, _, err := store.GetJSON[SignalHealth](ctx, r.s, store.KindState, tenantID, stateSignalHealth)
	if _, err := found(err); err != nil {
		return nil, fmt.Errorf("read signal health: %w", err)
	}
	if v == nil {
		v = SignalHealth{}
	}
	return v, nil
}

// Report records a source's status at at, keeping Since while the status
// holds and LastSuccessAt across failures.
func (r Signals) Report(ctx context.Context, tenantID, source, status, reason string, at time.Time) error {
	_, err := store.Update(ctx, r.s, store.KindState, tenantID, stateSignalHealth, func(v *SignalHealth, d *store.Doc, _ bool) error {
		if *v == nil {
			*v = SignalHealth{}
		}
		cur := (*v)[source]
		if cur.Status != status || cur.Since.IsZero() {
			cur.Since = at
		}
		cur.Status, cur.Reason, cur.CheckedAt = status, reason, at
		if status == "ok" {
			t := at
			cur.LastSuccessAt = &t
		}
		(*v)[source] = cur
		d.Time = at
		return nil
	})
	if err != nil {
		return fmt.Errorf("record health of %s: %w", source, err)
	}
	return nil
}

// lease is a short-lived claim on a per-tenant job.
type lease struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// ErrLeaseHeld ends a lease attempt that another holder owns.
var errLeaseHeld = errors.New("lease held")

// Lease takes the named lease for holder until now+d unless another holder
// has it unexpired; it reports whether holder has it.
func (r Signals) Lease(ctx context.Context, tenantID, name, holder string, now time.Time, d time.Duration) (bool, error) {
	_, err := store.Update(ctx, r.s, store.KindState, tenantID, "lease-"+name, func(v *lease, doc *store.Doc, _ bool) error {
		if v.Holder != "" && v.Holder != holder && now.Before(v.Until) {
			return errLeaseHeld
		}
		v.Holder, v.Until = holder, now.Add(d)
		doc.Time = now
		return nil
	})
	if errors.Is(err, errLeaseHeld) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", name, err)
	}
	return true, nil
}

// Release gives up holder's lease.
func (r Signals) Release(ctx context.Context, tenantID, name, holder string) {
	_, _ = store.Update(ctx, r.s, store.KindState, tenantID, "lease-"+name, func(v *lease, _ *store.Doc, _ bool) error {
		if v.Holder != holder {
			return store.ErrUnchanged
		}
		v.Holder, v.Until = "", time.Time{}
		return nil
	})
}
