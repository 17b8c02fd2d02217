package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type settingsBody struct {
	Settings struct {
		ResponsibilityModel string            `json:"responsibilityModel"`
		AutoActionsPerHour  int               `json:"autoActionsPerHour"`
		ReportRecipients    []string          `json:"reportRecipients"`
		Actions             map[string]string `json:"actions"`
	} `json:"settings"`
	Effective struct {
		Actions          map[string]string `json:"actions"`
		ReportRecipients []string          `json:"reportRecipients"`
	} `json:"effective"`
}

func getSettings(t *testing.T, h http.Handler, method, body string) settingsBody {
	t.Helper()
	rec := serveTest(t, h, method, "/api/settings?tenant="+testTenant, body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got settingsBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	return got
}

func TestSettingsAPI(t *testing.T) {
	a, _ := newTestApp(t)
	a.cfg.Recipients.ReportRecipients = []string{"default@example.com"}
	h := newTestRouter(t, a)

	got := getSettings(t, h, "GET", "")
	assert.Equal(t, "co-managed", got.Settings.ResponsibilityModel, "a tenant starts co-managed")
	assert.Equal(t, 5, got.Settings.AutoActionsPerHour)
	assert.Equal(t, "approval", got.Effective.Actions["disableAccount"], "co-managed: disabling waits for a person")
	assert.Equal(t, "auto", got.Effective.Actions["revokeSessions"])
	assert.Equal(t, []string{"default@example.com"}, got.Effective.ReportRecipients, "the deployment default applies")

	got = getSettings(t, h, "PUT", `{"responsibilityModel":"fully-managed"}`)
	assert.Equal(t, "auto", got.Effective.Actions["disableAccount"], "fully-managed acts")
	assert.Equal(t, "approval", got.Effective.Actions["wipeDevice"], "a wipe always waits")

	bad := []struct{ name, body string }{
		{"an unknown model is refused", `{"responsibilityModel":"self"}`},
		{"an unknown action type is refused", `{"actions":{"nukeTenant":"auto"}}`},
		{"an unknown mode is refused", `{"actions":{"disableAccount":"sometimes"}}`},
		{"a recipient must be an address", `{"reportRecipients":["not an address"]}`},
		{"the webhook must be https", `{"notifyWebhookUrl":"http://example.com/hook"}`},
		{"an unknown field is refused", `{"responsibilityModle":"co-managed"}`},
		{"a negative brake is refused", `{"autoActionsPerHour":-1}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			requireAPIError(t, serveTest(t, h, "PUT", "/api/settings?tenant="+testTenant, tc.body), http.StatusBadRequest, "badRequest")
		})
	}
	assert.Equal(t, "fully-managed", getSettings(t, h, "GET", "").Settings.ResponsibilityModel, "refused PUTs change nothing")

	var wg sync.WaitGroup
	for _, body := range []string{`{"autoActionsPerHour":9}`, `{"reportRecipients":["ciso@example.com"]}`, `{"actions":{"remoteLock":"approval"}}`} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := serveTest(t, h, "PUT", "/api/settings?tenant="+testTenant, body)
			assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		}()
	}
	wg.Wait()
	got = getSettings(t, h, "GET", "")
	assert.Equal(t, 9, got.Settings.AutoActionsPerHour, "concurrent PUTs of different fields all land")
	assert.Equal(t, []string{"ciso@example.com"}, got.Settings.ReportRecipients)
	assert.Equal(t, "approval", got.Settings.Actions["remoteLock"])
	assert.Equal(t, []string{"ciso@example.com"}, got.Effective.ReportRecipients, "the tenant's own recipients win")
}
