package infra_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

type azdHook struct {
	Shell string `yaml:"shell"`
	Run   string `yaml:"run"`
}

type azdHooks map[string]struct {
	Posix   azdHook `yaml:"posix"`
	Windows azdHook `yaml:"windows"`
}

type azureYAML struct {
	Name             string            `yaml:"name"`
	Metadata         map[string]string `yaml:"metadata"`
	RequiredVersions map[string]string `yaml:"requiredVersions"`
	Infra            struct {
		Provider, Path, Module string
	} `yaml:"infra"`
	Hooks    azdHooks `yaml:"hooks"`
	Services map[string]struct {
		Project  string   `yaml:"project"`
		Language string   `yaml:"language"`
		Host     string   `yaml:"host"`
		Dist     string   `yaml:"dist"`
		Hooks    azdHooks `yaml:"hooks"`
	} `yaml:"services"`
}

// TestAzureYAML checks that `azd up` provisions infra/main.bicep and deploys
// what `make package` builds to the app the Bicep tags for it. azd itself is
// not available here; these are the facts it relies on.
func TestAzureYAML(t *testing.T) {
	var cfg azureYAML
	dec := yaml.NewDecoder(strings.NewReader(readFile(t, "azure.yaml")))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg), "azure.yaml")

	assert.Regexp(t, `^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`, cfg.Name, "azure.yaml: name: lowercase letters, digits, hyphens")
	assert.Regexp(t, `^>= ?\d+\.\d+\.\d+$`, cfg.RequiredVersions["azd"], "azure.yaml: requiredVersions.azd")
	assert.Equal(t, "bicep", cfg.Infra.Provider)
	assert.Equal(t, "infra", cfg.Infra.Path)
	assert.Equal(t, "main", cfg.Infra.Module)

	require.Len(t, cfg.Services, 1, "azure.yaml: one service, the Function App")
	for name, svc := range cfg.Services {
		assert.Equal(t, "function", svc.Host, "azure.yaml: services.%s.host", name)
		assert.Equal(t, "custom", svc.Language, "azure.yaml: services.%s.language: azd builds nothing, make package does", name)
		assert.Equal(t, ".", svc.Project, "azure.yaml: services.%s.project is the repository root (Makefile)", name)
		// dist is the zip tools/stage writes, so azd deploys it as built
		// (execute bit on the handler kept) instead of zipping a folder.
		stage := readFile(t, "tools/stage/main.go")
		zip := regexp.MustCompile(`Zip:\s*filepath\.Join\(out,\s*"([^"]+)"\)`).FindStringSubmatch(stage)
		require.NotNil(t, zip, "tools/stage/main.go: no zip name")
		assert.Equal(t, "dist/"+zip[1], svc.Dist, "azure.yaml: services.%s.dist must be the zip make package writes", name)
		assert.Regexp(t, `(?m)^\t\$\(GO\) run \./tools/stage .*-out dist\b`, readFile(t, "Makefile"), "Makefile: make package stages into dist")
		for _, h := range []azdHook{svc.Hooks["prepackage"].Posix, svc.Hooks["prepackage"].Windows} {
			assert.Equal(t, "make package", h.Run, "azure.yaml: services.%s.hooks.prepackage must run make package", name)
		}
		// azd finds the app by its azd-service-name tag.
		matches(t, `(?m)^param\s+azdServiceName\s+string\s*=\s*'`+regexp.QuoteMeta(name)+`'`, bicep(t, "infra/modules/functionapp.bicep"),
			"infra/modules/functionapp.bicep: azdServiceName must default to the azure.yaml service name %q", name)
		matches(t, `'azd-service-name':\s*azdServiceName`, bicep(t, "infra/modules/functionapp.bicep"), "the site carries the azd tag")
	}
	for _, h := range []azdHook{cfg.Hooks["preprovision"].Posix, cfg.Hooks["preprovision"].Windows} {
		require.NotEmpty(t, h.Run, "azure.yaml: hooks.preprovision")
		readFile(t, strings.TrimPrefix(h.Run, "./")) // the script exists
	}

	// The parameters file names only main.bicep parameters and gives every
	// parameter without a default.
	var params struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, "infra/main.parameters.json")), &params), "infra/main.parameters.json")
	code := bicep(t, "infra/main.bicep")
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^param\s+(\w+)\s+[\w\[\]]+(\s*=)?`).FindAllStringSubmatch(code, -1) {
		declared[m[1]] = true
		if m[2] == "" {
			assert.Contains(t, params.Parameters, m[1], "infra/main.parameters.json: main.bicep parameter %s has no default", m[1])
		}
	}
	for p := range params.Parameters {
		assert.True(t, declared[p], "infra/main.parameters.json: %s is not a main.bicep parameter", p)
	}
	assert.Equal(t, "${NOTIFICATION_CLIENT_STATE}", params.Parameters["notificationClientState"].Value,
		"the secret comes from the azd environment (the preprovision hook sets it)")
	assert.Contains(t, readFile(t, "infra/scripts/azd-preprovision.sh"), "azd env set NOTIFICATION_CLIENT_STATE")
}
