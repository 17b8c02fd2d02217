package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"m365security/handler/hostmeta"
	"m365security/shared/assess"
	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store/embedded"
)

// demoConsole is the handler's whole HTTP surface in demo mode: the demo
// tenant simulator, every area collected through the real collectors and
// assessment, and one incident with an action awaiting approval.
type demoConsole struct {
	base   string
	tenant string
	app    *app
}

const (
	browserIncidentID = "demo-incident-1"
	demoActionID      = "demo-action-1"
)

func newDemoConsole(t *testing.T) *demoConsole {
	t.Helper()
	size := graphsim.DefaultSize()
	size.Now = time.Now().UTC()
	demo := graphsim.Generate(demoSeed, size)
	sim := graphsim.NewServer(demo, graphsim.Options{})
	require.NoError(t, sim.Start())
	t.Cleanup(func() { _ = sim.Close() })
	tenant := strings.ToLower(demo.ID)

	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	a := &app{cfg: Config{Demo: true, Tenants: []string{tenant}, Auth: "none", GraphEndpoint: sim.URL(), ClientState: testClientState},
		log: log, store: s, queue: &recordingQueue{}, now: time.Now, tenants: map[string]bool{tenant: true}, records: records.New(s)}
	a.parker = storeParker{a.records.Parked}
	dnsAddr, closeDNS, err := startDemoDNS(demo.DNS)
	require.NoError(t, err)
	t.Cleanup(func() { _ = closeDNS() })
	a.cfg.DNSResolver = dnsAddr
	a.cfg.ResponderClientID = demoResponderID
	clients, err := graph.NewClients(graph.Options{Endpoint: sim.URL(), Responder: graph.Responder{ClientID: demoResponderID}})
	require.NoError(t, err)
	a.clients = clients
	a.assess = assess.New(a.records, collector(clients, mailResolver(a.cfg, log), log), a.now, log)
	a.respond, err = newResponseEngine(a, clients)
	require.NoError(t, err)
	ctx := context.Background()
	for _, area := range posture.Areas {
		_, err := a.assess.Run(ctx, tenant, area)
		require.NoError(t, err)
	}
	users, err := a.assess.MFAUsers(ctx, tenant, time.Time{}, true)
	require.NoError(t, err)
	require.NotEmpty(t, users.Users, "the demo tenant has unprotected users")
	now := time.Now().UTC()
	require.NoError(t, a.records.Incidents.Create(ctx, incident.Incident{ID: browserIncidentID, TenantID: tenant,
		Category: incident.CategoryAccountCompromise, Severity: "high", Status: incident.StatusAwaitingApproval,
		AlertIDs: []string{"demo-alert-1"}, CreatedAt: now.Add(-time.Hour), DetectedAt: ptr(now.Add(-time.Hour)),
		Entities: incident.Entities{Users: []string{users.Users[0].ID}},
		Actions: []incident.Action{{ID: demoActionID, Type: incident.ActionDisableAccount, Target: users.Users[0].ID,
			Status: incident.ActionProposed, RequiresApproval: true}},
		Timeline: []incident.Entry{{At: now.Add(-time.Hour), Kind: "alert", Message: "Suspicious sign-in from an unfamiliar location"}}}))

	wd, err := os.Getwd()
	require.NoError(t, err)
	hostDir, fnDir, err := hostmeta.Locate(wd)
	require.NoError(t, err)
	meta, err := hostmeta.Load(hostDir, fnDir, func(string) string { return "" })
	require.NoError(t, err)
	mux, err := a.router(meta)
	require.NoError(t, err)
	srv := httptest.NewServer(contractErrors(mux))
	t.Cleanup(srv.Close)
	return &demoConsole{base: srv.URL, tenant: tenant, app: a}
}

func ptr[T any](v T) *T { return &v }

// chromiumPath finds Debian's chromium; make test installs it. Outside CI
// a machine without it skips the browser tests, saying how to get it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; make test installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed: run make test, or apt-get install -y chromium")
	return ""
}

