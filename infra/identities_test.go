package infra_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
)

// sharedPermissions are the permissions both identities hold, each with the
// reason. A permission the collector catalogue and the write operations both
// declare fails TestNoPermissionOnBothIdentitiesWithoutAReason until it is
// listed here.
var sharedPermissions = map[string]string{
	// The collector reads /users; the responder creates, lists and renews the
	// change-notification subscriptions to /users, which Graph authorises with
	// the resource's read permission on the subscribing app, and lists and
	// renews only for the app that created them - so the responder needs it
	// too. The account writes also ask for it beside
	// User.EnableDisableAccount.All.
	"User.Read.All": "subscriptions to /users are created, listed and renewed by the responder and need the resource's read permission; the collector reads /users",
}

func TestNoPermissionOnBothIdentitiesWithoutAReason(t *testing.T) {
	collector := collectorPermissions(t)
	var both []string
	for _, p := range graph.WritePermissions() {
		if _, ok := collector[p]; ok {
			both = append(both, p)
		}
	}
	for _, p := range both {
		assert.NotEmpty(t, sharedPermissions[p],
			"%s is declared by the collector catalogue and by the write operations: state why both identities need it in sharedPermissions, or drop it from one", p)
	}
	for p := range sharedPermissions {
		assert.Contains(t, both, p, "sharedPermissions names %s, which no longer sits on both identities: drop it", p)
	}
	// The Bicep lists agree (they are checked against the code elsewhere;
	// this catches a shared permission added to one list only).
	const file = "infra/graph-permissions.bicep"
	code := bicep(t, file)
	read := map[string]bool{}
	for _, p := range arrayVar(t, code, file, "graphReadPermissions") {
		read[p] = true
	}
	var bicepBoth []string
	for _, p := range arrayVar(t, code, file, "responderPermissions") {
		if read[p] {
			bicepBoth = append(bicepBoth, p)
		}
	}
	sort.Strings(both)
	sort.Strings(bicepBoth)
	assert.Equal(t, both, bicepBoth, "%s: the permissions on both lists must be the ones the code puts on both", file)
}

func TestMailSendIsScopedByExchangeNotGrantedTenantWide(t *testing.T) {
	const file = "infra/graph-permissions.bicep"
	exchange := arrayVar(t, bicep(t, file), file, "exchangeScopedPermissions")
	sendMail := map[string]bool{}
	for _, op := range graph.WriteOperations() {
		if op.Name == "SendMail" {
			for _, p := range op.Permissions {
				sendMail[p] = true
			}
		}
	}
	require.NotEmpty(t, sendMail, "graph.WriteOperations() has no SendMail: the check would prove nothing")
	for _, p := range exchange {
		assert.True(t, sendMail[p], "%s: exchangeScopedPermissions lists %s, which SendMail does not need", file, p)
	}
	for p := range sendMail {
		assert.Contains(t, exchange, p, "%s: %s (SendMail) must be granted scoped by Exchange, not tenant-wide in Entra", file, p)
	}
	// The Mail.Send scoping is on by default in main.bicep too, and reaches
	// the grants.
	mainCode := bicep(t, "infra/main.bicep")
	matches(t, `(?m)^param\s+scopeMailSendWithExchange\s+bool\s*=\s*true\b`, mainCode, "infra/main.bicep: Exchange scoping is the default")
	matches(t, `scopeMailSendWithExchange:\s*scopeMailSendWithExchange\b`, mainCode, "infra/main.bicep: pass scopeMailSendWithExchange to graph-permissions.bicep")
	// The script and the README carry the warning that a tenant-wide Entra
	// consent defeats the scope.
	script := readFile(t, "infra/scripts/restrict-mail-send.ps1")
	for _, want := range []string{"New-ServicePrincipal", "New-ManagementScope", "'Application Mail.Send'", "-CustomResourceScope", "Test-ServicePrincipalAuthorization", "EVERY mailbox"} {
		assert.Contains(t, script, want, "infra/scripts/restrict-mail-send.ps1")
	}
	for _, f := range []string{"README.md", "infra/README.md"} {
		matches(t, `(?is)tenant-wide[^.]*Mail\.Send[^.]*defeat|defeat[^.]*tenant-wide[^.]*Mail\.Send|Mail\.Send[^.]*tenant-wide[^.]*defeat`, readFile(t, f),
			"%s: warn that a tenant-wide Entra grant of Mail.Send defeats the Exchange scoping", f)
	}
}

func TestTwoIdentities(t *testing.T) {
	code := bicep(t, "infra/main.bicep")
	for _, id := range []string{"identity", "responderIdentity"} {
		matches(t, `(?m)^module\s+`+id+`\s+'modules/identity\.bicep'`, code, "infra/main.bicep: module %s (a user-assigned identity)", id)
	}
	matches(t, `responderClientId:\s*responderIdentity\.outputs\.clientId`, code, "infra/main.bicep: RESPONDER_CLIENT_ID is the responder's client id")
	matches(t, `identityClientId:\s*identity\.outputs\.clientId`, code, "infra/main.bicep: AZURE_CLIENT_ID is the collector's client id")
	matches(t, `responderIdentityId:\s*responderIdentity\.outputs\.id`, code, "infra/main.bicep: the responder is attached to the app")

	// The responder holds Graph permissions only: its principal id goes to
	// graph-permissions.bicep and to outputs, never to an Azure role.
	for _, line := range strings.Split(code, "\n") {
		if !strings.Contains(line, "responderIdentity.outputs.principalId") {
			continue
		}
		ok := regexp.MustCompile(`^\s*responderPrincipalId:\s*responderIdentity\.outputs\.principalId\s*$|^output\s`).MatchString(line)
		assert.True(t, ok, "infra/main.bicep: %q: the responder identity gets no Azure role (Graph permissions only)", strings.TrimSpace(line))
	}
	matches(t, `(?s)module\s+graphPermissions\s+'graph-permissions\.bicep'\s*=\s*if\s*\(grantGraphPermissions\)\s*\{.*?collectorPrincipalId:\s*identity\.outputs\.principalId\s.*?responderPrincipalId:\s*responderIdentity\.outputs\.principalId\s`, code,
		"infra/main.bicep: graph-permissions.bicep grants the collector's and the responder's permissions to the right principals")

	app := bicep(t, "infra/modules/functionapp.bicep")
	matches(t, `(?s)userAssignedIdentities:\s*\{\s*'\$\{identityId\}':\s*\{\}\s*'\$\{responderIdentityId\}':\s*\{\}\s*\}`, app,
		"infra/modules/functionapp.bicep: the app carries both identities")
	// Every Azure role (storage, Service Bus, Key Vault, Cosmos, telemetry)
	// and every identity-based connection stays on the collector.
	notMatches(t, `(?i)__clientId:\s*responderClientId|keyVaultReferenceIdentity:\s*responderIdentityId|userAssignedIdentityResourceId:\s*responderIdentityId`, app,
		"infra/modules/functionapp.bicep: host connections use the collector identity")
}
