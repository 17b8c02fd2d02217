# azd preprovision hook (Windows): see azd-preprovision.sh.
$ErrorActionPreference = 'Stop'
$current = azd env get-value NOTIFICATION_CLIENT_STATE 2>$null
if ($LASTEXITCODE -ne 0 -or [string]::IsNullOrWhiteSpace($current)) {
  $bytes = [byte[]]::new(32)
  [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
  azd env set NOTIFICATION_CLIENT_STATE ([Convert]::ToHexString($bytes).ToLower())
  Write-Host 'NOTIFICATION_CLIENT_STATE generated for this azd environment'
}
$global:LASTEXITCODE = 0
