// Package infra_test checks, by reading the Bicep files as text, the facts the
// product relies on when it runs in Azure: the Service Bus queues its
// functions are triggered from, the Cosmos containers its store writes to,
// the app settings its handler reads, keyless authentication everywhere, and
// the Microsoft Graph permissions it is granted. There is no Bicep compiler
// here, so the checks are textual; each one fails with a message naming the
// file and what to change.
package infra_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/collect"
	"m365security/shared/graph"
)

// allowedAbsentSettings are the settings in handler/config.go's settings list
// that the Function App's app settings may leave out, each with the reason.
// Every other setting the handler reads must be set by infra.
var allowedAbsentSettings = map[string]string{
	"FUNCTIONS_CUSTOMHANDLER_PORT": "the Functions host sets it for the custom handler process",
	"STORE_PATH":                   "only the embedded store reads it; Azure runs STORE=cosmos",
	"COSMOS_KEY":                   "must be absent: Cosmos DB is reached with the managed identity (checked in TestFunctionAppSettings)",
	"GRAPH_ENDPOINT":               "optional: set only when the graphEndpoint parameter is given (checked in TestFunctionAppSettings)",
	"WEBSITE_INSTANCE_ID":          "set by the Azure Functions platform on every instance",
	"GRAPH_APP_CLIENT_ID":          "optional: only for monitoring tenants other than the identity's home tenant (infra/README.md)",
	"WEBSITE_HOSTNAME":             "set by the platform; PUBLIC_BASE_URL defaults to https://$WEBSITE_HOSTNAME",
	"FUNCTIONS_WORKER_RUNTIME":     "Flex Consumption rejects it as an app setting; functionAppConfig.runtime name 'custom' replaces it (checked in TestFunctionAppSettings)",
}

// coveredPermissions maps a permission a collector declares to the granted
// permission that includes it, where granting the narrower one as well would
// be redundant.
var coveredPermissions = map[string]string{
	// GET /roleManagement/directory/roleEligibilitySchedules accepts
	// RoleManagement.Read.Directory, which the role assignments need anyway.
	"RoleEligibilitySchedule.Read.Directory": "RoleManagement.Read.Directory",
	// GET /policies/authenticationStrengthPolicies accepts Policy.Read.All,
	// which the Conditional Access policies need anyway.
	"Policy.Read.AuthenticationMethod": "Policy.Read.All",
}

// repoRoot walks up from the test's directory to the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test directory")
		dir = parent
	}
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	require.NoError(t, err, "read %s", rel)
	return string(b)
}

// bicep reads a Bicep file and returns its code with comments blanked out.
func bicep(t *testing.T, rel string) string {
	t.Helper()
	code, err := scanBicep(readFile(t, rel))
	require.NoError(t, err, "%s does not scan as Bicep", rel)
	return code.text
}

type scanned struct {
	text  string      // source with comments replaced by spaces (newlines kept)
	match map[int]int // index of each code-level opening bracket -> its closing bracket
}

