package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"m365security/handler/hostmeta"
	"m365security/handler/invoke"
	"m365security/shared/assess"
	"m365security/shared/collect"
	"m365security/shared/console"
	"m365security/shared/dnssim"
	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/maildns"
	"m365security/shared/posture"
	"m365security/shared/queue"
	"m365security/shared/queue/inprocess"
	"m365security/shared/queue/servicebus"
	"m365security/shared/records"
	"m365security/shared/report"
	"m365security/shared/reportmail"
	"m365security/shared/respond"
	"m365security/shared/store"
	"m365security/shared/store/cosmos"
	"m365security/shared/store/embedded"
)

// app holds the wired dependencies every function uses.
type app struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	records *records.Records
	assess  *assess.Service
	queue   queue.Sender
	parker  invoke.Parker
	now     func() time.Time
	tenants map[string]bool

	// respond plans, executes and reports response actions (respond_api.go).
	respond *respond.Engine

	// notificationSlots bounds concurrent webhook work (webhook.go).
	notificationSlots notificationGate

	// signals is the signal path (signals.go); nil in tests that do not
	// wire Graph.
	signals *signalPath
	// clients reaches Graph (nil in tests that do not wire it).
	clients *graph.Clients
	// reports builds the reviews; mailer sends them (reports_api.go).
	reports *report.Builder
	mailer  *reportmail.Mailer
	// demoSeeded is closed when the demo's seeded year is stored; nil
	// outside demo mode (demo_seed.go).
	demoSeeded <-chan struct{}

	// jobTable is jobs(), built once on first use (routes.go).
	jobsOnce sync.Once
	jobTable map[string]tenantJob

	// apiMux is the HTTP surface without the console (routes.go); the
	// console, built on first use, calls the API through it (console.go).
	apiMux      *http.ServeMux
	consoleOnce sync.Once
	console     *console.Console
	consoleErr  error
}

// shutdownGrace bounds draining in-flight work on SIGINT/SIGTERM.
const shutdownGrace = 30 * time.Second

