package infra_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/principal"
)

type httpFunction struct {
	Name, AuthLevel, Route string
}

// httpFunctions reads every httpTrigger binding of functions/*/function.json.
func httpFunctions(t *testing.T) []httpFunction {
	t.Helper()
	defs, err := filepath.Glob(filepath.Join(repoRoot(t), "functions", "*", "function.json"))
	require.NoError(t, err)
	var out []httpFunction
	for _, p := range defs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var fn struct {
			Bindings []struct{ Type, AuthLevel, Route string }
		}
		require.NoError(t, json.Unmarshal(b, &fn), p)
		for _, bd := range fn.Bindings {
			if bd.Type == "httpTrigger" {
				out = append(out, httpFunction{filepath.Base(filepath.Dir(p)), bd.AuthLevel, bd.Route})
			}
		}
	}
	require.NotEmpty(t, out, "no httpTrigger in functions/*/function.json")
	return out
}

func TestConsoleSignIn(t *testing.T) {
	const file = "infra/modules/signin.bicep"
	code := bicep(t, file)

	// The paths left anonymous are exactly the anonymous HTTP functions
	// (Graph's notification routes) and the health probe. The console is an
	// anonymous function too (it answers the site root), but people must
	// sign in to it: App Service Authentication keeps it behind sign-in.
	// Routes spell their api/ themselves (host.json routePrefix is empty).
	want := []string{}
	health := ""
	for _, fn := range httpFunctions(t) {
		if fn.AuthLevel == "anonymous" && fn.Name != "Console" {
			want = append(want, "/"+fn.Route)
		}
		if fn.Name == "Health" {
			health = "/" + fn.Route
		}
	}
	require.NotEmpty(t, health, "functions/Health: no health route")
	want = append(want, health)
	sort.Strings(want)
	assert.Equal(t, []string{"/api/health", "/api/notifications", "/api/notifications/lifecycle"}, want,
		"the anonymous routes changed: decide whether App Service Authentication must let them through")
	excluded := arrayVar(t, code, file, "anonymousPaths")
	sort.Strings(excluded)
	assert.Equal(t, want, excluded, "%s: anonymousPaths must be the anonymous function routes and the health probe, nothing more", file)

	for _, re := range []string{
		`(?m)^extension\s+microsoftGraphV1\b`,
		`'Microsoft\.Graph/applications@v1\.0'`,
		`signInAudience:\s*'AzureADMyOrg'`,
		`'https://\$\{defaultHostName\}/\.auth/login/aad/callback'`,
		`enableIdTokenIssuance:\s*true`,
		`(?s)'Microsoft\.Graph/servicePrincipals@v1\.0'\s*=\s*\{\s*appId:\s*consoleApp\.appId\s*appRoleAssignmentRequired:\s*true`,
		`'Microsoft\.Web/sites/config@[^']+'\s*=\s*\{\s*parent:\s*site\s*name:\s*'authsettingsV2'`,
		`(?s)platform:\s*\{\s*enabled:\s*true\s*\}`,
		`requireAuthentication:\s*true`,
		`unauthenticatedClientAction:\s*'RedirectToLoginPage'`,
		`excludedPaths:\s*anonymousPaths\b`,
		`requireHttps:\s*true`,
		`clientId:\s*consoleApp\.appId`,
		`openIdIssuer:\s*'\$\{environment\(\)\.authentication\.loginEndpoint\}\$\{tenant\(\)\.tenantId\}/v2\.0'`,
	} {
		matches(t, re, code, "%s", file)
	}
	notMatches(t, `AllowAnonymous|clientSecretSettingName`, code, "%s: sign-in required, and no client secret", file)

	// The approvers' app role is the one shared/principal checks.
	roles := regexp.MustCompile(`(?s)var\s+appRoles\s*=\s*\[(.*?)\n\]`).FindStringSubmatch(code)
	require.NotNil(t, roles, "%s: no `var appRoles = [...]`", file)
	var values []string
	for _, m := range regexp.MustCompile(`value:\s*'([^']+)'`).FindAllStringSubmatch(roles[1], -1) {
		values = append(values, m[1])
	}
	assert.Contains(t, values, principal.RoleApprove, "%s: app role %s (principal.RoleApprove) missing", file, principal.RoleApprove)
	matches(t, `(?s)appRoles:\s*\[for\s+(\w+)\s+in\s+appRoles\s*:\s*\{\s*id:\s*guid\(uniqueName,\s*\w+\.value\)`, code,
		"%s: app role ids must be stable across redeploys (guid of uniqueName and value)", file)

	// main.bicep turns sign-in and AUTH on with one switch.
	mainCode := bicep(t, "infra/main.bicep")
	matches(t, `(?m)^param\s+consoleSignIn\s+bool\s*=\s*true\b`, mainCode, "infra/main.bicep: sign-in is on by default")
	matches(t, `(?m)^module\s+signIn\s+'modules/signin\.bicep'\s*=\s*if\s*\(consoleSignIn\)`, mainCode, "infra/main.bicep: signin.bicep runs when consoleSignIn")
	matches(t, `(?s)module\s+functionApp\s+'modules/functionapp\.bicep'.*?consoleSignIn:\s*consoleSignIn\b`, mainCode,
		"infra/main.bicep: the same switch sets AUTH on the app")
	app := objectVar(t, "infra/modules/functionapp.bicep", "coreAppSettings")
	assert.Equal(t, "consoleSignIn ? '"+principal.ModeAppService+"' : '"+principal.ModeNone+"'", app["AUTH"],
		"AUTH must be %s exactly when App Service Authentication is on", principal.ModeAppService)
}

