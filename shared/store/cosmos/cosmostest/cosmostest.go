package cosmostest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key is an account key for the test server, which ignores authentication;
// the SDK only needs it to be base64.
var Key = base64.StdEncoding.EncodeToString([]byte("cosmostest-account-key"))

// startTimeout bounds how long Start waits for the server to come up.
const startTimeout = 30 * time.Second

const installHint = "`make test` installs it; or run `npm ci --prefix test-tools/cosmosdb` from the repository root"

// readyPrefix starts the line serve.js prints once it listens.
const readyPrefix = "cosmosdb-server ready "

// Start launches the server on a free port of 127.0.0.1 and returns its
// endpoint and an HTTP client that trusts exactly its certificate. The
// server stops when the test ends. Each call starts a separate server.
func Start(t testing.TB) (endpoint string, httpClient *http.Client) {
	t.Helper()
	toolDir := filepath.Join(repoRoot(t), "test-tools", "cosmosdb")
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("start cosmosdb-server: node is not on PATH (%v); the Cosmos store tests need Node.js and the pinned server: %s", err, installHint)
	}
	pkg := filepath.Join(toolDir, "node_modules", "@vercel", "cosmosdb-server", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		t.Fatalf("start cosmosdb-server: %s is missing: %s", pkg, installHint)
	}

	dir := t.TempDir()
	certPEM, keyPEM := newCertificate(t)
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	mustWrite(t, certPath, certPEM)
	mustWrite(t, keyPath, keyPEM)

	cmd := exec.Command(node, filepath.Join(toolDir, "serve.js"),
		"--host", "127.0.0.1", "--port", "0", "--cert", certPath, "--key", keyPath)
	cmd.Dir = toolDir
	cmd.WaitDelay = 5 * time.Second
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, stdoutW := io.Pipe()
	cmd.Stdout = stdoutW
	if err := cmd.Start(); err != nil {
		t.Fatalf("start cosmosdb-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		// Ends the stdout reader below.
		_ = stdoutW.Close()
		exited <- err
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("cosmosdb-server stderr:\n%s", stderr.String())
		}
	})

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), readyPrefix); ok {
				select {
				case ready <- strings.TrimSpace(line):
				default:
				}
			}
		}
		// Keep draining so the server never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
		_ = stdout.Close()
	}()

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	select {
	case endpoint = <-ready:
	case err := <-exited:
		exited <- err // for the cleanup's receive
		t.Fatalf("start cosmosdb-server: exited before it was ready (%v); stderr:\n%s", err, stderr.String())
	case <-deadline.C:
		t.Fatalf("start cosmosdb-server: not ready after %s; stderr:\n%s", startTimeout, stderr.String())
	}

	httpClient = newHTTPClient(t, certPEM)
	checkAccount(t, httpClient, endpoint)
	return endpoint, httpClient
}

// checkAccount asks the server which endpoint it advertises. The SDK routes
// every request to the advertised location, which the server derives from
// its listen address, so it must be exactly the endpoint returned.
func checkAccount(t testing.TB, client *http.Client, endpoint string) {
	t.Helper()
	resp, err := client.Get(endpoint)
	if err != nil {
		t.Fatalf("check cosmosdb-server account at %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	var account struct {
		WritableLocations []struct {
			Endpoint string `json:"databaseAccountEndpoint"`
		} `json:"writableLocations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&account); err != nil {
		t.Fatalf("check cosmosdb-server account at %s: decode: %v", endpoint, err)
	}
	if len(account.WritableLocations) == 0 || account.WritableLocations[0].Endpoint != endpoint {
		t.Fatalf("check cosmosdb-server account: it advertises %+v, want the endpoint %s the client connects to", account.WritableLocations, endpoint)
	}
}

// newHTTPClient trusts exactly the test certificate.
func newHTTPClient(t testing.TB, certPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("trust test certificate: no certificate in PEM")
	}
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			// Loopback only: never through a proxy from the environment.
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConnsPerHost: 16,
		},
	}
}

// newCertificate makes a self-signed ECDSA certificate for 127.0.0.1 and
// localhost, valid for a day.
func newCertificate(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate test key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("generate certificate serial: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cosmostest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create test certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("encode test key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// repoRoot walks up from the working directory to the directory with go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("find repository root: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("find repository root: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

func mustWrite(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// lockedBuffer collects the server's stderr while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}
