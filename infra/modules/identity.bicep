// User-assigned managed identity: the one principal the Function App, the
// Functions host (storage, Service Bus trigger, Key Vault references) and the
// handler binary (Graph, Cosmos DB, Service Bus sender) authenticate as.
// A user-assigned identity outlives the app, so its Graph app-role grants and
// RBAC assignments survive a redeploy of the Function App.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
output tenantId string = identity.properties.tenantId
