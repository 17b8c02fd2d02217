package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"m365security/handler/hostmeta"
	"m365security/handler/invoke"
	"m365security/shared/collect"
	"m365security/shared/fanout"
	"m365security/shared/posture"
)

// function is the Go side of one functions/<Name> folder: exactly one of the
// fields is set, matching the folder's trigger type.
type function struct {
	timer   invoke.TimerFunc
	message invoke.MessageFunc
	api     apiHandler
}

// functions is the whole surface: one line per function folder. routes_test
// and start-up both refuse a function that exists on one side only.
func (a *app) functions() map[string]function {
	fns := map[string]function{
		"ProcessChangeNotification": {message: a.processChangeNotification},
		"RunTenantWork":             {message: a.runTenantWork},
		"Health":                    {api: a.health},
		"Metrics":                   {api: a.metrics},
		"MetricsHistory":            {api: a.metricsHistory},
		"Controls":                  {api: a.controls},
		"ControlsHistory":           {api: a.controlsHistory},
		"MfaUsers":                  {api: a.mfaUsers},
		"Collection":                {api: a.collection},
		"Exceptions":                {api: a.exceptions},
		"RestoreTests":              {api: a.restoreTests},
		"Targets":                   {api: a.targets},
		"Settings":                  {api: a.tenantSettings},
		"Notifications":             {api: a.notifications},
		"NotificationsLifecycle":    {api: a.lifecycleNotifications},
		"PollSignals":               {timer: a.fanOutTimer(jobPollSignals, pollEvery)},
		"MaintainSubscriptions":     {timer: a.fanOutTimer(jobSubscriptions, subscriptionsEvery)},
		"Incidents":                 {api: a.incidents},
		"Incident":                  {api: a.incidentByID},
		"ResolveIncident":           {api: a.resolveIncident},
		"Subscriptions":             {api: a.subscriptions},
		"ApproveAction":             {api: a.decideAction(decisionApprove)},
		"RejectAction":              {api: a.decideAction(decisionReject)},
		"UndoAction":                {api: a.decideAction(decisionUndo)},
		"ExecuteResponse":           {message: a.executeResponse},
		"ReportsMonthly":            {api: a.reportMonthly},
		"ReportsQuarterly":          {api: a.reportQuarterly},
		"ReportsSent":               {api: a.reportsSent},
		"SendReports":               {timer: a.fanOutTimer(reportJob, 24*time.Hour)},
		consoleFunction:             {api: a.consolePage},
	}
	// Each collection area declares the timer that runs it; the timer fans
	// the work out per tenant (RunTenantWork).
	for _, ar := range collect.Areas() {
		fns[ar.Timer] = function{timer: a.fanOutTimer(fanout.CollectJob(ar.Name), time.Hour)}
	}
	return fns
}

// router derives the HTTP surface from the function folders: POST /{Name}
// for timer and Service Bus invocations, and each HTTP function's route
// under the host's route prefix.
func (a *app) router(meta hostmeta.App) (*http.ServeMux, error) {
	fns := a.functions()
	var errs []error
	mux := http.NewServeMux()
	// apiMux is the surface without the console's catch-all: the console
	// calls the API through it and answers unknown /api/ paths, and other
	// methods on known paths, with it.
	apiMux := http.NewServeMux()
	a.apiMux = apiMux
	seen := map[string]bool{}
	for _, f := range meta.Functions {
		seen[f.Name] = true
		fn, ok := fns[f.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("functions/%s has no handler in handler/routes.go", f.Name))
			continue
		}
		t := f.Trigger()
		switch {
		case t.Type == hostmeta.TimerTrigger && fn.timer != nil:
			h := invoke.Timer(f.Name, t.Name, fn.timer, a.log)
			mux.Handle("POST /"+f.Name, h)
			apiMux.Handle("POST /"+f.Name, h)
		case t.Type == hostmeta.ServiceBusTrigger && fn.message != nil:
			h := invoke.Queue(f.Name, t.Name, fn.message, a.parker, a.log, a.now)
			mux.Handle("POST /"+f.Name, h)
			apiMux.Handle("POST /"+f.Name, h)
		case t.Type == hostmeta.HTTPTrigger && fn.api != nil:
			patterns, err := muxPatterns(meta.Host.RoutePrefix(), t.Route, t.Methods)
			if err != nil {
				errs = append(errs, fmt.Errorf("functions/%s: %w", f.Name, err))
				continue
			}
			h := a.serve(f.Name, fn.api)
			for _, p := range patterns {
				mux.Handle(p, h)
				if f.Name != consoleFunction {
					apiMux.Handle(p, h)
				}
			}
		default:
			errs = append(errs, fmt.Errorf("functions/%s is a %s but its handler is of another kind", f.Name, t.Type))
		}
	}
	var orphans []string
	for name := range fns {
		if !seen[name] {
			orphans = append(orphans, name)
		}
	}
	sort.Strings(orphans)
	for _, name := range orphans {
		errs = append(errs, fmt.Errorf("handler %s has no functions/%s/function.json", name, name))
	}
	return mux, errors.Join(errs...)
}

