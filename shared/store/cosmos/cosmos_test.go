package cosmos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"m365security/shared/store"
	"m365security/shared/store/cosmos"
	"m365security/shared/store/cosmos/cosmostest"
	"m365security/shared/store/storetest"
)

// databaseSeq gives every store its own database on the shared server.
var databaseSeq atomic.Int64

func newDatabaseName() string {
	return fmt.Sprintf("test-%d", databaseSeq.Add(1))
}

func testOptions(endpoint string, client *http.Client, database string) cosmos.Options {
	return cosmos.Options{Endpoint: endpoint, Database: database, Key: cosmostest.Key, HTTPClient: client}
}

func newTestStore(t testing.TB, opts cosmos.Options) *cosmos.Store {
	t.Helper()
	s, err := cosmos.New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	endpoint, client := cosmostest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return newTestStore(t, testOptions(endpoint, client, newDatabaseName()))
	}, storetest.Capabilities{})
}

// unevenPages makes the server behave like a real partition under load:
// the first response of every query is an empty page with a continuation,
// and later pages hold at most two items whatever page size was asked for.
type unevenPages struct {
	next           http.RoundTripper
	empty, shorter atomic.Int64
}

// restartToken is a cosmosdb-server continuation that resumes at the start.
const restartToken = `{"token":"+RID:#RT:0#TRC:0","range":{"min":"","max":"FF"}}`

func (u *unevenPages) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/query+json") {
		return u.next.RoundTrip(r)
	}
	if r.Header.Get("x-ms-continuation") == "" {
		u.empty.Add(1)
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return &http.Response{
			StatusCode: http.StatusOK,
			Header: http.Header{
				"Content-Type":      {"application/json"},
				"X-Ms-Continuation": {restartToken},
			},
			Body:    io.NopCloser(strings.NewReader(`{"_rid":"","Documents":[],"_count":0}`)),
			Request: r,
		}, nil
	}
	r = r.Clone(r.Context())
	r.Header.Set("x-ms-max-item-count", "2")
	resp, err := u.next.RoundTrip(r)
	if err == nil && resp.Header.Get("x-ms-continuation") != "" {
		u.shorter.Add(1)
	}
	return resp, err
}

func TestContractWithUnevenPages(t *testing.T) {
	endpoint, client := cosmostest.Start(t)
	uneven := &unevenPages{next: client.Transport}
	client = &http.Client{Transport: uneven, Timeout: client.Timeout}
	storetest.Run(t, func(t *testing.T) store.Store {
		return newTestStore(t, testOptions(endpoint, client, newDatabaseName()))
	}, storetest.Capabilities{})
	require.Positive(t, uneven.empty.Load(), "empty pages were served")
	require.Positive(t, uneven.shorter.Load(), "short pages with a continuation were served")
}

