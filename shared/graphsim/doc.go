// Package graphsim simulates Microsoft Graph v1.0 for the endpoints the
// posture collectors read and the product's typed writes use, so tests,
// benchmarks and demo mode can point the real msgraph-sdk-go client at
// http://127.0.0.1:PORT/v1.0.
//
// It owns three things: the Tenant model (plain structs whose json tags are
// Graph's property names, so small tenants can be written literally),
// Generate (a deterministic, realistic organisation from a seed and a Size,
// 100k users and devices in well under a second), and Server (an http.Handler
// with fault injection and a request log). It must not import msgraph-sdk-go,
// kiota or any Azure SDK: only net/http and encoding/json, so it builds fast.
// The optional test behind the graphsim_sdk build tag checks the real SDK
// against it (go test -tags graphsim_sdk ./shared/graphsim/).
//
// A generated tenant also carries what Graph does not serve but the email
// area reads: Tenant.DNS, its mail domains' SPF, DKIM and DMARC records as
// zone-file lines for shared/dnssim, and Defender for Office 365, Exchange
// Online Protection and audit controls in its Secure Score (generate_mail.go,
// added without random draws so the rest of the tenant is unchanged).
//
// # Endpoints (GET, under /v1.0)
//
//	/organization, /domains[/{id}]
//	/users[/{id or UPN}]                                      page 100, max 999, above → 400
//	/groups[/{id}], /groups/{id}/members, /groups/{id}/transitiveMembers
//	    (+ /microsoft.graph.user, /graph.user, /microsoft.graph.group casts)  page 100, max 999, above → 400
//	/reports/authenticationMethods/userRegistrationDetails[/{id}]     page 100, max 999, clamped
//	/policies/identitySecurityDefaultsEnforcementPolicy, /policies/authorizationPolicy (singletons)
//	/identity/conditionalAccess/policies[/{id}], /identity/conditionalAccess/namedLocations[/{id}]
//	/roleManagement/directory/roleDefinitions|roleAssignments|roleEligibilitySchedules[/{id}]
//	    ($expand=principal on the last two)                   page 100, max 999, clamped
//	/identityProtection/riskyUsers[/{id}], /identityProtection/riskDetections[/{id}]  page 100, max 500, above → 400
//	/users/delta(), /groups/delta() (full sync paged by $skiptoken, then @odata.deltaLink; a
//	    $deltatoken returns what ChangeUser/ChangeGroup recorded since; latest; 410 after ExpireDeltaTokens)
//	/deviceManagement/managedDevices[/{id}] ($expand=windowsProtectionState)  page 1000, max 1000, clamped
//	/deviceManagement/managedDevices/{id}/windowsProtectionState
//	/security/secureScores[/{id}] (newest first), /security/secureScoreControlProfiles[/{id}],
//	/security/alerts_v2[/{id}] (newest first; RaiseAlert, UpdateAlert and PATCH change them
//	    at run time and stamp lastUpdateDateTime)              page 100, max 1000, clamped
//	POST /graphsim/alerts (outside /v1.0): raise a demo alert {"kind","user"}
//	/solutions/backupRestore, /solutions/backupRestore/protectionPolicies[/{id}]
//	/policies/authenticationStrengthPolicies[/{id}], /subscribedSkus[/{id}]
//	/servicePrincipals[/{id}], /servicePrincipals/{id}/delegatedPermissionClassifications  page 100, max 999, above → 400
//	/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances[/{id}]
//	    ($expand=principal; $filter on groupId or principalId required, else 400; NotLicensedP2 without P2)
//	POST /$batch
//
// # Writes (writes.go), recorded with method, path, body and status (Writes)
//
//	POST   /users/{id}/revokeSignInSessions                     200 {"value":true}
//	PATCH  /users/{id}  (accountEnabled, passwordProfile)       204
//	PATCH  /users/{id}/mailFolders/inbox/messageRules/{ruleId}  200 + the rule
//	POST   /users/{id}/sendMail                                 202, kept as SentMail
//	POST   /identityProtection/riskyUsers/confirmCompromised    204 (Entra ID P2)
//	POST   /security/collaboration/analyzedEmails/remediate     202 + Location (MDO P2)
//	POST   /deviceManagement/managedDevices/{id}/windowsDefenderScan|remoteLock|retire|wipe  204
//	PATCH  /security/alerts_v2/{id} (status, classification, determination, assignedTo)  200 + alert
//	POST   /security/alerts_v2/{id}/comments  (one alertComment object)  200 + comments
//	POST   /subscriptions   validation POST to notificationUrl (and lifecycleNotificationUrl)
//	                        first, as Graph makes; 201. Users and groups only, changeType
//	                        updated/deleted, 45 to 41,760 minutes, 100 per app, https or loopback
//	GET    /subscriptions[/{id}], PATCH /subscriptions/{id} 200, DELETE 204,
//	POST   /subscriptions/{id}/reauthorize 204
//
// Unknown users, devices, alerts and subscriptions are 404s; bodies with
// properties Graph does not let a client write are 400s; request bodies
// over 4 MB are 413s. FailWrites and RefuseWrites inject faults (403, 429,
// 503, ...) into writes only; FailNext and ForceError cover writes too. The
// Tenant is not changed by a write (a disabled user still reads as
// enabled): writes are recorded and answered, and only the simulator's own
// state (subscriptions, sent mail, alert patches and comments) changes.
// Message rules are not modelled: any rule id of a known mailbox exists.
// Status codes and bodies follow the Graph docs cited in
// shared/reference/response-facts.md; the wording of the simulator's error
// messages for writes, the 413 and the remediation Location are
// approximations.
//
// Page maxima: directory objects 999 with Graph's error (user-list docs and
// the observed "Invalid page size specified" message); managed devices 1000
// per page (Intune samples); Identity Protection rejects $top above 500
// (measured on riskDetections, same service); the security API caps $top at
// 1000 and clamps (security-error-codes "Constraints"). Where Graph documents
// no limit the simulator pages at 100, so collectors must follow nextLink, and
// clamps rather than rejects a large $top.
//
// # Graph behaviour reproduced
//
//   - Collection envelopes with @odata.context, value, @odata.count ($count=true,
//     first page) and an absolute @odata.nextLink on the serving host that keeps
//     $select/$filter/$expand/$top and adds an opaque $skiptoken. Tokens are
//     MAC-bound to the path and $filter and checked against the item they point
//     at: a forged or reused token is a 400.
//   - Default property sets (users return 11 properties; accountEnabled,
//     userType, createdDateTime, onPremisesSyncEnabled and signInActivity only
//     when selected), nulls for unset properties, [] for empty collections,
//     @odata.type on polymorphic items and on directoryObject members.
//   - $select, with Graph's 400 for unknown properties; $filter with eq/ne on
//     strings, booleans and null, eq/ne/gt/ge/lt/le on DateTimeOffset and
//     numbers, and/or, parentheses and complex paths (signInActivity/...).
//     Functions, lambdas (any/all), $orderby, $search, $skip and other options
//     are 400s, never silently ignored.
//   - Errors as {"error":{"code","message","innerError":{"date","request-id",
//     "client-request-id"}}} with request-id and client-request-id headers.
//     Unknown segment: 400 BadRequest "Resource not found for the segment 'x'."
//     (as Graph answers); unknown directory id: 404 Request_ResourceNotFound;
//     other unknown ids: 404 ResourceNotFound; writes: 405.
//   - JSON batching: up to 20 items (gzip bodies accepted), relative urls with
//     or without a leading slash, dependsOn ordering and 424 for failed
//     dependencies, per-item statuses and Retry-After, responses in reverse
//     order so clients must match by id.
//   - Faults: latency, throttling (every Nth or seeded probability), the next K
//     requests to a path prefix, persistent errors per prefix, and licence
//     gates with Graph's codes (see Fault and Licensing).
//
// Not reproduced: writes inside $batch, delta of properties other than the few served, change notifications, $search,
// $orderby, $skip, ConsistencyLevel semantics (the header is ignored, as is
// Authorization), sign-in logs, incidents, service principals' other navigations, Graph's real
// throttling limits, and eventual consistency.
package graphsim
