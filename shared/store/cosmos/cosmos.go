package cosmos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"m365security/shared/store"
)

var _ store.Store = (*Store)(nil)

// PartitionKeyPath is the partition key of every container: one logical
// partition per tenant, so every query is single-partition.
const PartitionKeyPath = "/tenantId"

// Options configures New.
type Options struct {
	// Endpoint is the account endpoint, e.g. https://acct.documents.azure.com:443/.
	Endpoint string
	// Database is created if absent, with one container per store.Kinds entry.
	Database string
	// Key is the account key. Empty means authenticate with Credential.
	Key string
	// Credential is used when Key is empty, e.g. a managed identity.
	Credential azcore.TokenCredential
	// HTTPClient, when set, carries every request, e.g. to trust a test
	// server's certificate. Nil uses the SDK's default transport.
	HTTPClient *http.Client
}

// Store is the Cosmos DB store.Store. It is safe for concurrent use.
type Store struct {
	client     *azcosmos.Client
	containers map[store.Kind]*azcosmos.ContainerClient
}

// New connects to the account and makes sure the database and one container
// per kind exist, creating what is missing. It is idempotent and safe to run
// from several processes at once: a create that finds the resource already
// there (409) counts as success.
func New(ctx context.Context, opts Options) (*Store, error) {
	client, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	db, err := ensureDatabase(ctx, client, opts.Database)
	if err != nil {
		client.Close()
		return nil, err
	}
	s := &Store{client: client, containers: make(map[store.Kind]*azcosmos.ContainerClient, len(store.Kinds))}
	for _, kind := range store.Kinds {
		c, err := ensureContainer(ctx, db, kind)
		if err != nil {
			client.Close()
			return nil, err
		}
		s.containers[kind] = c
	}
	return s, nil
}

func newClient(opts Options) (*azcosmos.Client, error) {
	switch {
	case opts.Endpoint == "":
		return nil, errors.New("create cosmos client: endpoint is empty")
	case opts.Database == "":
		return nil, errors.New("create cosmos client: database is empty")
	case opts.Key == "" && opts.Credential == nil:
		return nil, errors.New("create cosmos client: neither a key nor a credential is set")
	}
	var co azcosmos.ClientOptions
	if opts.HTTPClient != nil {
		co.Transport = opts.HTTPClient
	}
	if opts.Key == "" {
		c, err := azcosmos.NewClient(opts.Endpoint, opts.Credential, &co)
		if err != nil {
			return nil, fmt.Errorf("create cosmos client: %w", err)
		}
		return c, nil
	}
	cred, err := azcosmos.NewKeyCredential(opts.Key)
	if err != nil {
		// The SDK's message would include the key; keep it out of logs.
		return nil, errors.New("create cosmos client: the account key is not valid base64")
	}
	c, err := azcosmos.NewClientWithKey(opts.Endpoint, cred, &co)
	if err != nil {
		return nil, fmt.Errorf("create cosmos client: %w", err)
	}
	return c, nil
}

// ensureDatabase reads before it creates, so an identity with data-plane
// rights only (which may not create databases) works once infrastructure has
// provisioned them.
func ensureDatabase(ctx context.Context, client *azcosmos.Client, name string) (*azcosmos.DatabaseClient, error) {
	db, err := client.NewDatabase(name)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	_, err = db.Read(ctx, nil)
	if err == nil {
		return db, nil
	}
	if statusCode(err) != http.StatusNotFound {
		return nil, fmt.Errorf("read database %s: %w", name, err)
	}
	_, err = client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: name}, nil)
	if err != nil && statusCode(err) != http.StatusConflict {
		return nil, fmt.Errorf("create database %s%s: %w", name, provisionHint(err), err)
	}
	return db, nil
}

// containerProperties is the definition of a kind's container: partitioned
// by tenant, TTL on with no default (items opt in with "ttl"), bodies not
// indexed, and the composite indexes that ORDER BY c.time, c.id needs.
func containerProperties(kind store.Kind) azcosmos.ContainerProperties {
	return azcosmos.ContainerProperties{
		ID:                     string(kind),
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{PartitionKeyPath}},
		DefaultTimeToLive:      to(int32(-1)),
		IndexingPolicy: &azcosmos.IndexingPolicy{
			Automatic:     true,
			IndexingMode:  azcosmos.IndexingModeConsistent,
			IncludedPaths: []azcosmos.IncludedPath{{Path: "/*"}},
			ExcludedPaths: []azcosmos.ExcludedPath{{Path: "/body/*"}, {Path: `/"_etag"/?`}},
			CompositeIndexes: [][]azcosmos.CompositeIndex{
				{{Path: "/time", Order: azcosmos.CompositeIndexAscending}, {Path: "/id", Order: azcosmos.CompositeIndexAscending}},
				{{Path: "/time", Order: azcosmos.CompositeIndexDescending}, {Path: "/id", Order: azcosmos.CompositeIndexDescending}},
			},
		},
	}
}