// scanBicep is a small Bicep lexer: it knows line and block comments,
// single-quoted strings with escapes and ${...} interpolation (which may hold
// nested strings), and triple-quoted multi-line strings. It blanks comments and checks
// that strings, comments and brackets are all closed and properly nested.
func scanBicep(src string) (scanned, error) {
	type frame struct {
		inString bool  // a '...' string, else code (top level or inside ${...})
		brackets []int // open brackets of this code frame
	}
	out := []byte(src)
	match := map[int]int{}
	stack := []frame{{}}
	line := func(i int) int { return strings.Count(src[:i], "\n") + 1 }
	for i := 0; i < len(src); i++ {
		top := &stack[len(stack)-1]
		c := src[i]
		if top.inString {
			switch {
			case c == '\\':
				i++
			case c == '\n':
				return scanned{}, fmt.Errorf("line %d: string not closed before end of line", line(i))
			case c == '\'':
				stack = stack[:len(stack)-1]
			case strings.HasPrefix(src[i:], "${"):
				stack = append(stack, frame{})
				i++
			}
			continue
		}
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				out[i] = ' '
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return scanned{}, fmt.Errorf("line %d: block comment not closed", line(i))
			}
			for j := i; j < i+2+end+2; j++ {
				if out[j] != '\n' {
					out[j] = ' '
				}
			}
			i += 2 + end + 1
		case strings.HasPrefix(src[i:], "'''"):
			end := strings.Index(src[i+3:], "'''")
			if end < 0 {
				return scanned{}, fmt.Errorf("line %d: multi-line string not closed", line(i))
			}
			i += 3 + end + 2
		case c == '\'':
			stack = append(stack, frame{inString: true})
		case c == '{' || c == '[' || c == '(':
			top.brackets = append(top.brackets, i)
		case c == '}' && len(top.brackets) == 0 && len(stack) > 1:
			stack = stack[:len(stack)-1] // end of ${...}: back in the string
		case c == '}' || c == ']' || c == ')':
			if len(top.brackets) == 0 {
				return scanned{}, fmt.Errorf("line %d: unexpected %q", line(i), c)
			}
			open := top.brackets[len(top.brackets)-1]
			if want := map[byte]byte{'{': '}', '[': ']', '(': ')'}[src[open]]; want != c {
				return scanned{}, fmt.Errorf("line %d: %q closes %q opened on line %d", line(i), c, src[open], line(open))
			}
			top.brackets = top.brackets[:len(top.brackets)-1]
			match[open] = i
		}
	}
	if len(stack) != 1 {
		return scanned{}, fmt.Errorf("string or interpolation not closed at end of file")
	}
	if n := len(stack[0].brackets); n > 0 {
		open := stack[0].brackets[n-1]
		return scanned{}, fmt.Errorf("line %d: %q never closed", line(open), src[open])
	}
	return scanned{text: string(out), match: match}, nil
}

// matches reports, without dumping the whole file, whether text matches
// pattern (a string or *regexp.Regexp); msgAndArgs is a format and its args.
func matches(t *testing.T, pattern any, text string, msgAndArgs ...any) bool {
	t.Helper()
	if re := toRegexp(pattern); !re.MatchString(text) {
		t.Errorf("%s: no match for `%s`", message(msgAndArgs), re)
		return false
	}
	return true
}

// notMatches is the opposite of matches.
func notMatches(t *testing.T, pattern any, text string, msgAndArgs ...any) bool {
	t.Helper()
	re := toRegexp(pattern)
	if m := re.FindString(text); m != "" {
		t.Errorf("%s: unexpected %q (pattern `%s`)", message(msgAndArgs), m, re)
		return false
	}
	return true
}

func toRegexp(pattern any) *regexp.Regexp {
	if re, ok := pattern.(*regexp.Regexp); ok {
		return re
	}
	return regexp.MustCompile(pattern.(string))
}

func message(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return "text"
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

var quoted = regexp.MustCompile(`'([^'\\]*)'`)

// arrayVar returns the string elements of `var name = [ ... ]`.
func arrayVar(t *testing.T, code, file, name string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)\bvar\s+` + regexp.QuoteMeta(name) + `\s*=\s*\[(.*?)\]`).FindStringSubmatch(code)
	require.NotNil(t, m, "%s: no `var %s = [...]`", file, name)
	var out []string
	for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
		out = append(out, q[1])
	}
	require.NotEmpty(t, out, "%s: `var %s` lists no strings", file, name)
	return out
}

// objectVar returns the top-level `key: value` pairs of `var name = { ... }`.
func objectVar(t *testing.T, rel, name string) map[string]string {
	t.Helper()
	sc, err := scanBicep(readFile(t, rel))
	require.NoError(t, err, rel)
	loc := regexp.MustCompile(`\bvar\s+` + regexp.QuoteMeta(name) + `\s*=\s*\{`).FindStringIndex(sc.text)
	require.NotNil(t, loc, "%s: no `var %s = {...}`", rel, name)
	open := loc[1] - 1
	end, ok := sc.match[open]
	require.True(t, ok, "%s: `var %s` object not closed", rel, name)
	// Keep only depth-1 text: skip the inside of nested objects and arrays
	// (parentheses stay: they belong to values such as join(a, ',')).
	var flat strings.Builder
	for i := open + 1; i < end; i++ {
		if close, nested := sc.match[i]; nested && sc.text[i] != '(' {
			flat.WriteString(sc.text[i : i+1])
			i = close - 1
			continue
		}
		flat.WriteByte(sc.text[i])
	}
	pairs := map[string]string{}
	entry := regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$`)
	for _, l := range strings.Split(flat.String(), "\n") {
		if m := entry.FindStringSubmatch(l); m != nil {
			pairs[m[1]] = m[2]
		}
	}
	require.NotEmpty(t, pairs, "%s: `var %s` has no keys", rel, name)
	return pairs
}

func bicepFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "infra"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".bicep") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, files, "no .bicep files under infra/")
	return files
}

func TestBicepFilesScan(t *testing.T) {
	for _, f := range bicepFiles(t) {
		_, err := scanBicep(readFile(t, f))
		assert.NoError(t, err, "%s: unbalanced brackets, strings or comments", f)
	}
	// Every module main.bicep uses exists.
	main := bicep(t, "infra/main.bicep")
	mods := regexp.MustCompile(`(?m)^module\s+\w+\s+'([^']+)'`).FindAllStringSubmatch(main, -1)
	require.NotEmpty(t, mods, "infra/main.bicep declares no modules")
	for _, m := range mods {
		_, err := os.Stat(filepath.Join(repoRoot(t), "infra", filepath.FromSlash(m[1])))
		assert.NoError(t, err, "infra/main.bicep uses module %s, which does not exist", m[1])
	}
	matches(t, `(?m)^targetScope\s*=\s*'resourceGroup'`, main, "infra/main.bicep must deploy at resource-group scope")
}

func TestServiceBusQueuesMatchTriggers(t *testing.T) {
	root := repoRoot(t)
	defs, err := filepath.Glob(filepath.Join(root, "functions", "*", "function.json"))
	require.NoError(t, err)
	require.NotEmpty(t, defs, "no functions/*/function.json")
	triggers := map[string]string{} // queue -> function
	for _, p := range defs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var fn struct {
			Bindings []struct {
				Type, QueueName, TopicName, Connection string
			}
		}
		require.NoError(t, json.Unmarshal(b, &fn), p)
		for _, bd := range fn.Bindings {
			if bd.Type != "serviceBusTrigger" {
				continue
			}
			name := filepath.Base(filepath.Dir(p))
			require.Empty(t, bd.TopicName, "%s: topic triggers are not provisioned by infra/modules/servicebus.bicep", name)
			require.NotEmpty(t, bd.QueueName, "%s: serviceBusTrigger without queueName", name)
			assert.Equal(t, "ServiceBusConnection", bd.Connection, "%s: infra configures the ServiceBusConnection__* identity settings only", name)
			triggers[bd.QueueName] = name
		}
	}
	require.NotEmpty(t, triggers, "no serviceBusTrigger in functions/*/function.json: the queue check would prove nothing")

	m := regexp.MustCompile(`MaxDeliveryCount\s*=\s*(\d+)`).FindStringSubmatch(readFile(t, "shared/queue/queue.go"))
	require.NotNil(t, m, "shared/queue/queue.go: no `MaxDeliveryCount = N`")
	maxDelivery, _ := strconv.Atoi(m[1])

	const file = "infra/modules/servicebus.bicep"
	code := bicep(t, file)
	queues := arrayVar(t, code, file, "queueNames")
	for q, fn := range triggers {
		assert.Contains(t, queues, q, "%s: queue %q (trigger of %s) is not in queueNames", file, q, fn)
	}
	// A queue no function is triggered from would collect messages nobody
	// processes or dead-letters.
	for _, q := range queues {
		assert.Contains(t, triggers, q, "%s: queue %q is no serviceBusTrigger's queueName in functions/*/function.json", file, q)
	}
	matches(t, `'Microsoft\.ServiceBus/namespaces/queues@[^']+'\s*=\s*\[for\s+\w+\s+in\s+queueNames\s*:`, code,
		"%s: the queue resource must loop over queueNames", file)
	counts := regexp.MustCompile(`maxDeliveryCount:\s*(\d+)`).FindAllStringSubmatch(code, -1)
	require.Len(t, counts, 1, "%s: want exactly one maxDeliveryCount", file)
	assert.Equal(t, strconv.Itoa(maxDelivery), counts[0][1], "%s: maxDeliveryCount must equal queue.MaxDeliveryCount", file)
	for _, want := range []string{
		`requiresDuplicateDetection:\s*true`,
		`duplicateDetectionHistoryTimeWindow:\s*'PT10M'`,
		`deadLetteringOnMessageExpiration:\s*true`,
		`lockDuration:\s*'PT1M'`,
		`requiresSession:\s*false`,
		`disableLocalAuth:\s*true`,
		`name:\s*'Standard'`,
	} {
		matches(t, want, code, "%s", file)
	}
}

