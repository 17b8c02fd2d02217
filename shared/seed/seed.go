// Package seed writes a plausible year of stored history for one tenant —
// daily snapshots through the real assessment (so history points, control
// states and metrics are what a year of collection would have stored),
// incidents with response actions, restore tests and exceptions — so the
// demo's reports and console have something to show, and benchmarks and
// tests have a realistic store. It varies a base collection over time
// (registration, compliance and Secure Score improve; a week of forbidden
// reads; a few days with no collection) and is idempotent: a second run
// over the same store adds nothing.
package seed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"m365security/shared/assess"
	"m365security/shared/controls"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store"
)

// Options shape a seeded year.
type Options struct {
	TenantID string
	// Now is the end of the history; the seeded days are the Days before
	// it, at 06:00 UTC.
	Now time.Time
	// Days of history (default 365).
	Days int
	// Every is the days between snapshots (default 1, daily); benchmarks
	// of large tenants seed weekly to keep the store to a few hundred MB.
	Every int
	// Gap leaves these days (counted back from Now) without any snapshot,
	// so a month shows as partly covered.
	Gap [2]int
	// Forbidden makes the userRegistrationDetails read fail with 403 on
	// these days (counted back from Now), so collection health has a
	// failing streak to show.
	Forbidden [2]int
}

// DefaultOptions is the demo's year: a four-day gap 40 days ago and a
// week of forbidden registration reads 200 days ago.
func DefaultOptions(tenantID string, now time.Time) Options {
	return Options{TenantID: tenantID, Now: now, Days: 365, Gap: [2]int{43, 40}, Forbidden: [2]int{206, 200}}
}

// Result counts what a run wrote.
type Result struct {
	Skipped      bool // the store already held a seeded year
	Snapshots    int
	Incidents    int
	RestoreTests int
	Exceptions   int
}

// Year seeds the history of opts.TenantID from base, one collection per
// area (as a collector returns it today). A store whose history already
// reaches back most of the year is left alone.
func Year(ctx context.Context, rec *records.Records, base map[posture.Area]posture.Collected, opts Options, log *slog.Logger) (Result, error) {
	if opts.Days <= 0 {
		opts.Days = 365
	}
	now := opts.Now.UTC()
	first := day(now, opts.Days)
	if t, ok, err := rec.History.Earliest(ctx, opts.TenantID); err != nil {
		return Result{}, err
	} else if ok && !t.After(first.Add(24*time.Hour)) {
		return Result{Skipped: true}, nil
	}
	every := max(opts.Every, 1)
	var res Result
	for back := opts.Days; back >= 1; back-- {
		if (back <= opts.Gap[0] && back >= opts.Gap[1]) || (back-1)%every != 0 {
			continue
		}
		at := day(now, back)
		progress := float64(opts.Days-back) / float64(opts.Days)
		for _, area := range posture.Areas {
			b, ok := base[area]
			if !ok {
				continue
			}
			c := vary(b, area, at, progress, back <= opts.Forbidden[0] && back >= opts.Forbidden[1])
			clock := func() time.Time { return at }
			svc := assess.New(rec, func(context.Context, string, posture.Area) posture.Collected { return c }, clock, log)
			r, err := svc.Run(ctx, opts.TenantID, area)
			if err != nil {
				return res, fmt.Errorf("seed %s on %s: %w", area, at.Format(time.DateOnly), err)
			}
			if r.Stored {
				res.Snapshots++
			}
		}
	}
	var err error
	if res.Incidents, err = incidents(ctx, rec, opts.TenantID, now, opts.Days); err != nil {
		return res, err
	}
	if res.RestoreTests, err = restoreTests(ctx, rec, opts.TenantID, now); err != nil {
		return res, err
	}
	if res.Exceptions, err = exceptions(ctx, rec, base, opts.TenantID, now); err != nil {
		return res, err
	}
	return res, nil
}

// day is 06:00 UTC back days before now's day.
func day(now time.Time, back int) time.Time {
	d := time.Date(now.Year(), now.Month(), now.Day(), 6, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -back)
}