func ensureContainer(ctx context.Context, db *azcosmos.DatabaseClient, kind store.Kind) (*azcosmos.ContainerClient, error) {
	c, err := db.NewContainer(string(kind))
	if err != nil {
		return nil, fmt.Errorf("open container %s: %w", kind, err)
	}
	resp, err := c.Read(ctx, nil)
	switch {
	case err == nil:
		// An existing container partitioned differently would put every
		// tenant's data in the wrong place; refuse it rather than guess.
		if p := resp.ContainerProperties; p != nil && !slices.Equal(p.PartitionKeyDefinition.Paths, []string{PartitionKeyPath}) {
			return nil, fmt.Errorf("check container %s: partition key is %v, want [%s]", kind, p.PartitionKeyDefinition.Paths, PartitionKeyPath)
		}
		return c, nil
	case statusCode(err) != http.StatusNotFound:
		return nil, fmt.Errorf("read container %s: %w", kind, err)
	}
	_, err = db.CreateContainer(ctx, containerProperties(kind), nil)
	if err != nil && statusCode(err) != http.StatusConflict {
		return nil, fmt.Errorf("create container %s%s: %w", kind, provisionHint(err), err)
	}
	return c, nil
}

// provisionHint explains a 403 on create: Entra ID (data-plane RBAC)
// identities may not create databases or containers, so infrastructure has
// to provision them with the definition in containerProperties.
func provisionHint(err error) string {
	if statusCode(err) == http.StatusForbidden {
		return " (forbidden: an Entra ID identity cannot create databases or containers; provision them in infrastructure)"
	}
	return ""
}

// Close releases the client's shared caches.
func (s *Store) Close() error {
	s.client.Close()
	return nil
}

// Get point-reads the document or returns store.ErrNotFound.
func (s *Store) Get(ctx context.Context, kind store.Kind, tenantID, id string) (store.Doc, error) {
	c, err := s.container(kind, tenantID, id)
	if err != nil {
		return store.Doc{}, fmt.Errorf("get %s/%s/%s: %w", kind, tenantID, id, err)
	}
	resp, err := c.ReadItem(ctx, azcosmos.NewPartitionKeyString(tenantID), id, nil)
	if err != nil {
		return store.Doc{}, fmt.Errorf("get %s/%s/%s: %w", kind, tenantID, id, classify(err))
	}
	d, err := decodeItem(kind, resp.Value)
	if err != nil {
		return store.Doc{}, fmt.Errorf("get %s/%s/%s: %w", kind, tenantID, id, err)
	}
	if resp.ETag != "" {
		d.ETag = string(resp.ETag)
	}
	return d, nil
}

// Put writes doc according to mode and returns the new ETag: Upsert is an
// upsert, Create a create (409 → store.ErrConflict) and IfMatch a replace
// with If-Match (412 → store.ErrConflict, 404 → store.ErrNotFound).
func (s *Store) Put(ctx context.Context, doc store.Doc, mode store.WriteMode) (string, error) {
	c, err := s.validateDoc(doc, mode)
	if err != nil {
		return "", fmt.Errorf("put %s/%s/%s: %w", doc.Kind, doc.TenantID, doc.ID, err)
	}
	b, err := json.Marshal(newItem(doc))
	if err != nil {
		return "", fmt.Errorf("encode %s/%s/%s: %w", doc.Kind, doc.TenantID, doc.ID, err)
	}
	pk := azcosmos.NewPartitionKeyString(doc.TenantID)
	var resp azcosmos.ItemResponse
	switch mode {
	case store.Create:
		resp, err = c.CreateItem(ctx, pk, b, nil)
	case store.IfMatch:
		etag := azcore.ETag(doc.ETag)
		resp, err = c.ReplaceItem(ctx, pk, doc.ID, b, &azcosmos.ItemOptions{IfMatchEtag: &etag})
	default:
		resp, err = c.UpsertItem(ctx, pk, b, nil)
	}
	if err != nil {
		return "", fmt.Errorf("put %s/%s/%s: %w", doc.Kind, doc.TenantID, doc.ID, classify(err))
	}
	if resp.ETag == "" {
		return "", fmt.Errorf("put %s/%s/%s: response has no etag", doc.Kind, doc.TenantID, doc.ID)
	}
	return string(resp.ETag), nil
}