// run starts the handler and blocks until ctx ends. ready, when non-nil,
// receives the base URL once the server listens (tests).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("handler", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "app root holding host.json (default: search from the working directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "configuration error:", line)
		}
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("version", version)

	dir := *root
	if dir == "" {
		if dir, err = os.Getwd(); err != nil {
			return err
		}
	}
	hostDir, fnDir, err := hostmeta.Locate(dir)
	if err != nil {
		fmt.Fprintln(stderr, "start-up error:", err)
		return err
	}
	meta, err := hostmeta.Load(hostDir, fnDir, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "start-up error:", err)
		return err
	}

	// Listen first: the host gives the handler 60 seconds, and refusing the
	// port early is the clearest failure.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		fmt.Fprintf(stderr, "start-up error: FUNCTIONS_CUSTOMHANDLER_PORT: cannot listen on %d: %v\n", cfg.Port, err)
		return err
	}
	defer ln.Close()

	a := &app{cfg: cfg, log: log, now: time.Now, tenants: map[string]bool{}}
	var closers []func(context.Context) error
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](ctx); err != nil {
				log.Error("shutdown step failed", "error", err.Error())
			}
		}
	}()

	if a.store, err = openStore(ctx, cfg); err != nil {
		fmt.Fprintln(stderr, "start-up error:", err)
		return err
	}
	closers = append(closers, func(context.Context) error { return a.store.Close() })
	a.records = records.New(a.store)
	a.parker = storeParker{a.records.Parked}

	var demoNotify, demoAlerts string
	var demoT *graphsim.Tenant
	if cfg.Demo {
		// The demo tenant's domains publish their mail records on an
		// authoritative server of their own, unless DNS_RESOLVER says
		// where to ask instead.
		demo := demoTenant()
		demoT = demo
		demoResponseConfig(&cfg, demo)
		dnsAddr, closeDNS, err := startDemoDNS(demo.DNS)
		if err != nil {
			return fmt.Errorf("start demo DNS: %w", err)
		}
		closers = append(closers, func(context.Context) error { return closeDNS() })
		if cfg.DNSResolver == "" {
			cfg.DNSResolver = dnsAddr
		}
		sim := graphsim.NewServer(demo, graphsim.Options{})
		if err := sim.Start(); err != nil {
			return fmt.Errorf("start demo tenant: %w", err)
		}
		closers = append(closers, func(context.Context) error { return sim.Close() })
		cfg.GraphEndpoint = sim.URL()
		if len(cfg.Tenants) == 0 {
			cfg.Tenants = []string{strings.ToLower(demo.ID)}
		}
		demoMail(&cfg, demo)
		// The demo stands for a Graph subscription on this webhook: the
		// simulator signs its notifications with the same clientState,
		// random per start unless set, and never logged.
		generated := cfg.ClientState == ""
		if generated {
			if cfg.ClientState, err = newClientState(); err != nil {
				return err
			}
		}
		sim.SetWebhook(graphsim.Webhook{URL: "http://" + ln.Addr().String() + "/api/notifications", ClientState: cfg.ClientState.Reveal()})
		demoNotify = sim.URL() + graphsim.NotifyPath
		demoAlerts = sim.URL() + graphsim.AlertsPath
		// A loopback public URL the simulator validates subscriptions
		// against (the responder identity is set by demoResponseConfig).
		if cfg.PublicBaseURL == "" {
			cfg.PublicBaseURL = "http://" + ln.Addr().String()
		}
		log.Info("demo tenant simulator started", "graph_endpoint", cfg.GraphEndpoint, "tenant_id", cfg.Tenants[0], "dns_resolver", cfg.DNSResolver,
			"notify_url", demoNotify, "client_state_generated", generated)
	}
	for _, t := range cfg.Tenants {
		a.tenants[t] = true
	}
	a.cfg = cfg

	clients, err := graph.NewClients(graph.Options{Endpoint: cfg.GraphEndpoint, Credential: credentialFunc(cfg, getenv),
		Responder: responder(cfg, getenv)})
	if err != nil {
		return err
	}
	a.assess = assess.New(a.records, collector(clients, mailResolver(cfg, log), log), a.now, log)
	a.clients = clients
	a.wireSignals(clients, log)
	if a.respond, err = newResponseEngine(a, clients); err != nil {
		return err
	}
	// Every incident a signal creates or changes goes to the response
	// engine, which plans idempotently from it.
	a.signals.pipeline.OnChange = a.respond.OnIncident
	a.reports = report.NewBuilder(a.records, a.assess, a.now)
	a.mailer = reportmail.New(reportmail.Config{Records: a.records, Builder: a.reports,
		Writer:              func(t string) (reportmail.Sender, error) { return clients.Writer(t) },
		ResponderConfigured: clients.ResponderConfigured(), MailSender: cfg.MailSender, Defaults: cfg.Recipients,
		BaseURL: cfg.PublicBaseURL, Now: a.now, Log: log})
	if cfg.Demo {
		a.demoSeeded = a.seedDemo(ctx, collector(clients, mailResolver(cfg, log), log), cfg.Tenants[0])
	}

	mux, err := a.router(meta)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "start-up error:", line)
		}
		return err
	}
	if err := a.startQueue(ctx, cfg, meta, mux, &closers); err != nil {
		fmt.Fprintln(stderr, "start-up error:", err)
		return err
	}

	if demoT != nil {
		go func() {
			if err := a.seedDemoResponse(ctx, demoT); err != nil {
				log.Error("seed demo incident", "error", err.Error())
			}
		}()
	}

	srv := &http.Server{Handler: contractErrors(mux), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	log.Info("handler listening", "url", base, "hosted", cfg.Hosted, "store", cfg.Store, "queue", cfg.Queue,
		"demo", cfg.Demo, "tenants", len(cfg.Tenants), "functions", len(meta.Functions))

	var sched *scheduler
	if !cfg.Hosted && cfg.LocalScheduler {
		sched = newScheduler(meta, mux, a.records.State, log, getenv)
		sched.start(ctx)
	}
	if !cfg.Hosted {
		fmt.Fprintf(stdout, "m365security %s is running on %s\n", version, base)
		for _, t := range cfg.Tenants {
			fmt.Fprintf(stdout, "  metrics:  %s/api/metrics?tenant=%s\n  controls: %s/api/controls?tenant=%s\n", base, t, base, t)
		}
		fmt.Fprintf(stdout, "  console:  %s/\n", base)
		if demoNotify != "" {
			fmt.Fprintf(stdout, "  webhook:  curl -X POST %s   (the demo tenant sends a change notification)\n", demoNotify)
			fmt.Fprintf(stdout, "  alert:    curl -X POST %s   (Defender raises an alert; an incident appears within a poll, 5 min)\n", demoAlerts)
			sim := strings.TrimSuffix(demoNotify, graphsim.NotifyPath)
			fmt.Fprintf(stdout, "  response: incident %s (see the log line \"demo incident seeded\"); Graph writes %s%s, sent mail %s%s\n",
				demoIncidentID, sim, graphsim.WritesPath, sim, graphsim.SentMailPath)
		}
	}
	if ready != nil {
		ready <- base
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		log.Error("server stopped", "error", err.Error())
		return err
	}
	log.Info("shutting down: draining in-flight work")
	drain(log, srv, sched, httpDrainGrace, schedulerDrainGrace)
	return nil
}

