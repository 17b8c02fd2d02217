// The Function App: Flex Consumption (FC1, Linux) running the Go custom
// handler, with two user-assigned identities. The collector reaches host
// storage, the deployment package container, Application Insights, the
// Service Bus trigger, the Key Vault reference, and - inside the handler via
// AZURE_CLIENT_ID - Graph reads, Cosmos DB and the Service Bus sender. The
// responder (RESPONDER_CLIENT_ID) is used by the handler for Graph writes and
// sendMail only, and holds no Azure role.
//
// Why Flex Consumption and not Linux Consumption (Y1): Flex supports the
// custom-handler runtime (functionAppConfig.runtime name 'custom', version
// '1.0'), runs the deployment package from a blob container reached with a
// managed identity, and so works with shared-key access disabled on storage.
// On Y1, az functionapp deployment source config-zip uploads the package with
// the storage account key, which this deployment does not allow. Microsoft
// also recommends Flex over Linux Consumption for new serverless apps.

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the Function App (the *.azurewebsites.net host name).')
param appName string

@description('Azure region (must offer Flex Consumption: az functionapp list-flexconsumption-locations).')
param location string

@description('Tags applied to the plan and the app.')
param tags object = {}

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client (application) id of the user-assigned managed identity.')
param identityClientId string

@description('Resource id of the responder identity (Graph writes and mail).')
param responderIdentityId string

@description('Client id of the responder identity (RESPONDER_CLIENT_ID).')
param responderClientId string

@description('Name of the storage account used as AzureWebJobsStorage.')
param storageAccountName string

@description('URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Microsoft 365 tenant ids to monitor (M365_TENANTS).')
param tenantIds string[]

@description('Graph root without version (GRAPH_ENDPOINT); empty keeps the handler default https://graph.microsoft.com.')
param graphEndpoint string = ''

@description('Cosmos DB account endpoint (COSMOS_ENDPOINT).')
param cosmosEndpoint string

@description('Cosmos DB database name (COSMOS_DATABASE).')
param cosmosDatabaseName string

@description('Service Bus namespace host name, e.g. NAME.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Key Vault holding NOTIFICATION_CLIENT_STATE.')
param keyVaultName string

@description('Name of the NOTIFICATION_CLIENT_STATE secret in that vault.')
param notificationClientStateSecretName string

@description('Upper bound of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Always-ready instances for the HTTP group (0 = scale to zero; 1 avoids cold starts against Graph\'s 3 s notification and 10 s validation deadlines, at a standing cost).')
@minValue(0)
param httpAlwaysReady int = 0

@description('MAIL_SENDER: mailbox that sends reports and notifications; empty mails nothing.')
param mailSender string = ''

@description('REPORT_RECIPIENTS defaults.')
param reportRecipients string[] = []

@description('INCIDENT_RECIPIENTS defaults.')
param incidentRecipients string[] = []

@description('DNS_RESOLVER (host:port); empty uses the platform resolver.')
param dnsResolver string = ''

@description('PUBLIC_BASE_URL; empty lets the handler use https://$WEBSITE_HOSTNAME.')
param publicBaseUrl string = ''

@description('App Service Authentication is configured on this app (modules/signin.bicep): AUTH=appservice.')
param consoleSignIn bool = true

@description('azd finds the app to deploy to by this tag (azure.yaml service name).')
param azdServiceName string = 'handler'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

// Every app setting the handler needs in Azure (handler/config.go settings;
// infra/infra_test.go checks the list). FUNCTIONS_WORKER_RUNTIME is not here:
// Flex Consumption rejects it as an app setting, functionAppConfig.runtime
// (name 'custom') below takes its place. QUEUE and LOCAL_SCHEDULER are set
// explicitly so the handler sends to Service Bus and never runs its standalone
// timer scheduler, whether or not the platform exports FUNCTIONS_WORKER_RUNTIME
// to the process.
var coreAppSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  AZURE_CLIENT_ID: identityClientId
  M365_TENANTS: join(tenantIds, ',')
  GRAPH_AUTH: 'azure'
  DEMO: '0'
  STORE: 'cosmos'
  COSMOS_ENDPOINT: cosmosEndpoint
  COSMOS_DATABASE: cosmosDatabaseName
  QUEUE: 'servicebus'
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId
  LOCAL_SCHEDULER: 'off'
  NOTIFICATION_CLIENT_STATE: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${notificationClientStateSecretName})'
  RESPONDER_CLIENT_ID: responderClientId
  // Empty values are read as unset by the handler (CONTRACT section 2).
  PUBLIC_BASE_URL: publicBaseUrl
  MAIL_SENDER: mailSender
  REPORT_RECIPIENTS: join(reportRecipients, ',')
  INCIDENT_RECIPIENTS: join(incidentRecipients, ',')
  DNS_RESOLVER: dnsResolver
  // appservice only together with App Service Authentication (signin.bicep),
  // which strips a client's own X-MS-CLIENT-PRINCIPAL header.
  AUTH: consoleSignIn ? 'appservice' : 'none'
  // The console answers the site root (functions/Console, route {*path});
  // without this the host's own landing page would.
  AzureWebJobsDisableHomepage: 'true'
}

// GRAPH_ENDPOINT only when the deployer overrides the Graph root.
var graphEndpointSetting = {
  GRAPH_ENDPOINT: graphEndpoint
}
var optionalAppSettings = empty(graphEndpoint) ? {} : graphEndpointSetting

var appSettings = union(coreAppSettings, optionalAppSettings)

var httpAlwaysReadyConfig = [
  {
    name: 'http'
    instanceCount: httpAlwaysReady
  }
]

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': azdServiceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
      '${responderIdentityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (the app
    // has no system-assigned one).
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: httpAlwaysReady > 0 ? httpAlwaysReadyConfig : []
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// No FTP or Kudu basic-auth publishing credentials: az functionapp deployment
// source config-zip on Flex Consumption publishes with the caller's Entra ID
// token.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output id string = app.id