// vary returns the base collection as it might have looked at at, progress
// (0..1) through the year: a share of what is good today was not yet.
func vary(b posture.Collected, area posture.Area, at time.Time, progress float64, forbidden bool) posture.Collected {
	c := b
	c.Sources = append(posture.Sources(nil), b.Sources...)
	// worse is the share of today's good items that were not yet good: a
	// third at the start of the year, none at its end.
	worse := 0.35 * (1 - progress)
	switch area {
	case posture.AreaIdentity:
		if b.Identity == nil {
			break
		}
		id := *b.Identity
		id.Users = append([]posture.User(nil), b.Identity.Users...)
		flip := int(worse * float64(len(id.Users)))
		for i := 0; i < len(id.Users) && flip > 0; i++ {
			u := &id.Users[i]
			// Every other user, so admins and ordinary users both move.
			if i%2 == 1 || u.Registration == nil || !u.Registration.IsMfaRegistered {
				continue
			}
			r := *u.Registration
			r.IsMfaRegistered = false
			u.Registration = &r
			flip--
		}
		c.Identity = &id
		if forbidden {
			for i := range c.Sources {
				if c.Sources[i].Name == posture.SrcRegistrationDetails {
					c.Sources[i].Status, c.Sources[i].Reason = posture.SourceForbidden, "HTTP 403 Authorization_RequestDenied: the app lacks AuditLog.Read.All"
				}
			}
		}
	case posture.AreaDevices:
		if b.Devices == nil {
			break
		}
		d := posture.Devices{Devices: append([]posture.Device(nil), b.Devices.Devices...)}
		flip := int(worse * float64(len(d.Devices)))
		for i := range d.Devices {
			dv := &d.Devices[i]
			dv.LastSync = at.Add(-time.Hour)
			if dv.Protection != nil {
				p := *dv.Protection
				t := at.Add(-2 * time.Hour)
				p.LastReported = &t
				dv.Protection = &p
			}
			if flip > 0 && i%3 == 0 && dv.ComplianceState == "compliant" {
				dv.ComplianceState = "noncompliant"
				flip--
			}
		}
		c.Devices = &d
	case posture.AreaSecureScore:
		if b.SecureScore == nil {
			break
		}
		ss := *b.SecureScore
		if latest, ok := latestScore(b.SecureScore.Scores); ok {
			latest.CreatedAt = at.Add(-time.Hour)
			latest.CurrentScore = latest.CurrentScore * (1 - worse)
			ss.Scores = []posture.Score{latest}
		}
		c.SecureScore = &ss
	}
	return c
}

func latestScore(scores []posture.Score) (posture.Score, bool) {
	if len(scores) == 0 {
		return posture.Score{}, false
	}
	best := scores[0]
	for _, s := range scores[1:] {
		if s.CreatedAt.After(best.CreatedAt) {
			best = s
		}
	}
	return best, true
}

// incidentPlan is the year's incidents: when (days back), what, and how
// the response went. Response gets faster over the year.
var incidentPlan = []struct {
	back                  int
	category, severity    string
	detectMin, respondMin int
	resolveH              int // 0: still open
	action                string
	approval              bool
}{
	{340, incident.CategoryPhishing, "medium", 95, 240, 30, incident.ActionRemediateMessage, true},
	{300, incident.CategoryAccountCompromise, "high", 60, 180, 20, incident.ActionRevokeSessions, false},
	{260, incident.CategoryDevice, "medium", 45, 150, 48, incident.ActionDefenderScan, false},
	{210, incident.CategoryPhishing, "low", 40, 120, 8, incident.ActionRemediateMessage, true},
	{170, incident.CategoryAccountCompromise, "high", 30, 60, 6, incident.ActionDisableAccount, true},
	{120, incident.CategoryOther, "low", 25, 45, 4, incident.ActionUpdateAlert, false},
	{75, incident.CategoryDevice, "high", 20, 30, 5, incident.ActionRemoteLock, false},
	{50, incident.CategoryPhishing, "medium", 15, 20, 3, incident.ActionRemediateMessage, true},
	{25, incident.CategoryAccountCompromise, "high", 10, 12, 2, incident.ActionRevokeSessions, false},
	{12, incident.CategoryPhishing, "medium", 9, 10, 0, incident.ActionRemediateMessage, true},
	{3, incident.CategoryDevice, "low", 8, 0, 0, incident.ActionWipeDevice, true},
}

