// m365security: everything the Function App needs, in the deploying
// organisation's own subscription, reached with one user-assigned managed
// identity and least-privilege role assignments. No account keys, SAS keys or
// keyed connection strings are created or read.
//
//   az deployment group create -g RG -f infra/main.bicep -p tenantIds='["<tenant-guid>"]'
//
// Microsoft Graph application permissions are granted separately by
// infra/graph-permissions.bicep (it needs a Graph-privileged deployer). See
// infra/README.md.

targetScope = 'resourceGroup'

@description('Short prefix for resource names: 2-11 lowercase letters, digits or hyphens, starting with a letter.')
@minLength(2)
@maxLength(11)
param namePrefix string = 'm365sec'

@description('Azure region for every resource. It must offer Flex Consumption and serverless Cosmos DB.')
param location string = resourceGroup().location

@description('Microsoft 365 tenant ids (GUIDs) to monitor; becomes M365_TENANTS. With the managed identity alone only the identity\'s home tenant can be read (see README, multi-tenant).')
@minLength(1)
param tenantIds string[] = [
  tenant().tenantId
]

@description('Secret Graph echoes in every change notification (NOTIFICATION_CLIENT_STATE), 16-128 characters. Stored in Key Vault only.')
@secure()
@minLength(16)
@maxLength(128)
param notificationClientState string

@description('Optional Graph root without version (GRAPH_ENDPOINT), e.g. https://graph.microsoft.us. Empty keeps https://graph.microsoft.com.')
param graphEndpoint string = ''

@description('Upper bound of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Always-ready instances for the HTTP functions (0 scales to zero).')
@minValue(0)
param httpAlwaysReady int = 0

@description('Tags applied to every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id, namePrefix)
var names = {
  identity: '${namePrefix}-id-${suffix}'
  logAnalytics: '${namePrefix}-log-${suffix}'
  appInsights: '${namePrefix}-appi-${suffix}'
  storage: take(toLower(replace('${namePrefix}${suffix}', '-', '')), 24)
  deploymentContainer: 'app-package'
  keyVault: '${namePrefix}-kv-${take(suffix, 8)}'
  cosmos: '${namePrefix}-cosmos-${suffix}'
  serviceBus: '${namePrefix}-sb-${suffix}'
  plan: '${namePrefix}-plan-${suffix}'
  functionApp: '${namePrefix}-func-${suffix}'
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    deploymentContainerName: names.deploymentContainer
    principalId: identity.outputs.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    notificationClientState: notificationClientState
    principalId: identity.outputs.principalId
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: names.cosmos
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'serviceBus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

// Takes outputs of every module above, so it starts only once their role
// assignments exist (Entra ID can still take a few minutes to propagate them;
// the host retries).
module functionApp 'modules/functionapp.bicep' = {
  name: 'functionApp'
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    tenantIds: tenantIds
    graphEndpoint: graphEndpoint
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    keyVaultName: keyVault.outputs.name
    notificationClientStateSecretName: keyVault.outputs.secretName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpAlwaysReady: httpAlwaysReady
  }
}

output functionAppName string = functionApp.outputs.name
output functionAppHostName string = functionApp.outputs.defaultHostName
output notificationUrl string = 'https://${functionApp.outputs.defaultHostName}/api/notifications'
output lifecycleNotificationUrl string = 'https://${functionApp.outputs.defaultHostName}/api/notifications/lifecycle'
@description('Pass this to infra/graph-permissions.bicep as principalObjectId (home tenant).')
output identityPrincipalId string = identity.outputs.principalId
output identityClientId string = identity.outputs.clientId
output identityResourceId string = identity.outputs.id
output identityTenantId string = identity.outputs.tenantId
output cosmosEndpoint string = cosmos.outputs.endpoint
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output keyVaultName string = keyVault.outputs.name
output storageAccountName string = storage.outputs.name