// Delete removes the document, with If-Match when etag is non-empty
// (412 → store.ErrConflict); a missing document is store.ErrNotFound.
func (s *Store) Delete(ctx context.Context, kind store.Kind, tenantID, id, etag string) error {
	c, err := s.container(kind, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete %s/%s/%s: %w", kind, tenantID, id, err)
	}
	var o *azcosmos.ItemOptions
	if etag != "" {
		e := azcore.ETag(etag)
		o = &azcosmos.ItemOptions{IfMatchEtag: &e}
	}
	if _, err := c.DeleteItem(ctx, azcosmos.NewPartitionKeyString(tenantID), id, o); err != nil {
		return fmt.Errorf("delete %s/%s/%s: %w", kind, tenantID, id, classify(err))
	}
	return nil
}

// item is the JSON shape of a document in its kind's container:
//
//	{
//	  "id":       "<Doc.ID>",
//	  "tenantId": "<Doc.TenantID>",           // partition key
//	  "time":     "<store.TimeKey(Doc.Time)>", // fixed-width UTC, sorts as a string
//	  "attrs":    {"<key>": "<value>", ...},   // omitted when empty; keys are identifiers
//	  "body":     <Doc.Body, raw JSON>,        // not indexed
//	  "ttl":      <seconds>                    // only when Doc.TTL > 0, rounded up
//	}
//
// Cosmos adds _etag, _ts, _rid and _self; _etag is read back as Doc.ETag.
type item struct {
	ID       string            `json:"id"`
	TenantID string            `json:"tenantId"`
	Time     string            `json:"time"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Body     json.RawMessage   `json:"body"`
	TTL      int64             `json:"ttl,omitempty"`
	ETag     string            `json:"_etag,omitempty"`
}

func newItem(d store.Doc) item {
	it := item{
		ID:       d.ID,
		TenantID: d.TenantID,
		Time:     store.TimeKey(d.Time),
		Attrs:    d.Attrs,
		Body:     d.Body,
	}
	if d.TTL > 0 {
		it.TTL = int64((d.TTL + time.Second - 1) / time.Second)
	}
	return it
}

func decodeItem(kind store.Kind, raw []byte) (store.Doc, error) {
	var it item
	if err := json.Unmarshal(raw, &it); err != nil {
		return store.Doc{}, fmt.Errorf("decode item: %w", err)
	}
	t, err := time.Parse(timeKeyLayout, it.Time)
	if err != nil {
		return store.Doc{}, fmt.Errorf("decode item %s time: %w", it.ID, err)
	}
	d := store.Doc{
		Kind:     kind,
		TenantID: it.TenantID,
		ID:       it.ID,
		Time:     t,
		Attrs:    it.Attrs,
		Body:     it.Body,
		ETag:     it.ETag,
	}
	if len(d.Attrs) == 0 {
		d.Attrs = nil
	}
	if it.TTL > 0 {
		d.TTL = time.Duration(it.TTL) * time.Second
	}
	return d, nil
}

// classify maps a Cosmos error to store's sentinels, once, at this
// boundary. The status stays in the message for diagnosis.
func classify(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	switch re.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w (cosmos %d %s)", store.ErrNotFound, re.StatusCode, re.ErrorCode)
	case http.StatusConflict, http.StatusPreconditionFailed:
		return fmt.Errorf("%w (cosmos %d %s)", store.ErrConflict, re.StatusCode, re.ErrorCode)
	case http.StatusTooManyRequests:
		// The SDK already retried; what reaches us is a sustained 429, and
		// the caller's retry should wait at least what Cosmos asked for.
		return fmt.Errorf("%w (cosmos %d %s)", &store.ThrottledError{Wait: retryAfter(re)}, re.StatusCode, re.ErrorCode)
	}
	return err
}

// retryAfter reads Cosmos's x-ms-retry-after-ms header.
func retryAfter(re *azcore.ResponseError) time.Duration {
	if re.RawResponse == nil {
		return 0
	}
	ms, err := strconv.ParseInt(re.RawResponse.Header.Get("x-ms-retry-after-ms"), 10, 64)
	if err != nil || ms < 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

func statusCode(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func to[T any](v T) *T { return &v }