var routeParam = regexp.MustCompile(`\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\??)\}`)

// muxPatterns converts a Functions route template to ServeMux patterns, one
// per method: {id:int} → {id}, {*rest} → {rest...}, and an optional last
// segment {id?} → two patterns, with and without it.
func muxPatterns(prefix, route string, methods []string) ([]string, error) {
	base := "/" + strings.Trim(prefix, "/")
	if base == "/" {
		base = ""
	}
	var paths []string
	optional := false
	converted := routeParam.ReplaceAllStringFunc(route, func(m string) string {
		sm := routeParam.FindStringSubmatch(m)
		if sm[3] == "?" {
			optional = true
		}
		if sm[1] == "*" {
			return "{" + sm[2] + "...}"
		}
		return "{" + sm[2] + "}"
	})
	if strings.ContainsAny(strings.ReplaceAll(routeParam.ReplaceAllString(route, ""), "/", ""), "{}") {
		return nil, fmt.Errorf("route %q has a parameter this handler cannot map", route)
	}
	paths = append(paths, base+"/"+converted)
	if optional {
		i := strings.LastIndex(converted, "/")
		if i < 0 || !strings.HasPrefix(converted[i+1:], "{") {
			return nil, fmt.Errorf("route %q: only a last segment may be optional", route)
		}
		paths = append(paths, base+"/"+converted[:i])
	}
	var out []string
	for _, m := range methods {
		for _, p := range paths {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	return out, nil
}

// tenantJob is one tenant's share of a fanned-out job. An error is retried
// (the queue redelivers, then dead-letters with the reason).
type tenantJob func(ctx context.Context, log *slog.Logger, tenantID string) error

// jobs are the work RunTenantWork can do, by fanout job name.
func (a *app) jobs() map[string]tenantJob {
	out := map[string]tenantJob{}
	for _, ar := range collect.Areas() {
		area := ar.Name
		out[fanout.CollectJob(area)] = func(ctx context.Context, log *slog.Logger, tenantID string) error {
			if area == posture.AreaIdentity && a.signals != nil {
				// Identity runs also report what changed that matters.
				id, err := a.reassessIdentity(ctx, tenantID, log)
				if err != nil {
					return fmt.Errorf("assess %s: %w", area, err)
				}
				log.Info("posture collected", "area", string(area), "snapshot_id", id)
				return nil
			}
			res, err := a.assess.Run(ctx, tenantID, area)
			if err != nil {
				return fmt.Errorf("assess %s: %w", area, err)
			}
			failed := 0
			for _, s := range res.Sources {
				if !s.OK() {
					failed++
				}
			}
			log.Info("posture collected", "area", string(area), "snapshot_id", res.SnapshotID,
				"stored", res.Stored, "sources", len(res.Sources), "sources_failed", failed)
			return nil
		}
	}
	if a.signals != nil {
		a.signalJobs(out)
	}
	out[reportJob] = a.sendReports
	return out
}

// fanOutTimer queues one work item per monitored tenant for job, keyed by
// the period the timer fired in, so Functions runs tenants on as many
// instances as it likes and a second firing in the period queues nothing.
func (a *app) fanOutTimer(job string, every time.Duration) invoke.TimerFunc {
	return func(ctx context.Context, inv invoke.Invocation, t invoke.TimerInfo) error {
		msgs, err := fanout.Split(job, a.cfg.Tenants, a.now(), every)
		if err != nil {
			return err
		}
		if err := a.queue.Send(ctx, fanout.Queue, msgs...); err != nil {
			return fmt.Errorf("queue %s for %d tenants: %w", job, len(msgs), err)
		}
		inv.Log.Info("posture collection queued", "job", job, "tenants", len(msgs))
		return nil
	}
}

// runTenantWork does one tenant's share of a fanned-out job. A message that
// names no known job or tenant is permanent (parked); a failing job is
// retried by redelivery and dead-lettered when it keeps failing, without
// holding up any other tenant's message.
func (a *app) runTenantWork(ctx context.Context, inv invoke.Invocation, m invoke.Message) error {
	w, err := fanout.Parse(m.Body)
	if err != nil {
		return err
	}
	if !a.tenants[w.TenantID] {
		return fmt.Errorf("tenant %q is not monitored", truncate(w.TenantID, 40))
	}
	a.jobsOnce.Do(func() { a.jobTable = a.jobs() })
	job, ok := a.jobTable[w.Job]
	if !ok {
		return fmt.Errorf("unknown job %q", truncate(w.Job, 60))
	}
	log := inv.Log.With("tenant_id", w.TenantID, "job", w.Job, "period", w.Period)
	if err := job(ctx, log, w.TenantID); err != nil {
		log.Warn("tenant work failed; it will be retried", "delivery_count", m.DeliveryCount, "error", err.Error())
		return invoke.Retry(err)
	}
	return nil
}
