package respond

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"m365security/shared/playbook"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/incident"
	"m365security/shared/settings"
)

const uid1 = "11111111-1111-4111-8111-111111111111"

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), got)
}

// hostile is an incident whose tenant-supplied fields try markup.
func hostile() incident.Incident {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	return incident.Incident{ID: "inc<1>", TenantID: "t1", Category: "accountCompromise", Severity: "high\r\nBcc: x@evil", Status: incident.StatusAwaitingApproval,
		AlertIDs: []string{"a1"}, Entities: incident.Entities{Users: []string{uid1}, Devices: []string{"<img src=x onerror=alert(1)>"}},
		Actions: []incident.Action{
			{ID: "a1", Type: incident.ActionRevokeSessions, Target: uid1, Status: incident.ActionExecuted, ProposedAt: at,
				DecidedBy: &incident.Decider{Kind: incident.DeciderRule, Name: "playbook account compromise"}},
			{ID: "a2", Type: incident.ActionDisableAccount, Target: "<script>alert(1)</script>", Status: incident.ActionProposed, RequiresApproval: true,
				Reason: "co-managed & <b>bold</b>", ProposedAt: at},
			{ID: "a3", Type: incident.ActionDisableInboxRule, Target: "rule\"1", Status: incident.ActionFailed, Error: "HTTP 403 <denied>",
				DecidedBy: &incident.Decider{Kind: incident.DeciderPerson, Name: "bob"}, ProposedAt: at},
		}}
}

func TestNoticeMailIsRenderedWithTenantDataEscaped(t *testing.T) {
	in := hostile()
	subject, html, err := renderMail(in, playbook.Events(in), []UserPosture{{User: uid1, GlobalAdmin: "no", MFARegistered: "yes"}}, "https://m365sec.example/")
	require.NoError(t, err)
	assert.NotContains(t, html, "<script>")
	assert.NotContains(t, html, "<img")
	assert.NotContains(t, html, "<b>bold")
	assert.NotContains(t, subject, "\n")
	assert.NotContains(t, subject, "\r")
	assert.Contains(t, html, "https://m365sec.example/api/incidents/inc%3C1%3E/actions/a2/approve?tenant=t1")
	assert.Contains(t, html, "bob (unverified)")
	golden(t, "notice.html", html)
	golden(t, "notice.subject", subject+"\n")
}

func TestWebhookNoticesArePostedOnceAndRetriedWhenTheHookIsDown(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	fails := 1
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		bodies = append(bodies, v)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	f := newFixture(t, func(s *setup) { s.opts.HTTPClient = hook.Client() })
	f.setSettings(func(s *settings.Tenant) { s.NotifyWebhookURL = hook.URL + "/hook" })
	id := f.compromise("inc-w", f.user(23))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 1, "posted once after one retry")
	assert.Equal(t, "inc-w", bodies[0]["incidentId"])
	assert.Contains(t, bodies[0]["text"], "Action awaiting your approval: disableAccount")
	assert.Len(t, f.sim.SentMail(), 1, "mail and webhook are separate channels")
}

func TestAWebhookThatRefusesIsNotRetried(t *testing.T) {
	calls := 0
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer hook.Close()
	f := newFixture(t, func(s *setup) { s.opts.HTTPClient = hook.Client() })
	f.setSettings(func(s *settings.Tenant) { s.NotifyWebhookURL = hook.URL })
	id := f.compromise("inc-w2", f.user(24))
	require.NoError(t, f.engine.OnIncident(f.ctx, f.tenant.ID, id))
	assert.Equal(t, 1, calls)
	assert.True(t, hasEntry(f.incident(id), EntryNoticeFailed))
	var failedEntry string
	for _, e := range f.incident(id).Timeline {
		if e.Kind == EntryNoticeFailed {
			failedEntry = e.Message
		}
	}
	assert.Contains(t, failedEntry, "gave up")
	assert.True(t, strings.Contains(failedEntry, "answered 400"))
}
