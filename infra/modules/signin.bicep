// Console sign-in: an Entra ID app registration for the Function App, created
// with the Microsoft Graph Bicep extension, and App Service Authentication
// (authsettingsV2) requiring sign-in for the console and the API.
//
// Three paths stay anonymous at this layer, because their callers cannot sign
// in: Graph posts change and lifecycle notifications without a token (the
// handler checks clientState instead), and the health probe is polled by
// monitors. They still need what the Functions host asks for (the function
// key for /api/health). infra/infra_test.go keeps excludedPaths equal to
// this list and to the notification routes in functions/*/function.json.
//
// No client secret: App Service Authentication signs people in with the
// OpenID Connect implicit flow (id token only, enableIdTokenIssuance), which
// is all the console needs; the handler trusts the X-MS-CLIENT-PRINCIPAL
// header the platform then injects (AUTH=appservice, shared/principal).
//
// Works in the public cloud only, as the Graph Bicep extension does.

extension microsoftGraphV1

@description('Name of the Function App (Microsoft.Web/sites) to protect.')
param appName string

@description('The app\'s default host name; the sign-in callback is https://HOST/.auth/login/aad/callback.')
param defaultHostName string

@description('Stable unique name of the app registration (Graph extension uniqueName), so redeploys update it instead of creating another.')
param uniqueName string

@description('Grant tenant-wide consent to the sign-in scopes (openid profile email) so users see no consent prompt. Needs Cloud Application Administrator or higher; false leaves consent to each user or an admin.')
param grantSignInConsent bool = true

// App roles of the console. shared/principal reads them from the signed-in
// person's roles claim: Responder.Approve may approve, reject and undo
// response actions (principal.RoleApprove). Console.Read only lets a person
// sign in: the service principal requires an assignment, so people without
// either role cannot sign in at all.
var appRoles = [
  {
    value: 'Responder.Approve'
    displayName: 'Approve response actions'
    description: 'Approve, reject and undo response actions on incidents.'
  }
  {
    value: 'Console.Read'
    displayName: 'Read the console'
    description: 'Sign in to the console and read posture, incidents and reports.'
  }
]

// Paths App Service Authentication lets through without sign-in.
var anonymousPaths = [
  '/api/notifications'
  '/api/notifications/lifecycle'
  '/api/health'
]

resource consoleApp 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: 'm365security console (${appName})'
  signInAudience: 'AzureADMyOrg'
  web: {
    redirectUris: [
      'https://${defaultHostName}/.auth/login/aad/callback'
    ]
    implicitGrantSettings: {
      enableIdTokenIssuance: true
      enableAccessTokenIssuance: false
    }
  }
  appRoles: [for role in appRoles: {
    id: guid(uniqueName, role.value)
    value: role.value
    displayName: role.displayName
    description: role.description
    allowedMemberTypes: [
      'User'
    ]
    isEnabled: true
  }]
}

resource consoleSp 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: consoleApp.appId
  appRoleAssignmentRequired: true
}

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

resource signInConsent 'Microsoft.Graph/oauth2PermissionGrants@v1.0' = if (grantSignInConsent) {
  clientId: consoleSp.id
  consentType: 'AllPrincipals'
  resourceId: graph.id
  scope: 'openid profile email'
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: anonymousPaths
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: consoleApp.appId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            consoleApp.appId
          ]
        }
      }
    }
    login: {
      // No token store: the console needs the signed-in identity (the
      // principal header), not the person's tokens.
      tokenStore: {
        enabled: false
      }
    }
  }
}

output clientId string = consoleApp.appId
output servicePrincipalId string = consoleSp.id
output excludedPaths array = anonymousPaths