func TestCosmosContainersMatchStoreKinds(t *testing.T) {
	store := readFile(t, "shared/store/store.go")
	values := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(Kind\w+)\s+Kind\s*=\s*"([^"]+)"`).FindAllStringSubmatch(store, -1) {
		values[m[1]] = m[2]
	}
	list := regexp.MustCompile(`var Kinds = \[\]Kind\{([^}]*)\}`).FindStringSubmatch(store)
	require.NotNil(t, list, "shared/store/store.go: no `var Kinds = []Kind{...}`")
	var kinds []string
	for _, id := range regexp.MustCompile(`\w+`).FindAllString(list[1], -1) {
		v, ok := values[id]
		require.True(t, ok, "shared/store/store.go: Kinds lists %s, which is not a Kind constant", id)
		kinds = append(kinds, v)
	}
	require.NotEmpty(t, kinds)

	const file = "infra/modules/cosmos.bicep"
	code := bicep(t, file)
	containers := arrayVar(t, code, file, "containerNames")
	assert.ElementsMatch(t, kinds, containers, "%s: containerNames must be exactly store.Kinds", file)
	matches(t, `'Microsoft\.DocumentDB/databaseAccounts/sqlDatabases/containers@[^']+'\s*=\s*\[for\s+\w+\s+in\s+containerNames\s*:`, code,
		"%s: the container resource must loop over containerNames", file)
	paths := regexp.MustCompile(`(?s)partitionKey:\s*\{\s*paths:\s*\[\s*'([^']*)'\s*\]`).FindAllStringSubmatch(code, -1)
	require.Len(t, paths, 1, "%s: want one partition key definition", file)
	assert.Equal(t, "/tenantId", paths[0][1], "%s: containers must be partitioned by /tenantId", file)
	matches(t, `defaultTtl:\s*-1\b`, code, "%s: TTL on with no default (per-item ttl)", file)
	matches(t, `(?s)excludedPaths:\s*\[.*?'/body/\*'`, code, "%s: bodies are not indexed", file)
	for _, order := range []string{"ascending", "descending"} {
		matches(t, `(?s)\{\s*path:\s*'/time'\s*order:\s*'`+order+`'\s*\}\s*\{\s*path:\s*'/id'\s*order:\s*'`+order+`'\s*\}`, code,
			"%s: composite index (/time %s, /id %s) missing", file, order, order)
	}
	matches(t, `disableLocalAuth:\s*true`, code, "%s: keys must be disabled", file)
	matches(t, `name:\s*'EnableServerless'`, code, "%s: serverless capability", file)
	matches(t, `sqlRoleDefinitions/\$\{cosmosDataContributor\}`, code, "%s: data-plane role assignment", file)
	matches(t, `cosmosDataContributor\s*=\s*'00000000-0000-0000-0000-000000000002'`, code, "%s: built-in Data Contributor", file)

	// The database infra creates is the one the handler opens by default.
	def := regexp.MustCompile(`c\.CosmosDatabase\s*=\s*"([^"]+)"`).FindStringSubmatch(readFile(t, "handler/config.go"))
	require.NotNil(t, def, "handler/config.go: no default COSMOS_DATABASE")
	db := regexp.MustCompile(`param\s+databaseName\s+string\s*=\s*'([^']+)'`).FindStringSubmatch(code)
	require.NotNil(t, db, "%s: no databaseName default", file)
	assert.Equal(t, def[1], db[1], "%s: database name differs from the handler's default", file)
}

