// Service Bus namespace (Standard) with one queue per Service Bus-triggered
// function. SAS keys are disabled: the webhook sends and the Functions host
// receives with the user-assigned identity.

@description('Namespace name: 6-50 letters, digits and hyphens, starting with a letter, globally unique.')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the namespace.')
param tags object = {}

@description('Object (principal) id of the managed identity that sends and receives.')
param principalId string

// Every queueName of a serviceBusTrigger in functions/*/function.json. The
// webhook (POST /api/notifications) sends to "notifications" and
// ProcessChangeNotification is triggered from it; the timers fan their work
// out per tenant on "tenantwork" and RunTenantWork is triggered from it;
// response actions and incident notices (and their retries, scheduled)
// travel on "responseactions" to ExecuteResponse.
// infra/infra_test.go checks this list against the bindings.
var queueNames = [
  'notifications'
  'tenantwork'
  'responseactions'
]

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [for queueName in queueNames: {
  parent: namespace
  name: queueName
  properties: {
    // Equal to queue.MaxDeliveryCount in shared/queue/queue.go: after this
    // many failed deliveries Service Bus dead-letters the message, exactly as
    // the in-process queue does standalone.
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    // Duplicate detection cannot be switched on for an existing queue; the
    // webhook sets MessageId to a dedupe key so Graph retries collapse, and
    // the timers set it to job|tenant|period so a second firing collapses.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    requiresSession: false
    enablePartitioning: false
  }
}]

// Azure Service Bus Data Sender + Data Receiver, each scoped to the queue
// (not the namespace): the identity can send to and receive from these queues
// and nothing else. Data Owner (manage rights) is deliberately not granted; the
// scale controller then estimates queue length by peeking instead of reading
// runtime properties, which only makes scale-out less precise.
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var serviceBusDataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'

resource queueSenders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (queueName, i) in queueNames: {
  name: guid(queues[i].id, principalId, serviceBusDataSender)
  scope: queues[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

resource queueReceivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (queueName, i) in queueNames: {
  name: guid(queues[i].id, principalId, serviceBusDataReceiver)
  scope: queues[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

output name string = namespace.name
// serviceBusEndpoint is https://NAME.servicebus.windows.net:443/ (other suffix
// in national clouds); the trigger and the Go SDK want the bare host name.
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output queueNames array = queueNames
