package graphsim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRaisedAlertsAreListedNewestFirstAndFilterable(t *testing.T) {
	tn := Generate(7, DefaultSize())
	s := newTestServer(t, tn, Options{})
	before := len(mustGet(t, s, "/security/alerts_v2?$top=1000").values(t))

	r := raise(t, s, `{"kind":"phishing"}`)
	require.Equal(t, http.StatusCreated, r.status)
	id := r.body["id"].(string)
	list := mustGet(t, s, "/security/alerts_v2?$top=1000").values(t)
	require.Len(t, list, before+1)
	assert.Equal(t, id, list[0]["id"], "a raised alert is the newest")

	since := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	recent := mustGet(t, s, "/security/alerts_v2?$filter=lastUpdateDateTime%20ge%20"+since).values(t)
	require.Len(t, recent, 1, "only the raised alert was updated in the last minute")
	ev := recent[0]["evidence"].([]any)
	assert.Equal(t, ODataMailboxEvidence, ev[0].(map[string]any)["@odata.type"])
	assert.Equal(t, http.StatusOK, mustGet(t, s, "/security/alerts_v2/"+id).status, "the item is found too")

	require.True(t, s.UpdateAlert(id, func(a *Alert) { a.Status, a.Classification = "resolved", "truePositive" }))
	got := mustGet(t, s, "/security/alerts_v2/"+id).body
	assert.Equal(t, "resolved", got["status"])
	assert.NotEmpty(t, got["resolvedDateTime"])
	assert.False(t, s.UpdateAlert("nope", func(*Alert) {}))

	bad := raise(t, s, `{"kind":"meteor"}`)
	assert.Equal(t, http.StatusBadRequest, bad.status)
}

func TestPatchedAlertsShowTheirChangeInTheList(t *testing.T) {
	tn := Generate(7, DefaultSize())
	s := newTestServer(t, tn, Options{})
	id := tn.Alerts[0].ID
	req, _ := http.NewRequest(http.MethodPatch, s.BaseURL()+"/security/alerts_v2/"+id, strings.NewReader(`{"status":"resolved","classification":"falsePositive"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	since := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	recent := mustGet(t, s, "/security/alerts_v2?$filter=lastUpdateDateTime%20ge%20"+since).values(t)
	require.Len(t, recent, 1)
	assert.Equal(t, "falsePositive", recent[0]["classification"])
}

func TestRiskDetectionsNeedP2(t *testing.T) {
	tn := Generate(7, DefaultSize())
	s := newTestServer(t, tn, Options{})
	got := mustGet(t, s, "/identityProtection/riskDetections").values(t)
	require.NotEmpty(t, got)
	assert.NotEmpty(t, got[0]["detectedDateTime"])
	s.SetLicensing(Licensing{WithoutP2: true})
	assert.Equal(t, http.StatusForbidden, mustGet(t, s, "/identityProtection/riskDetections").status)
}

func TestDelta(t *testing.T) {
	tn := Generate(7, DefaultSize())
	s := newTestServer(t, tn, Options{})

	// A full sync pages every user and ends with a delta link.
	link := s.BaseURL() + "/users/delta()"
	seen := 0
	var deltaLink string
	for pages := 0; link != "" && pages < 10; pages++ {
		r := mustGet(t, s, link)
		require.Equal(t, http.StatusOK, r.status, r.body)
		seen += len(r.values(t))
		link = r.nextLink()
		if dl, ok := r.body["@odata.deltaLink"].(string); ok {
			deltaLink = dl
		}
	}
	assert.Equal(t, len(tn.Users), seen)
	require.NotEmpty(t, deltaLink)

	// Nothing changed: an empty page and a new link.
	r := mustGet(t, s, deltaLink)
	assert.Empty(t, r.values(t))

	s.ChangeUser(tn.Users[3].ID)
	s.ChangeUser(tn.Users[3].ID)
	s.ChangeGroup(tn.Groups[0].ID)
	r = mustGet(t, s, deltaLink)
	got := r.values(t)
	require.Len(t, got, 1, "a user changed twice is reported once; group changes are not users'")
	assert.Equal(t, tn.Users[3].ID, got[0]["id"])
	next := r.body["@odata.deltaLink"].(string)
	assert.Empty(t, mustGet(t, s, next).values(t), "the new link starts after the change")

	g := mustGet(t, s, "/groups/delta?$deltatoken=latest")
	assert.Empty(t, g.values(t), "latest syncs from now")

	s.ExpireDeltaTokens()
	gone := mustGet(t, s, next)
	assert.Equal(t, http.StatusGone, gone.status)
	assert.Equal(t, "syncStateNotFound", gone.errorCode())
	assert.Contains(t, gone.header.Get("Location"), "/users/delta()")

	assert.Equal(t, http.StatusBadRequest, mustGet(t, s, "/users/delta?$deltatoken=forged").status)
	assert.Equal(t, http.StatusBadRequest, mustGet(t, s, "/users/delta?$orderby=id").status)
}

func raise(t *testing.T, s *Server, body string) result {
	t.Helper()
	resp, err := http.Post(s.URL()+AlertsPath, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	if resp.StatusCode != http.StatusCreated {
		resp.Body.Close()
		return result{status: resp.StatusCode}
	}
	return readResult(t, resp)
}
