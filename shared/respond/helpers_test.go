package respond

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
	"m365security/shared/graphsim"
	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/settings"
	"m365security/shared/store/embedded"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is an engine over an embedded store and the Graph simulator,
// the real SDK in between, with one tenant.
type fixture struct {
	t      testing.TB
	sim    *graphsim.Server
	tenant *graphsim.Tenant
	rec    *records.Records
	engine *Engine
	clock  *clock
	ctx    context.Context
}

// setup is what a test may change before the engine is built.
type setup struct {
	noResponder bool
	opts        *Options
}

// withoutResponder builds the Graph clients with no responder identity.
func withoutResponder(s *setup) { s.noResponder = true }

func newFixture(t testing.TB, mods ...func(*setup)) *fixture {
	t.Helper()
	tenant := graphsim.Generate(11, graphsim.Size{Users: 30, Devices: 6, CAGroups: 2, Alerts: 4, Now: time.Now().UTC()})
	sim := graphsim.NewServer(tenant, graphsim.Options{})
	require.NoError(t, sim.Start())
	t.Cleanup(func() { sim.Close() })
	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	o := Options{Records: records.New(s), Now: c.now, MailSender: tenant.Users[0].UserPrincipalName,
		Defaults: settings.Defaults{IncidentRecipients: []string{"soc@contoso.example"}}, BaseURL: "https://m365sec.example"}
	st := setup{opts: &o}
	for _, m := range mods {
		m(&st)
	}
	responder := graph.Responder{ClientID: "responder"}
	if st.noResponder {
		responder = graph.Responder{}
	}
	clients, err := graph.NewClients(graph.Options{Endpoint: sim.URL(), Responder: responder})
	require.NoError(t, err)
	o.Writers = clients
	e, err := New(o)
	require.NoError(t, err)
	return &fixture{t: t, sim: sim, tenant: tenant, rec: o.Records, engine: e, clock: c, ctx: context.Background()}
}

func (f *fixture) user(i int) string { return strings.ToLower(f.tenant.Users[i].ID) }

// storeIdentity stores an identity snapshot in which admins hold Global
// Administrator and every other user of the tenant holds nothing.
func (f *fixture) storeIdentity(admins ...string) {
	f.t.Helper()
	id := &posture.Identity{}
	for _, u := range f.tenant.Users {
		id.Users = append(id.Users, posture.User{ID: u.ID, UserPrincipalName: u.UserPrincipalName, AccountEnabled: true, UserType: "Member",
			Registration: &posture.Registration{IsMfaRegistered: true}})
	}
	for _, a := range admins {
		id.RoleAssignments = append(id.RoleAssignments, posture.RoleAssignment{PrincipalID: a, RoleDefinitionID: posture.RoleGlobalAdmin, DirectoryScopeID: "/", Kind: posture.AssignmentActive})
	}
	at := f.clock.now().Add(-time.Hour)
	snap := posture.Snapshot{ID: records.SnapshotID(posture.AreaIdentity, at), TenantID: f.tenant.ID, Area: posture.AreaIdentity, TakenAt: at, RunID: "r1",
		Sources:  posture.Sources{{Name: posture.SrcRoleAssignments, Status: posture.SourceOK}, {Name: posture.SrcUsers, Status: posture.SourceOK}},
		Identity: id}
	_, err := f.rec.Snapshots.Put(f.ctx, snap, nil)
	require.NoError(f.t, err)
}

func (f *fixture) setSettings(change func(*settings.Tenant)) {
	f.t.Helper()
	_, err := f.rec.Settings.UpdateTenant(f.ctx, f.tenant.ID, func(t *settings.Tenant) error { change(t); return nil })
	require.NoError(f.t, err)
}

// compromise stores an account-compromise incident about users and
// returns its id.
func (f *fixture) compromise(id string, users ...string) string {
	f.t.Helper()
	now := f.clock.now()
	in := incident.Incident{ID: id, TenantID: f.tenant.ID, Category: incident.CategoryAccountCompromise, Severity: "high",
		Status: incident.StatusNew, AlertIDs: []string{f.tenant.Alerts[0].ID}, Entities: incident.Entities{Users: users},
		DetectedAt: &now, CreatedAt: now, Timeline: []incident.Entry{{At: now, Kind: incident.EntryOpened, Message: "opened"}}}
	require.NoError(f.t, f.rec.Incidents.Create(f.ctx, in))
	return id
}

func (f *fixture) incident(id string) incident.Incident {
	f.t.Helper()
	in, err := f.rec.Incidents.Get(f.ctx, f.tenant.ID, id)
	require.NoError(f.t, err)
	return in
}

func (f *fixture) action(id, actionType, target string) incident.Action {
	f.t.Helper()
	in := f.incident(id)
	for _, a := range in.Actions {
		if a.Type == actionType && strings.EqualFold(a.Target, target) {
			return a
		}
	}
	f.t.Fatalf("incident %s has no %s of %s: %+v", id, actionType, target, in.Actions)
	return incident.Action{}
}

// writesTo counts the simulator's recorded writes by method and path suffix.
func (f *fixture) writesTo(method, pathSuffix string) int {
	n := 0
	for _, w := range f.sim.Writes() {
		if w.Method == method && strings.HasSuffix(strings.ToLower(w.Path), strings.ToLower(pathSuffix)) {
			n++
		}
	}
	return n
}

// disables counts PATCHes of the user's accountEnabled to v.
func (f *fixture) accountPatches(user string, enabled bool) int {
	n := 0
	want := `{"accountEnabled":false}`
	if enabled {
		want = `{"accountEnabled":true}`
	}
	for _, w := range f.sim.Writes() {
		if w.Method == "PATCH" && strings.EqualFold(w.Path, "/v1.0/users/"+user) && string(w.Body) == want && w.Status/100 == 2 {
			n++
		}
	}
	return n
}

func (f *fixture) request(incidentID, actionID string, by string, verified bool) Request {
	return Request{TenantID: f.tenant.ID, IncidentID: incidentID, ActionID: actionID, Reason: "checked with the user",
		By: principalOf(by, verified)}
}

// notice returns one entry of the incident's send log.
func (f *fixture) notice(incidentID, key string) records.NoticeEntry {
	f.t.Helper()
	l, ok, err := f.rec.Notices.Get(f.ctx, f.tenant.ID, incidentID)
	require.NoError(f.t, err)
	require.True(f.t, ok, "no send log")
	e, ok := l.Entries[key]
	require.True(f.t, ok, "no entry %s in %v", key, l.Entries)
	return e
}