// browser records everything that must not happen on a page: console
// errors (CSP violations among them), uncaught exceptions, failed requests
// and error statuses.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				b.problem("console error: %s", args(e.Args))
			}
		case *runtime.EventExceptionThrown:
			b.problem("uncaught exception: %s", e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				b.problem("browser log error: %s (%s)", e.Entry.Text, e.Entry.URL)
			}
		case *network.EventLoadingFailed:
			b.problem("request failed: %s", e.ErrorText)
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				b.problem("%s answered %d", e.Response.URL, e.Response.Status)
			}
		}
	}))
	return b
}

func args(list []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range list {
		parts = append(parts, string(a.Value)+a.Description)
	}
	return strings.Join(parts, " ")
}

func (b *browser) problem(format string, v ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, v...))
}

// take returns and forgets the problems seen so far.
func (b *browser) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// clean fails the test with every problem seen since the last call.
func (b *browser) clean(t *testing.T, where string) {
	t.Helper()
	require.Empty(t, b.take(), "on %s", where)
}

func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, steps...))
}

func (b *browser) text(t *testing.T, css string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(t, err, css)
	return strings.TrimSpace(s)
}

// open navigates and waits for the page's main element.
func (b *browser) open(t *testing.T, url string) {
	t.Helper()
	b.do(t, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("main")))
}

// submit clicks a form's button and waits for the page it leads to.
func (b *browser) submit(t *testing.T, css string) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css))))
	require.NoError(t, err, css)
}

