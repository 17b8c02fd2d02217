// Microsoft Graph application permissions (app roles) for the two
// m365security identities, granted with the Microsoft Graph Bicep extension
// (extension alias configured in infra/bicepconfig.json; Bicep CLI 0.36.1 or
// later). The Graph extension works in the public cloud only.
//
// main.bicep runs it for the home tenant (grantGraphPermissions). It can also
// run on its own, e.g. by someone holding Privileged Role Administrator or
// Global Administrator when the infrastructure deployer does not, or in
// another tenant for the service principals of the multi-tenant apps there
// (see README, customer tenants; infra/scripts/grant-customer-tenant.sh does
// the same with the Azure CLI):
//
//   az deployment group create -g RG -f infra/graph-permissions.bicep \
//     -p collectorPrincipalId=<object id> responderPrincipalId=<object id>
//
// Least privilege, two identities:
//   - the collector gets exactly the read permissions the collector catalogue
//     declares (collect.Catalogue() in shared/collect), nothing that writes;
//   - the responder gets exactly the permissions the typed Graph writes
//     declare (graph.WritePermissions() in shared/graph), nothing else.
// infra/infra_test.go keeps both lists equal to the code, the README tables
// in step, and states why a permission may sit on both.

extension microsoftGraphV1

@description('Object id of the collector\'s service principal (main.bicep output identityPrincipalId).')
param collectorPrincipalId string

@description('Object id of the responder\'s service principal (main.bicep output responderPrincipalId). Empty grants the collector only.')
param responderPrincipalId string = ''

@description('Leave Mail.Send out of the Entra ID grants: it is granted, scoped to MAIL_SENDER, by Exchange Online RBAC for Applications (infra/scripts/restrict-mail-send.ps1). A tenant-wide Entra grant would let the responder send as every mailbox, whatever Exchange scopes.')
param scopeMailSendWithExchange bool = true

// The collector's read permissions (CollectIdentity, CollectDevices,
// CollectSecureScore, CollectBackup, and every area collect.Areas() adds).
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

// The responder's permissions: every Graph write (response actions,
// subscriptions, sendMail) runs as RESPONDER_CLIENT_ID, so the collector
// above stays read-only. Notes: User-PasswordProfile.ReadWrite.All also needs
// the User Administrator Entra role; Mail.Send is scoped to the sender with
// Exchange Online RBAC for Applications (scopeMailSendWithExchange); the
// subscriptions need the read permission of the subscribed resource
// (User.Read.All, Group.Read.All) on the responder, because Graph lists and
// renews an app's subscriptions for that app only - which is why User.Read.All
// sits on both identities (infra_test.go, sharedPermissions).
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

// Permissions granted only through Exchange Online RBAC for Applications
// when scopeMailSendWithExchange is on.
var exchangeScopedPermissions = [
  'Mail.Send'
]

var responderEntraPermissions = empty(responderPrincipalId) ? [] : (scopeMailSendWithExchange ? filter(responderPermissions, p => !contains(exchangeScopedPermissions, p)) : responderPermissions)

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for permission in graphReadPermissions: {
  appRoleId: filter(graphAppRoles, role => role.value == permission)[0].id
  principalId: collectorPrincipalId
  resourceId: graph.id
}]

resource responderGrants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for permission in responderEntraPermissions: {
  appRoleId: filter(graphAppRoles, role => role.value == permission)[0].id
  principalId: responderPrincipalId
  resourceId: graph.id
}]

output grantedPermissions array = graphReadPermissions

@description('Granted to the responder in Entra ID by this deployment.')
output responderGrantedPermissions array = responderEntraPermissions

@description('To grant with Exchange Online RBAC for Applications (infra/scripts/restrict-mail-send.ps1), scoped to MAIL_SENDER.')
output exchangeScopedPermissions array = scopeMailSendWithExchange ? exchangeScopedPermissions : []
