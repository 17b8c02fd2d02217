// m365security: everything the Function App needs, in the deploying
// organisation's own subscription. Two user-assigned managed identities: the
// collector (Azure resources and Graph reads) and the responder (Graph writes
// and mail only). Least-privilege role assignments; no account keys, SAS keys
// or keyed connection strings are created or read.
//
//   azd up                                   (azure.yaml; provisions and deploys)
//   az deployment group create -g RG -f infra/main.bicep -p tenantIds='["<tenant-guid>"]'
//
// Needs Bicep CLI 0.36.1 or later (Microsoft Graph extension, fail()). With
// grantGraphPermissions (default) the deployer also needs Privileged Role
// Administrator (or Global Administrator) in the tenant; with consoleSignIn
// (default) the right to create app registrations. See infra/README.md.

targetScope = 'resourceGroup'

@description('Short prefix for resource names: 2-11 lowercase letters, digits or hyphens, starting with a letter, not ending with a hyphen, no two hyphens in a row (the Key Vault and storage names derived from it must be valid).')
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

@description('Mailbox (UPN or object id) that sends reports and incident notifications (MAIL_SENDER). Empty: nothing is mailed. Scope the responder\'s Mail.Send to it with infra/scripts/restrict-mail-send.ps1.')
param mailSender string = ''

@description('Default report recipients for tenants whose settings name none (REPORT_RECIPIENTS).')
param reportRecipients string[] = []

@description('Default incident-notification recipients (INCIDENT_RECIPIENTS).')
param incidentRecipients string[] = []

@description('host:port of the DNS server for the mail-domain checks (DNS_RESOLVER). Empty: the platform resolver.')
param dnsResolver string = ''

@description('https base URL at which Graph reaches the notification routes (PUBLIC_BASE_URL), e.g. behind a custom domain. Empty: the handler uses https://$WEBSITE_HOSTNAME.')
param publicBaseUrl string = ''

@description('Grant the Microsoft Graph application permissions to both identities in this (home) tenant. Needs Privileged Role Administrator or Global Administrator; false leaves it to infra/graph-permissions.bicep run by someone who holds it.')
param grantGraphPermissions bool = true

@description('Scope the responder\'s Mail.Send to MAIL_SENDER with Exchange Online RBAC for Applications (infra/scripts/restrict-mail-send.ps1) instead of granting it tenant-wide in Entra ID. A tenant-wide Entra grant would defeat the scoping, so with true Bicep does not grant Mail.Send.')
param scopeMailSendWithExchange bool = true

@description('Require Entra ID sign-in (App Service Authentication) for the console and the API, except the Graph notification routes and the health probe, and set AUTH=appservice. Creates an app registration (needs the right to register applications).')
param consoleSignIn bool = true

@description('Tags applied to every resource.')
param tags object = {}

// namePrefix feeds every name below. Bicep has no pattern decorator, so the
// pattern is checked here and a bad prefix stops the deployment with one
// clear line, before any resource is created: Key Vault names allow only
// letters, digits and single hyphens and must end in a letter or digit;
// storage names only lowercase letters and digits; Cosmos DB names only
// lowercase letters, digits and hyphens.
var lowercaseLetters = 'abcdefghijklmnopqrstuvwxyz'
var nameChars = '${lowercaseLetters}0123456789-'
var badPrefixChars = filter(map(range(0, length(namePrefix)), i => substring(namePrefix, i, 1)), c => !contains(nameChars, c))
var namePrefixValid = empty(badPrefixChars) && contains(lowercaseLetters, first(namePrefix)) && !endsWith(namePrefix, '-') && !contains(namePrefix, '--')
var prefix = namePrefixValid ? namePrefix : fail('namePrefix \'${namePrefix}\' is invalid: use 2-11 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen')

