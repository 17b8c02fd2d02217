package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"m365security/shared/collect"
	"m365security/shared/graph"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/signals"
)

// Fan-out jobs of the signal path (RunTenantWork runs one per tenant).
const (
	jobPollSignals   = "signals:poll"
	jobSubscriptions = "signals:subscriptions"
)

// Timer cadences: alerts and risky users every 5 minutes, subscriptions and
// the delta backstop hourly (functions/*/function.json carry the schedules).
const (
	pollEvery          = 5 * time.Minute
	subscriptionsEvery = time.Hour
)

// signalPath is the wired signal path: Graph sources behind adapters, the
// incident pipeline, the poller, the subscription manager and the backstop.
type signalPath struct {
	pipeline *signals.Pipeline
	poller   *signals.Poller
	manager  *signals.Manager
	backstop *signals.Backstop
}

// wireSignals builds the signal path over clients. OnChange is left for the
// response engine.
func (a *app) wireSignals(clients *graph.Clients, log *slog.Logger) {
	src := graphSignals{clients}
	pacer := &signals.Pacer{}
	p := &signals.Pipeline{Records: a.records, Now: a.now, Log: log}
	host, _ := os.Hostname()
	a.signals = &signalPath{
		pipeline: p,
		poller:   &signals.Poller{Pipeline: p, Source: src, Classify: collect.Classify, Pacer: pacer, Log: log},
		manager: &signals.Manager{Records: a.records, Graph: graphSubscriber{clients}, BaseURL: a.cfg.PublicBaseURL,
			ClientState: a.cfg.ClientState.Reveal(), Now: a.now, Classify: collect.Classify, Holder: fmt.Sprintf("%s/%d", host, os.Getpid())},
		backstop: &signals.Backstop{Pipeline: p, Source: src, Pacer: pacer, Classify: collect.Classify, Log: log,
			Reassess: func(ctx context.Context, tenantID string) error {
				_, err := a.reassessIdentity(ctx, tenantID, log)
				return err
			}},
	}
}

// signalJobs are the per-tenant jobs of the signal path.
func (a *app) signalJobs(out map[string]tenantJob) {
	out[jobPollSignals] = func(ctx context.Context, log *slog.Logger, tenantID string) error {
		res, err := a.signals.poller.Poll(ctx, tenantID)
		log.Info("signals polled", "alerts", res.Alerts, "risky_users", res.RiskyUsers, "incidents_created", res.Created,
			"incidents_updated", res.Updated, "alerts_status", res.AlertsStatus, "risky_status", res.RiskyStatus)
		return err
	}
	out[jobSubscriptions] = func(ctx context.Context, log *slog.Logger, tenantID string) error {
		subs, serr := a.signals.manager.Ensure(ctx, tenantID)
		changed, berr := a.signals.backstop.Run(ctx, tenantID)
		log.Info("subscriptions and delta backstop run", "subscriptions", len(subs), "delta_changes", changed)
		if serr != nil {
			return serr
		}
		return berr
	}
}

// reassessIdentity runs the identity assessment and turns what changed
// since the previous snapshot (a new privileged role holder, a member added
// to a privileged group, MFA registration lost) into incidents.
func (a *app) reassessIdentity(ctx context.Context, tenantID string, log *slog.Logger) (string, error) {
	prev, err := a.identityView(ctx, tenantID, "")
	if err != nil {
		return "", err
	}
	res, err := a.assess.Run(ctx, tenantID, posture.AreaIdentity)
	if err != nil {
		return "", err
	}
	if !res.Stored || prev.Snapshot == nil || a.signals == nil {
		return res.SnapshotID, nil
	}
	next, err := a.identityView(ctx, tenantID, res.SnapshotID)
	if err != nil {
		return res.SnapshotID, err
	}
	for _, c := range signals.DirectoryChanges(tenantID, prev, next) {
		out, err := a.signals.pipeline.Ingest(ctx, tenantID, incident.FromDirectoryChange(c))
		if err != nil {
			return res.SnapshotID, fmt.Errorf("store directory change: %w", err)
		}
		log.Info("directory change recorded as a signal", "incident_id", out.IncidentID, "outcome", out.Kind, "title", c.Title)
	}
	return res.SnapshotID, nil
}

