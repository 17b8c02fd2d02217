package graphsim

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type batchItem = map[string]any

func batchResponses(t *testing.T, r result) map[string]map[string]any {
	t.Helper()
	require.Equal(t, 200, r.status, "%s", r.raw)
	out := map[string]map[string]any{}
	for _, it := range r.body["responses"].([]any) {
		m := it.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func status(m map[string]any) int { return int(m["status"].(float64)) }

func TestBatch(t *testing.T) {
	tn := newTestTenant(t)

	t.Run("responses are matched by id, whatever their order", func(t *testing.T) {
		s := newTestServer(t, tn, Options{})
		r := mustPost(t, s, "/$batch", map[string]any{"requests": []batchItem{
			{"id": "1", "method": "GET", "url": "/users?$top=2&$select=id"},
			{"id": "2", "method": "GET", "url": "groups/" + tn.Groups[0].ID + "/transitiveMembers"},
			{"id": "3", "method": "GET", "url": "/policies/authorizationPolicy"},
		}})
		require.Equal(t, 200, r.status)
		order := []string{}
		for _, it := range r.body["responses"].([]any) {
			order = append(order, it.(map[string]any)["id"].(string))
		}
		require.ElementsMatch(t, []string{"1", "2", "3"}, order)
		require.NotEqual(t, []string{"1", "2", "3"}, order, "clients must not rely on request order")
		res := batchResponses(t, r)
		for _, id := range []string{"1", "2", "3"} {
			require.Equal(t, 200, status(res[id]))
		}
		users := res["1"]["body"].(map[string]any)
		require.Len(t, users["value"], 2)
		require.True(t, strings.HasPrefix(users["@odata.nextLink"].(string), s.BaseURL()+"/users?"))
		require.Len(t, res["2"]["body"].(map[string]any)["value"], 2)
		require.Equal(t, "authorizationPolicy", res["3"]["body"].(map[string]any)["id"])
	})

	t.Run("more than 20 requests is a 400", func(t *testing.T) {
		s := newTestServer(t, tn, Options{})
		var reqs []batchItem
		for i := range 21 {
			reqs = append(reqs, batchItem{"id": string(rune('a' + i)), "method": "GET", "url": "/domains"})
		}
		r := mustPost(t, s, "/$batch", map[string]any{"requests": reqs})
		require.Equal(t, 400, r.status)
		require.Equal(t, "BadRequest", r.errorCode())
		require.Equal(t, 200, mustPost(t, s, "/$batch", map[string]any{"requests": reqs[:20]}).status)
	})

	t.Run("a failed dependency makes its dependents 424", func(t *testing.T) {
		s := newTestServer(t, tn, Options{})
		r := mustPost(t, s, "/$batch", map[string]any{"requests": []batchItem{
			{"id": "3", "method": "GET", "url": "/domains", "dependsOn": []string{"2"}},
			{"id": "1", "method": "GET", "url": "/users/does-not-exist"},
			{"id": "2", "method": "GET", "url": "/domains", "dependsOn": []string{"1"}},
			{"id": "4", "method": "GET", "url": "/domains"},
		}})
		res := batchResponses(t, r)
		require.Equal(t, 404, status(res["1"]))
		require.Equal(t, 424, status(res["2"]))
		require.Equal(t, 424, status(res["3"]))
		require.Equal(t, 200, status(res["4"]))
	})

	t.Run("items can be throttled individually", func(t *testing.T) {
		s := newTestServer(t, tn, Options{})
		s.FailNext("/groups", 1, TooManyRequests(7))
		r := mustPost(t, s, "/$batch", map[string]any{"requests": []batchItem{
			{"id": "u", "method": "GET", "url": "/users?$top=1"},
			{"id": "g", "method": "GET", "url": "/groups?$top=1"},
		}})
		res := batchResponses(t, r)
		require.Equal(t, 200, status(res["u"]))
		require.Equal(t, 429, status(res["g"]))
		require.Equal(t, "7", res["g"]["headers"].(map[string]any)["Retry-After"])
		require.Equal(t, "TooManyRequests", res["g"]["body"].(map[string]any)["error"].(map[string]any)["code"])

		var items []LogEntry
		for _, e := range s.Log() {
			if e.Batch {
				items = append(items, e)
			}
		}
		require.Len(t, items, 2)
		st := s.Stats()
		require.Equal(t, 1, st.HTTPRequests)
		require.Equal(t, 2, st.Requests)
		require.Equal(t, 2, st.BatchItems)
		require.Equal(t, 1, st.ByStatus[429])
	})

	t.Run("global throttling applies to items, not the envelope", func(t *testing.T) {
		s := newTestServer(t, tn, Options{Throttle: Throttle{EveryN: 2, RetryAfter: 1}})
		r := mustPost(t, s, "/$batch", map[string]any{"requests": []batchItem{
			{"id": "a", "method": "GET", "url": "/domains"},
			{"id": "b", "method": "GET", "url": "/domains"},
		}})
		res := batchResponses(t, r)
		require.Equal(t, 200, status(res["a"]))
		require.Equal(t, 429, status(res["b"]))
	})

	malformed := []struct {
		name string
		body string
	}{
		{"a body that is not JSON", "{"},
		{"no requests", `{"requests":[]}`},
		{"duplicate ids", `{"requests":[{"id":"1","method":"GET","url":"/domains"},{"id":"1","method":"GET","url":"/users"}]}`},
		{"a dependency that is not in the batch", `{"requests":[{"id":"1","method":"GET","url":"/domains","dependsOn":["9"]}]}`},
		{"a dependency cycle", `{"requests":[{"id":"1","method":"GET","url":"/domains","dependsOn":["2"]},{"id":"2","method":"GET","url":"/domains","dependsOn":["1"]}]}`},
		{"a request without a url", `{"requests":[{"id":"1","method":"GET"}]}`},
	}
	for _, tc := range malformed {
		t.Run("a batch with "+tc.name+" is a 400", func(t *testing.T) {
			s := newTestServer(t, tn, Options{})
			resp, err := http.Post(s.BaseURL()+"/$batch", "application/json", bytes.NewReader([]byte(tc.body)))
			require.NoError(t, err)
			r := readResult(t, resp)
			require.Equal(t, 400, r.status, "%s", r.raw)
		})
	}

	t.Run("an absolute item url is a per-item 400", func(t *testing.T) {
		s := newTestServer(t, tn, Options{})
		r := mustPost(t, s, "/$batch", map[string]any{"requests": []batchItem{
			{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"},
		}})
		require.Equal(t, 400, status(batchResponses(t, r)["1"]))
	})

	t.Run("a gzipped envelope is accepted, as the SDK sends it", func(t *testing.T) {
		s := newTestServer(t, tn, Options{})
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err := zw.Write([]byte(`{"requests":[{"id":"1","method":"GET","url":"/domains"}]}`))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		req, err := http.NewRequest("POST", s.BaseURL()+"/$batch", &buf)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.Equal(t, 200, status(batchResponses(t, readResult(t, resp))["1"]))
	})

	t.Run("the envelope must be a POST", func(t *testing.T) {
		s := newTestServer(t, tn, Options{})
		require.Equal(t, 405, mustGet(t, s, "/$batch").status)
	})
}