// Shutdown budgets, one each: API and webhook requests are short, a timer
// invocation is a whole collection. The queue and store then close within
// shutdownGrace.
const (
	httpDrainGrace      = 10 * time.Second
	schedulerDrainGrace = 30 * time.Second
)

// drain stops the HTTP server and the scheduler side by side, each within
// its own budget, so a slow HTTP drain cannot use up the time running timer
// invocations need (they do not go through the server).
func drain(log *slog.Logger, srv *http.Server, sched *scheduler, httpGrace, schedGrace time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), httpGrace)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Error("http drain incomplete", "error", err.Error())
		}
	}()
	if sched != nil {
		ctx, cancel := context.WithTimeout(context.Background(), schedGrace)
		defer cancel()
		sched.stop(ctx)
	}
	<-done
}

// demoSeed fixes the demo organisation so every newcomer sees the same one.
const demoSeed = 20261126

// newClientState returns a random NOTIFICATION_CLIENT_STATE for demo mode:
// 32 random bytes, base64url (43 characters, within Graph's 128).
func newClientState() (Secret, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate the demo NOTIFICATION_CLIENT_STATE: %w", err)
	}
	return Secret(base64.RawURLEncoding.EncodeToString(b)), nil
}

func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	switch cfg.Store {
	case "cosmos":
		var cred azcore.TokenCredential
		if cfg.CosmosKey == "" {
			c, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, fmt.Errorf("COSMOS_KEY is unset and no Azure identity is available: %w", err)
			}
			cred = c
		}
		ictx, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		s, err := cosmos.New(ictx, cosmos.Options{Endpoint: cfg.CosmosEndpoint, Database: cfg.CosmosDatabase,
			Key: cfg.CosmosKey.Reveal(), Credential: cred})
		if err != nil {
			return nil, fmt.Errorf("COSMOS_ENDPOINT: open Cosmos DB: %w", err)
		}
		return s, nil
	default:
		s, err := embedded.Open(cfg.StorePath)
		if err != nil {
			return nil, fmt.Errorf("STORE_PATH: open embedded store %s: %w", cfg.StorePath, err)
		}
		return s, nil
	}
}

// credentialFunc returns per-tenant credentials for GRAPH_AUTH=azure (see
// graph.TenantCredential); GRAPH_AUTH=none sends no token.
func credentialFunc(cfg Config, getenv func(string) string) func(string) (azcore.TokenCredential, error) {
	if cfg.GraphAuth == "none" {
		return nil
	}
	return func(tenantID string) (azcore.TokenCredential, error) {
		return graph.TenantCredential(tenantID, getenv)
	}
}

// responder configures the Graph write identity (RESPONDER_CLIENT_ID, see
// graph.ResponderCredential); GRAPH_AUTH=none sends no token.
func responder(cfg Config, getenv func(string) string) graph.Responder {
	r := graph.Responder{ClientID: cfg.ResponderClientID}
	if cfg.ResponderClientID != "" && cfg.GraphAuth != "none" {
		r.Credential = func(tenantID string) (azcore.TokenCredential, error) {
			return graph.ResponderCredential(tenantID, cfg.ResponderClientID, getenv)
		}
	}
	return r
}

// collector adapts the Graph collectors to assess.Collector: the area's
// declaration reads it, or marks its sources skipped when no client can be
// built for the tenant.
func collector(clients *graph.Clients, dns maildns.Lookuper, log *slog.Logger) assess.Collector {
	return func(ctx context.Context, tenantID string, area posture.Area) assess.Collected {
		ar, ok := collect.AreaNamed(area)
		if !ok {
			return assess.Collected{Sources: posture.Sources{{Name: "graph", Status: posture.SourceFailed, Reason: fmt.Sprintf("unknown collection area %q", area)}}}
		}
		c, err := clients.For(tenantID)
		if err != nil {
			return ar.Unavailable(err.Error())
		}
		return ar.Collect(ctx, collect.Env{Graph: c, DNS: dns}, log.With("tenant_id", tenantID, "area", string(area)))
	}
}

