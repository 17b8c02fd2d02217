package assess

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/posture"
	"m365security/shared/store"
)

// Exceptions lists every exception with its status as of now, newest first.
func (s *Service) Exceptions(ctx context.Context, tenantID string) ([]controls.Exception, error) {
	now := s.now()
	list, err := store.DecodeAll[controls.Exception](ctx, s.store, store.Query{Kind: store.KindException, TenantID: tenantID, Descending: true, Limit: store.MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("read exceptions: %w", err)
	}
	for i := range list {
		list[i].Status = list[i].StatusAt(now)
	}
	return list, nil
}

// AddException validates and stores a new exception and returns it.
func (s *Service) AddException(ctx context.Context, tenantID string, e controls.Exception) (controls.Exception, error) {
	now := s.now().UTC()
	e.ID, e.TenantID, e.CreatedAt, e.RevokedAt, e.Status = newID(), tenantID, now, nil, ""
	e.ExpiresAt = e.ExpiresAt.UTC()
	for i := range e.Scope.Users {
		e.Scope.Users[i] = strings.ToLower(e.Scope.Users[i])
	}
	for i := range e.Scope.Groups {
		e.Scope.Groups[i] = strings.ToLower(e.Scope.Groups[i])
	}
	if err := e.Validate(now); err != nil {
		return e, err
	}
	d, err := store.Encode(store.Doc{Kind: store.KindException, TenantID: tenantID, ID: e.ID, Time: now,
		Attrs: map[string]string{"controlId": sanitizeAttr(e.ControlID)}}, e)
	if err != nil {
		return e, err
	}
	if err := putRetry(ctx, s.store, d, store.Create); err != nil {
		return e, fmt.Errorf("store exception: %w", err)
	}
	e.Status = controls.ExceptionActive
	return e, nil
}

// RevokeException marks an exception revoked; it stays in history.
func (s *Service) RevokeException(ctx context.Context, tenantID, id string) (controls.Exception, error) {
	for attempt := 0; ; attempt++ {
		e, doc, err := store.GetJSON[controls.Exception](ctx, s.store, store.KindException, tenantID, id)
		if errors.Is(err, store.ErrNotFound) {
			return e, ErrNotFound
		}
		if err != nil {
			return e, fmt.Errorf("read exception %s: %w", id, err)
		}
		if e.RevokedAt == nil {
			now := s.now().UTC()
			e.RevokedAt = &now
		}
		d, err := store.Encode(doc, e)
		if err != nil {
			return e, err
		}
		_, err = s.store.Put(ctx, d, store.IfMatch)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue
		}
		if err != nil {
			return e, fmt.Errorf("revoke exception %s: %w", id, err)
		}
		e.Status = e.StatusAt(s.now())
		return e, nil
	}
}

// RestoreTests lists recorded restore tests, oldest first.
func (s *Service) RestoreTests(ctx context.Context, tenantID string) ([]posture.RestoreTest, error) {
	list, err := store.DecodeAll[posture.RestoreTest](ctx, s.store, store.Query{Kind: store.KindRestoreTest, TenantID: tenantID, Limit: store.MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("read restore tests: %w", err)
	}
	return list, nil
}

// Workloads a restore test may name.
var Workloads = []string{"exchange", "sharePoint", "oneDriveForBusiness", "teams", "other"}

// AddRestoreTest validates and stores a restore test record.
func (s *Service) AddRestoreTest(ctx context.Context, tenantID string, t posture.RestoreTest) (posture.RestoreTest, error) {
	now := s.now().UTC()
	t.ID, t.TenantID, t.RecordedAt = newID(), tenantID, now
	t.PerformedAt = t.PerformedAt.UTC()
	var p []string
	switch {
	case t.PerformedAt.IsZero():
		p = append(p, "performedAt is required (RFC 3339)")
	case t.PerformedAt.After(now.Add(5 * time.Minute)):
		p = append(p, "performedAt is in the future")
	case now.Sub(t.PerformedAt) > 10*365*24*time.Hour:
		p = append(p, "performedAt is more than ten years ago")
	}
	valid := false
	for _, w := range Workloads {
		if t.Workload == w {
			valid = true
		}
	}
	if !valid {
		p = append(p, "workload must be one of "+strings.Join(Workloads, ", "))
	}
	if len(t.Notes) > 4000 {
		p = append(p, "notes are longer than 4000 characters")
	}
	if len(p) > 0 {
		return t, &controls.ValidationError{Problems: p}
	}
	d, err := store.Encode(store.Doc{Kind: store.KindRestoreTest, TenantID: tenantID, ID: t.ID, Time: t.PerformedAt,
		Attrs: map[string]string{"workload": t.Workload}}, t)
	if err != nil {
		return t, err
	}
	if err := putRetry(ctx, s.store, d, store.Create); err != nil {
		return t, fmt.Errorf("store restore test: %w", err)
	}
	return t, nil
}

const stateTargets = "targets"

// Targets returns the tenant's targets, defaults where none are set.
func (s *Service) Targets(ctx context.Context, tenantID string) (controls.Targets, error) {
	t, _, err := store.GetJSON[controls.Targets](ctx, s.store, store.KindState, tenantID, stateTargets)
	if errors.Is(err, store.ErrNotFound) {
		return controls.DefaultTargets(), nil
	}
	if err != nil {
		return t, fmt.Errorf("read targets: %w", err)
	}
	return t, nil
}

// SetTargets validates and stores the tenant's targets.
func (s *Service) SetTargets(ctx context.Context, tenantID string, t controls.Targets) (controls.Targets, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	d, err := store.Encode(store.Doc{Kind: store.KindState, TenantID: tenantID, ID: stateTargets, Time: s.now()}, t)
	if err != nil {
		return t, err
	}
	if err := putRetry(ctx, s.store, d, store.Upsert); err != nil {
		return t, fmt.Errorf("store targets: %w", err)
	}
	return t, nil
}

// sanitizeAttr keeps attribute values to a safe character set.
func sanitizeAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '.' || r == '-' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
