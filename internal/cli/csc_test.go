package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/config"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pki"
)

// lockedBuffer is a bytes.Buffer for a process's log written while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startCSCServer runs esign csc-server with args until the returned stop;
// its log is in the buffer.
func startCSCServer(t *testing.T, env []string, args ...string) (*lockedBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	logs := &lockedBuffer{}
	var serverEnv []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ESIGN_LOG_LEVEL=") {
			serverEnv = append(serverEnv, kv)
		}
	}
	ready := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Env{Args: append([]string{"csc-server"}, args...), Stdout: logs, Stderr: logs,
			Environ: append(serverEnv, "ESIGN_LOG_LEVEL=info"), Ready: func(map[string]string) { close(ready) }})
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("csc-server exited %d:\n%s", code, logs)
	case <-time.After(30 * time.Second):
		t.Fatal("csc-server did not start")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("csc-server exit %d:\n%s", code, logs)
		}
	}
	t.Cleanup(stop)
	return logs, stop
}

// TestCSCDemo: the demo's flow sealed through esign csc-server over HTTP.
// The bank's certificate is registered as a CSC credential (its chain
// fetched from credentials/info), pdfservice signs with csc.*, each
// contract validates with esign pdf verify, pdfsig, qpdf --check and
// openssl cms, and the server's log shows the signHash calls. Then the
// service goes away and pdfservice's /readyz fails.
func TestCSCDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo through esign all and esign csc-server")
	}
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "csc-secret")
	os.WriteFile(secret, []byte("a-csc-client-secret-for-tests\n"), 0o600)
	cscAddr := freeAddr(t)
	cscURL := "http://" + cscAddr + "/csc/v2"
	env := demoEnviron(t, dir, "ESIGN_CSC_URL="+cscURL, "ESIGN_CSC_CLIENT_ID=esign-pdfservice", "ESIGN_CSC_CLIENT_SECRET_FILE="+secret)
	logs, stopCSC := startCSCServer(t, env, "--dev", "--listen", cscAddr, "--client-id", "esign-pdfservice",
		"--client-secret-file", secret, "--credential-id", "bank-seal")

	if code, out, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	code, out, errs := run(t, t.Context(), env, nil, "cert", "import", "--credential-id", "bank-seal", "--activate")
	if code != 0 || !strings.Contains(out, "imported and activated") || !strings.Contains(out, "csc "+cscURL+"#bank-seal") {
		t.Fatalf("cert import: %d\n%s\n%s", code, out, errs)
	}
	if code, out, _ := run(t, t.Context(), env, nil, "cert", "list"); code != 0 || !strings.Contains(out, "key csc "+cscURL+"#bank-seal (active)") {
		t.Fatalf("cert list: %d\n%s", code, out)
	}

	addrs, stop := startStoppable(t, "all", env)
	outDir := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, t.Context(), env, nil, demoFlags(addrs, "--out", outDir)...)
	if code != 0 || strings.Count(stdout, "valid, PAdES B-LTA") != 2 {
		t.Fatalf("esign demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := strings.Count(logs.String(), "csc: signed"); n < 2 {
		t.Fatalf("%d signHash calls at the CSC server:\n%s", n, logs)
	}
	files, _ := filepath.Glob(filepath.Join(outDir, "esign-demo-*.pdf"))
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	caFile := filepath.Join(dir, "pki", pki.FileCABundle)
	for _, f := range files {
		code, out, errs := run(t, t.Context(), env, nil, "pdf", "verify", "--trust", caFile, "--json", f)
		if code != 0 || !strings.Contains(out, `"level": "B-LTA"`) {
			t.Fatalf("esign pdf verify %s: %d\n%s\n%s", f, code, out, errs)
		}
		b, _ := os.ReadFile(f)
		ca, _ := os.ReadFile(caFile)
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(ca)
		rep, err := pades.Verify(t.Context(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: roots})
		if err != nil || !rep.Valid() {
			t.Fatalf("%s: %v", f, err)
		}
		validateElsewhere(t, f, b, caFile, rep.Signatures[0].ByteRange)
	}

	// The service goes away: /readyz fails (within the info cache's 10 s).
	readyz := "http://" + addrs["ops"] + "/readyz"
	if s := status(t, readyz); s != http.StatusOK {
		t.Fatalf("readyz %d with the CSC service up", s)
	}
	stopCSC()
	deadline := time.Now().Add(20 * time.Second)
	for status(t, readyz) == http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("readyz still 200 with the CSC service gone")
		}
		time.Sleep(500 * time.Millisecond)
	}
	stop()
}

func status(t *testing.T, url string) int {
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestCSCServerUsage: bad flags of esign csc-server and of a CSC cert
// import exit 2 and say why; an unreachable service is a plain failure.
func TestCSCServerUsage(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("a-csc-client-secret-for-tests\n"), 0o600)
	env := testEnviron(dir)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no-key", []string{"csc-server", "--client-id", "x", "--client-secret-file", secret}, 2, "usage"},
		{"p12-without-password", []string{"csc-server", "--p12", "x.p12", "--client-id", "x", "--client-secret-file", secret}, 2, "usage"},
		{"scal2-without-pin", []string{"csc-server", "--dev", "--scal", "2", "--client-id", "x", "--client-secret-file", secret, "--listen", "127.0.0.1:0"}, 2, "PIN"},
		{"import-without-service", []string{"cert", "import", "--credential-id", "seal"}, 2, "--csc-url"},
		{"import-unreachable", []string{"cert", "import", "--credential-id", "seal", "--csc-url", "http://" + freeAddr(t), "--csc-client-id", "x", "--csc-client-secret-file", secret}, 1, "unreachable"},
	}
	if code, out, errs := run(t, t.Context(), env, nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := run(t, t.Context(), env, nil, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, want %d saying %q:\n%s", code, tt.code, tt.want, errs)
			}
		})
	}
}

// TestCSCOpenerOtherService: a credential registered at another service
// than csc.url is not opened.
func TestCSCOpenerOtherService(t *testing.T) {
	c, err := newCSCClient(config.CSC{URL: "http://127.0.0.1:1", ClientID: "x", ClientSecret: "y"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cscOpener{c}.Open(t.Context(), cscRef("https://qtsp.example/csc/v2", "seal"))
	if !esign.IsKind(err, esign.Unavailable) || !strings.Contains(esign.ErrorMessage(err), "csc.url is http://127.0.0.1:1/csc/v2") {
		t.Fatalf("%v", err)
	}
	if u, id := splitCSCRef(cscRef(c.URL(), "a#b")); u != c.URL() || id != "a#b" {
		t.Errorf("split %q %q", u, id)
	}
}
