package records

import (
	"context"
	"fmt"

	"m365security/shared/controls"
	"m365security/shared/settings"
	"m365security/shared/store"
)

// Settings holds each tenant's configuration documents: the control
// targets today, the responsibility model and recipients as they arrive.
type Settings struct{ s store.Store }

// Targets returns the tenant's targets, defaults where none are stored.
func (r Settings) Targets(ctx context.Context, tenantID string) (controls.Targets, error) {
	t, _, err := store.GetJSON[controls.Targets](ctx, r.s, store.KindState, tenantID, stateTargets)
	ok, err := found(err)
	if err != nil {
		return t, fmt.Errorf("read targets: %w", err)
	}
	if !ok {
		return controls.DefaultTargets(), nil
	}
	return t, nil
}

// UpdateTargets applies change to the stored targets (the defaults when
// none are stored) with ETag concurrency, so two concurrent merges never
// lose one another's fields. change may run more than once.
func (r Settings) UpdateTargets(ctx context.Context, tenantID string, change func(*controls.Targets) error) (controls.Targets, error) {
	return store.Update(ctx, r.s, store.KindState, tenantID, stateTargets, func(t *controls.Targets, _ *store.Doc, exists bool) error {
		if !exists {
			*t = controls.DefaultTargets()
		}
		return change(t)
	})
}

// Tenant returns the tenant's settings document, the defaults where none
// is stored.
func (r Settings) Tenant(ctx context.Context, tenantID string) (settings.Tenant, error) {
	t, _, err := store.GetJSON[settings.Tenant](ctx, r.s, store.KindState, tenantID, stateSettings)
	ok, err := found(err)
	if err != nil {
		return t, fmt.Errorf("read settings: %w", err)
	}
	if !ok {
		return settings.Default(), nil
	}
	return t, nil
}

// UpdateTenant applies change to the stored settings (the defaults when
// none are stored) with ETag concurrency. change may run more than once.
func (r Settings) UpdateTenant(ctx context.Context, tenantID string, change func(*settings.Tenant) error) (settings.Tenant, error) {
	return store.Update(ctx, r.s, store.KindState, tenantID, stateSettings, func(t *settings.Tenant, _ *store.Doc, exists bool) error {
		if !exists {
			*t = settings.Default()
		}
		return change(t)
	})
}
