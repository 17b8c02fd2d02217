package assess

import (
	"context"
	"slices"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/posture"
	"m365security/shared/records"
)

// ErrNotFound is returned for an unknown exception id.
var ErrNotFound = records.ErrNotFound

// Exceptions lists every exception with its status as of now, newest first.
func (s *Service) Exceptions(ctx context.Context, tenantID string) ([]controls.Exception, error) {
	return s.records.Exceptions.All(ctx, tenantID, s.now())
}

// AddException validates and stores a new exception and returns it.
func (s *Service) AddException(ctx context.Context, tenantID string, e controls.Exception) (controls.Exception, error) {
	now := s.now().UTC()
	e.ID, e.TenantID, e.CreatedAt, e.RevokedAt, e.Status = records.NewID(), tenantID, now, nil, ""
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
	if err := s.records.Exceptions.Add(ctx, e); err != nil {
		return e, err
	}
	e.Status = controls.ExceptionActive
	return e, nil
}

// RevokeException marks an exception revoked; it stays in history.
func (s *Service) RevokeException(ctx context.Context, tenantID, id string) (controls.Exception, error) {
	return s.records.Exceptions.Revoke(ctx, tenantID, id, s.now())
}

// RestoreTests lists recorded restore tests, oldest first.
func (s *Service) RestoreTests(ctx context.Context, tenantID string) ([]posture.RestoreTest, error) {
	return s.records.RestoreTests.Range(ctx, tenantID, time.Time{}, time.Time{})
}

// Workloads a restore test may name.
var Workloads = []string{"exchange", "sharePoint", "oneDriveForBusiness", "teams", "other"}

// AddRestoreTest validates and stores a restore test record.
func (s *Service) AddRestoreTest(ctx context.Context, tenantID string, t posture.RestoreTest) (posture.RestoreTest, error) {
	now := s.now().UTC()
	t.ID, t.TenantID, t.RecordedAt = records.NewID(), tenantID, now
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
	if !slices.Contains(Workloads, t.Workload) {
		p = append(p, "workload must be one of "+strings.Join(Workloads, ", "))
	}
	if len(t.Notes) > 4000 {
		p = append(p, "notes are longer than 4000 characters")
	}
	if len(p) > 0 {
		return t, &controls.ValidationError{Problems: p}
	}
	if err := s.records.RestoreTests.Add(ctx, t); err != nil {
		return t, err
	}
	return t, nil
}

// Targets returns the tenant's targets, defaults where none are set.
func (s *Service) Targets(ctx context.Context, tenantID string) (controls.Targets, error) {
	return s.records.Settings.Targets(ctx, tenantID)
}

// SetTargets validates and stores the tenant's targets whole.
func (s *Service) SetTargets(ctx context.Context, tenantID string, t controls.Targets) (controls.Targets, error) {
	return s.UpdateTargets(ctx, tenantID, func(cur *controls.Targets) error { *cur = t; return nil })
}

// UpdateTargets applies change to the stored targets and validates the
// result, with ETag concurrency: concurrent merges of different fields all
// land. change may run more than once.
func (s *Service) UpdateTargets(ctx context.Context, tenantID string, change func(*controls.Targets) error) (controls.Targets, error) {
	return s.records.Settings.UpdateTargets(ctx, tenantID, func(t *controls.Targets) error {
		if err := change(t); err != nil {
			return err
		}
		return t.Validate()
	})
}
