package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ResponderCredential builds the responder identity's credential for one
// tenant. clientID (RESPONDER_CLIENT_ID) names a second identity, so the
// collector identity never holds a write permission:
//   - GRAPH_APP_CLIENT_ID set (multi-tenant, no secret): clientID is a second
//     multi-tenant app registration whose federated credential trusts the same
//     managed identity (AZURE_CLIENT_ID selects a user-assigned one);
//   - AZURE_FEDERATED_TOKEN_FILE: workload identity as clientID in tenantID;
//   - otherwise clientID is a second user-assigned managed identity, which
//     reaches only its home tenant.
//
// A client secret or certificate belongs to one app registration; the
// collector's cannot authenticate the responder, so those settings are
// refused rather than silently reused.
func ResponderCredential(tenantID, clientID string, getenv func(string) string) (azcore.TokenCredential, error) {
	if clientID == "" {
		return nil, ErrNoResponder
	}
	var cred azcore.TokenCredential
	var err error
	switch {
	case getenv("GRAPH_APP_CLIENT_ID") != "":
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if id := getenv("AZURE_CLIENT_ID"); id != "" {
			opts.ID = azidentity.ClientID(id)
		}
		var mi *azidentity.ManagedIdentityCredential
		if mi, err = azidentity.NewManagedIdentityCredential(opts); err != nil {
			return nil, fmt.Errorf("create managed identity credential for the responder: %w", err)
		}
		assertion := func(ctx context.Context) (string, error) {
			tok, err := mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"api://AzureADTokenExchange/.default"}})
			return tok.Token, err
		}
		cred, err = azidentity.NewClientAssertionCredential(tenantID, clientID, assertion, nil)
	case getenv("AZURE_FEDERATED_TOKEN_FILE") != "":
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			TenantID: tenantID, ClientID: clientID, TokenFilePath: getenv("AZURE_FEDERATED_TOKEN_FILE"),
		})
	case getenv("AZURE_CLIENT_SECRET") != "" || getenv("AZURE_CLIENT_CERTIFICATE_PATH") != "":
		return nil, errors.New("RESPONDER_CLIENT_ID: the responder cannot use the collector's client secret or certificate; use a second managed identity or a federated app registration (see README)")
	default:
		cred, err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(clientID)})
	}
	if err != nil {
		return nil, fmt.Errorf("create responder credential for tenant %s: %w", tenantID, err)
	}
	return tenantGuard{cred: cred, tenantID: strings.ToLower(tenantID)}, nil
}
