// Command stage lays out the Functions app: host.json, one folder per
// function and the handler binary (named as host.json's
// defaultExecutablePath) in OUT/app, zips that folder to OUT/m365security.zip
// for deployment, and then copies local.settings.json, when the repository
// has one, into OUT/app for `func start` (after zipping: local settings hold
// secrets and never go to Azure). It needs nothing but Go.
//
//	go run ./tools/stage -binary dist/handler-linux-amd64 -out dist
package main

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

func main() {
	root := flag.String("root", ".", "repository root holding host.json and functions/")
	binary := flag.String("binary", "", "the built handler binary to stage")
	out := flag.String("out", "dist", "output directory: OUT/app and OUT/m365security.zip")
	flag.Parse()
	res, err := stage(*root, *binary, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stage:", err)
		os.Exit(1)
	}
	fmt.Printf("%s ready for: az functionapp deployment source config-zip --src %s\n", res.Zip, res.Zip)
	if res.LocalSettings {
		fmt.Printf("%s/local.settings.json staged (not in the zip): cd %s && func start\n", res.App, res.App)
	} else {
		fmt.Printf("no local.settings.json: for func start, cp local.settings.sample.json local.settings.json and run make package again\n")
	}
}

// result says what stage wrote.
type result struct {
	App           string // the staged folder
	Zip           string // the deployment archive
	LocalSettings bool   // local.settings.json was staged beside it
}

// stage writes OUT/app and OUT/m365security.zip; see the package comment.
func stage(root, binary, out string) (result, error) {
	res := result{App: filepath.Join(out, "app"), Zip: filepath.Join(out, "m365security.zip")}
	if binary == "" {
		return res, errors.New("-binary is required")
	}
	exe, err := executableName(filepath.Join(root, "host.json"))
	if err != nil {
		return res, err
	}
	if err := os.RemoveAll(res.App); err != nil {
		return res, err
	}
	if err := os.MkdirAll(res.App, 0o755); err != nil {
		return res, err
	}
	if err := copyFile(filepath.Join(root, "host.json"), filepath.Join(res.App, "host.json"), 0o644); err != nil {
		return res, err
	}
	fns := filepath.Join(root, "functions")
	n := 0
	err = filepath.WalkDir(fns, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(fns, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(res.App, rel), 0o755)
		}
		if d.Name() == "function.json" {
			n++
		}
		return copyFile(p, filepath.Join(res.App, rel), 0o644)
	})
	if err != nil {
		return res, fmt.Errorf("functions: %w", err)
	}
	if n == 0 {
		return res, fmt.Errorf("no function.json under %s", fns)
	}
	if err := copyFile(binary, filepath.Join(res.App, exe), 0o755); err != nil {
		return res, err
	}
	if err := zipDir(res.App, res.Zip); err != nil {
		return res, err
	}
	local := filepath.Join(root, "local.settings.json")
	switch _, err := os.Stat(local); {
	case err == nil:
		if err := copyFile(local, filepath.Join(res.App, "local.settings.json"), 0o600); err != nil {
			return res, err
		}
		res.LocalSettings = true
	case !errors.Is(err, fs.ErrNotExist):
		return res, err
	}
	return res, nil
}

// executableName reads customHandler.description.defaultExecutablePath.
func executableName(hostJSON string) (string, error) {
	b, err := os.ReadFile(hostJSON)
	if err != nil {
		return "", err
	}
	var h struct {
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
		} `json:"customHandler"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", fmt.Errorf("%s: %w", hostJSON, err)
	}
	name := h.CustomHandler.Description.DefaultExecutablePath
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("%s: customHandler.description.defaultExecutablePath %q is not a file name", hostJSON, name)
	}
	return name, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// zipDir archives dir's files under their slash-separated relative paths,
// keeping Unix modes so the handler stays executable on Linux.
func zipDir(dir, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name, h.Method = path.Clean(filepath.ToSlash(rel)), zip.Deflate
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, in)
		return err
	})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
