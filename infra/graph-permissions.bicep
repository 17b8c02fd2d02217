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
// Read-only, least privilege: exactly the permissions the collector catalogue
// in shared/collect declares (collect.Catalogue(); README table "Microsoft
// Graph permissions"; infra/infra_test.go keeps the three equal).

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

// NOT GRANTED HERE: the responder identity's permissions. Every Graph write
// (response actions, subscriptions, sendMail) uses a separate identity,
// RESPONDER_CLIENT_ID, so the collector identity above stays read-only. This
// list is exactly what shared/graph declares for its write operations
// (graph.WritePermissions(); infra/infra_test.go keeps the two equal and the
// README table in step). Provisioning that second identity and granting these
// to it is a later infra step; until then the handler refuses every write.
// Notes: User-PasswordProfile.ReadWrite.All also needs the User Administrator
// Entra role; Mail.Send should be scoped to the sender mailbox with Exchange
// Online RBAC for Applications; the subscriptions need the read permission of
// the subscribed resource (User.Read.All, Group.Read.All) on the responder,
// because Graph lists and renews an app's subscriptions for that app only.
var responderPermissions = [
  'User.RevokeSessions.All'
  'User.EnableDisableAccount.All'
  'User.Read.All'
  'User-PasswordProfile.ReadWrite.All'
  'IdentityRiskyUser.ReadWrite.All'
  'MailboxSettings.ReadWrite'
  'SecurityAnalyzedMessage.ReadWrite.All'
  'DeviceManagementManagedDevices.PrivilegedOperations.All'
  'SecurityAlert.ReadWrite.All'
  'Group.Read.All'
  'Mail.Send'
]

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

@description('For the responder identity (RESPONDER_CLIENT_ID); not granted by this deployment.')
output responderPermissionsToGrant array = responderPermissions
