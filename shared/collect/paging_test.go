package collect

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &reader{}
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
				func(context.Context, string) (fakePage, error) { return page() },
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
