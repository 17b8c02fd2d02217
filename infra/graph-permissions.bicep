// Microsoft Graph application permissions (app roles) for the m365security
// service principal, granted with the Microsoft Graph Bicep extension
// (extension alias configured in infra/bicepconfig.json).
//
// Deploy it separately from main.bicep: creating app role assignments on
// Microsoft Graph needs a deployer with a Graph-privileged Entra role
// (Privileged Role Administrator or Global Administrator) in the tenant the
// deployment runs in. Run it once per monitored tenant, in that tenant:
//   - home tenant: principalObjectId = main.bicep output identityPrincipalId
//     (the user-assigned managed identity's service principal);
//   - any other tenant: principalObjectId = the object id of the service
//     principal that represents the product there (see README, multi-tenant).
//
//   az deployment group create -g RG -f infra/graph-permissions.bicep -p principalObjectId=<object id>
//
// Read-only, least privilege: exactly the permissions the collectors in
// shared/collect use (README table "Microsoft Graph permissions";
// infra/infra_test.go keeps the two lists equal).

extension microsoftGraphV1

@description('Object id of the service principal that receives the Graph app roles.')
param principalObjectId string

// Granted: read permissions of the collectors (CollectIdentity, CollectDevices,
// CollectSecureScore, CollectBackup).
var graphReadPermissions = [
  'User.Read.All'
  'AuditLog.Read.All'
  'Policy.Read.All'
  'GroupMember.Read.All'
  'RoleManagement.Read.Directory'
  'Domain.Read.All'
  'IdentityRiskyUser.Read.All'
  'DeviceManagementManagedDevices.Read.All'
  'SecurityEvents.Read.All'
  'BackupRestore-Control.Read.All'
  'BackupRestore-Configuration.Read.All'
  'Application.Read.All'
  'PrivilegedEligibilitySchedule.Read.AzureADGroup'
  'LicenseAssignment.Read.All'
]

// OPT-IN, NOT GRANTED. Write permissions the future responders will need.
// Review each with the tenant's security owner before enabling; to opt in,
// add the chosen values to graphReadPermissions above (and to the README
// table) - nothing in this file grants them today.
//
//   'User.RevokeSessions.All'                                 POST /users/{id}/revokeSignInSessions
//   'User.EnableDisableAccount.All'                           PATCH /users/{id} {"accountEnabled": false}
//   'IdentityRiskyUser.ReadWrite.All'                         POST /identityProtection/riskyUsers/confirmCompromised, /dismiss
//   'DeviceManagementManagedDevices.PrivilegedOperations.All' POST /deviceManagement/managedDevices/{id}/retire, /wipe, /remoteLock
//   'SecurityAlert.ReadWrite.All'                             PATCH /security/alerts_v2/{id}
//   'SecurityIncident.ReadWrite.All'                          PATCH /security/incidents/{id}
//   'Mail.ReadWrite'                                          DELETE or move /users/{id}/messages/{id}
//   'Mail.Send'                                               POST /users/{id}/sendMail (report mailer; scope it with Exchange RBAC for Applications)
//
// Future alert ingestion would also need the read-only 'SecurityAlert.Read.All'
// (GET /security/alerts_v2) and 'SecurityIncident.Read.All' (GET /security/incidents).

// Microsoft Graph's own service principal, found by its well-known appId.
resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

var graphAppRoles = graph.appRoles

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for permission in graphReadPermissions: {
  appRoleId: filter(graphAppRoles, role => role.value == permission)[0].id
  principalId: principalObjectId
  resourceId: graph.id
}]

output grantedPermissions array = graphReadPermissions
