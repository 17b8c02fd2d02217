package graph

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"
)

type fixedToken string

func (f fixedToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(f)}, nil
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(payload)) + ".sig"
}

func TestTenantGuard(t *testing.T) {
	const mine = "11111111-2222-4333-8444-555555555555"
	cases := []struct {
		name  string
		token string
		ok    bool
	}{
		{"a token for the monitored tenant passes", jwt(`{"tid":"` + mine + `"}`), true},
		{"a token for another tenant is refused", jwt(`{"tid":"99999999-2222-4333-8444-555555555555"}`), false},
		{"tenant ids compare case-insensitively", jwt(`{"tid":"11111111-2222-4333-8444-555555555555"}`), true},
		{"an opaque token is refused", "opaque-token", false},
		{"a JWT without a tid claim is refused", jwt(`{"aud":"https://graph.microsoft.com"}`), false},
		{"a JWT with an empty tid is refused", jwt(`{"tid":""}`), false},
		{"a JWT whose payload is not base64url is refused", "a.%%%.c", false},
		{"a JWT whose payload is not JSON is refused", "a." + base64.RawURLEncoding.EncodeToString([]byte("tid")) + ".c", false},
		{"a JWT whose tid is not a string is refused", jwt(`{"tid":42}`), false},
		{"a token of four segments is refused", jwt(`{"tid":"`+mine+`"}`) + ".x", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := tenantGuard{cred: fixedToken(tc.token), tenantID: mine}
			_, err := g.GetToken(context.Background(), policy.TokenRequestOptions{})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, "monitored tenant")
			require.NotContains(t, err.Error(), tc.token, "the token never reaches an error")
		})
	}
}

func TestTenantCredentialPicksThePerTenantFlow(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := TenantCredential("11111111-2222-4333-8444-555555555555", env(map[string]string{"AZURE_CLIENT_ID": "app", "AZURE_CLIENT_SECRET": "s"}))
	require.NoError(t, err)
	require.IsType(t, tenantGuard{}, c)
	_, err = TenantCredential("11111111-2222-4333-8444-555555555555", env(map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent.pem"}))
	require.ErrorContains(t, err, "AZURE_CLIENT_CERTIFICATE_PATH")
}
