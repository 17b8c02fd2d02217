#!/usr/bin/env bash
# grant-customer-tenant.sh: grant, in a customer tenant (an MSP's customer, a
# subsidiary: any tenant other than the deployment's own), exactly the
# Microsoft Graph application permissions m365security declares, to the
# service principals of its two multi-tenant app registrations:
#   - the collector app (GRAPH_APP_CLIENT_ID): the read permissions of the
#     collector catalogue (collect.Catalogue());
#   - the responder app (RESPONDER_CLIENT_ID in multi-tenant mode): the write
#     permissions of graph.WritePermissions(), less Mail.Send, which is granted
#     scoped to MAIL_SENDER with Exchange Online RBAC for Applications
#     (restrict-mail-send.ps1) unless --mail-send entra is given.
# The lists below are checked against the code by infra/infra_test.go.
#
# It is the Azure CLI alternative to deploying infra/graph-permissions.bicep
# in that tenant (the Graph Bicep extension works in the public cloud only;
# this script works wherever `az rest` reaches Microsoft Graph).
#
# Run it as a Privileged Role Administrator (or Global Administrator) of the
# customer tenant, signed in to that tenant:
#   az login --tenant <customer-tenant-id> --allow-no-subscriptions
#   infra/scripts/grant-customer-tenant.sh --tenant <customer-tenant-id> \
#     --collector-app <GRAPH_APP_CLIENT_ID> [--responder-app <client id>] \
#     [--mail-send exchange|entra] [--revoke-extra] [--dry-run]
#
# It creates each app's service principal in the tenant if admin consent has
# not already, adds the missing app role assignments, and lists (or, with
# --revoke-extra, removes) Graph app roles the service principal holds beyond
# the list, so the result is exactly the list. Safe to run again.
set -euo pipefail
if ((BASH_VERSINFO[0] < 4)); then
  echo "needs bash 4 or later (on macOS: brew install bash)" >&2; exit 1
fi

collector_permissions=(
  User.Read.All
  AuditLog.Read.All
  Policy.Read.All
  GroupMember.Read.All
  RoleManagement.Read.Directory
  Domain.Read.All
  IdentityRiskyUser.Read.All
  DeviceManagementManagedDevices.Read.All
  SecurityEvents.Read.All
  BackupRestore-Control.Read.All
  BackupRestore-Configuration.Read.All
  Application.Read.All
  PrivilegedEligibilitySchedule.Read.AzureADGroup
  LicenseAssignment.Read.All
)

responder_permissions=(
  User.RevokeSessions.All
  User.EnableDisableAccount.All
  User.Read.All
  User-PasswordProfile.ReadWrite.All
  IdentityRiskyUser.ReadWrite.All
  MailboxSettings.ReadWrite
  SecurityAnalyzedMessage.ReadWrite.All
  DeviceManagementManagedDevices.PrivilegedOperations.All
  SecurityAlert.ReadWrite.All
  Group.Read.All
  Mail.Send
)

# Granted through Exchange Online RBAC for Applications, scoped to one
# mailbox, unless --mail-send entra: a tenant-wide Entra grant would let the
# app send as every mailbox, whatever Exchange scopes.
exchange_scoped_permissions=(
  Mail.Send
)

graph_app_id=00000003-0000-0000-c000-000000000000

usage() {
  sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

tenant= collector_app= responder_app= mail_send=exchange revoke_extra=0 dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tenant) tenant=${2:?}; shift 2 ;;
    --collector-app) collector_app=${2:?}; shift 2 ;;
    --responder-app) responder_app=${2:?}; shift 2 ;;
    --mail-send) mail_send=${2:?}; shift 2 ;;
    --revoke-extra) revoke_extra=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done

