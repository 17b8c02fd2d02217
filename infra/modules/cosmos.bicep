// Cosmos DB for NoSQL, serverless, keys disabled (Entra ID only).
// One container per store kind (shared/store/store.go Kinds), partitioned by
// /tenantId, TTL on with no default (items opt in with a "ttl" field), bodies
// not indexed, and the composite indexes that ORDER BY c.time, c.id needs -
// the same definition as containerProperties in shared/store/cosmos.
//
// The containers are pre-created here on purpose. The handler's Cosmos client
// reads each container and only creates it when it is missing; with these in
// place its create calls never run. That matters because the identity holds a
// data-plane role only, and Entra ID data-plane roles cannot create databases
// or containers (the store reports a 403 with a hint to provision them in
// infrastructure) - which is fine, and least privilege.

@description('Cosmos DB account name: 3-44 lowercase letters, digits and hyphens, globally unique.')
@minLength(3)
@maxLength(44)
param name string

@description('Azure region (serverless accounts have a single region).')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('SQL database name; the handler default (COSMOS_DATABASE) is m365security.')
param databaseName string = 'm365security'

@description('Object (principal) id of the managed identity that reads and writes documents.')
param principalId string

// Must list every store kind: infra/infra_test.go compares it with store.Kinds.
var containerNames = [
  'snapshots'
  'incidents'
  'exceptions'
  'restoreTests'
  'subscriptions'
  'parked'
  'state'
  'history'
  'sentReports'
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for containerName in containerNames: {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      partitionKey: {
        paths: [
          '/tenantId'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
      indexingPolicy: {
        automatic: true
        indexingMode: 'consistent'
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/body/*'
          }
          {
            path: '/"_etag"/?'
          }
        ]
        compositeIndexes: [
          [
            {
              path: '/time'
              order: 'ascending'
            }
            {
              path: '/id'
              order: 'ascending'
            }
          ]
          [
            {
              path: '/time'
              order: 'descending'
            }
            {
              path: '/id'
              order: 'descending'
            }
          ]
        ]
      }
    }
  }
}]

// Cosmos DB Built-in Data Contributor (data plane: read account metadata, read
// and write items, query). It grants no control-plane rights: no keys, no
// account, database or container management.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, principalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: principalId
    scope: account.id
  }
  dependsOn: [
    containers
  ]
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
