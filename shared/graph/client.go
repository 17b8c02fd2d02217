// Package graph builds the Microsoft Graph clients (msgraph-sdk-go) once per
// tenant: a read-only Reader for the collectors under the collector identity
// and a Writer of typed operations under the separate responder identity. It
// classifies Graph errors in Graph's terms (throttled, forbidden, not found,
// conflict, ...). SDK models never leave it and shared/collect; it must not
// import posture, collect, store or anything above them.
package graph

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// Options configure Graph access.
type Options struct {
	// Endpoint is the Graph root without version, e.g.
	// https://graph.microsoft.com; the client appends /v1.0.
	Endpoint string
	// Credential returns a token credential for a tenant. Nil means no token
	// is sent (GRAPH_AUTH=none, a loopback simulator only).
	Credential func(tenantID string) (azcore.TokenCredential, error)
	// MaxRetries bounds retries of 429/503/504 responses (kiota caps it at
	// 10); the retry handler honours Retry-After. Default 6.
	MaxRetries int
	// Transport is the parent transport under the SDK middleware (tests);
	// nil uses http.DefaultTransport.
	Transport http.RoundTripper
	// Responder is the identity Graph writes use; Credential above is the
	// collector identity and never writes.
	Responder Responder
	// Timeout bounds one HTTP exchange, retries excluded. Default 100 s.
	Timeout time.Duration
}

// Responder configures the separate identity every Graph write uses
// (RESPONDER_CLIENT_ID). The zero value configures none: every write then
// fails with ErrNoResponder.
type Responder struct {
	// ClientID names the responder identity; empty means none.
	ClientID string
	// Credential returns the responder's token credential for a tenant.
	// Nil sends no token (GRAPH_AUTH=none, a loopback simulator only).
	Credential func(tenantID string) (azcore.TokenCredential, error)
}

// Reader is the collectors' read access to one tenant, authenticated as the
// collector identity. Its transport refuses anything but GETs and a $batch
// of GETs, so a collector cannot write even by mistake.
type Reader struct {
	tenantID string
	sdk      *msgraphsdk.GraphServiceClient
	baseURL  string
}

// TenantID is the tenant the reader is bound to.
func (r *Reader) TenantID() string { return r.tenantID }

// SDK is the Graph SDK client for collectors' reads: its request builders,
// and its request adapter for $batch. It is read-only: any other request is
// refused before it leaves the process. Writes go through Writer.
func (r *Reader) SDK() *msgraphsdk.GraphServiceClient { return r.sdk }

// BaseURL is the versioned root, e.g. https://graph.microsoft.com/v1.0.
func (r *Reader) BaseURL() string { return r.baseURL }

// Clients hands out one Reader and one Writer per tenant, built on first use
// and reused for the life of the process (one connection pool, one token
// cache per tenant and identity).
type Clients struct {
	opts Options

	mu      sync.Mutex
	readers map[string]*Reader
	writers map[string]*Writer
}

// NewClients validates opts and returns the per-tenant client cache.
func NewClients(opts Options) (*Clients, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph endpoint %q is not a URL", opts.Endpoint)
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 6
	}
	if opts.Timeout == 0 {
		opts.Timeout = 100 * time.Second
	}
	opts.Endpoint = strings.TrimRight(opts.Endpoint, "/")
	return &Clients{opts: opts, readers: map[string]*Reader{}, writers: map[string]*Writer{}}, nil
}

// For returns the tenant's Reader (collector identity).
func (c *Clients) For(tenantID string) (*Reader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.readers[tenantID]; ok {
		return r, nil
	}
	adapter, err := newAdapter(tenantID, c.opts.Endpoint, c.opts.Credential, true, c.opts)
	if err != nil {
		return nil, err
	}
	r := &Reader{tenantID: tenantID, sdk: msgraphsdk.NewGraphServiceClient(adapter), baseURL: adapter.GetBaseUrl()}
	c.readers[tenantID] = r
	return r, nil
}

// ResponderConfigured reports whether a responder identity is configured,
// for health details; without one every write fails with ErrNoResponder.
func (c *Clients) ResponderConfigured() bool { return c.opts.Responder.ClientID != "" }

// Writer returns the tenant's Writer (responder identity). Without a
// responder identity it returns a Writer whose every operation fails with
// ErrNoResponder, so callers record that reason on the action.
func (c *Clients) Writer(tenantID string) (*Writer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.writers[tenantID]; ok {
		return w, nil
	}
	w := &Writer{tenantID: tenantID}
	if c.opts.Responder.ClientID != "" {
		adapter, err := newAdapter(tenantID, c.opts.Endpoint, c.opts.Responder.Credential, false, c.opts)
		if err != nil {
			return nil, fmt.Errorf("responder identity: %w", err)
		}
		w.adapter = adapter
		w.sdk = msgraphsdk.NewGraphServiceClient(adapter)
	}
	c.writers[tenantID] = w
	return w, nil
}

// newAdapter builds an SDK request adapter for one tenant and identity: the
// collectors' (read-only, retrying throttled reads) or the responder's.
func newAdapter(tenantID, endpoint string, credential func(string) (azcore.TokenCredential, error), reads bool, opts Options) (*msgraphsdk.GraphRequestAdapter, error) {
	var auth absauth.AuthenticationProvider = &absauth.AnonymousAuthenticationProvider{}
	if credential != nil {
		cred, err := credential(tenantID)
		if err != nil {
			return nil, fmt.Errorf("create credential for tenant %s: %w", tenantID, err)
		}
		u, _ := url.Parse(endpoint)
		// The provider attaches tokens only for hosts it trusts; name ours so a
		// national-cloud endpoint gets a token too.
		p, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred,
			[]string{endpoint + "/.default"}, []string{u.Hostname()})
		if err != nil {
			return nil, fmt.Errorf("create graph auth provider: %w", err)
		}
		auth = p
	}
	parent := opts.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	if reads {
		parent = readOnly{next: parent}
	}
	// A write is sent once per call (no transparent retry): only the caller
	// knows whether the action is still wanted when Retry-After has passed
	// (an approval may have been withdrawn), and it records every attempt.
	hc, err := httpClient(opts, parent, reads)
	if err != nil {
		return nil, err
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("create graph request adapter: %w", err)
	}
	adapter.SetBaseUrl(endpoint + "/v1.0")
	return adapter, nil
}

// httpClient keeps the SDK's middleware (retry with Retry-After, redirects,
// compression, telemetry) and only raises the retry budget: a bare
// http.Client would silently drop all of it.
func httpClient(opts Options, parent http.RoundTripper, retry bool) (*http.Client, error) {
	clientOpts := msgraphsdk.GetDefaultClientOptions()
	kiotaMW, err := khttp.GetDefaultMiddlewaresWithOptions(&khttp.RetryHandlerOptions{
		MaxRetries:   opts.MaxRetries,
		DelaySeconds: 2,
		ShouldRetry:  func(time.Duration, int, *http.Request, *http.Response) bool { return retry },
	})
	if err != nil {
		return nil, fmt.Errorf("build graph middleware: %w", err)
	}
	// The Graph-specific handlers come first, as msgraphcore orders them.
	mw := append([]khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&clientOpts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
	}, kiotaMW...)
	return &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(parent, mw...),
		Timeout:       opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}
