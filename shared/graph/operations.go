package graph

import "slices"

// WriteOperation describes one typed Graph write of Writer: what it sends
// and what the responder identity needs for it to succeed. It is plain data
// for documentation, consent checks (infra/infra_test.go) and tests.
type WriteOperation struct {
	// Name is the Writer method that performs it.
	Name string
	// Method and Path are the HTTP method and the Graph v1.0 path template,
	// relative to the version root, with {placeholders}.
	Method, Path string
	// Status is the status Graph documents for success.
	Status int
	// Permissions are the least-privileged application permissions, all
	// needed.
	Permissions []string
	// Licence is the licence the tenant needs; empty when none.
	Licence string
	// Note names what else Graph requires (an Entra role) or does.
	Note string
}

// Permissions the responder identity needs, each named once. Sources:
// ../shared/reference/response-facts.md sections A.7, B, C and D.
const (
	permRevokeSessions   = "User.RevokeSessions.All"
	permEnableDisable    = "User.EnableDisableAccount.All"
	permUserRead         = "User.Read.All"
	permPasswordProfile  = "User-PasswordProfile.ReadWrite.All"
	permRiskyUserWrite   = "IdentityRiskyUser.ReadWrite.All"
	permMailboxSettings  = "MailboxSettings.ReadWrite"
	permAnalyzedMessage  = "SecurityAnalyzedMessage.ReadWrite.All"
	permPrivilegedDevice = "DeviceManagementManagedDevices.PrivilegedOperations.All"
	permAlertWrite       = "SecurityAlert.ReadWrite.All"
	permGroupRead        = "Group.Read.All"
	permMailSend         = "Mail.Send"
)

const (
	licenceP2      = "Microsoft Entra ID P2"
	licenceIntune  = "Microsoft Intune"
	licenceMDOP2   = "Microsoft Defender for Office 365 Plan 2"
	subscribeRead  = "the read permission of the subscribed resource: User.Read.All for /users, Group.Read.All for /groups"
	subscriptionID = "/subscriptions/{id}"
)

var writeOperations = []WriteOperation{
	{Name: "RevokeSignInSessions", Method: "POST", Path: "/users/{id}/revokeSignInSessions", Status: 200,
		Permissions: []string{permRevokeSessions}, Note: "takes a few minutes; no effect on external (B2B) users"},
	{Name: "DisableAccount", Method: "PATCH", Path: "/users/{id}", Status: 204,
		Permissions: []string{permEnableDisable, permUserRead},
		Note:        "accountEnabled false; for a user holding a privileged admin role the app also needs a higher-privileged Entra role"},
	{Name: "EnableAccount", Method: "PATCH", Path: "/users/{id}", Status: 204,
		Permissions: []string{permEnableDisable, permUserRead}, Note: "accountEnabled true, the undo of DisableAccount"},
	{Name: "RequirePasswordChange", Method: "PATCH", Path: "/users/{id}", Status: 204,
		Permissions: []string{permPasswordProfile}, Note: "the app must also hold the User Administrator Entra role (higher for admin targets)"},
	{Name: "ConfirmCompromised", Method: "POST", Path: "/identityProtection/riskyUsers/confirmCompromised", Status: 204,
		Permissions: []string{permRiskyUserWrite}, Licence: licenceP2},
	{Name: "DisableInboxRule", Method: "PATCH", Path: "/users/{id}/mailFolders/inbox/messageRules/{ruleId}", Status: 200,
		Permissions: []string{permMailboxSettings}},
	{Name: "RemediateMessages", Method: "POST", Path: "/security/collaboration/analyzedEmails/remediate", Status: 202,
		Permissions: []string{permAnalyzedMessage}, Licence: licenceMDOP2, Note: "no SDK builder in msgraph-sdk-go v1.89.0: sent as a raw request"},
	{Name: "DefenderScan", Method: "POST", Path: "/deviceManagement/managedDevices/{id}/windowsDefenderScan", Status: 204,
		Permissions: []string{permPrivilegedDevice}, Licence: licenceIntune},
	{Name: "RemoteLock", Method: "POST", Path: "/deviceManagement/managedDevices/{id}/remoteLock", Status: 204,
		Permissions: []string{permPrivilegedDevice}, Licence: licenceIntune},
	{Name: "Retire", Method: "POST", Path: "/deviceManagement/managedDevices/{id}/retire", Status: 204,
		Permissions: []string{permPrivilegedDevice}, Licence: licenceIntune},
	{Name: "Wipe", Method: "POST", Path: "/deviceManagement/managedDevices/{id}/wipe", Status: 204,
		Permissions: []string{permPrivilegedDevice}, Licence: licenceIntune},
	{Name: "UpdateAlert", Method: "PATCH", Path: "/security/alerts_v2/{id}", Status: 200,
		Permissions: []string{permAlertWrite}, Note: "status, classification, determination, assignedTo"},
	{Name: "CommentOnAlert", Method: "POST", Path: "/security/alerts_v2/{id}/comments", Status: 200,
		Permissions: []string{permAlertWrite}},
	{Name: "CreateSubscription", Method: "POST", Path: "/subscriptions", Status: 201,
		Permissions: []string{permUserRead, permGroupRead}, Note: subscribeRead + "; Graph first validates notificationUrl"},
	{Name: "ListSubscriptions", Method: "GET", Path: "/subscriptions", Status: 200,
		Permissions: []string{permUserRead, permGroupRead}, Note: "lists the calling app's subscriptions, so it runs as the responder that created them"},
	{Name: "RenewSubscription", Method: "PATCH", Path: subscriptionID, Status: 200,
		Permissions: []string{permUserRead, permGroupRead}, Note: subscribeRead},
	{Name: "ReauthorizeSubscription", Method: "POST", Path: subscriptionID + "/reauthorize", Status: 204,
		Permissions: []string{permUserRead, permGroupRead}, Note: subscribeRead},
	{Name: "DeleteSubscription", Method: "DELETE", Path: subscriptionID, Status: 204,
		Permissions: []string{permUserRead, permGroupRead}, Note: subscribeRead},
	{Name: "SendMail", Method: "POST", Path: "/users/{sender}/sendMail", Status: 202,
		Permissions: []string{permMailSend}, Note: "202 means accepted, not delivered; scope Mail.Send to the sender with Exchange Online RBAC for Applications"},
}

// WriteOperations lists every write Writer can make, in a stable order.
func WriteOperations() []WriteOperation {
	out := make([]WriteOperation, len(writeOperations))
	for i, op := range writeOperations {
		op.Permissions = slices.Clone(op.Permissions)
		out[i] = op
	}
	return out
}

// WritePermissions returns the distinct permissions of WriteOperations,
// sorted: what the responder identity must be granted.
func WritePermissions() []string {
	var out []string
	for _, op := range writeOperations {
		out = append(out, op.Permissions...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
