// Key Vault in RBAC mode holding NOTIFICATION_CLIENT_STATE, the secret Graph
// echoes in every change notification. The Function App reads it through an
// app-setting Key Vault reference resolved with the user-assigned identity
// (site property keyVaultReferenceIdentity), so the value never sits in the
// app's configuration.

@description('Key Vault name: 3-24 letters, digits and hyphens, starting with a letter.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object = {}

@description('Value of NOTIFICATION_CLIENT_STATE (Graph clientState, at most 128 characters).')
@secure()
@minLength(16)
@maxLength(128)
param notificationClientState string

@description('Object (principal) id of the managed identity that reads the secret.')
param principalId string

@description('Secret name (Key Vault names allow letters, digits and hyphens).')
param secretName string = 'notification-client-state'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: {
    value: notificationClientState
    contentType: 'text/plain'
  }
}

// Key Vault Secrets User scoped to this one secret (not the vault): the
// identity can read NOTIFICATION_CLIENT_STATE and nothing else stored here.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource secretReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(secret.id, principalId, keyVaultSecretsUser)
  scope: secret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
output secretName string = secret.name
