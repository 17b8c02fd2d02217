// Package graph builds the Microsoft Graph client (msgraph-sdk-go) once per
// tenant and classifies Graph errors into the product's terms. It is one of
// the few packages that import the Graph SDK; SDK models never leave it and
// shared/collect.
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
	// Timeout bounds one HTTP exchange, retries excluded. Default 100 s.
	Timeout time.Duration
}

// Client is a Graph client bound to one tenant.
type Client struct {
	TenantID string
	SDK      *msgraphsdk.GraphServiceClient
	// BaseURL is the versioned root, e.g. https://graph.microsoft.com/v1.0.
	BaseURL string
}

// Clients hands out one Client per tenant, built on first use and reused for
// the life of the process (one connection pool, one token cache per tenant).
type Clients struct {
	opts Options

	mu      sync.Mutex
	clients map[string]*Client
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
	return &Clients{opts: opts, clients: map[string]*Client{}}, nil
}

// For returns the tenant's client.
func (c *Clients) For(tenantID string) (*Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[tenantID]; ok {
		return cl, nil
	}
	cl, err := newClient(tenantID, c.opts)
	if err != nil {
		return nil, err
	}
	c.clients[tenantID] = cl
	return cl, nil
}

func newClient(tenantID string, opts Options) (*Client, error) {
	var auth absauth.AuthenticationProvider = &absauth.AnonymousAuthenticationProvider{}
	if opts.Credential != nil {
		cred, err := opts.Credential(tenantID)
		if err != nil {
			return nil, fmt.Errorf("create credential for tenant %s: %w", tenantID, err)
		}
		u, _ := url.Parse(opts.Endpoint)
		// The provider attaches tokens only for hosts it trusts; name ours so a
		// national-cloud endpoint gets a token too.
		p, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred,
			[]string{opts.Endpoint + "/.default"}, []string{u.Hostname()})
		if err != nil {
			return nil, fmt.Errorf("create graph auth provider: %w", err)
		}
		auth = p
	}
	hc, err := httpClient(opts)
	if err != nil {
		return nil, err
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("create graph request adapter: %w", err)
	}
	base := opts.Endpoint + "/v1.0"
	adapter.SetBaseUrl(base)
	return &Client{TenantID: tenantID, SDK: msgraphsdk.NewGraphServiceClient(adapter), BaseURL: base}, nil
}

// httpClient keeps the SDK's middleware (retry with Retry-After, redirects,
// compression, telemetry) and only raises the retry budget: a bare
// http.Client would silently drop all of it.
func httpClient(opts Options) (*http.Client, error) {
	clientOpts := msgraphsdk.GetDefaultClientOptions()
	kiotaMW, err := khttp.GetDefaultMiddlewaresWithOptions(&khttp.RetryHandlerOptions{
		MaxRetries:   opts.MaxRetries,
		DelaySeconds: 2,
		ShouldRetry:  func(time.Duration, int, *http.Request, *http.Response) bool { return true },
	})
	if err != nil {
		return nil, fmt.Errorf("build graph middleware: %w", err)
	}
	// The Graph-specific handlers come first, as msgraphcore orders them.
	mw := append([]khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&clientOpts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
	}, kiotaMW...)
	parent := opts.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	return &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(parent, mw...),
		Timeout:       opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}
