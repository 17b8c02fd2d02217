package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// TenantCredential builds the credential for one monitored tenant from the
// standard AZURE_* settings. azidentity's environment and managed-identity
// credentials ignore a per-call tenant, so each tenant gets its own:
//   - AZURE_CLIENT_ID + AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH):
//     a multi-tenant app registration, authenticated in tenantID;
//   - GRAPH_APP_CLIENT_ID: a multi-tenant app registration whose federated
//     credential trusts the managed identity (AZURE_CLIENT_ID selects a
//     user-assigned one): no secret anywhere;
//   - AZURE_FEDERATED_TOKEN_FILE: workload identity in tenantID;
//   - otherwise DefaultAzureCredential, which reaches only its home tenant.
//
// Every credential is wrapped in a guard that refuses a token issued for
// another tenant, so one tenant's data can never be filed under another.
func TenantCredential(tenantID string, getenv func(string) string) (azcore.TokenCredential, error) {
	clientID := getenv("AZURE_CLIENT_ID")
	var cred azcore.TokenCredential
	var err error
	switch {
	case getenv("AZURE_CLIENT_SECRET") != "":
		cred, err = azidentity.NewClientSecretCredential(tenantID, clientID, getenv("AZURE_CLIENT_SECRET"), nil)
	case getenv("AZURE_CLIENT_CERTIFICATE_PATH") != "":
		var data []byte
		if data, err = os.ReadFile(getenv("AZURE_CLIENT_CERTIFICATE_PATH")); err != nil {
			return nil, fmt.Errorf("read AZURE_CLIENT_CERTIFICATE_PATH: %w", err)
		}
		certs, key, perr := azidentity.ParseCertificates(data, []byte(getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD")))
		if perr != nil {
			return nil, fmt.Errorf("parse AZURE_CLIENT_CERTIFICATE_PATH: %w", perr)
		}
		cred, err = azidentity.NewClientCertificateCredential(tenantID, clientID, certs, key, nil)
	case getenv("GRAPH_APP_CLIENT_ID") != "":
		var mi *azidentity.ManagedIdentityCredential
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if clientID != "" {
			opts.ID = azidentity.ClientID(clientID)
		}
		if mi, err = azidentity.NewManagedIdentityCredential(opts); err != nil {
			return nil, fmt.Errorf("create managed identity credential: %w", err)
		}
		assertion := func(ctx context.Context) (string, error) {
			tok, err := mi.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"api://AzureADTokenExchange/.default"}})
			return tok.Token, err
		}
		cred, err = azidentity.NewClientAssertionCredential(tenantID, getenv("GRAPH_APP_CLIENT_ID"), assertion, nil)
	case getenv("AZURE_FEDERATED_TOKEN_FILE") != "":
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{TenantID: tenantID})
	default:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{TenantID: tenantID})
	}
	if err != nil {
		return nil, fmt.Errorf("create credential for tenant %s: %w", tenantID, err)
	}
	return tenantGuard{cred: cred, tenantID: strings.ToLower(tenantID)}, nil
}

// tenantGuard checks the tid claim of every token it hands out.
type tenantGuard struct {
	cred     azcore.TokenCredential
	tenantID string
}

func (g tenantGuard) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := g.cred.GetToken(ctx, opts)
	if err != nil {
		return tok, err
	}
	tid, err := tokenTenant(tok.Token)
	if err != nil {
		// Without a readable tenant the token could be for any tenant;
		// Entra ID access tokens for Graph always carry tid.
		return azcore.AccessToken{}, fmt.Errorf("credential issued a token whose tenant cannot be read (%w), so it cannot be checked against the monitored tenant %s", err, g.tenantID)
	}
	if !strings.EqualFold(tid, g.tenantID) {
		return azcore.AccessToken{}, fmt.Errorf("credential issued a token for tenant %s, not the monitored tenant %s: configure a multi-tenant credential (see README)", tid, g.tenantID)
	}
	return tok, nil
}

// tokenTenant reads the tid claim of a JWT without verifying it (the
// resource server verifies). It fails when the token is not a JWT or has no
// tid; the error never quotes the token.
func tokenTenant(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("JWT payload is not base64url")
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return "", errors.New("JWT payload is not a JSON object of claims")
	}
	if claims.TID == "" {
		return "", errors.New("no tid claim")
	}
	return claims.TID, nil
}