func incidents(ctx context.Context, rec *records.Records, tenantID string, now time.Time, days int) (int, error) {
	n := 0
	for i, p := range incidentPlan {
		if p.back > days {
			continue
		}
		first := day(now, p.back).Add(3 * time.Hour)
		detected := first.Add(time.Duration(p.detectMin) * time.Minute)
		in := incident.Incident{ID: fmt.Sprintf("seed-inc-%02d", i+1), TenantID: tenantID, Category: p.category, Severity: p.severity,
			Status: incident.StatusInProgress, AlertIDs: []string{fmt.Sprintf("seed-alert-%02d", i+1)},
			Entities:        incident.Entities{Users: []string{fmt.Sprintf("user%02d@demo.example", i+1)}},
			FirstActivityAt: &first, DetectedAt: &detected, CreatedAt: detected.Add(time.Minute)}
		a := incident.Action{ID: "a1", Type: p.action, Target: in.Entities.Users[0], RequiresApproval: p.approval, Status: incident.ActionProposed}
		if p.respondMin > 0 {
			ex := detected.Add(time.Duration(p.respondMin) * time.Minute)
			a.Status, a.ExecutedAt = incident.ActionExecuted, &ex
		} else if p.approval {
			in.Status = incident.StatusAwaitingApproval
		}
		in.Actions = []incident.Action{a}
		in.Timeline = []incident.Entry{{At: detected, Kind: "created", Message: "incident opened from alert " + in.AlertIDs[0]}}
		if p.resolveH > 0 {
			r := detected.Add(time.Duration(p.resolveH) * time.Hour)
			in.Status, in.ResolvedAt = incident.StatusResolved, &r
			in.Timeline = append(in.Timeline, incident.Entry{At: r, Kind: "resolved", Message: "resolved as a true positive"})
		}
		if err := rec.Incidents.Create(ctx, in); err != nil && !errors.Is(err, store.ErrConflict) {
			return n, fmt.Errorf("seed incident: %w", err)
		} else if err == nil {
			n++
		}
	}
	return n, nil
}

// restorePlan is one restore test a quarter, one of which failed.
var restorePlan = []struct {
	back      int
	workload  string
	succeeded bool
	notes     string
}{
	{330, "exchange", true, "restored one mailbox to a new folder"},
	{240, "sharePoint", false, "restore point older than the site's retention; retried in the next test"},
	{150, "sharePoint", true, "restored a document library"},
	{60, "oneDriveForBusiness", true, "restored a departed user's files"},
	{10, "exchange", true, "restored a deleted folder"},
}

func restoreTests(ctx context.Context, rec *records.Records, tenantID string, now time.Time) (int, error) {
	n := 0
	for i, p := range restorePlan {
		at := day(now, p.back).Add(4 * time.Hour)
		t := posture.RestoreTest{ID: fmt.Sprintf("seed-restore-%02d", i+1), TenantID: tenantID, PerformedAt: at, Workload: p.workload,
			Succeeded: p.succeeded, Notes: p.notes, RecordedAt: at.Add(time.Hour)}
		if err := rec.RestoreTests.Add(ctx, t); err != nil && !errors.Is(err, store.ErrConflict) {
			return n, fmt.Errorf("seed restore test: %w", err)
		} else if err == nil {
			n++
		}
	}
	return n, nil
}

// exceptions seeds two risk acceptances for the first unregistered users
// of the base: one that expired 20 days ago, one in force.
func exceptions(ctx context.Context, rec *records.Records, base map[posture.Area]posture.Collected, tenantID string, now time.Time) (int, error) {
	var users []string
	if id := base[posture.AreaIdentity].Identity; id != nil {
		for _, u := range id.Users {
			if u.IsMember() && (u.Registration == nil || !u.Registration.IsMfaRegistered) {
				users = append(users, u.ID)
			}
			if len(users) == 2 {
				break
			}
		}
	}
	if len(users) == 0 {
		return 0, nil
	}
	plan := []controls.Exception{
		{ID: "seed-exc-expired", ControlID: "M365SEC.MFA.1", Scope: controls.Scope{Users: users[:1]}, Reason: "shared kiosk account until the kiosk is replaced",
			ApprovedBy: "security lead", CreatedAt: day(now, 110), ExpiresAt: day(now, 20)},
		{ID: "seed-exc-active", ControlID: "M365SEC.MFA.1", Scope: controls.Scope{Users: users[len(users)-1:]}, Reason: "service account moving to a managed identity",
			ApprovedBy: "security lead", CreatedAt: day(now, 30), ExpiresAt: day(now, -60)},
	}
	n := 0
	for _, e := range plan {
		e.TenantID = tenantID
		if err := rec.Exceptions.Add(ctx, e); err != nil && !errors.Is(err, store.ErrConflict) {
			return n, fmt.Errorf("seed exception: %w", err)
		} else if err == nil {
			n++
		}
	}
	return n, nil
}