func TestFunctionAppSettings(t *testing.T) {
	m := regexp.MustCompile(`(?s)var settingNames = \[\]string\{(.*?)\}`).FindStringSubmatch(readFile(t, "handler/config.go"))
	require.NotNil(t, m, "handler/config.go: no `var settingNames = []string{...}`")
	var settings []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(m[1], -1) {
		settings = append(settings, q[1])
	}
	require.NotEmpty(t, settings)
	for name := range allowedAbsentSettings {
		assert.Contains(t, settings, name, "allowedAbsentSettings names %s, which handler/config.go no longer reads: drop it", name)
	}

	const file = "infra/modules/functionapp.bicep"
	core := objectVar(t, file, "coreAppSettings")
	optional := objectVar(t, file, "graphEndpointSetting")
	code := bicep(t, file)

	for _, s := range settings {
		if _, ok := allowedAbsentSettings[s]; ok {
			continue
		}
		assert.Contains(t, core, s, "%s: handler/config.go reads %s but coreAppSettings does not set it", file, s)
	}
	// Identity-based connections and the other settings Azure needs.
	want := map[string]string{
		"GRAPH_AUTH":                       `'azure'`,
		"STORE":                            `'cosmos'`,
		"QUEUE":                            `'servicebus'`,
		"LOCAL_SCHEDULER":                  `'off'`,
		"DEMO":                             `'0'`,
		"M365_TENANTS":                     `join(tenantIds, ',')`,
		"AZURE_CLIENT_ID":                  `identityClientId`,
		"AzureWebJobsStorage__accountName": `storageAccountName`,
		"AzureWebJobsStorage__credential":  `'managedidentity'`,
		"AzureWebJobsStorage__clientId":    `identityClientId`,
		"ServiceBusConnection__fullyQualifiedNamespace": `serviceBusFullyQualifiedNamespace`,
		"ServiceBusConnection__credential":              `'managedidentity'`,
		"ServiceBusConnection__clientId":                `identityClientId`,
		"COSMOS_ENDPOINT":                               `cosmosEndpoint`,
		"COSMOS_DATABASE":                               `cosmosDatabaseName`,
		"APPLICATIONINSIGHTS_CONNECTION_STRING":         `appInsightsConnectionString`,
		"RESPONDER_CLIENT_ID":                           `responderClientId`,
		"PUBLIC_BASE_URL":                               `publicBaseUrl`,
		"MAIL_SENDER":                                   `mailSender`,
		"REPORT_RECIPIENTS":                             `join(reportRecipients, ',')`,
		"INCIDENT_RECIPIENTS":                           `join(incidentRecipients, ',')`,
		"DNS_RESOLVER":                                  `dnsResolver`,
		// Trust the principal header only together with App Service
		// Authentication (modules/signin.bicep, same consoleSignIn switch).
		"AUTH": `consoleSignIn ? 'appservice' : 'none'`,
		// The console, not the host's landing page, answers the root.
		"AzureWebJobsDisableHomepage": `'true'`,
	}
	for k, v := range want {
		if assert.Contains(t, core, k, "%s: coreAppSettings lacks %s", file, k) {
			assert.Equal(t, v, core[k], "%s: %s", file, k)
		}
	}
	assert.True(t, strings.HasPrefix(core["NOTIFICATION_CLIENT_STATE"], `'@Microsoft.KeyVault(`),
		"%s: NOTIFICATION_CLIENT_STATE must be a Key Vault reference, got %s", file, core["NOTIFICATION_CLIENT_STATE"])
	assert.Equal(t, "graphEndpoint", optional["GRAPH_ENDPOINT"], "%s: GRAPH_ENDPOINT comes from the graphEndpoint parameter", file)
	matches(t, `optionalAppSettings\s*=\s*empty\(graphEndpoint\)\s*\?\s*\{\}\s*:\s*graphEndpointSetting`, code, "%s", file)
	matches(t, `appSettings\s*=\s*union\(coreAppSettings,\s*optionalAppSettings\)`, code, "%s", file)
	matches(t, `appSettings:\s*\[for\s+\w+\s+in\s+items\(appSettings\)`, code, "%s: siteConfig.appSettings must be built from appSettings", file)

	// Never set: keys (managed identity instead) and the settings Flex
	// Consumption rejects or replaces.
	for _, bad := range []string{"COSMOS_KEY", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION",
		"WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
		"AzureWebJobsStorage", "AZURE_CLIENT_SECRET", "ServiceBusConnection"} {
		assert.NotContains(t, core, bad, "%s: %s must not be an app setting", file, bad)
		assert.NotContains(t, optional, bad, "%s: %s must not be an app setting", file, bad)
	}
	notMatches(t, `COSMOS_KEY`, code, "%s: no Cosmos key anywhere", file)

	// The custom handler runtime, on Flex Consumption, with the identity.
	matches(t, `(?s)runtime:\s*\{\s*name:\s*'custom'\s*version:\s*'1\.0'\s*\}`, code, "%s: functionAppConfig.runtime must be custom 1.0", file)
	matches(t, `tier:\s*'FlexConsumption'`, code, "%s", file)
	matches(t, `name:\s*'FC1'`, code, "%s", file)
	matches(t, `kind:\s*'functionapp,linux'`, code, "%s", file)
	matches(t, `keyVaultReferenceIdentity:\s*identityId`, code, "%s: Key Vault references must use the user-assigned identity", file)
	matches(t, `(?s)identity:\s*\{\s*type:\s*'UserAssigned'`, code, "%s", file)
	matches(t, `(?s)authentication:\s*\{\s*type:\s*'UserAssignedIdentity'`, code, "%s: deployment storage must use the identity", file)
	matches(t, `httpsOnly:\s*true`, code, "%s", file)

	// M365_TENANTS comes from main.bicep's tenantIds parameter.
	mainCode := bicep(t, "infra/main.bicep")
	matches(t, `(?m)^param\s+tenantIds\s+string\[\]`, mainCode, "infra/main.bicep: tenantIds parameter")
	matches(t, `tenantIds:\s*tenantIds`, mainCode, "infra/main.bicep: tenantIds must reach the Function App")
	matches(t, `(?s)@secure\(\)\s*(@\w+\([^)]*\)\s*)*param\s+notificationClientState\s+string`, mainCode,
		"infra/main.bicep: notificationClientState must be @secure()")
}

