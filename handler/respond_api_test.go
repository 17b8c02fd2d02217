package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/handler/invoke"
	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/incident"
	"m365security/shared/principal"
	"m365security/shared/respond"
)

// respondApp is a test app whose response engine writes to the simulator
// and runs jobs at once (no queue).
func respondApp(t *testing.T, auth string) (*app, http.Handler, *graphsim.Server, string, incident.Action) {
	t.Helper()
	a, _ := newTestApp(t)
	a.cfg.Auth = auth
	tenant := graphsim.Generate(5, graphsim.Size{Users: 12, Devices: 2, CAGroups: 1, Alerts: 1, Now: time.Now().UTC()})
	sim := graphsim.NewServer(tenant, graphsim.Options{})
	require.NoError(t, sim.Start())
	t.Cleanup(func() { sim.Close() })
	clients, err := graph.NewClients(graph.Options{Endpoint: sim.URL(), Responder: graph.Responder{ClientID: "responder"}})
	require.NoError(t, err)
	a.respond, err = respond.New(respond.Options{Records: a.records, Writers: clients, Now: a.now, MailSender: tenant.Users[0].UserPrincipalName,
		Defaults: a.cfg.Recipients})
	require.NoError(t, err)
	user := strings.ToLower(tenant.Users[2].ID)
	now := time.Now().UTC()
	in := incident.Incident{ID: "inc-api", TenantID: testTenant, Category: incident.CategoryAccountCompromise, Severity: "medium",
		Status: incident.StatusNew, Entities: incident.Entities{Users: []string{user}}, DetectedAt: &now, CreatedAt: now}
	require.NoError(t, a.records.Incidents.Create(context.Background(), in))
	// The writer is the simulator tenant's, the incident the test tenant's:
	// Graph sees one tenant either way.
	require.NoError(t, a.respond.OnIncident(context.Background(), testTenant, "inc-api"))
	got, err := a.records.Incidents.Get(context.Background(), testTenant, "inc-api")
	require.NoError(t, err)
	var disable incident.Action
	for _, act := range got.Actions {
		if act.Type == incident.ActionDisableAccount {
			disable = act
		}
	}
	require.NotEmpty(t, disable.ID)
	return a, newTestRouter(t, a), sim, user, disable
}