guid='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
for pair in "tenant:$tenant" "collector-app:$collector_app"; do
  [[ ${pair#*:} =~ $guid ]] || { echo "--${pair%%:*} must be a GUID" >&2; exit 2; }
done
if [ -n "$responder_app" ] && ! [[ $responder_app =~ $guid ]]; then
  echo "--responder-app must be a GUID" >&2; exit 2
fi
case "$mail_send" in exchange|entra) ;; *) echo "--mail-send must be exchange or entra" >&2; exit 2 ;; esac
if [ "$collector_app" = "$responder_app" ]; then
  echo "the collector and the responder must be two app registrations: the collector stays read-only" >&2; exit 2
fi

signed_in=$(az account show --query tenantId -o tsv)
if [ "${signed_in,,}" != "${tenant,,}" ]; then
  echo "signed in to tenant $signed_in, not $tenant: run az login --tenant $tenant --allow-no-subscriptions" >&2
  exit 1
fi

graph=https://graph.microsoft.com/v1.0
run() {
  if [ "$dry_run" = 1 ]; then echo "dry run: $*"; else "$@"; fi
}

# service_principal APPID: the object id of the app's service principal here,
# created if admin consent has not created it yet.
service_principal() {
  local id
  id=$(az ad sp list --filter "appId eq '$1'" --query '[0].id' -o tsv)
  if [ -z "$id" ]; then
    echo "creating the service principal of app $1 in tenant $tenant" >&2
    if [ "$dry_run" = 1 ]; then echo "dry-run-$1"; return; fi
    id=$(az ad sp create --id "$1" --query id -o tsv)
  fi
  echo "$id"
}

graph_sp=$(az ad sp list --filter "appId eq '$graph_app_id'" --query '[0].id' -o tsv)
[ -n "$graph_sp" ] || { echo "Microsoft Graph's service principal was not found in tenant $tenant" >&2; exit 1; }

# grant SP_ID PERMISSION...: exactly these Graph app roles on SP_ID.
grant() {
  local sp=$1; shift
  local want=("$@") p role_id
  declare -A wanted_ids=()
  for p in "${want[@]}"; do
    role_id=$(az ad sp show --id "$graph_app_id" --query "appRoles[?value=='$p' && contains(allowedMemberTypes, 'Application')].id | [0]" -o tsv)
    [ -n "$role_id" ] || { echo "Microsoft Graph has no application permission $p" >&2; exit 1; }
    wanted_ids[$role_id]=$p
  done
  declare -A held=()
  if [[ $sp != dry-run-* ]]; then
    while IFS=$'\t' read -r assignment role; do
      [ -n "$assignment" ] && held[$role]=$assignment
    done < <(az rest --method GET --url "$graph/servicePrincipals/$sp/appRoleAssignments" \
      --query "value[?resourceId=='$graph_sp'].[id, appRoleId]" -o tsv)
  fi
  for role_id in "${!wanted_ids[@]}"; do
    if [ -n "${held[$role_id]:-}" ]; then
      echo "  ${wanted_ids[$role_id]}: already granted"
      continue
    fi
    echo "  ${wanted_ids[$role_id]}: granting"
    run az rest --method POST --url "$graph/servicePrincipals/$sp/appRoleAssignments" \
      --headers Content-Type=application/json \
      --body "{\"principalId\":\"$sp\",\"resourceId\":\"$graph_sp\",\"appRoleId\":\"$role_id\"}" -o none
  done
  for role_id in "${!held[@]}"; do
    [ -n "${wanted_ids[$role_id]:-}" ] && continue
    value=$(az ad sp show --id "$graph_app_id" --query "appRoles[?id=='$role_id'].value | [0]" -o tsv)
    if [ "$revoke_extra" = 1 ]; then
      echo "  $value: not in the list, revoking"
      run az rest --method DELETE --url "$graph/servicePrincipals/$sp/appRoleAssignments/${held[$role_id]}" -o none
    else
      echo "  $value: held but not in the list (rerun with --revoke-extra to remove it)" >&2
    fi
  done
}

echo "collector app $collector_app:"
grant "$(service_principal "$collector_app")" "${collector_permissions[@]}"

if [ -n "$responder_app" ]; then
  entra=()
  for p in "${responder_permissions[@]}"; do
    skip=0
    if [ "$mail_send" = exchange ]; then
      for x in "${exchange_scoped_permissions[@]}"; do [ "$p" = "$x" ] && skip=1; done
    fi
    [ "$skip" = 1 ] || entra+=("$p")
  done
  responder_sp=$(service_principal "$responder_app")
  echo "responder app $responder_app:"
  grant "$responder_sp" "${entra[@]}"
  if [ "$mail_send" = exchange ]; then
    echo "Mail.Send is not granted in Entra ID. Scope it to the sender mailbox in this tenant:"
    echo "  pwsh infra/scripts/restrict-mail-send.ps1 -AppId $responder_app -ServicePrincipalObjectId $responder_sp -Mailbox <MAIL_SENDER>"
  fi
fi
