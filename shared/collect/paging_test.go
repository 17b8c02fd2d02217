package collect

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
)

type fakePage struct{ next *string }

func (p fakePage) GetOdataNextLink() *string { return p.next }

func TestListPages(t *testing.T) {
	tests := []struct {
		name     string
		links    []string // nextLink of each page; "" ends
		wantErr  string
		wantSeen int
	}{
		{"a single page makes one request", []string{""}, "", 1},
		{"nextLinks are followed to the end", []string{"https://g/v1.0/x?$skiptoken=a", "https://g/v1.0/x?$skiptoken=b", ""}, "", 3},
		{"the same nextLink twice stops the listing", []string{"https://g/v1.0/x?$skiptoken=a", "https://g/v1.0/x?$skiptoken=a", ""}, "same nextLink twice", 2},
		{"a nextLink to another host is not followed", []string{"https://evil.example/v1.0/x?$skiptoken=a", ""}, "is not under https://g/v1.0", 1},
		{"a nextLink that drops to plain http is not followed", []string{"http://g/v1.0/x?$skiptoken=a", ""}, "is not under", 1},
		{"a nextLink to another version is not followed", []string{"https://g/beta/x?$skiptoken=a", ""}, "is not under", 1},
		{"a nextLink that leaves later in the listing stops there", []string{"https://g/v1.0/x?$skiptoken=a", "https://g.evil.example/v1.0/x", ""}, "is not under", 2},
		{"a nextLink with credentials in it is not followed", []string{"https://user:pw@g/v1.0/x", ""}, "is not under", 1},
	}
	clients, err := graph.NewClients(graph.Options{Endpoint: "https://g"})
	require.NoError(t, err)
	gr, err := clients.For("11111111-2222-4333-8444-555555555555")
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{c: gr}
			i := 0
			page := func() (fakePage, error) {
				p := fakePage{}
				if l := tc.links[i]; l != "" {
					p.next = &l
				}
				i++
				return p, nil
			}
			seen := 0
			err := listPages(context.Background(), r, "list x",
				func(context.Context) (fakePage, error) { return page() },
				func(_ context.Context, link string) (fakePage, error) {
					require.Equal(t, tc.links[i-1], link, "the link followed is the one checked")
					return page()
				},
				func(fakePage) error { seen++; return nil })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.wantSeen, seen)
			require.Equal(t, int64(tc.wantSeen), r.requests.Load())
		})
	}
}

func TestRelativeURL(t *testing.T) {
	base := "https://graph.microsoft.com/v1.0"
	tests := []struct {
		name, link, want string
		ok               bool
	}{
		{"a nextLink keeps its path and query", "https://graph.microsoft.com/v1.0/groups/g1/transitiveMembers?$select=id&$top=999&$skiptoken=X%2BY",
			"/groups/g1/transitiveMembers?$select=id&$top=999&$skiptoken=X%2BY", true},
		{"another host is refused", "https://evil.example/v1.0/groups", "", false},
		{"another version is refused", "https://graph.microsoft.com/beta/groups", "", false},
		{"another scheme is refused", "http://graph.microsoft.com/v1.0/groups", "", false},
		{"credentials in the link are refused", "https://a@graph.microsoft.com/v1.0/groups", "", false},
		{"a host that only starts like Graph is refused", "https://graph.microsoft.com.evil.example/v1.0/groups", "", false},
		{"the host compares case-insensitively", "https://GRAPH.microsoft.com/v1.0/groups", "/groups", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := relativeURL(base, tc.link)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		attempt int
		want    time.Duration
	}{
		{"Retry-After in seconds is honoured", map[string]string{"Retry-After": "7"}, 1, 7 * time.Second},
		{"Retry-After 0 retries at once", map[string]string{"retry-after": "0"}, 1, 0},
		{"without Retry-After the wait doubles", map[string]string{}, 3, 4 * time.Second},
		{"the backoff is capped", nil, 20, maxItemBackoff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, retryDelay(tc.headers, tc.attempt))
		})
	}
	t.Run("Retry-After as an HTTP date waits until then", func(t *testing.T) {
		at := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
		d := retryDelay(map[string]string{"Retry-After": at}, 1)
		require.InDelta(t, 3*time.Second, d, float64(1500*time.Millisecond))
	})
}

func TestSDKPagingDoesNotFollowANextLinkOffTheGraphHost(t *testing.T) {
	var foreign atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreign.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[]}`))
	}))
	defer elsewhere.Close()
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[{"id":"contoso.com","isVerified":true}],"@odata.nextLink":"` + elsewhere.URL + `/v1.0/domains?$skiptoken=x"}`))
	}))
	defer fake.Close()
	clients, err := graph.NewClients(graph.Options{Endpoint: fake.URL})
	require.NoError(t, err)
	c, err := clients.For("11111111-2222-4333-8444-555555555555")
	require.NoError(t, err)
	_, err = fetchDomains(context.Background(), &reader{c: c}, &identityState{})
	require.ErrorContains(t, err, "is not under "+fake.URL+"/v1.0")
	require.Zero(t, foreign.Load(), "nothing, and so no token, was sent to the other host")
}