// identityView reads the latest identity snapshot (or the one named) with
// its user states.
func (a *app) identityView(ctx context.Context, tenantID, id string) (signals.IdentityView, error) {
	var v signals.IdentityView
	var err error
	if id == "" {
		v.Snapshot, err = a.records.Snapshots.Latest(ctx, tenantID, posture.AreaIdentity, a.now())
	} else {
		var s posture.Snapshot
		s, err = a.records.Snapshots.Get(ctx, tenantID, id)
		v.Snapshot = &s
	}
	if err != nil || v.Snapshot == nil {
		return v, err
	}
	v.Users, err = a.records.Snapshots.UserStates(ctx, *v.Snapshot, nil)
	return v, err
}

// graphSignals adapts shared/collect's signal readers to the signal path.
type graphSignals struct{ clients *graph.Clients }

func (g graphSignals) Alerts(ctx context.Context, tenantID string, since time.Time, maxPages int, wait signals.Pace) ([]incident.AlertRecord, bool, error) {
	c, err := g.clients.For(tenantID)
	if err != nil {
		return nil, false, err
	}
	return collect.Alerts(ctx, c, since, maxPages, collect.Pace(wait))
}

func (g graphSignals) RiskyUsers(ctx context.Context, tenantID string, wait signals.Pace) ([]incident.RiskyUserRecord, error) {
	c, err := g.clients.For(tenantID)
	if err != nil {
		return nil, err
	}
	return collect.RiskyUsers(ctx, c, collect.Pace(wait))
}

func (g graphSignals) RiskDetections(ctx context.Context, tenantID string, since time.Time, wait signals.Pace) ([]incident.RiskDetectionRecord, error) {
	c, err := g.clients.For(tenantID)
	if err != nil {
		return nil, err
	}
	return collect.RiskDetections(ctx, c, since, collect.Pace(wait))
}

func (g graphSignals) Delta(ctx context.Context, tenantID, resource, link string, wait signals.Pace) (int, string, bool, error) {
	c, err := g.clients.For(tenantID)
	if err != nil {
		return 0, "", false, err
	}
	r, err := collect.Delta(ctx, c, resource, link, collect.Pace(wait))
	return len(r.Changes), r.DeltaLink, r.Resync, err
}

// graphSubscriber adapts the responder's subscription operations.
type graphSubscriber struct{ clients *graph.Clients }

func (g graphSubscriber) writer(tenantID string) (*graph.Writer, error) {
	return g.clients.Writer(tenantID)
}

func subscriptionOf(s graph.Subscription) signals.Subscription {
	return signals.Subscription{ID: s.ID, Resource: s.Resource, ChangeType: s.ChangeType, NotificationURL: s.NotificationURL,
		LifecycleURL: s.LifecycleNotificationURL, Expiration: s.Expiration}
}

func (g graphSubscriber) Create(ctx context.Context, tenantID string, r signals.SubscriptionRequest) (signals.Subscription, error) {
	w, err := g.writer(tenantID)
	if err != nil {
		return signals.Subscription{}, err
	}
	s, err := w.CreateSubscription(ctx, graph.SubscriptionRequest{Resource: r.Resource, ChangeType: r.ChangeType,
		NotificationURL: r.NotificationURL, LifecycleNotificationURL: r.LifecycleURL, ClientState: r.ClientState, Expiration: r.Expiration})
	return subscriptionOf(s), err
}

func (g graphSubscriber) List(ctx context.Context, tenantID string) ([]signals.Subscription, error) {
	w, err := g.writer(tenantID)
	if err != nil {
		return nil, err
	}
	list, err := w.ListSubscriptions(ctx)
	out := make([]signals.Subscription, 0, len(list))
	for _, s := range list {
		out = append(out, subscriptionOf(s))
	}
	return out, err
}

func (g graphSubscriber) Renew(ctx context.Context, tenantID, id string, exp time.Time) (signals.Subscription, error) {
	w, err := g.writer(tenantID)
	if err != nil {
		return signals.Subscription{}, err
	}
	s, err := w.RenewSubscription(ctx, id, exp)
	return subscriptionOf(s), err
}

func (g graphSubscriber) Reauthorize(ctx context.Context, tenantID, id string) error {
	w, err := g.writer(tenantID)
	if err != nil {
		return err
	}
	return w.ReauthorizeSubscription(ctx, id)
}

func (g graphSubscriber) Delete(ctx context.Context, tenantID, id string) error {
	w, err := g.writer(tenantID)
	if err != nil {
		return err
	}
	return w.DeleteSubscription(ctx, id)
}