func TestNew(t *testing.T) {
	endpoint, client := cosmostest.Start(t)
	doc := store.Doc{
		Kind: store.KindIncident, TenantID: "t1", ID: "x",
		Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Body: json.RawMessage(`{"v":1}`),
	}
	tests := []struct {
		name string
		run  func(t *testing.T, opts cosmos.Options)
	}{
		{"a second store on the same database sees the first one's data", func(t *testing.T, opts cosmos.Options) {
			first := newTestStore(t, opts)
			etag, err := first.Put(t.Context(), doc, store.Create)
			require.NoError(t, err)
			second := newTestStore(t, opts)
			got, err := second.Get(t.Context(), doc.Kind, doc.TenantID, doc.ID)
			require.NoError(t, err)
			require.Equal(t, etag, got.ETag)
		}},
		{"concurrent stores on a fresh database all start", func(t *testing.T, opts cosmos.Options) {
			const n = 4
			errs := make([]error, n)
			stores := make([]*cosmos.Store, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { stores[i], errs[i] = cosmos.New(t.Context(), opts) })
			}
			wg.Wait()
			for i, err := range errs {
				require.NoError(t, err, "store %d", i)
				t.Cleanup(func() { _ = stores[i].Close() })
			}
			_, err := stores[0].Put(t.Context(), doc, store.Create)
			require.NoError(t, err)
			_, err = stores[n-1].Get(t.Context(), doc.Kind, doc.TenantID, doc.ID)
			require.NoError(t, err)
		}},
		{"containers are partitioned by tenant with ttl on and composite indexes", func(t *testing.T, opts cosmos.Options) {
			newTestStore(t, opts)
			c := newRawContainer(t, opts, store.KindSnapshot)
			resp, err := c.Read(t.Context(), nil)
			require.NoError(t, err)
			p := resp.ContainerProperties
			require.Equal(t, []string{"/tenantId"}, p.PartitionKeyDefinition.Paths)
			require.NotNil(t, p.DefaultTimeToLive)
			require.EqualValues(t, -1, *p.DefaultTimeToLive)
			require.NotNil(t, p.IndexingPolicy)
			require.Equal(t, [][]azcosmos.CompositeIndex{
				{{Path: "/time", Order: azcosmos.CompositeIndexAscending}, {Path: "/id", Order: azcosmos.CompositeIndexAscending}},
				{{Path: "/time", Order: azcosmos.CompositeIndexDescending}, {Path: "/id", Order: azcosmos.CompositeIndexDescending}},
			}, p.IndexingPolicy.CompositeIndexes)
		}},
		{"items have the documented layout", func(t *testing.T, opts cosmos.Options) {
			s := newTestStore(t, opts)
			d := doc
			d.Attrs = map[string]string{"status": "open"}
			d.TTL = 90*time.Minute + time.Millisecond
			_, err := s.Put(t.Context(), d, store.Create)
			require.NoError(t, err)
			c := newRawContainer(t, opts, d.Kind)
			resp, err := c.ReadItem(t.Context(), azcosmos.NewPartitionKeyString(d.TenantID), d.ID, nil)
			require.NoError(t, err)
			var item map[string]any
			require.NoError(t, json.Unmarshal(resp.Value, &item))
			require.Equal(t, "x", item["id"])
			require.Equal(t, "t1", item["tenantId"])
			require.Equal(t, "2025-01-01T00:00:00.000000000Z", item["time"])
			require.Equal(t, map[string]any{"status": "open"}, item["attrs"])
			require.Equal(t, map[string]any{"v": float64(1)}, item["body"])
			require.EqualValues(t, 5401, item["ttl"], "ttl is whole seconds, rounded up")
		}},
		{"an existing container with another partition key is refused", func(t *testing.T, opts cosmos.Options) {
			raw := newRawClient(t, opts)
			_, err := raw.CreateDatabase(t.Context(), azcosmos.DatabaseProperties{ID: opts.Database}, nil)
			require.NoError(t, err)
			db, err := raw.NewDatabase(opts.Database)
			require.NoError(t, err)
			_, err = db.CreateContainer(t.Context(), azcosmos.ContainerProperties{
				ID:                     string(store.KindParked),
				PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/id"}},
			}, nil)
			require.NoError(t, err)
			_, err = cosmos.New(t.Context(), opts)
			require.ErrorContains(t, err, "partition key")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, testOptions(endpoint, client, newDatabaseName()))
		})
	}
}

func TestNewRejectsIncompleteOptions(t *testing.T) {
	tests := []struct {
		name string
		opts cosmos.Options
		want string
	}{
		{"no endpoint", cosmos.Options{Database: "db", Key: cosmostest.Key}, "endpoint is empty"},
		{"no database", cosmos.Options{Endpoint: "https://127.0.0.1:1/", Key: cosmostest.Key}, "database is empty"},
		{"neither key nor credential", cosmos.Options{Endpoint: "https://127.0.0.1:1/", Database: "db"}, "neither a key nor a credential"},
		{"a key that is not base64", cosmos.Options{Endpoint: "https://127.0.0.1:1/", Database: "db", Key: "not base64!"}, "not valid base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cosmos.New(context.Background(), tc.opts)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "not base64!", "the key never appears in errors")
		})
	}
}

func newRawClient(t testing.TB, opts cosmos.Options) *azcosmos.Client {
	t.Helper()
	cred, err := azcosmos.NewKeyCredential(opts.Key)
	require.NoError(t, err)
	c, err := azcosmos.NewClientWithKey(opts.Endpoint, cred, &azcosmos.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: opts.HTTPClient},
	})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func newRawContainer(t testing.TB, opts cosmos.Options, kind store.Kind) *azcosmos.ContainerClient {
	t.Helper()
	c, err := newRawClient(t, opts).NewContainer(opts.Database, string(kind))
	require.NoError(t, err)
	return c
}