func TestNoKeysOrKeyedConnectionStrings(t *testing.T) {
	root := repoRoot(t)
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "infra"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".bicep") || strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".bicepparam")) {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	forbidden := regexp.MustCompile(`(?i)listKeys\s*\(|listConnectionStrings\s*\(|listAccountSas\s*\(|listServiceSas\s*\(|AccountKey=|SharedAccessKey|DefaultEndpointsProtocol=|primaryMasterKey|primaryKey`)
	for _, f := range files {
		if m := forbidden.FindString(readFile(t, f)); m != "" {
			t.Errorf("%s: %q: infra must not read or write keys; use the managed identity", f, m)
		}
	}
	checks := map[string][]string{
		"infra/modules/storage.bicep":    {`allowSharedKeyAccess:\s*false`, `allowBlobPublicAccess:\s*false`, `minimumTlsVersion:\s*'TLS1_2'`},
		"infra/modules/cosmos.bicep":     {`disableLocalAuth:\s*true`},
		"infra/modules/servicebus.bicep": {`disableLocalAuth:\s*true`},
		"infra/modules/monitoring.bicep": {`DisableLocalAuth:\s*true`},
		"infra/modules/keyvault.bicep":   {`enableRbacAuthorization:\s*true`},
	}
	for f, res := range checks {
		code := bicep(t, f)
		for _, re := range res {
			matches(t, re, code, "%s", f)
		}
	}
}

