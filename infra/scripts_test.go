package infra_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
)

const grantScript = "infra/scripts/grant-customer-tenant.sh"

// bashArray returns the words of `name=( ... )` in a shell script.
func bashArray(t *testing.T, file, name string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?ms)^` + regexp.QuoteMeta(name) + `=\(\s*(.*?)\)`).FindStringSubmatch(readFile(t, file))
	require.NotNil(t, m, "%s: no `%s=( ... )`", file, name)
	out := strings.Fields(m[1])
	require.NotEmpty(t, out, "%s: %s is empty", file, name)
	sort.Strings(out)
	return out
}

func TestGrantScriptListsMatchTheCode(t *testing.T) {
	assert.Equal(t, sortedKeys(collectorPermissions(t)), bashArray(t, grantScript, "collector_permissions"),
		"%s: collector_permissions must be exactly collect.Catalogue()'s permissions", grantScript)
	assert.Equal(t, graph.WritePermissions(), bashArray(t, grantScript, "responder_permissions"),
		"%s: responder_permissions must be exactly graph.WritePermissions()", grantScript)
	const bicepFile = "infra/graph-permissions.bicep"
	exchange := arrayVar(t, bicep(t, bicepFile), bicepFile, "exchangeScopedPermissions")
	sort.Strings(exchange)
	assert.Equal(t, exchange, bashArray(t, grantScript, "exchange_scoped_permissions"),
		"%s: exchange_scoped_permissions must equal %s exchangeScopedPermissions", grantScript, bicepFile)
}

// fakeAz is an `az` that answers the calls grant-customer-tenant.sh makes
// from a tiny in-memory tenant and logs every call, one per line.
const fakeAz = `#!/usr/bin/env bash
echo "$*" >> "$AZ_LOG"
args="$*"
case "$args" in
  "account show"*) echo "$FAKE_TENANT" ;;
  "ad sp list --filter appId eq '00000003-0000-0000-c000-000000000000'"*) echo graph-sp ;;
  "ad sp list --filter appId eq '$COLLECTOR_APP'"*) ;;
  "ad sp list --filter appId eq '$RESPONDER_APP'"*) echo responder-sp ;;
  "ad sp create --id $COLLECTOR_APP"*) echo collector-sp ;;
  "ad sp show --id 00000003-0000-0000-c000-000000000000 --query appRoles[?value=="*)
    v=${args#*value==\'}; echo "role-${v%%\'*}" ;;
  "ad sp show --id 00000003-0000-0000-c000-000000000000 --query appRoles[?id=="*)
    v=${args#*id==\'role-}; echo "${v%%\'*}" ;;
  "rest --method GET --url https://graph.microsoft.com/v1.0/servicePrincipals/responder-sp/appRoleAssignments"*)
    printf 'held-1\trole-Mail.Send\nheld-2\trole-User.Read.All\n' ;;
  "rest --method GET"*) ;;
  "rest --method POST"*|"rest --method DELETE"*) ;;
  *) echo "fake az: unexpected: $args" >&2; exit 3 ;;
esac
`

func runGrantScript(t *testing.T, args ...string) (calls []string, output string) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is not on PATH: %v", err)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "az"), []byte(fakeAz), 0o755))
	log := filepath.Join(dir, "az.log")
	const tenant, collector, responder = "11111111-1111-1111-1111-111111111111",
		"22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"
	base := []string{"--tenant", tenant, "--collector-app", collector, "--responder-app", responder}
	cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot(t), grantScript)}, append(base, args...)...)...)
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "AZ_LOG="+log,
		"FAKE_TENANT="+tenant, "COLLECTOR_APP="+collector, "RESPONDER_APP="+responder)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s failed:\n%s", grantScript, out)
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n"), string(out)
}

// granted returns, per service principal, the permissions POSTed to it.
func granted(calls []string) map[string][]string {
	out := map[string][]string{}
	re := regexp.MustCompile(`rest --method POST --url \S+/servicePrincipals/([^/]+)/appRoleAssignments .*"appRoleId":"role-([^"]+)"`)
	for _, c := range calls {
		if m := re.FindStringSubmatch(c); m != nil {
			out[m[1]] = append(out[m[1]], m[2])
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func TestGrantScriptGrantsExactlyTheListedPermissions(t *testing.T) {
	without := func(list []string, drop string) []string {
		var out []string
		for _, p := range list {
			if p != drop {
				out = append(out, p)
			}
		}
		return out
	}
	// The fake tenant: the collector's service principal does not exist yet;
	// the responder's already holds Mail.Send (tenant-wide, from an admin
	// consent) and User.Read.All.
	responderWant := without(without(graph.WritePermissions(), "Mail.Send"), "User.Read.All")
	tests := []struct {
		name          string
		args          []string
		responder     []string
		deletes       []string
		outputMention string
	}{
		{name: "by default Mail.Send is left to Exchange and an Entra grant of it is reported, not removed",
			responder: responderWant, outputMention: "Mail.Send: held but not in the list"},
		{name: "with --revoke-extra the tenant-wide Mail.Send grant is removed",
			args: []string{"--revoke-extra"}, responder: responderWant, deletes: []string{"held-1"}},
		{name: "with --mail-send entra the held Mail.Send counts as wanted: kept, not granted twice",
			args: []string{"--mail-send", "entra", "--revoke-extra"}, responder: responderWant, outputMention: "Mail.Send: already granted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls, out := runGrantScript(t, tc.args...)
			g := granted(calls)
			assert.Equal(t, sortedKeys(collectorPermissions(t)), g["collector-sp"], "collector grants\n%s", out)
			assert.Equal(t, tc.responder, g["responder-sp"], "responder grants\n%s", out)
			var deletes []string
			for _, c := range calls {
				if strings.HasPrefix(c, "rest --method DELETE") {
					deletes = append(deletes, c[strings.LastIndex(c, "/")+1:strings.Index(c, " -o")])
				}
			}
			assert.Equal(t, tc.deletes, deletes, "revocations\n%s", out)
			assert.Contains(t, calls, "ad sp create --id 22222222-2222-2222-2222-222222222222 --query id -o tsv",
				"the collector's missing service principal is created")
			if tc.outputMention != "" {
				assert.Contains(t, out, tc.outputMention)
			}
		})
	}
}

func TestGrantScriptRefusesBadArguments(t *testing.T) {
	tests := []struct{ name, want string }{
		{"--tenant nope --collector-app 22222222-2222-2222-2222-222222222222", "--tenant must be a GUID"},
		{"--tenant 11111111-1111-1111-1111-111111111111 --collector-app 22222222-2222-2222-2222-222222222222 --mail-send all", "--mail-send must be exchange or entra"},
		{"--tenant 11111111-1111-1111-1111-111111111111 --collector-app 22222222-2222-2222-2222-222222222222 --responder-app 22222222-2222-2222-2222-222222222222", "two app registrations"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot(t), grantScript)}, strings.Fields(tc.name)...)...)
			cmd.Env = append(os.Environ(), "PATH=/nonexistent") // never reaches az
			out, err := cmd.CombinedOutput()
			require.Error(t, err)
			assert.Contains(t, string(out), tc.want)
		})
	}
}