// startQueue wires the queue: Service Bus sends in Azure (the host
// delivers); in-process delivers through the same invocation routes.
func (a *app) startQueue(ctx context.Context, cfg Config, meta hostmeta.App, mux http.Handler, closers *[]func(context.Context) error) error {
	if cfg.Queue == "servicebus" {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return fmt.Errorf("ServiceBusConnection__fullyQualifiedNamespace: no Azure identity: %w", err)
		}
		s, err := servicebus.New(cfg.ServiceBusNamespace, cred)
		if err != nil {
			return err
		}
		a.queue = s
		*closers = append(*closers, s.Close)
		return nil
	}
	consumers := map[string]hostmeta.Function{}
	var names []string
	for _, f := range meta.Functions {
		if t := f.Trigger(); t.Type == hostmeta.ServiceBusTrigger {
			consumers[t.QueueName] = f
			names = append(names, t.QueueName)
		}
	}
	q := inprocess.New(func(ctx context.Context, d inprocess.Delivery) error {
		f := consumers[d.Queue]
		return deliverLocal(ctx, mux, f, d)
	}, inprocess.Options{Queues: names, DuplicateWindow: 10 * time.Minute, Log: a.log,
		// One instance's concurrency, as host.json gives it to Service Bus.
		Workers: meta.Host.Extensions.ServiceBus.MaxConcurrentCalls,
		OnDeadLetter: func(dl inprocess.DeadLetter) {
			p := invoke.Parked{Function: consumers[dl.Queue].Name, MessageID: dl.Message.ID, DeliveryCount: dl.DeliveryCount,
				Reason: dl.Reason + ": " + dl.Description, Body: string(dl.Message.Body), ParkedAt: dl.At}
			if err := a.parker.Park(context.Background(), p); err != nil {
				a.log.Error("park dead-lettered message", "message_id", dl.Message.ID, "error", err.Error())
			}
		}})
	a.queue = q
	*closers = append(*closers, q.Close)
	return nil
}

// deliverLocal hands a delivery to its function exactly as the host would:
// the Service Bus envelope POSTed to /{FunctionName}. Non-2xx abandons.
func deliverLocal(ctx context.Context, mux http.Handler, f hostmeta.Function, d inprocess.Delivery) error {
	body, err := invoke.MessageEnvelope(f.Name, f.Trigger().Name, invoke.Message{
		Body: d.Message.Body, MessageID: d.Message.ID, ContentType: d.Message.ContentType, Subject: d.Message.Subject,
		CorrelationID: d.Message.CorrelationID, LockToken: d.LockToken, DeliveryCount: d.DeliveryCount,
		SequenceNumber: d.SequenceNumber, EnqueuedTime: d.EnqueuedTime, ApplicationProperties: d.Message.Properties,
	}, time.Now(), invoke.NewGUID())
	if err != nil {
		return err
	}
	status, resp := invokeLocal(ctx, mux, f.Name, body)
	if status/100 != 2 {
		return fmt.Errorf("%s answered %d: %s", f.Name, status, truncate(string(resp), 300))
	}
	return nil
}

// storeParker keeps parked messages in the store's parked records.
type storeParker struct{ parked records.Parked }

func (p storeParker) Park(ctx context.Context, m invoke.Parked) error {
	return p.parked.Park(ctx, records.ParkedMessage(m))
}

// demoTenant is the built-in demo organisation.
func demoTenant() *graphsim.Tenant {
	size := graphsim.DefaultSize()
	size.Now = time.Now().UTC()
	return graphsim.Generate(demoSeed, size)
}

// startDemoDNS serves records on a loopback authoritative server.
func startDemoDNS(records []string) (addr string, closeFn func() error, err error) {
	srv, err := dnssim.New(records)
	if err != nil {
		return "", nil, err
	}
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	return srv.Addr(), srv.Close, nil
}

// mailResolver is the DNS resolver of the mail-domain checks:
// DNS_RESOLVER, else the servers of /etc/resolv.conf. A system without
// either still starts; every mail domain's lookups are unknown with the
// reason.
func mailResolver(cfg Config, log *slog.Logger) maildns.Lookuper {
	servers := []string{cfg.DNSResolver}
	if cfg.DNSResolver == "" {
		var err error
		if servers, err = maildns.SystemServers("/etc/resolv.conf"); err != nil {
			log.Warn("no system DNS resolver; mail-domain checks will be unknown until DNS_RESOLVER is set", "error", err.Error())
		}
	}
	return maildns.NewResolver(servers, maildns.DefaultTimeout, maildns.DefaultAttempts)
}
