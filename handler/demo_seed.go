package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"m365security/shared/assess"
	"m365security/shared/graphsim"
	"m365security/shared/posture"
	"m365security/shared/seed"
)

// demoResponderID stands for the responder identity in demo mode: the
// simulator takes no token, so any client id lets writes (report mail)
// reach it, where they are recorded.
const demoResponderID = "00000000-0000-4000-8000-0000000000de"

// demoMail gives report mailing a stakeholder address in demo mode when
// none is set (demoResponseConfig gives the demo its responder identity and
// sender mailbox).
func demoMail(cfg *Config, demo *graphsim.Tenant) {
	if len(cfg.Recipients.ReportRecipients) == 0 {
		domain := "demo.example"
		if len(demo.Users) > 0 {
			if i := strings.LastIndex(demo.Users[0].UserPrincipalName, "@"); i >= 0 {
				domain = demo.Users[0].UserPrincipalName[i+1:]
			}
		}
		cfg.Recipients.ReportRecipients = []string{"stakeholders@" + domain}
	}
}

// seedDemo stores a year of history for the demo tenant in the background
// (seed.Year, idempotent: a restart over the same store adds nothing), so
// the reports have something to show without delaying start-up. The base
// is one real collection of each area from the simulator. The channel is
// closed when seeding ends, whether it succeeded or not.
func (a *app) seedDemo(ctx context.Context, collect assess.Collector, tenantID string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		base := map[posture.Area]posture.Collected{}
		for _, area := range posture.Areas {
			base[area] = collect(ctx, tenantID, area)
		}
		// A year of daily runs would log 1,460 assessment lines; the
		// summary below is the one that matters.
		res, err := seed.Year(ctx, a.records, base, seed.DefaultOptions(tenantID, a.now()), slog.New(slog.DiscardHandler))
		if err != nil {
			a.log.Error("demo history seeding failed", "tenant_id", tenantID, "error", err.Error())
			return
		}
		a.log.Info("demo history seeded", "tenant_id", tenantID, "skipped", res.Skipped, "snapshots", res.Snapshots,
			"incidents", res.Incidents, "restore_tests", res.RestoreTests, "exceptions", res.Exceptions,
			"duration_ms", time.Since(start).Milliseconds())
	}()
	return done
}
