<#
.SYNOPSIS
Scopes the m365security responder's Mail.Send to the one sender mailbox
(MAIL_SENDER) with Exchange Online RBAC for Applications.

.DESCRIPTION
Microsoft Graph's Mail.Send application permission, granted in Entra ID,
lets an app send as every mailbox of the organisation. Exchange Online RBAC
for Applications (which replaces Application Access Policies) grants it
instead for a management scope that holds only the sender mailbox:

  1. an Exchange service principal pointer to the responder's Entra service
     principal (New-ServicePrincipal);
  2. a management scope matching only MAIL_SENDER (New-ManagementScope);
  3. the role "Application Mail.Send" assigned to the responder for that
     scope (New-ManagementRoleAssignment);
  4. a check (Test-ServicePrincipalAuthorization) that the sender is in scope
     and another mailbox is not.

WARNING: grants are additive. If the responder also holds Mail.Send as a
tenant-wide Entra ID application permission (admin consent, or
graph-permissions.bicep with scopeMailSendWithExchange=false), it can still
send as every mailbox and this scoping changes nothing. The script refuses
to report success while such a grant exists; remove it (Entra admin centre,
Enterprise applications, the responder, Permissions) or rerun
grant-customer-tenant.sh with --revoke-extra.

Run it as an Exchange Administrator (or Organization Management) of the
tenant, with the ExchangeOnlineManagement module, and the Azure CLI signed in
to the same tenant for the Entra check. Changes can take from 30 minutes to
two hours to reach every Exchange server. Safe to run again.

.PARAMETER AppId
The responder's client id: main.bicep output responderClientId
(RESPONDER_CLIENT_ID), or the responder app registration's client id in a
customer tenant.

.PARAMETER ServicePrincipalObjectId
The object id of the responder's service principal in this tenant: main.bicep
output responderPrincipalId for the managed identity.

.PARAMETER Mailbox
MAIL_SENDER: the primary SMTP address (UPN) or the Entra object id of the
sending mailbox.

.PARAMETER OtherMailbox
A mailbox that must be out of scope, for the check. Optional.

.EXAMPLE
pwsh infra/scripts/restrict-mail-send.ps1 -AppId <responderClientId> -ServicePrincipalObjectId <responderPrincipalId> -Mailbox reports@contoso.com -OtherMailbox someone@contoso.com
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)][Guid] $AppId,
    [Parameter(Mandatory)][Guid] $ServicePrincipalObjectId,
    [Parameter(Mandatory)][string] $Mailbox,
    [string] $OtherMailbox = '',
    [string] $Name = 'm365security responder'
)

$ErrorActionPreference = 'Stop'
$GraphAppId = '00000003-0000-0000-c000-000000000000'

if (-not (Get-Command Get-ManagementScope -ErrorAction SilentlyContinue)) {
    Import-Module ExchangeOnlineManagement
    Connect-ExchangeOnline -ShowBanner:$false
}

# 1. The Exchange pointer to the Entra service principal.
$sp = Get-ServicePrincipal -Identity $AppId.ToString() -ErrorAction SilentlyContinue
if (-not $sp) {
    if ($PSCmdlet.ShouldProcess($AppId, 'New-ServicePrincipal')) {
        $sp = New-ServicePrincipal -AppId $AppId.ToString() -ObjectId $ServicePrincipalObjectId.ToString() -DisplayName $Name
    }
}

# 2. A scope holding the sender mailbox only. An object id matches
#    ExternalDirectoryObjectId; an address matches PrimarySmtpAddress.
$scopeName = "$Name mail sender"
$parsed = [Guid]::Empty
$isObjectId = [Guid]::TryParse($Mailbox, [ref]$parsed)
$filter = if ($isObjectId) { "ExternalDirectoryObjectId -eq '$Mailbox'" } else { "PrimarySmtpAddress -eq '$Mailbox'" }
$scope = Get-ManagementScope -Identity $scopeName -ErrorAction SilentlyContinue
if (-not $scope) {
    if ($PSCmdlet.ShouldProcess($scopeName, "New-ManagementScope $filter")) {
        $scope = New-ManagementScope -Name $scopeName -RecipientRestrictionFilter $filter
    }
} elseif ($scope.RecipientFilter -ne $filter) {
    if ($PSCmdlet.ShouldProcess($scopeName, "Set-ManagementScope $filter")) {
        Set-ManagementScope -Identity $scopeName -RecipientRestrictionFilter $filter
    }
}

# 3. Application Mail.Send for that scope, and no unscoped assignment.
# Assignments are listed for the Exchange pointer's identity.
$assignee = if ($sp) { $sp.Identity } else { $AppId.ToString() }
$assignments = @(Get-ManagementRoleAssignment -RoleAssignee $assignee -Role 'Application Mail.Send' -ErrorAction SilentlyContinue)
foreach ($a in $assignments) {
    if ($a.CustomResourceScope -ne $scopeName) {
        Write-Warning "removing assignment $($a.Name): scope '$($a.CustomResourceScope)' is not '$scopeName'"
        if ($PSCmdlet.ShouldProcess($a.Name, 'Remove-ManagementRoleAssignment')) {
            Remove-ManagementRoleAssignment -Identity $a.Name -Confirm:$false
        }
    }
}
if (-not ($assignments | Where-Object { $_.CustomResourceScope -eq $scopeName })) {
    if ($PSCmdlet.ShouldProcess($AppId, "New-ManagementRoleAssignment Application Mail.Send, scope $scopeName")) {
        New-ManagementRoleAssignment -Name "$Name Mail.Send" -Role 'Application Mail.Send' -App $AppId.ToString() -CustomResourceScope $scopeName | Out-Null
    }
}

# 4. The check.
$failed = $false
$inScope = Test-ServicePrincipalAuthorization -Identity $AppId.ToString() -Resource $Mailbox |
    Where-Object { $_.RoleName -eq 'Application Mail.Send' }
if (-not ($inScope -and $inScope.InScope)) {
    Write-Warning "$Mailbox is not (yet) in scope of Application Mail.Send; wait for replication and rerun"
    $failed = $true
}
if ($OtherMailbox) {
    $other = Test-ServicePrincipalAuthorization -Identity $AppId.ToString() -Resource $OtherMailbox |
        Where-Object { $_.RoleName -eq 'Application Mail.Send' -and $_.InScope }
    if ($other) {
        Write-Warning "$OtherMailbox is in scope too: the scope is wider than MAIL_SENDER"
        $failed = $true
    }
}

# The caveat: a tenant-wide Entra grant of Mail.Send defeats the scope.
if (Get-Command az -ErrorAction SilentlyContinue) {
    $graphSp = az ad sp list --filter "appId eq '$GraphAppId'" --query '[0].id' -o tsv
    $mailSendRole = az ad sp show --id $GraphAppId --query "appRoles[?value=='Mail.Send' && contains(allowedMemberTypes, 'Application')].id | [0]" -o tsv
    $held = az rest --method GET --url "https://graph.microsoft.com/v1.0/servicePrincipals/$ServicePrincipalObjectId/appRoleAssignments" --query "value[?resourceId=='$graphSp' && appRoleId=='$mailSendRole'].id" -o tsv
    if ($held) {
        Write-Warning 'The responder holds Mail.Send as an Entra ID application permission: it can send as EVERY mailbox and the Exchange scope changes nothing. Remove that grant.'
        $failed = $true
    }
} else {
    Write-Warning 'Azure CLI not found: check by hand that the responder holds no Mail.Send application permission in Entra ID, which would defeat this scope.'
}

if ($failed) { exit 1 }
Write-Host "Mail.Send for $AppId is limited to $Mailbox."
