package graph

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/stretchr/testify/require"
)

// newTLSGraph is a minimal https Graph: the token providers attach tokens
// over https only. It answers with handler and records Authorization.
func newTLSGraph(t testing.TB, handler func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Method+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), auth...) }
}

func TestEachIdentitySendsItsOwnToken(t *testing.T) {
	srv, seen := newTLSGraph(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Write([]byte(`{"value":[]}`)) //nolint:errcheck
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	collector := jwt(`{"tid":"t1","appid":"collector"}`)
	responderTok := jwt(`{"tid":"t1","appid":"responder"}`)
	var asked []string
	cred := func(tok string) func(string) (azcore.TokenCredential, error) {
		return func(tenant string) (azcore.TokenCredential, error) {
			asked = append(asked, tenant)
			return fixedToken(tok), nil
		}
	}
	clients, err := NewClients(Options{Endpoint: srv.URL, Transport: srv.Client().Transport, Credential: cred(collector),
		Responder: Responder{ClientID: "responder", Credential: cred(responderTok)}})
	require.NoError(t, err)
	r, err := clients.For("t1")
	require.NoError(t, err)
	_, err = r.SDK().Users().Get(context.Background(), nil)
	require.NoError(t, err)
	w, err := clients.Writer("t1")
	require.NoError(t, err)
	require.NoError(t, w.Retire(context.Background(), "d1"))
	require.Equal(t, []string{"GET Bearer " + collector, "POST Bearer " + responderTok}, seen(),
		"reads carry the collector's token, writes the responder's")
	require.Equal(t, []string{"t1", "t1"}, asked, "each credential is built for the tenant")
}

func TestCredentialFailuresAreReported(t *testing.T) {
	broken := func(string) (azcore.TokenCredential, error) { return nil, errTest }
	clients, err := NewClients(Options{Endpoint: "https://graph.microsoft.com", Credential: broken,
		Responder: Responder{ClientID: "responder", Credential: broken}})
	require.NoError(t, err)
	_, err = clients.For("t1")
	require.ErrorContains(t, err, "create credential for tenant t1")
	_, err = clients.Writer("t1")
	require.ErrorContains(t, err, "responder identity: create credential for tenant t1")
}

var errTest = &Error{Op: "test credential", Message: "unavailable"}

func TestListSubscriptionsFollowsOnlyGraphsOwnNextLinks(t *testing.T) {
	var srv *httptest.Server
	page := 0
	srv, _ = newTLSGraph(t, func(w http.ResponseWriter, r *http.Request) {
		page++
		switch {
		case r.URL.Query().Get("$skiptoken") == "evil":
			w.Write([]byte(`{"value":[]}`)) //nolint:errcheck
		case r.URL.Query().Get("$skiptoken") == "2":
			w.Write([]byte(`{"value":[{"id":"s2","resource":"/groups"}],"@odata.nextLink":"https://attacker.example/v1.0/subscriptions?$skiptoken=evil"}`)) //nolint:errcheck
		default:
			w.Write([]byte(`{"value":[{"id":"s1","resource":"/users","expirationDateTime":"2026-12-01T00:00:00Z"}],"@odata.nextLink":"` + srv.URL + `/v1.0/subscriptions?$skiptoken=2"}`)) //nolint:errcheck
		}
	})
	clients, err := NewClients(Options{Endpoint: srv.URL, Transport: srv.Client().Transport, Responder: Responder{ClientID: "responder"}})
	require.NoError(t, err)
	w, err := clients.Writer("t1")
	require.NoError(t, err)
	_, err = w.ListSubscriptions(context.Background())
	require.ErrorIs(t, err, ErrBadRequest)
	require.ErrorContains(t, err, "nextLink outside")
	require.Equal(t, 2, page, "the foreign nextLink is not followed")
	require.False(t, strings.Contains(err.Error(), "Bearer"))
}

func TestRevokeSignInSessionsReadsGraphsAnswer(t *testing.T) {
	answer := ""
	srv, _ := newTLSGraph(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(answer)) }) //nolint:errcheck
	clients, err := NewClients(Options{Endpoint: srv.URL, Transport: srv.Client().Transport, Responder: Responder{ClientID: "responder"}})
	require.NoError(t, err)
	w, err := clients.Writer("t1")
	require.NoError(t, err)
	tests := []struct {
		name, answer string
		ok           bool
	}{
		{"true is success", `{"value":true}`, true},
		{"false means nothing was revoked", `{"value":false}`, false},
		{"an answer without value is taken as Graph's known-issue success", `{}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer = tc.answer
			err := w.RevokeSignInSessions(context.Background(), "u1")
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "Graph answered false")
			require.False(t, Retryable(err))
		})
	}
}

func TestRemediationWithoutLocationReturnsNone(t *testing.T) {
	srv, _ := newTLSGraph(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	clients, err := NewClients(Options{Endpoint: srv.URL, Transport: srv.Client().Transport, Responder: Responder{ClientID: "responder"}})
	require.NoError(t, err)
	w, err := clients.Writer("t1")
	require.NoError(t, err)
	loc, err := w.RemediateMessages(context.Background(), Remediation{DisplayName: "x", Severity: "low", Action: "moveToJunk",
		Messages: []AnalyzedEmail{{NetworkMessageID: "n", RecipientEmailAddress: "r@contoso.test"}}})
	require.NoError(t, err)
	require.Empty(t, loc)
}

func TestNewClientsDefaults(t *testing.T) {
	c, err := NewClients(Options{Endpoint: "https://graph.microsoft.com/"})
	require.NoError(t, err)
	require.Equal(t, 6, c.opts.MaxRetries)
	require.Equal(t, 100*time.Second, c.opts.Timeout)
	require.Equal(t, "https://graph.microsoft.com", c.opts.Endpoint)
	c, err = NewClients(Options{Endpoint: "https://graph.microsoft.com", MaxRetries: 2, Timeout: time.Second})
	require.NoError(t, err)
	require.Equal(t, 2, c.opts.MaxRetries)
	require.Equal(t, time.Second, c.opts.Timeout)
}