func clientPrincipal(t *testing.T, upn, oid string, roles ...string) string {
	t.Helper()
	claims := []map[string]string{
		{"typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "val": upn},
		{"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": oid},
	}
	for _, r := range roles {
		claims = append(claims, map[string]string{"typ": "roles", "val": r})
	}
	b, err := json.Marshal(map[string]any{"auth_typ": "aad", "claims": claims})
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

func post(t *testing.T, h http.Handler, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func disables(sim *graphsim.Server, user string) int {
	n := 0
	for _, w := range sim.Writes() {
		if w.Method == "PATCH" && strings.EqualFold(w.Path, "/v1.0/users/"+user) && string(w.Body) == `{"accountEnabled":false}` {
			n++
		}
	}
	return n
}

func TestApprovalRoutesRecordWhoDecided(t *testing.T) {
	const oid = "0f0e0d0c-0000-4000-8000-00000000000a"
	tests := []struct {
		name     string
		auth     string
		header   []string
		body     string
		status   int
		by       string
		verified bool
		writes   int
	}{
		{"without sign-in the stated name is recorded, unverified", principal.ModeNone, nil,
			`{"by":"alice@contoso.example","reason":"confirmed"}`, 200, "alice@contoso.example", false, 1},
		{"without sign-in a forged principal header is ignored", principal.ModeNone,
			[]string{principal.Header, "FORGED"}, `{"by":"bob","reason":"x"}`, 200, "bob", false, 1},
		{"without sign-in a name is required", principal.ModeNone, nil, `{"reason":"x"}`, 400, "", false, 0},
		{"with sign-in and the role the verified person is recorded, not the body's name", principal.ModeAppService,
			[]string{principal.Header, ""}, `{"by":"mallory","reason":"ok"}`, 200, "carol@contoso.example", true, 1},
		{"with sign-in but without the role it is forbidden", principal.ModeAppService,
			[]string{principal.Header, "norole"}, `{"reason":"ok"}`, 403, "", false, 0},
		{"with sign-in on but no principal header it is unauthorised", principal.ModeAppService, nil, `{"by":"alice"}`, 401, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h, sim, user, disable := respondApp(t, tt.auth)
			header := tt.header
			if len(header) == 2 && header[0] == principal.Header {
				switch header[1] {
				case "":
					header = []string{principal.Header, clientPrincipal(t, "carol@contoso.example", oid, principal.RoleApprove)}
				case "norole":
					header = []string{principal.Header, clientPrincipal(t, "dave@contoso.example", oid)}
				case "FORGED":
					header = []string{principal.Header, clientPrincipal(t, "ceo@contoso.example", oid, principal.RoleApprove)}
				}
			}
			rec := post(t, h, "/api/incidents/inc-api/actions/"+disable.ID+"/approve?tenant="+testTenant, tt.body, header...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, tt.writes, disables(sim, user))
			if tt.status != 200 {
				return
			}
			var out struct{ Action incident.Action }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
			require.NotNil(t, out.Action.DecidedBy)
			assert.Equal(t, tt.by, out.Action.DecidedBy.Name)
			assert.Equal(t, tt.verified, out.Action.DecidedBy.Verified)
			if tt.verified {
				assert.Equal(t, oid, out.Action.DecidedBy.ObjectID)
			}
			assert.Equal(t, incident.ActionExecuted, out.Action.Status)
		})
	}
}

func TestActionRoutesAnswerMissingAndSettledActions(t *testing.T) {
	_, h, sim, user, disable := respondApp(t, principal.ModeNone)
	base := "/api/incidents/inc-api/actions/"
	q := "?tenant=" + testTenant
	assert.Equal(t, 404, post(t, h, base+"nope/approve"+q, `{"by":"a"}`).Code)
	assert.Equal(t, 404, post(t, h, "/api/incidents/none/actions/x/reject"+q, `{"by":"a"}`).Code)
	assert.Equal(t, 404, post(t, h, base+disable.ID+"/approve?tenant=other", `{"by":"a"}`).Code)
	assert.Equal(t, 400, post(t, h, base+disable.ID+"/approve"+q, `{"by":"a","extra":1}`).Code)
	assert.Equal(t, 409, post(t, h, base+disable.ID+"/undo"+q, `{"by":"a"}`).Code, "nothing executed to undo")
	assert.Equal(t, 200, post(t, h, base+disable.ID+"/approve"+q, `{"by":"a"}`).Code)
	assert.Equal(t, 200, post(t, h, base+disable.ID+"/approve"+q, `{"by":"b"}`).Code, "a second approval is answered, not sent")
	assert.Equal(t, 1, disables(sim, user))
	assert.Equal(t, 409, post(t, h, base+disable.ID+"/reject"+q, `{"by":"a"}`).Code)
	rec := post(t, h, base+disable.ID+"/undo"+q, `{"by":"a","reason":"false positive"}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var out struct{ Action incident.Action }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	assert.Equal(t, incident.ActionEnableAccount, out.Action.Type)
	assert.Equal(t, incident.ActionExecuted, out.Action.Status)
}

func TestExecuteResponseParksWhatIsNotAJob(t *testing.T) {
	a, _, _, _, _ := respondApp(t, principal.ModeNone)
	inv := invoke.Invocation{Log: a.log}
	err := a.executeResponse(context.Background(), inv, invoke.Message{Body: []byte(`not json`)})
	require.Error(t, err)
	assert.False(t, invoke.IsRetry(err), "a bad body is parked, not retried")
	for _, body := range []string{`{"kind":"bogus","tenantId":"` + testTenant + `","incidentId":"x"}`, `{"kind":"action","tenantId":"` + testTenant + `","incidentId":"x"}`} {
		err = a.executeResponse(context.Background(), inv, invoke.Message{Body: []byte(body)})
		require.Error(t, err, body)
		assert.False(t, invoke.IsRetry(err), body)
	}
	err = a.executeResponse(context.Background(), inv, invoke.Message{Body: []byte(`{"kind":"notice","tenantId":"other","incidentId":"x"}`)})
	require.Error(t, err)
	assert.False(t, invoke.IsRetry(err))
	require.NoError(t, a.executeResponse(context.Background(), inv, invoke.Message{Body: []byte(`{"kind":"notice","tenantId":"` + testTenant + `","incidentId":"inc-api"}`)}))
}

func TestHealthSaysWhetherAResponderIsConfigured(t *testing.T) {
	a, _ := newTestApp(t)
	h := newTestRouter(t, a)
	for _, id := range []string{"", "responder-id"} {
		a.cfg.ResponderClientID = id
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
		require.Equal(t, 200, rec.Code)
		var out struct {
			Status  string
			Details map[string]string
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		assert.Equal(t, "ok", out.Status)
		if id == "" {
			assert.Contains(t, out.Details["responder"], "RESPONDER_CLIENT_ID is unset")
		} else {
			assert.Equal(t, "configured", out.Details["responder"])
		}
	}
}

func TestDemoSeedsAnIncidentWithAnExecutedRevocationAndAPendingDisable(t *testing.T) {
	h := startHarness(t)
	var seeded map[string]any
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(h.stderr.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "demo incident seeded" {
				seeded = rec
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, h.stderr.String())
	assert.Equal(t, incident.StatusAwaitingApproval, seeded["status"])
	var disableID string
	for k, v := range seeded {
		switch {
		case strings.HasPrefix(k, incident.ActionRevokeSessions+"_"), strings.HasPrefix(k, incident.ActionDisableInboxRule+"_"):
			assert.Equal(t, incident.ActionExecuted, v, k)
		case strings.HasPrefix(k, incident.ActionDisableAccount+"_"):
			assert.Equal(t, incident.ActionProposed, v)
			disableID = strings.TrimPrefix(k, incident.ActionDisableAccount+"_")
		}
	}
	require.NotEmpty(t, disableID)
	code, _, body := h.do(t, http.MethodPost, "/api/incidents/"+demoIncidentID+"/actions/"+disableID+"/approve?tenant="+h.tenant,
		[]byte(`{"by":"demo-user","reason":"demo"}`), "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, code, string(body))
	assert.NotContains(t, h.stderr.String(), "seed demo incident")
	assert.NotContains(t, h.stderr.String(), "response job failed")
}
