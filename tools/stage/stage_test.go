package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// repo builds a minimal repository: host.json, two function folders, a
// binary and, optionally, local.settings.json.
func repo(t *testing.T, withLocal bool) (root, binary string) {
	t.Helper()
	root = t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), mode))
	}
	write("host.json", `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"}}}`, 0o644)
	write("functions/Health/function.json", `{"bindings":[]}`, 0o644)
	write("functions/CollectIdentity/function.json", `{"bindings":[]}`, 0o644)
	write("bin/handler-linux-amd64", "\x7fELF binary", 0o644)
	if withLocal {
		write("local.settings.json", `{"Values":{"COSMOS_KEY":"secret"}}`, 0o600)
	}
	return root, filepath.Join(root, "bin/handler-linux-amd64")
}

func zipEntries(t *testing.T, p string) map[string]os.FileMode {
	t.Helper()
	zr, err := zip.OpenReader(p)
	require.NoError(t, err)
	defer zr.Close()
	out := map[string]os.FileMode{}
	for _, f := range zr.File {
		out[f.Name] = f.Mode()
	}
	return out
}

func TestStageLaysOutTheAppAndKeepsLocalSettingsOutOfTheZip(t *testing.T) {
	root, bin := repo(t, true)
	out := filepath.Join(t.TempDir(), "dist")
	res, err := stage(root, bin, out)
	require.NoError(t, err)
	require.True(t, res.LocalSettings)

	var staged []string
	require.NoError(t, filepath.WalkDir(res.App, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(res.App, p)
			staged = append(staged, filepath.ToSlash(rel))
		}
		return err
	}))
	sort.Strings(staged)
	require.Equal(t, []string{"CollectIdentity/function.json", "Health/function.json", "handler", "host.json", "local.settings.json"}, staged,
		"func start in the staged folder finds host.json, the functions, the binary and local.settings.json")
	fi, err := os.Stat(filepath.Join(res.App, "handler"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), fi.Mode().Perm(), "the binary is executable")
	fi, err = os.Stat(filepath.Join(res.App, "local.settings.json"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "local settings stay private")

	entries := zipEntries(t, res.Zip)
	require.NotContains(t, entries, "local.settings.json", "local settings hold secrets and are never deployed")
	require.Equal(t, os.FileMode(0o755), entries["handler"].Perm(), "the zip keeps the executable bit")
	require.Contains(t, entries, "host.json")
	require.Contains(t, entries, "CollectIdentity/function.json")
}

func TestStageWithoutLocalSettingsAndRestaging(t *testing.T) {
	root, bin := repo(t, false)
	out := filepath.Join(t.TempDir(), "dist")
	require.NoError(t, os.MkdirAll(filepath.Join(out, "app", "Stale"), 0o755))
	res, err := stage(root, bin, out)
	require.NoError(t, err)
	require.False(t, res.LocalSettings)
	require.NoDirExists(t, filepath.Join(res.App, "Stale"), "a previous staging is replaced")
	require.NoFileExists(t, filepath.Join(res.App, "local.settings.json"))
}

func TestStageRefuses(t *testing.T) {
	root, bin := repo(t, false)
	_, err := stage(root, "", t.TempDir())
	require.ErrorContains(t, err, "-binary")
	require.NoError(t, os.WriteFile(filepath.Join(root, "host.json"), []byte(`{"customHandler":{"description":{"defaultExecutablePath":"../x"}}}`), 0o644))
	_, err = stage(root, bin, t.TempDir())
	require.ErrorContains(t, err, "defaultExecutablePath")
}

// TestStageTheRepository stages this repository as make package does (with
// a stand-in binary): every function folder arrives beside host.json.
func TestStageTheRepository(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "handler")
	require.NoError(t, os.WriteFile(bin, []byte("stand-in"), 0o755))
	res, err := stage(root, bin, filepath.Join(t.TempDir(), "dist"))
	require.NoError(t, err)
	fns, err := filepath.Glob(filepath.Join(root, "functions", "*", "function.json"))
	require.NoError(t, err)
	require.NotEmpty(t, fns)
	entries := zipEntries(t, res.Zip)
	for _, f := range fns {
		rel, _ := filepath.Rel(filepath.Join(root, "functions"), f)
		require.Contains(t, entries, filepath.ToSlash(rel))
	}
	require.Contains(t, entries, "host.json")
	require.Contains(t, entries, "handler", "named as host.json's defaultExecutablePath")
}
