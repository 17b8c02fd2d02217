package graph

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
)

// passThrough records what reached the network.
type passThrough struct{ seen []string }

func (p *passThrough) RoundTrip(r *http.Request) (*http.Response, error) {
	p.seen = append(p.seen, r.Method+" "+r.URL.Path)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
}

func TestReadOnlyTransport(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s)) //nolint:errcheck
		zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   []byte
		gzip   bool
		ok     bool
	}{
		{"a GET passes", "GET", "/v1.0/users", nil, false, true},
		{"a HEAD passes", "HEAD", "/v1.0/users", nil, false, true},
		{"a batch of GETs passes", "POST", "/v1.0/$batch", []byte(`{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"2","method":"get","url":"/groups"}]}`), false, true},
		{"a gzipped batch of GETs passes", "POST", "/v1.0/$batch", gz(`{"requests":[{"id":"1","method":"GET","url":"/users"}]}`), true, true},
		{"a batch holding a PATCH is refused", "POST", "/v1.0/$batch", []byte(`{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"2","method":"PATCH","url":"/users/u1"}]}`), false, false},
		{"a gzipped batch holding a POST is refused", "POST", "/v1.0/$batch", gz(`{"requests":[{"id":"1","method":"POST","url":"/users/u1/revokeSignInSessions"}]}`), true, false},
		{"a batch that is not JSON is refused", "POST", "/v1.0/$batch", []byte(`not json`), false, false},
		{"a corrupt gzipped batch is refused", "POST", "/v1.0/$batch", []byte("not gzip"), true, false},
		{"a PATCH is refused", "PATCH", "/v1.0/users/u1", []byte(`{"accountEnabled":false}`), false, false},
		{"a POST elsewhere is refused", "POST", "/v1.0/users/u1/revokeSignInSessions", nil, false, false},
		{"a DELETE is refused", "DELETE", "/v1.0/subscriptions/s1", nil, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := &passThrough{}
			var body io.Reader
			if tc.body != nil {
				body = bytes.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, "https://graph.microsoft.com"+tc.path, body)
			require.NoError(t, err)
			if tc.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			resp, err := readOnly{next: next}.RoundTrip(req)
			if !tc.ok {
				require.Error(t, err)
				require.Contains(t, err.Error(), "read-only")
				require.Empty(t, next.seen, "nothing leaves the process")
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, []string{tc.method + " " + tc.path}, next.seen)
			if tc.body != nil {
				sent, err := io.ReadAll(req.Body)
				require.NoError(t, err)
				require.Equal(t, tc.body, sent, "the body is put back for sending")
			}
		})
	}
}

func TestReaderCannotWriteThroughTheSDK(t *testing.T) {
	tenant := graphsim.Generate(3, graphsim.Size{Users: 3, Devices: 1, CAGroups: 1})
	srv := graphsim.NewServer(tenant, graphsim.Options{})
	require.NoError(t, srv.Start())
	t.Cleanup(func() { srv.Close() })
	clients, err := NewClients(Options{Endpoint: srv.URL() + "/", Responder: Responder{ClientID: "responder"}})
	require.NoError(t, err)
	r, err := clients.For(tenant.ID)
	require.NoError(t, err)
	again, err := clients.For(tenant.ID)
	require.NoError(t, err)
	require.Same(t, r, again, "one reader per tenant")
	require.Equal(t, tenant.ID, r.TenantID())
	require.Equal(t, srv.BaseURL(), r.BaseURL())

	users, err := r.SDK().Users().Get(context.Background(), nil)
	require.NoError(t, err)
	require.NotEmpty(t, users.GetValue())

	u := models.NewUser()
	u.SetAccountEnabled(ptr(false))
	_, err = r.SDK().Users().ByUserId(tenant.Users[0].ID).Patch(context.Background(), u, nil)
	require.ErrorContains(t, err, "read-only")
	require.Empty(t, srv.Writes(), "the simulator saw no write")

	info := abstractions.NewRequestInformation()
	info.Method = abstractions.DELETE
	info.UrlTemplate = "{+baseurl}/subscriptions/x"
	info.PathParameters["baseurl"] = r.BaseURL()
	require.ErrorContains(t, r.SDK().GetAdapter().SendNoContent(context.Background(), info, nil), "read-only")

	w, err := clients.Writer(tenant.ID)
	require.NoError(t, err)
	w2, err := clients.Writer(tenant.ID)
	require.NoError(t, err)
	require.Same(t, w, w2, "one writer per tenant")
	require.Equal(t, tenant.ID, w.TenantID())
	require.True(t, clients.ResponderConfigured())
}

func TestNewClientsRefusesABadEndpoint(t *testing.T) {
	_, err := NewClients(Options{Endpoint: "not a url"})
	require.ErrorContains(t, err, "is not a URL")
}

func TestResponderCredential(t *testing.T) {
	const tenant = "11111111-2222-4333-8444-555555555555"
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name     string
		clientID string
		env      map[string]string
		err      string
	}{
		{"no client id means no responder", "", nil, "no responder identity configured"},
		{"a client secret of the collector is not reused", "resp", map[string]string{"AZURE_CLIENT_ID": "app", "AZURE_CLIENT_SECRET": "s"}, "cannot use the collector's client secret"},
		{"a certificate of the collector is not reused", "resp", map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem"}, "cannot use the collector's client secret or certificate"},
		{"a second managed identity by default", "resp", nil, ""},
		{"a federated app registration with GRAPH_APP_CLIENT_ID", "resp", map[string]string{"GRAPH_APP_CLIENT_ID": "app", "AZURE_CLIENT_ID": "mi"}, ""},
		{"workload identity with AZURE_FEDERATED_TOKEN_FILE", "resp", map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ResponderCredential(tenant, tc.clientID, env(tc.env))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.IsType(t, tenantGuard{}, c, "a responder token for another tenant is refused too")
		})
	}
}