// TestDerivedNamesAreValid evaluates main.bicep's names for the longest and
// the most hyphenated prefix namePrefix allows and checks each resource's
// naming rule, so a longer @maxLength or a new name cannot produce an
// invalid Key Vault or storage account name.
func TestDerivedNamesAreValid(t *testing.T) {
	const file = "infra/main.bicep"
	code := bicep(t, file)
	m := regexp.MustCompile(`(?s)@minLength\((\d+)\)\s*@maxLength\((\d+)\)\s*param\s+namePrefix\s+string`).FindStringSubmatch(code)
	require.NotNil(t, m, "%s: namePrefix needs @minLength and @maxLength", file)
	minLen, _ := strconv.Atoi(m[1])
	maxLen, _ := strconv.Atoi(m[2])

	// The pattern check runs before any name is derived.
	matches(t, `var\s+prefix\s*=\s*namePrefixValid\s*\?\s*namePrefix\s*:\s*fail\('`, code, "%s: an invalid namePrefix must fail the deployment", file)
	for _, cond := range []string{`empty\(badPrefixChars\)`, `contains\(lowercaseLetters,\s*first\(namePrefix\)\)`, `!endsWith\(namePrefix,\s*'-'\)`, `!contains\(namePrefix,\s*'--'\)`} {
		matches(t, `var\s+namePrefixValid\s*=[^\n]*`+cond, code, "%s: namePrefixValid must check %s", file, cond)
	}
	matches(t, `var\s+nameChars\s*=\s*'\$\{lowercaseLetters\}0123456789-'`, code, "%s: allowed characters", file)
	matches(t, `var\s+lowercaseLetters\s*=\s*'abcdefghijklmnopqrstuvwxyz'`, code, "%s", file)
	names := objectVar(t, file, "names")
	for k, v := range names {
		notMatches(t, `namePrefix`, v, "%s: names.%s must use the checked prefix, not namePrefix", file, k)
	}

	const suffix = "abcdefghijklm" // uniqueString() is 13 characters
	eval := func(expr, prefix string) string {
		s := strings.NewReplacer("${prefix}", prefix, "${suffix}", suffix, "${take(suffix, 8)}", suffix[:8]).Replace(expr)
		if st := regexp.MustCompile(`^take\(toLower\(replace\('([^']*)',\s*'-',\s*''\)\),\s*(\d+)\)$`).FindStringSubmatch(s); st != nil {
			n, _ := strconv.Atoi(st[2])
			s = strings.ToLower(strings.ReplaceAll(st[1], "-", ""))
			if len(s) > n {
				s = s[:n]
			}
			return s
		}
		require.Regexp(t, `^'[^'$]*'$`, s, "names: cannot evaluate %s", expr)
		return strings.Trim(s, "'")
	}
	hyphenated := strings.Repeat("a-", maxLen)[:maxLen]
	if strings.HasSuffix(hyphenated, "-") {
		hyphenated = hyphenated[:maxLen-1] + "a"
	}
	type rule struct {
		chars    *regexp.Regexp
		min, max int
	}
	rules := map[string]rule{
		// Key Vault: letters, digits, hyphens; starts with a letter, ends
		// with a letter or digit, no two hyphens in a row.
		"keyVault": {regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9]|-[a-zA-Z0-9])*$`), 3, 24},
		// Storage: lowercase letters and digits.
		"storage": {regexp.MustCompile(`^[a-z0-9]+$`), 3, 24},
		// Cosmos DB: lowercase letters, digits, hyphens, not at the ends.
		"cosmos": {regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`), 3, 44},
		// Service Bus: starts with a letter, ends with a letter or digit.
		"serviceBus": {regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$`), 6, 50},
		// Site (the *.azurewebsites.net label).
		"functionApp": {regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$`), 2, 60},
	}
	for _, prefix := range []string{strings.Repeat("a", maxLen), hyphenated, strings.Repeat("a", minLen)} {
		for key, rule := range rules {
			expr, ok := names[key]
			require.True(t, ok, "%s: names has no %s", file, key)
			got := eval(expr, prefix)
			assert.Regexp(t, rule.chars, got, "%s: names.%s for namePrefix %q is %q, not a valid name", file, key, prefix, got)
			assert.True(t, len(got) >= rule.min && len(got) <= rule.max,
				"%s: names.%s for namePrefix %q is %q: %d characters, allowed %d-%d", file, key, prefix, got, len(got), rule.min, rule.max)
		}
	}
}
