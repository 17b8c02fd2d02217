package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

const tenantA = "11111111-2222-4333-8444-555555555555"

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(env("DEMO", "1"))
	require.NoError(t, err)
	require.Equal(t, 7071, c.Port)
	require.Equal(t, "none", c.GraphAuth, "the demo tenant takes no token")
	require.Equal(t, "embedded", c.Store)
	require.Equal(t, "./data/store.db", c.StorePath)
	require.Equal(t, "inprocess", c.Queue)
	require.Equal(t, "m365security", c.CosmosDatabase)
	require.True(t, c.LocalScheduler)
	require.False(t, c.Hosted)
	require.Empty(t, c.ResponderClientID, "no responder unless configured: writes are refused")

	c, err = loadConfig(env("M365_TENANTS", tenantA, "NOTIFICATION_CLIENT_STATE", "s3cret", "FUNCTIONS_WORKER_RUNTIME", "custom",
		"ServiceBusConnection__fullyQualifiedNamespace", "sb.servicebus.windows.net"))
	require.NoError(t, err)
	require.Equal(t, "https://graph.microsoft.com", c.GraphEndpoint)
	require.Equal(t, "azure", c.GraphAuth)
	require.Equal(t, "servicebus", c.Queue, "under the Functions host the queue is Service Bus")
	require.True(t, c.Hosted)

	c, err = loadConfig(env("DEMO", "1", "RESPONDER_CLIENT_ID", " AAAAAAAA-2222-4333-8444-555555555555 "))
	require.NoError(t, err)
	require.Equal(t, "aaaaaaaa-2222-4333-8444-555555555555", c.ResponderClientID)
}

func TestLoadConfigRejects(t *testing.T) {
	base := []string{"M365_TENANTS", tenantA, "NOTIFICATION_CLIENT_STATE", "s3cret"}
	cases := []struct {
		name    string
		env     []string
		setting string
	}{
		{"a port that is not a number", []string{"FUNCTIONS_CUSTOMHANDLER_PORT", "http"}, "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{"an unresolved Key Vault reference as the client state", []string{"NOTIFICATION_CLIENT_STATE", "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/cs/)"}, "NOTIFICATION_CLIENT_STATE"},
		{"an unresolved Key Vault reference in lower case", []string{"COSMOS_KEY", " @microsoft.keyvault(VaultName=kv;SecretName=k)"}, "COSMOS_KEY"},
		{"a port out of range", []string{"FUNCTIONS_CUSTOMHANDLER_PORT", "70000"}, "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{"a tenant that is not a GUID", []string{"M365_TENANTS", "contoso.onmicrosoft.com"}, "M365_TENANTS"},
		{"a tenant listed twice", []string{"M365_TENANTS", tenantA + "," + strings.ToUpper(tenantA)}, "M365_TENANTS"},
		{"no tenants outside demo mode", []string{"M365_TENANTS", ""}, "M365_TENANTS"},
		{"GRAPH_AUTH none against Microsoft Graph", []string{"GRAPH_AUTH", "none"}, "GRAPH_ENDPOINT"},
		{"GRAPH_AUTH none against a remote simulator", []string{"GRAPH_AUTH", "none", "GRAPH_ENDPOINT", "http://10.1.2.3:8080"}, "GRAPH_ENDPOINT"},
		{"a Graph endpoint with the version in it", []string{"GRAPH_ENDPOINT", "https://graph.microsoft.com/v1.0"}, "GRAPH_ENDPOINT"},
		{"azure auth over plain http", []string{"GRAPH_ENDPOINT", "http://graph.example.com"}, "GRAPH_ENDPOINT"},
		{"an unknown GRAPH_AUTH", []string{"GRAPH_AUTH", "token"}, "GRAPH_AUTH"},
		{"DEMO with an explicit Graph endpoint", []string{"DEMO", "1", "GRAPH_ENDPOINT", "https://graph.microsoft.com"}, "GRAPH_ENDPOINT"},
		{"DEMO with azure auth", []string{"DEMO", "1", "GRAPH_AUTH", "azure"}, "GRAPH_AUTH"},
		{"DEMO that is not 0 or 1", []string{"DEMO", "yes"}, "DEMO"},
		{"an unknown store", []string{"STORE", "sqlite"}, "STORE"},
		{"cosmos without an endpoint", []string{"STORE", "cosmos"}, "COSMOS_ENDPOINT"},
		{"cosmos over http", []string{"STORE", "cosmos", "COSMOS_ENDPOINT", "http://acct.documents.azure.com"}, "COSMOS_ENDPOINT"},
		{"service bus without a namespace", []string{"QUEUE", "servicebus"}, "ServiceBusConnection__fullyQualifiedNamespace"},
		{"an unknown queue", []string{"QUEUE", "kafka"}, "QUEUE"},
		{"a scheduler switch that is not on or off", []string{"LOCAL_SCHEDULER", "false"}, "LOCAL_SCHEDULER"},
		{"no client state outside demo mode", []string{"NOTIFICATION_CLIENT_STATE", ""}, "NOTIFICATION_CLIENT_STATE"},
		{"a client state over Graph's limit", []string{"NOTIFICATION_CLIENT_STATE", strings.Repeat("x", 129)}, "NOTIFICATION_CLIENT_STATE"},
		{"a responder client id that is not a GUID", []string{"RESPONDER_CLIENT_ID", "responder-app"}, "RESPONDER_CLIENT_ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kv := append(append([]string{}, base...), tc.env...)
			_, err := loadConfig(env(kv...))
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, 1, "one line per problem: %v", err)
			require.True(t, strings.HasPrefix(lines[0], tc.setting+": "), "the line names the setting: %q", lines[0])
		})
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := loadConfig(env("STORE", "x", "QUEUE", "y", "GRAPH_AUTH", "z"))
	require.Error(t, err)
	require.GreaterOrEqual(t, len(strings.Split(err.Error(), "\n")), 5)
}

func TestSecretsAreRedacted(t *testing.T) {
	c, err := loadConfig(env("M365_TENANTS", tenantA, "NOTIFICATION_CLIENT_STATE", "hunter2-client-state", "COSMOS_KEY", "c2VjcmV0a2V5"))
	require.NoError(t, err)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	out := string(b) + fmt.Sprint(c) + fmt.Sprintf("%v %+v", c, c)
	require.NotContains(t, out, "hunter2")
	require.NotContains(t, out, "c2VjcmV0a2V5")
	require.Equal(t, "hunter2-client-state", c.ClientState.Reveal())
}

func TestSampleSettingsListEverySetting(t *testing.T) {
	b, err := os.ReadFile("../local.settings.sample.json")
	require.NoError(t, err)
	var s struct {
		Values map[string]string `json:"Values"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	for _, name := range settingNames {
		_, ok := s.Values[name]
		require.True(t, ok, "local.settings.sample.json lacks %s", name)
	}
}
