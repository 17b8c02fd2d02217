package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/handler/invoke"
)

type incidentsBody struct {
	Incidents []struct {
		ID       string   `json:"id"`
		Category string   `json:"category"`
		Severity string   `json:"severity"`
		Status   string   `json:"status"`
		AlertIDs []string `json:"alertIds"`
		Entities struct {
			Users []string `json:"users"`
		} `json:"entities"`
		Posture []struct {
			Kind          string `json:"kind"`
			Found         bool   `json:"found"`
			MFARegistered string `json:"mfaRegistered"`
			SnapshotID    string `json:"snapshotId"`
		} `json:"posture"`
		Timeline []struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"timeline"`
	} `json:"incidents"`
}

// raiseDemoAlert makes the demo simulator raise a Defender alert.
func raiseDemoAlert(t *testing.T, h *harness, body string) string {
	t.Helper()
	graphURL := logField(t, h.stderr.String(), "demo tenant simulator started", "graph_endpoint").(string)
	resp, err := http.Post(graphURL+"/graphsim/alerts", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var a struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	return a.ID
}

func (h *harness) incidents(t *testing.T) incidentsBody {
	t.Helper()
	var v incidentsBody
	h.getJSON(t, "/api/incidents?tenant="+h.tenant, http.StatusOK, &v)
	return v
}

// runJob delivers one fanned-out work item for the harness tenant straight
// to RunTenantWork, as the host would, and waits for its answer: a poll
// "in another period" without waiting five minutes.
func (h *harness) runJob(t *testing.T, job, period string) {
	t.Helper()
	now := time.Now().UTC()
	body, err := json.Marshal(map[string]any{"job": job, "tenantId": h.tenant, "period": period, "firedAt": now})
	require.NoError(t, err)
	env, err := invoke.MessageEnvelope("RunTenantWork", "msg", invoke.Message{Body: body, MessageID: job + "|" + period,
		DeliveryCount: 1, EnqueuedTime: now, ContentType: "application/json"}, now, "0f8fad5b-d9cb-469f-a165-70867728950e")
	require.NoError(t, err)
	code, _, b := h.do(t, http.MethodPost, "/RunTenantWork", env, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, code, "%s", b)
	var resp invoke.Response
	require.NoError(t, json.Unmarshal(b, &resp))
	require.NotContains(t, string(b), `"Outputs":{"error"`, "%s", b)
}

func TestARaisedAlertBecomesAnEnrichedIncidentWithinAPoll(t *testing.T) {
	h := startHarness(t)
	// Posture first, so the incident can be enriched from it.
	h.fireTimer(t, "CollectIdentity")

	h.runJob(t, jobPollSignals, "p1")
	before := h.incidents(t)
	require.NotEmpty(t, before.Incidents, "the demo tenant's existing alerts become incidents")

	id := raiseDemoAlert(t, h, `{"kind":"phishing"}`)
	h.runJob(t, jobPollSignals, "p2")
	after := h.incidents(t)
	var found bool
	for _, in := range after.Incidents {
		for _, a := range in.AlertIDs {
			if a != id {
				continue
			}
			found = true
			assert.Equal(t, "phishing", in.Category)
			require.NotEmpty(t, in.Posture, "the incident carries its subject's posture")
			assert.True(t, in.Posture[0].Found)
			assert.NotEmpty(t, in.Posture[0].SnapshotID)
		}
	}
	require.True(t, found, "the raised alert is in an incident")

	// A rerun of the same poll makes no second incident.
	h.runJob(t, jobPollSignals, "p3")
	again := h.incidents(t)
	assert.Equal(t, len(after.Incidents), len(again.Incidents), "a rerun adds no incident")
	seen := map[string]int{}
	for _, in := range again.Incidents {
		for _, a := range in.AlertIDs {
			seen[a]++
		}
	}
	for a, n := range seen {
		assert.Equal(t, 1, n, "alert %s is in one incident", a)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
