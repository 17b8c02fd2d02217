package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/handler/invoke"
	"m365security/shared/assess"
	"m365security/shared/changes"
	"m365security/shared/controls"
	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/incident"
)

// signalApp is an app wired to a simulator the test controls, with its
// HTTP surface served on loopback so Graph's validation POST reaches the
// webhook, as in Azure.
type signalApp struct {
	*app
	sim *graphsim.Server
	api http.Handler
	url string
}

func newSignalApp(t testing.TB) *signalApp {
	t.Helper()
	size := graphsim.DefaultSize()
	size.Now = time.Now().UTC()
	tn := graphsim.Generate(demoSeed, size)
	tn.ID = testTenant
	sim := graphsim.NewServer(tn, graphsim.Options{})
	require.NoError(t, sim.Start())
	t.Cleanup(func() { sim.Close() })
	a, _ := newTestApp(t)
	h := newTestRouter(t, a)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a.cfg.PublicBaseURL = srv.URL
	a.cfg.ResponderClientID = demoResponderID
	clients, err := graph.NewClients(graph.Options{Endpoint: sim.URL(), Responder: graph.Responder{ClientID: demoResponderID}})
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	a.clients = clients
	a.assess = assess.New(a.records, collector(clients, nil, log), a.now, log)
	a.wireSignals(clients, log)
	return &signalApp{app: a, sim: sim, api: h, url: srv.URL}
}

func (s *signalApp) job(t testing.TB, name string) error {
	t.Helper()
	return s.jobs()[name](context.Background(), slog.New(slog.DiscardHandler), testTenant)
}

func (s *signalApp) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	rec := serveTest(t, s.api, "GET", path, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), v))
}

