package infra_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const grammarInstallHint = "`make test` installs it; or run `npm ci --ignore-scripts --prefix test-tools/bicep-grammar` from the repository root"

// extensionLine is the one Bicep statement the pinned tree-sitter grammar
// predates: `extension <alias>` (the older form was `import '<alias>'`). The
// alias must be one infra/bicepconfig.json configures; a `with {...}` config
// or any other shape is not accepted here, so it cannot hide other syntax.
var extensionLine = regexp.MustCompile(`^extension[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*$`)

// prepareForGrammar blanks each `extension <alias>` line of src (keeping
// every offset, so error positions still point into the file) after checking
// the alias is configured. It fails on a line that starts with `extension`
// in any other form.
func prepareForGrammar(src string, aliases map[string]bool) (string, []string, error) {
	lines := strings.SplitAfter(src, "\n")
	var used []string
	for i, l := range lines {
		body := strings.TrimRight(l, "\r\n")
		if !strings.HasPrefix(body, "extension") {
			continue
		}
		m := extensionLine.FindStringSubmatch(body)
		if m == nil {
			return "", nil, fmt.Errorf("line %d: %q: only `extension <alias>` is understood here", i+1, body)
		}
		if !aliases[m[1]] {
			return "", nil, fmt.Errorf("line %d: extension %s is not configured in infra/bicepconfig.json", i+1, m[1])
		}
		used = append(used, m[1])
		lines[i] = strings.Repeat(" ", len(body)) + l[len(body):]
	}
	return strings.Join(lines, ""), used, nil
}

type grammarError struct {
	Line, Column int
	Kind, Text   string
}

type grammarResult struct {
	File   string
	Root   string
	Errors []grammarError
}

// parseWithGrammar parses sources (file -> text) with the pinned tree-sitter
// Bicep grammar under test-tools/bicep-grammar.
func parseWithGrammar(t *testing.T, sources map[string]string) map[string]grammarResult {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "test-tools", "bicep-grammar")
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is not on PATH; the Bicep grammar check needs Node.js: %s", grammarInstallHint)
	for _, pkg := range []string{"web-tree-sitter", "tree-sitter-bicep"} {
		_, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json"))
		require.NoError(t, err, "%s is not installed: %s", pkg, grammarInstallHint)
	}
	type input struct {
		File   string `json:"file"`
		Source string `json:"source"`
	}
	var in []input
	for f, s := range sources {
		in = append(in, input{f, s})
	}
	body, err := json.Marshal(in)
	require.NoError(t, err)
	cmd := exec.Command(node, filepath.Join(dir, "parse.js"))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Run(), "parse.js failed: %s", stderr.String())
	var results []grammarResult
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &results), "parse.js output")
	out := map[string]grammarResult{}
	for _, r := range results {
		out[r.File] = r
	}
	require.Len(t, out, len(sources), "parse.js answered for %d of %d files", len(out), len(sources))
	return out
}

func bicepconfigAliases(t *testing.T) map[string]bool {
	t.Helper()
	var cfg struct {
		Extensions map[string]string `json:"extensions"`
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, "infra/bicepconfig.json")), &cfg), "infra/bicepconfig.json")
	aliases := map[string]bool{}
	for a, ref := range cfg.Extensions {
		assert.Regexp(t, `^br:mcr\.microsoft\.com/bicep/extensions/microsoftgraph/v1\.0:\d+\.\d+\.\d+$`, ref,
			"infra/bicepconfig.json: extension %s should pin the Microsoft Graph v1.0 extension to a version", a)
		aliases[a] = true
	}
	require.NotEmpty(t, aliases, "infra/bicepconfig.json configures no extension")
	return aliases
}

func TestBicepFilesParseWithTheTreeSitterGrammar(t *testing.T) {
	aliases := bicepconfigAliases(t)
	sources := map[string]string{}
	usesExtension := map[string]bool{}
	for _, f := range bicepFiles(t) {
		src, used, err := prepareForGrammar(readFile(t, f), aliases)
		require.NoError(t, err, f)
		sources[f] = src
		usesExtension[f] = len(used) > 0
	}
	// Negative control: the grammar must reject something, or a broken
	// install that accepts everything would pass this test.
	const broken = "(negative control)"
	sources[broken] = "param x string =\nresource r 'A/b@1' = {\n"
	results := parseWithGrammar(t, sources)

	assert.NotEmpty(t, results[broken].Errors, "the grammar accepted a broken file: the check would prove nothing")
	for f := range sources {
		if f == broken {
			continue
		}
		r := results[f]
		assert.Equal(t, "infrastructure", r.Root, "%s: unexpected root node", f)
		for _, e := range r.Errors {
			t.Errorf("%s:%d:%d: %s near %q", f, e.Line, e.Column, e.Kind, e.Text)
		}
	}
	// Every file declaring Microsoft.Graph resources declares the extension.
	for f, src := range sources {
		if f != broken && strings.Contains(src, "'Microsoft.Graph/") {
			assert.True(t, usesExtension[f], "%s declares Microsoft.Graph resources without `extension microsoftGraphV1`", f)
		}
	}
}

func TestPrepareForGrammar(t *testing.T) {
	aliases := map[string]bool{"microsoftGraphV1": true}
	tests := []struct {
		name, src, want, err string
	}{
		{name: "a configured extension line is blanked, offsets kept",
			src: "extension microsoftGraphV1\nparam p string\n", want: strings.Repeat(" ", 26) + "\nparam p string\n"},
		{name: "a CRLF line keeps its line ending",
			src: "extension microsoftGraphV1\r\nparam p string", want: strings.Repeat(" ", 26) + "\r\nparam p string"},
		{name: "an unconfigured alias is refused",
			src: "extension kubernetes\n", err: "not configured"},
		{name: "an extension with a config object is refused",
			src: "extension microsoftGraphV1 with {\n}\n", err: "only `extension <alias>`"},
		{name: "a file without extension is unchanged",
			src: "param extensionName string\n", want: "param extensionName string\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := prepareForGrammar(tc.src, aliases)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, len(tc.src), len(got), "offsets must not move")
		})
	}
}