var suffix = uniqueString(resourceGroup().id, prefix)
// infra/infra_test.go checks the longest names these give against each
// resource's limit (Key Vault 24, storage 24, Cosmos 44, Service Bus 50, site 60).
var names = {
  identity: '${prefix}-id-${suffix}'
  responderIdentity: '${prefix}-resp-${suffix}'
  logAnalytics: '${prefix}-log-${suffix}'
  appInsights: '${prefix}-appi-${suffix}'
  storage: take(toLower(replace('${prefix}${suffix}', '-', '')), 24)
  deploymentContainer: 'app-package'
  keyVault: '${prefix}-kv-${take(suffix, 8)}'
  cosmos: '${prefix}-cosmos-${suffix}'
  serviceBus: '${prefix}-sb-${suffix}'
  plan: '${prefix}-plan-${suffix}'
  functionApp: '${prefix}-func-${suffix}'
}

// The collector: the host's storage, Service Bus, Key Vault reference,
// telemetry, Cosmos DB, and Graph reads (AZURE_CLIENT_ID).
module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

// The responder: Graph writes and sendMail only (RESPONDER_CLIENT_ID). It
// holds no Azure role at all.
module responderIdentity 'modules/identity.bicep' = {
  name: 'responderIdentity'
  params: {
    name: names.responderIdentity
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
    responderIdentityId: responderIdentity.outputs.id
    responderClientId: responderIdentity.outputs.clientId
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
    mailSender: mailSender
    reportRecipients: reportRecipients
    incidentRecipients: incidentRecipients
    dnsResolver: dnsResolver
    publicBaseUrl: publicBaseUrl
    consoleSignIn: consoleSignIn
  }
}

// Graph application permissions for both identities, in this tenant.
module graphPermissions 'graph-permissions.bicep' = if (grantGraphPermissions) {
  name: 'graphPermissions'
  params: {
    collectorPrincipalId: identity.outputs.principalId
    responderPrincipalId: responderIdentity.outputs.principalId
    scopeMailSendWithExchange: scopeMailSendWithExchange
  }
}

// Console sign-in: an Entra app registration (Graph extension) and App
// Service Authentication on the site. The app settings above already say
// AUTH=appservice when consoleSignIn is on; on a first deployment the site
// has no code yet when they land, and on later ones authentication is
// already on, so the principal header is never trusted unprotected.
module signIn 'modules/signin.bicep' = if (consoleSignIn) {
  name: 'signIn'
  params: {
    appName: functionApp.outputs.name
    defaultHostName: functionApp.outputs.defaultHostName
    uniqueName: '${prefix}-console-${suffix}'
    grantSignInConsent: grantGraphPermissions
  }
}

output functionAppName string = functionApp.outputs.name
output functionAppHostName string = functionApp.outputs.defaultHostName
output notificationUrl string = 'https://${functionApp.outputs.defaultHostName}/api/notifications'
output lifecycleNotificationUrl string = 'https://${functionApp.outputs.defaultHostName}/api/notifications/lifecycle'
@description('Pass this to infra/graph-permissions.bicep as collectorPrincipalId (home tenant).')
output identityPrincipalId string = identity.outputs.principalId
output identityClientId string = identity.outputs.clientId
@description('Pass this to infra/graph-permissions.bicep as responderPrincipalId, and to infra/scripts/restrict-mail-send.ps1.')
output responderPrincipalId string = responderIdentity.outputs.principalId
@description('RESPONDER_CLIENT_ID; the AppId infra/scripts/restrict-mail-send.ps1 needs.')
output responderClientId string = responderIdentity.outputs.clientId
@description('Client id of the console sign-in app registration (empty when consoleSignIn is off); assign people its Responder.Approve role.')
output consoleAppClientId string = consoleSignIn ? signIn.outputs.clientId : ''
output identityResourceId string = identity.outputs.id
output identityTenantId string = identity.outputs.tenantId
output cosmosEndpoint string = cosmos.outputs.endpoint
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output keyVaultName string = keyVault.outputs.name
output storageAccountName string = storage.outputs.name