type healthBody struct {
	Signals map[string]struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"signals"`
}

func TestAForbiddenAlertsSourceIsUnknownNotZeroIncidents(t *testing.T) {
	s := newSignalApp(t)
	s.sim.ForceError("/security/alerts_v2", graphsim.InsufficientPrivileges())
	s.sim.SetLicensing(graphsim.Licensing{WithoutP2: true})
	require.NoError(t, s.job(t, jobPollSignals), "a refusal is recorded, not retried")
	var h healthBody
	s.getJSON(t, "/api/collection?tenant="+testTenant, &h)
	assert.Equal(t, "forbidden", h.Signals["alerts"].Status)
	assert.Equal(t, "notLicensed", h.Signals["riskyUsers"].Status)
	var ctl struct {
		Controls []struct {
			ID, Status string
		} `json:"controls"`
	}
	s.getJSON(t, "/api/controls?tenant="+testTenant, &ctl)
	for _, c := range ctl.Controls {
		if c.ID == "M365SEC.ALERT.1" {
			assert.Equal(t, "unknown", c.Status, "alerts never polled: review time cannot be measured")
		}
	}

	s.sim.ClearFaults()
	s.sim.SetLicensing(graphsim.Licensing{})
	require.NoError(t, s.job(t, jobPollSignals))
	s.getJSON(t, "/api/collection?tenant="+testTenant, &h)
	assert.Equal(t, "ok", h.Signals["alerts"].Status)
	s.getJSON(t, "/api/controls?tenant="+testTenant, &ctl)
	for _, c := range ctl.Controls {
		if c.ID == "M365SEC.ALERT.1" {
			assert.NotEqual(t, "unknown", c.Status, "once polled, ALERT.1 is measured")
		}
	}
}

func TestSubscriptionsAreCreatedValidatedAdoptedAndResyncedThroughTheSDK(t *testing.T) {
	s := newSignalApp(t)
	require.NoError(t, s.job(t, jobSubscriptions))
	held := s.sim.Subscriptions()
	require.Len(t, held, 2, "users and groups")
	for _, sub := range held {
		assert.Equal(t, s.url+"/api/notifications", sub.NotificationURL, "Graph validated our webhook before creating it")
		assert.Equal(t, "updated,deleted", sub.ChangeType)
	}
	var v struct {
		Subscriptions []struct {
			ID, Resource, Status string
		} `json:"subscriptions"`
	}
	s.getJSON(t, "/api/subscriptions?tenant="+testTenant, &v)
	require.Len(t, v.Subscriptions, 2)
	assert.Equal(t, "active", v.Subscriptions[0].Status)

	require.NoError(t, s.job(t, jobSubscriptions))
	assert.Len(t, s.sim.Subscriptions(), 2, "a second run adopts them")

	// The delta backstop: the baseline is set; an expired token resyncs.
	s.sim.ExpireDeltaTokens()
	require.NoError(t, s.job(t, jobSubscriptions))
	var h healthBody
	s.getJSON(t, "/api/collection?tenant="+testTenant, &h)
	assert.Equal(t, "ok", h.Signals["usersDelta"].Status)
	assert.Contains(t, h.Signals["usersDelta"].Reason, "full resynchronization", "a 410 means a full resync")
}

func TestWithoutAPublicURLNoSubscriptionIsMadeAndHealthSaysWhy(t *testing.T) {
	s := newSignalApp(t)
	s.signals.manager.BaseURL = ""
	require.NoError(t, s.job(t, jobSubscriptions))
	assert.Empty(t, s.sim.Subscriptions())
	var h healthBody
	s.getJSON(t, "/api/collection?tenant="+testTenant, &h)
	assert.Equal(t, "notConfigured", h.Signals["subscriptions"].Status)
	assert.Contains(t, h.Signals["subscriptions"].Reason, "PUBLIC_BASE_URL")
}

func TestResolvingAnIncidentWritesBackToDefender(t *testing.T) {
	s := newSignalApp(t)
	require.NoError(t, s.job(t, jobPollSignals))
	var list incidentsBody
	s.getJSON(t, "/api/incidents?tenant="+testTenant+"&status=open", &list)
	var target string
	var alerts []string
	for _, in := range list.Incidents {
		if len(in.AlertIDs) > 0 {
			target, alerts = in.ID, in.AlertIDs
			break
		}
	}
	require.NotEmpty(t, target)
	url := "/api/incidents/" + target + "/resolve?tenant=" + testTenant
	bad := []struct{ name, body string }{
		{"an unknown classification is refused", `{"by":"ann@contoso.com","classification":"maybe"}`},
		{"an unknown determination is refused", `{"by":"ann@contoso.com","classification":"truePositive","determination":"aliens"}`},
		{"who resolves is required", `{"classification":"truePositive"}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			requireAPIError(t, serveTest(t, s.api, "POST", url, tc.body), http.StatusBadRequest, "badRequest")
		})
	}
	s.sim.ResetWrites()
	rec := serveTest(t, s.api, "POST", url, `{"by":"ann@contoso.com","classification":"truePositive","determination":"compromisedAccount","reason":"confirmed with the user"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got struct {
		Incident       incident.Incident `json:"incident"`
		AlertWriteBack []writeBack       `json:"alertWriteBack"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, incident.StatusResolved, got.Incident.Status)
	require.NotNil(t, got.Incident.Resolution)
	assert.False(t, got.Incident.Resolution.Verified, "AUTH=none: the stated name, marked unverified")
	require.Len(t, got.AlertWriteBack, len(alerts))
	patches := 0
	for _, w := range s.sim.Writes() {
		if w.Method == http.MethodPatch && strings.Contains(w.Path, "/security/alerts_v2/") {
			patches++
			assert.JSONEq(t, `{"status":"resolved","classification":"truePositive","determination":"compromisedAccount"}`, string(w.Body))
		}
	}
	assert.Equal(t, len(alerts), patches, "each Defender alert is set to resolved: %+v %+v", got.AlertWriteBack, s.sim.Writes())
	requireAPIError(t, serveTest(t, s.api, "POST", url, `{"by":"ann@contoso.com","classification":"truePositive"}`), http.StatusConflict, "conflict")
	requireAPIError(t, serveTest(t, s.api, "POST", "/api/incidents/nope/resolve?tenant="+testTenant, `{"by":"a","classification":"truePositive"}`), http.StatusNotFound, "notFound")

	// The next poll sees the alerts resolved in Defender and records it
	// without reopening anything.
	require.NoError(t, s.job(t, jobPollSignals))
	after, err := s.records.Incidents.Get(context.Background(), testTenant, target)
	require.NoError(t, err)
	assert.Equal(t, incident.StatusResolved, after.Status)
}