func TestRoleAssignmentsAreLeastPrivilege(t *testing.T) {
	// role definition ids, and the scope each must be assigned at.
	cases := []struct {
		file, role, roleID, scope string
	}{
		{"infra/modules/storage.bicep", "Storage Blob Data Owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", `scope:\s*storage\b`},
		{"infra/modules/keyvault.bicep", "Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6", `scope:\s*secret\b`},
		{"infra/modules/servicebus.bicep", "Azure Service Bus Data Sender", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39", `scope:\s*queues\[i\]`},
		{"infra/modules/servicebus.bicep", "Azure Service Bus Data Receiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0", `scope:\s*queues\[i\]`},
		{"infra/modules/monitoring.bicep", "Monitoring Metrics Publisher", "3913510d-42f4-4e42-8a64-420c390055eb", `scope:\s*appInsights\b`},
		{"infra/modules/cosmos.bicep", "Cosmos DB Built-in Data Contributor", "00000000-0000-0000-0000-000000000002", `scope:\s*account\.id`},
	}
	for _, c := range cases {
		code := bicep(t, c.file)
		matches(t, regexp.QuoteMeta(c.roleID), code, "%s: %s assignment missing", c.file, c.role)
		matches(t, c.scope, code, "%s: %s must be scoped as narrowly as %s", c.file, c.role, c.scope)
	}
	notMatches(t, `scope:\s*namespace\b`, bicep(t, "infra/modules/servicebus.bicep"), "Service Bus roles are scoped to queues, not the namespace")
	notMatches(t, `scope:\s*vault\b`, bicep(t, "infra/modules/keyvault.bicep"), "Key Vault Secrets User is scoped to the secret, not the vault")

	broad := map[string]string{
		"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
		"b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
		"090c5cfd-751d-490a-894a-3ce6f1109419": "Azure Service Bus Data Owner",
		"00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
		"b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
		"17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
		"5bd9cd88-fe45-4216-938b-f97437e15450": "DocumentDB Account Contributor",
	}
	for _, f := range bicepFiles(t) {
		code := bicep(t, f)
		for id, role := range broad {
			notMatches(t, regexp.QuoteMeta(id), code, "%s: %s is broader than the product needs", f, role)
		}
	}
}

// permissionTable parses the rows of the Markdown table between
// <!-- name:begin --> and <!-- name:end --> in file: permission -> the rest
// of the row (endpoints and notes).
func permissionTable(t *testing.T, file, name string) map[string]string {
	t.Helper()
	text := readFile(t, file)
	m := regexp.MustCompile(`(?s)<!-- ` + regexp.QuoteMeta(name) + `:begin -->(.*?)<!-- ` + regexp.QuoteMeta(name) + `:end -->`).FindStringSubmatch(text)
	require.NotNil(t, m, "%s: table markers <!-- %s:begin/end --> missing", file, name)
	rows := map[string]string{}
	for _, row := range regexp.MustCompile("(?m)^\\|\\s*`([^`]+)`\\s*\\|(.*)$").FindAllStringSubmatch(m[1], -1) {
		_, dup := rows[row[1]]
		assert.False(t, dup, "%s: %s is listed twice in %s", file, row[1], name)
		rows[row[1]] = row[2]
	}
	require.NotEmpty(t, rows, "%s: the %s table has no rows", file, name)
	return rows
}

func grantedPermissions(t *testing.T) []string {
	t.Helper()
	const file = "infra/graph-permissions.bicep"
	code := bicep(t, file)
	granted := arrayVar(t, code, file, "graphReadPermissions")
	matches(t, `(?m)^extension\s+microsoftGraphV1\b`, code, "%s: uses the Microsoft Graph Bicep extension", file)
	// Each identity's loop grants its own list to its own principal, and
	// only those two loops exist.
	matches(t, `(?s)'Microsoft\.Graph/appRoleAssignedTo@v1\.0'\s*=\s*\[for\s+(\w+)\s+in\s+graphReadPermissions\s*:\s*\{[^}]*principalId:\s*collectorPrincipalId\s`, code,
		"%s: the collector's app role assignments must loop over graphReadPermissions with principalId collectorPrincipalId", file)
	matches(t, `(?s)'Microsoft\.Graph/appRoleAssignedTo@v1\.0'\s*=\s*\[for\s+(\w+)\s+in\s+responderEntraPermissions\s*:\s*\{[^}]*principalId:\s*responderPrincipalId\s`, code,
		"%s: the responder's app role assignments must loop over responderEntraPermissions with principalId responderPrincipalId", file)
	assert.Len(t, regexp.MustCompile(`'Microsoft\.Graph/appRoleAssignedTo@`).FindAllString(code, -1), 2,
		"%s: exactly two app role assignment loops, one per identity", file)
	// Mail.Send leaves the Entra grants when Exchange scopes it.
	matches(t, `responderEntraPermissions\s*=\s*empty\(responderPrincipalId\)\s*\?\s*\[\]\s*:\s*\(scopeMailSendWithExchange\s*\?\s*filter\(responderPermissions,\s*(\w+)\s*=>\s*!contains\(exchangeScopedPermissions,\s*\w+\)\)\s*:\s*responderPermissions\)`, code,
		"%s: responderEntraPermissions must be responderPermissions less exchangeScopedPermissions when scopeMailSendWithExchange", file)
	matches(t, `(?m)^param\s+scopeMailSendWithExchange\s+bool\s*=\s*true\b`, code, "%s: Exchange scoping of Mail.Send is the default", file)
	// No permission-looking string outside the lists.
	listed := append(append(append([]string{}, granted...), responderPermissions(t)...), arrayVar(t, code, file, "exchangeScopedPermissions")...)
	perm := regexp.MustCompile(`^[A-Z][A-Za-z]+(-[A-Za-z]+)?(\.[A-Za-z]+)+$`)
	for _, q := range quoted.FindAllStringSubmatch(code, -1) {
		if perm.MatchString(q[1]) {
			assert.Contains(t, listed, q[1], "%s: %q appears outside graphReadPermissions and responderPermissions", file, q[1])
		}
	}
	return granted
}

func responderPermissions(t *testing.T) []string {
	t.Helper()
	const file = "infra/graph-permissions.bicep"
	return arrayVar(t, bicep(t, file), file, "responderPermissions")
}

// collectorPermissions are the read permissions the collector catalogue
// declares, each replaced by the granted permission that covers it.
func collectorPermissions(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{} // permission -> paths
	for _, s := range collect.Catalogue() {
		p := s.Permission
		if by, ok := coveredPermissions[p]; ok {
			p = by
		}
		out[p] = append(out[p], s.Path)
	}
	require.NotEmpty(t, out, "collect.Catalogue() declares no permission: the check would prove nothing")
	return out
}

// writePermissions are the responder's permissions with the write
// operations that need each, as "METHOD path".
func writePermissions(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, op := range graph.WriteOperations() {
		for _, p := range op.Permissions {
			out[p] = append(out[p], op.Method+" "+op.Path)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCollectorIdentityIsGrantedExactlyTheCataloguePermissions(t *testing.T) {
	declared := collectorPermissions(t)
	granted := grantedPermissions(t)
	sort.Strings(granted)
	assert.Equal(t, sortedKeys(declared), granted,
		"infra/graph-permissions.bicep graphReadPermissions must be exactly the permissions collect.Catalogue() declares (least privilege)")
	write := regexp.MustCompile(`ReadWrite|PrivilegedOperations|RevokeSessions|EnableDisableAccount|\.Send$|FullControl`)
	for _, p := range granted {
		notMatches(t, write, p, "infra/graph-permissions.bicep grants %s to the collector identity: writes belong to the responder", p)
	}
	for _, file := range []string{"infra/README.md", "README.md"} {
		rows := permissionTable(t, file, "collector-permissions")
		assert.Equal(t, granted, sortedKeys(rows), "%s: the collector permission table must list collect.Catalogue()'s permissions", file)
	}
	// The detailed table names every Graph path each permission is for.
	rows := permissionTable(t, "infra/README.md", "collector-permissions")
	for p, paths := range declared {
		for _, path := range paths {
			assert.Contains(t, rows[p], path, "infra/README.md: the %s row should name %s", p, path)
		}
	}
}

func TestResponderPermissionsMatchTheWriteOperations(t *testing.T) {
	declared := writePermissions(t)
	assert.Equal(t, graph.WritePermissions(), sortedKeys(declared))
	listed := responderPermissions(t)
	sort.Strings(listed)
	assert.Equal(t, graph.WritePermissions(), listed,
		"infra/graph-permissions.bicep responderPermissions must be exactly graph.WritePermissions()")
	for _, file := range []string{"infra/README.md", "README.md"} {
		rows := permissionTable(t, file, "responder-permissions")
		assert.Equal(t, listed, sortedKeys(rows), "%s: the responder permission table must list graph.WritePermissions()", file)
	}
	rows := permissionTable(t, "infra/README.md", "responder-permissions")
	for p, ops := range declared {
		for _, op := range ops {
			assert.Contains(t, rows[p], "`"+op+"`", "infra/README.md: the %s row should name `%s`", p, op)
		}
	}
}
