package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestControlsStatusFilter(t *testing.T) {
	h := startHarness(t)
	q := "/api/controls?tenant=" + h.tenant
	h.fireTimer(t, "CollectIdentity")
	h.fireTimer(t, "CollectDevices")

	type controlsAnswer struct {
		Controls []struct{ ID, Status string } `json:"controls"`
	}
	var all controlsAnswer
	h.getJSON(t, q, http.StatusOK, &all)
	counts := map[string]int{}
	for _, c := range all.Controls {
		counts[c.Status]++
	}
	require.NotZero(t, counts["fail"], "the demo tenant fails some controls")

	for _, status := range []string{"pass", "fail", "unknown", "excepted"} {
		t.Run("status="+status+" keeps only "+status+" controls", func(t *testing.T) {
			var v controlsAnswer
			h.getJSON(t, q+"&status="+status, http.StatusOK, &v)
			require.Len(t, v.Controls, counts[status])
			for _, c := range v.Controls {
				require.Equal(t, status, c.Status)
			}
		})
	}
	t.Run("status=all keeps every control", func(t *testing.T) {
		var v controlsAnswer
		h.getJSON(t, q+"&status=all", http.StatusOK, &v)
		require.Len(t, v.Controls, len(all.Controls))
	})
	for _, bad := range []string{"failing", "FAIL", "passed", "%3Cscript%3E"} {
		t.Run("an unknown status "+bad+" is a 400 naming the allowed values", func(t *testing.T) {
			code, _, b := h.do(t, http.MethodGet, q+"&status="+bad, nil)
			require.Equal(t, http.StatusBadRequest, code, string(b))
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			require.NoError(t, json.Unmarshal(b, &e))
			require.Equal(t, "badRequest", e.Error.Code)
			require.Equal(t, "status must be one of all, pass, fail, unknown, excepted", e.Error.Message)
		})
	}
}