func TestAForgedPrincipalIsIgnoredWithoutAuthAndRequiredWithIt(t *testing.T) {
	s := newSignalApp(t)
	require.NoError(t, s.job(t, jobPollSignals))
	var list incidentsBody
	s.getJSON(t, "/api/incidents?tenant="+testTenant, &list)
	require.NotEmpty(t, list.Incidents)
	id := list.Incidents[0].ID
	forged := "eyJjbGFpbXMiOlt7InR5cCI6Im9pZCIsInZhbCI6IngifSx7InR5cCI6Im5hbWUiLCJ2YWwiOiJtYWxsb3J5In0seyJ0eXAiOiJyb2xlcyIsInZhbCI6IlJlc3BvbmRlci5BcHByb3ZlIn1dfQ=="
	req := httptest.NewRequest("POST", "/api/incidents/"+id+"/resolve?tenant="+testTenant, strings.NewReader(`{"by":"ann@contoso.com","classification":"falsePositive"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-MS-CLIENT-PRINCIPAL", forged)
	rec := httptest.NewRecorder()
	s.api.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"by":"ann@contoso.com"`, "AUTH=none ignores the header")
	assert.NotContains(t, rec.Body.String(), "mallory")

	s.cfg.Auth = "appservice"
	rec = serveTest(t, s.api, "POST", "/api/incidents/"+list.Incidents[len(list.Incidents)-1].ID+"/resolve?tenant="+testTenant, `{"by":"ann@contoso.com","classification":"falsePositive"}`)
	requireAPIError(t, rec, http.StatusUnauthorized, "notSignedIn")
}

func TestIncidentListFilters(t *testing.T) {
	s := newSignalApp(t)
	require.NoError(t, s.job(t, jobPollSignals))
	for _, q := range []string{"&status=open", "&status=new", "&from=2026-01-01&to=2027-12-31", ""} {
		rec := serveTest(t, s.api, "GET", "/api/incidents?tenant="+testTenant+q, "")
		require.Equal(t, http.StatusOK, rec.Code, q)
	}
	requireAPIError(t, serveTest(t, s.api, "GET", "/api/incidents?tenant="+testTenant+"&status=bogus", ""), http.StatusBadRequest, "badRequest")
	requireAPIError(t, serveTest(t, s.api, "GET", "/api/incidents?tenant="+testTenant+"&from=yesterday", ""), http.StatusBadRequest, "badRequest")
	requireAPIError(t, serveTest(t, s.api, "GET", "/api/incidents/..%2F..?tenant="+testTenant, ""), http.StatusNotFound, "notFound")
}

func (s *signalApp) deliver(t *testing.T, m changes.Message) error {
	t.Helper()
	body, err := json.Marshal(m)
	require.NoError(t, err)
	return s.processChangeNotification(context.Background(), invoke.Invocation{Log: slog.New(slog.DiscardHandler)}, invoke.Message{Body: body, DeliveryCount: 1})
}

func TestLifecycleEventsThroughTheQueue(t *testing.T) {
	s := newSignalApp(t)
	require.NoError(t, s.job(t, jobSubscriptions))
	held := s.sim.Subscriptions()
	require.Len(t, held, 2)
	id := held[0].ID
	life := func(event string) changes.Message {
		return changes.Message{Kind: changes.KindLifecycle, TenantID: testTenant, SubscriptionID: id, LifecycleEvent: event, ReceivedAt: time.Now().UTC()}
	}

	s.sim.ResetWrites()
	require.NoError(t, s.deliver(t, life(changes.EventReauthorizationRequired)))
	var reauth int
	for _, w := range s.sim.Writes() {
		if w.Method == http.MethodPost && strings.HasSuffix(w.Path, "/subscriptions/"+id+"/reauthorize") {
			reauth++
		}
	}
	assert.Equal(t, 1, reauth, "reauthorizationRequired reauthorizes the subscription")

	// Graph removes it; the lifecycle event recreates it.
	req, _ := http.NewRequest(http.MethodDelete, s.sim.BaseURL()+"/subscriptions/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, s.sim.Subscriptions(), 1)
	require.NoError(t, s.deliver(t, life(changes.EventSubscriptionRemoved)))
	assert.Len(t, s.sim.Subscriptions(), 2, "subscriptionRemoved creates it again")

	// missed reconciles: delta backstop and a re-assessment.
	require.NoError(t, s.deliver(t, life(changes.EventMissed)))
	var v struct {
		Areas map[string]struct {
			SnapshotID string `json:"snapshotId"`
		} `json:"areas"`
	}
	s.getJSON(t, "/api/collection?tenant="+testTenant, &v)
	assert.NotEmpty(t, v.Areas["identity"].SnapshotID, "missed re-assessed identity")
}

func TestAChangeToABreakGlassAccountIsASignal(t *testing.T) {
	s := newSignalApp(t)
	user := s.sim.UserID(0)
	_, err := s.assess.AddException(context.Background(), testTenant, controls.Exception{ControlID: "MS.AAD.3.2v2", Reason: "break-glass account",
		ApprovedBy: "ciso@contoso.com", Scope: controls.Scope{Users: []string{user}}, ExpiresAt: time.Now().Add(30 * 24 * time.Hour)})
	require.NoError(t, err)
	m := changes.Message{Kind: changes.KindChange, TenantID: testTenant, SubscriptionID: "s", ChangeType: "updated",
		Resource: "Users/" + user, ReceivedAt: time.Now().UTC()}
	require.NoError(t, s.deliver(t, m))
	require.NoError(t, s.deliver(t, m), "a redelivery is the same signal")
	var list incidentsBody
	s.getJSON(t, "/api/incidents?tenant="+testTenant, &list)
	require.Len(t, list.Incidents, 1)
	assert.Equal(t, "high", list.Incidents[0].Severity)
}
