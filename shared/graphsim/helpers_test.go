package graphsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	defaultTenantOnce sync.Once
	defaultTenant     *Tenant
)

// newTestTenant is the shared default-size tenant (seed 7); tests must not
// modify it.
func newTestTenant(t testing.TB) *Tenant {
	t.Helper()
	defaultTenantOnce.Do(func() { defaultTenant = Generate(7, DefaultSize()) })
	return defaultTenant
}

// newTestServer starts a simulator for tn on loopback and closes it with the test.
func newTestServer(t testing.TB, tn *Tenant, opts Options) *Server {
	t.Helper()
	s := NewServer(tn, opts)
	require.NoError(t, s.Start())
	t.Cleanup(func() { s.Close() })
	return s
}

type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// mustGet GETs url (absolute, or relative to the server's /v1.0).
func mustGet(t testing.TB, s *Server, url string) result {
	t.Helper()
	if !strings.HasPrefix(url, "http") {
		url = s.BaseURL() + url
	}
	resp, err := http.Get(url)
	require.NoError(t, err)
	return readResult(t, resp)
}

func mustPost(t testing.TB, s *Server, path string, body any) result {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(s.BaseURL()+path, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	return readResult(t, resp)
}

func readResult(t testing.TB, resp *http.Response) result {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	require.NoError(t, json.Unmarshal(raw, &r.body), "body is not JSON: %s", raw)
	return r
}

func (r result) values(t testing.TB) []map[string]any {
	t.Helper()
	arr, ok := r.body["value"].([]any)
	require.True(t, ok, "no value array in %s", r.raw)
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		out[i] = v.(map[string]any)
	}
	return out
}

func (r result) nextLink() string {
	s, _ := r.body["@odata.nextLink"].(string)
	return s
}

func (r result) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r result) errorMessage() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["message"].(string)
	return c
}

// mustGetAll follows nextLinks from url and returns every item and the
// number of pages.
func mustGetAll(t testing.TB, s *Server, url string) ([]map[string]any, int) {
	t.Helper()
	var all []map[string]any
	pages := 0
	for url != "" {
		r := mustGet(t, s, url)
		require.Equal(t, http.StatusOK, r.status, "GET %s: %s", url, r.raw)
		all = append(all, r.values(t)...)
		pages++
		url = r.nextLink()
		require.Less(t, pages, 100000, "paging does not end")
	}
	return all, pages
}