// overflows reports whether the page is wider than the viewport: content
// that makes a phone scroll sideways.
func (b *browser) overflows(t *testing.T) bool {
	t.Helper()
	wide, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`))
	require.NoError(t, err)
	return wide
}

func (b *browser) screenshot(t *testing.T, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

func TestConsoleInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not short")
	}
	d := newDemoConsole(t)
	b := newBrowser(t)
	q := "?tenant=" + d.tenant
	shots := t.ArtifactDir()

	var failing string
	cv, err := d.app.assess.Controls(context.Background(), d.tenant, time.Time{})
	require.NoError(t, err)
	for _, c := range cv.Controls {
		if c.Status == "fail" && c.Findings.Total > 0 {
			failing = c.ID
			break
		}
	}
	require.NotEmpty(t, failing, "the demo tenant fails a control with findings")

	t.Run("the watcher sees a failed request", func(t *testing.T) {
		// Without this, a watcher that saw nothing would pass every page.
		b.do(t, chromedp.Navigate(d.base+"/static/missing.css"))
		require.NotEmpty(t, b.take())
	})

	pages := []string{"/" + q, "/tenants", "/controls" + q, "/controls?status=fail&tenant=" + d.tenant, "/controls/" + failing + q,
		"/mfa" + q, "/mfa?status=all&q=a&tenant=" + d.tenant, "/devices" + q, "/incidents" + q, "/incidents/" + browserIncidentID + q,
		"/exceptions" + q, "/reports" + q, "/settings" + q}

	t.Run("every page loads cleanly and fits a desktop and a phone", func(t *testing.T) {
		for _, w := range []int64{1280, 390} {
			b.do(t, chromedp.EmulateViewport(w, 900))
			for _, p := range pages {
				b.open(t, d.base+p)
				title, err := chromedp.Run(b.ctx, chromedp.Title())
				require.NoError(t, err)
				require.Contains(t, title, "M365 security", p)
				b.clean(t, p)
				require.False(t, b.overflows(t), "%s overflows a %d px wide window", p, w)
			}
		}
	})

	t.Run("the overview shows the MFA coverage the API reports", func(t *testing.T) {
		resp, err := http.Get(d.base + "/api/metrics" + q)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m assess.MetricsView
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		cov := m.Metrics[posture.MetricMFACoverage]
		require.True(t, cov.IsMeasured(), "the demo measures MFA coverage")
		b.do(t, chromedp.EmulateViewport(1280, 900))
		b.open(t, d.base+"/"+q)
		require.Equal(t, fmt.Sprintf("%.1f%%", *cov.Value*100), b.text(t, "#metric-mfaCoverage .value"))
		b.screenshot(t, shots, "overview-1280.png")
		b.do(t, chromedp.EmulateViewport(390, 900))
		b.open(t, d.base+"/"+q)
		b.screenshot(t, shots, "overview-390.png")
		b.do(t, chromedp.EmulateViewport(1280, 900))
		b.open(t, d.base+"/controls/"+failing+q)
		b.screenshot(t, shots, "control-1280.png")
		b.clean(t, "overview and control screenshots")
		t.Logf("screenshots in %s", shots)
	})

	t.Run("an exception is created and revoked through the form", func(t *testing.T) {
		reason := fmt.Sprintf("browser test pilot %d", time.Now().UnixNano())
		b.open(t, d.base+"/exceptions"+q)
		b.do(t, chromedp.SetValue(chromedp.CSS(`select[name=controlId]`), "M365SEC.MFA.1"),
			chromedp.SetValue(chromedp.CSS(`select[name=user]`), strings.ToLower(firstUnprotected(t, d))),
			chromedp.SendKeys(chromedp.CSS(`textarea[name=reason]`), reason),
			chromedp.SendKeys(chromedp.CSS(`input[name=approvedBy]`), "ciso@contoso.test"))
		b.submit(t, `#exception-form button[type=submit]`)
		require.Equal(t, "The exception was created.", b.text(t, ".flash"))
		require.Contains(t, b.text(t, "#exceptions-active"), reason)
		b.clean(t, "creating an exception")

		b.submit(t, `#exceptions-active button.danger`)
		require.Equal(t, "The exception was revoked.", b.text(t, ".flash"))
		require.Contains(t, b.text(t, "#exceptions-revoked"), reason)
		b.clean(t, "revoking an exception")
		list, err := d.app.assess.Exceptions(context.Background(), d.tenant)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, "revoked", list[0].Status)
	})

	t.Run("an action is approved through its button", func(t *testing.T) {
		form := `#action-` + demoActionID + ` form.decide`
		b.open(t, d.base+"/incidents/"+browserIncidentID+q)
		b.do(t, chromedp.SendKeys(chromedp.CSS(form+` input[name=by]`), "ann@contoso.test"),
			chromedp.SendKeys(chromedp.CSS(form+` input[name=reason]`), "confirmed with the user"))
		b.submit(t, form+` button`)
		require.Equal(t, "The action was approved.", b.text(t, ".flash"))
		b.clean(t, "approving an action")
		in, err := d.app.records.Incidents.Get(context.Background(), d.tenant, browserIncidentID)
		require.NoError(t, err)
		require.NotEqual(t, incident.ActionProposed, in.Actions[0].Status)
	})
}

func firstUnprotected(t *testing.T, d *demoConsole) string {
	t.Helper()
	v, err := d.app.assess.MFAUsers(context.Background(), d.tenant, time.Time{}, true)
	require.NoError(t, err)
	require.NotEmpty(t, v.Users)
	return v.Users[0].ID
}

// The console is what `make run` serves at its root: run() in demo mode,
// after a collection, answers / with the overview of the demo tenant.
func TestRunServesTheConsoleAtTheRoot(t *testing.T) {
	h := startHarness(t)
	h.fireTimer(t, "CollectIdentity")
	code, hdr, body := h.do(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, "text/html; charset=utf-8", hdr.Get("Content-Type"))
	require.Contains(t, hdr.Get("Content-Security-Policy"), "default-src 'none'")
	require.Contains(t, string(body), `id="metric-mfaCoverage"`)
	require.Contains(t, string(body), h.tenant)
	var m assess.MetricsView
	h.getJSON(t, "/api/metrics?tenant="+h.tenant, http.StatusOK, &m)
	require.Contains(t, string(body), fmt.Sprintf(`<span class="value">%.1f%%</span>`, *m.Metrics[posture.MetricMFACoverage].Value*100))
}
