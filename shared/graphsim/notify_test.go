package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNotifyDeliversAChangeNotificationToTheWebhook(t *testing.T) {
	tn := newTestTenant(t)
	at := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	s := newTestServer(t, tn, Options{Clock: func() time.Time { return at }})
	post := func(path string) (int, map[string]any) {
		resp, err := http.Post(s.URL()+path, "application/json", nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		var v map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return resp.StatusCode, v
	}

	code, v := post(NotifyPath)
	require.Equal(t, http.StatusConflict, code, "no webhook set yet: %v", v)

	var got []byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/api/notifications", r.URL.Path)
		got, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"accepted":1,"rejected":0}`))
	}))
	defer hook.Close()
	s.SetWebhook(Webhook{URL: hook.URL + "/api/notifications", ClientState: "s3cret"})

	code, v = post(NotifyPath + "?changeType=deleted")
	require.Equal(t, http.StatusOK, code, "%v", v)
	require.Equal(t, float64(http.StatusAccepted), v["status"], "the webhook's answer is passed back")
	require.Equal(t, map[string]any{"accepted": float64(1), "rejected": float64(0)}, v["response"])
	require.NotContains(t, v, "clientState")

	var coll struct {
		Value []struct {
			SubscriptionID, SubscriptionExpirationDateTime, ChangeType, Resource, ClientState, TenantID string
			ResourceData                                                                                map[string]string
		}
	}
	require.NoError(t, json.Unmarshal(got, &coll), string(got))
	require.Len(t, coll.Value, 1)
	it := coll.Value[0]
	require.Equal(t, "s3cret", it.ClientState)
	require.Equal(t, tn.ID, it.TenantID)
	require.Equal(t, "deleted", it.ChangeType)
	require.Equal(t, "Users/"+tn.Users[0].ID, it.Resource)
	require.Equal(t, map[string]string{"@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/" + tn.Users[0].ID, "id": tn.Users[0].ID}, it.ResourceData)
	require.Equal(t, "2026-11-04T06:00:00.0000000Z", it.SubscriptionExpirationDateTime)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$`, it.SubscriptionID)

	resp, err := http.Get(s.URL() + NotifyPath + "?changeType=deleted")
	require.NoError(t, err)
	preview, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.JSONEq(t, string(got), string(preview), "GET shows what POST sends")
}
