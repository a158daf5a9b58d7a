package validation_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"esign/internal/cms"
	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/pki"
	"esign/internal/tsa"
	"esign/internal/validation"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// env is a development PKI (CRL, OCSP) and a TSA served over HTTP on
// 127.0.0.1, as a bank's would be.
type env struct {
	dev    *pki.Dev
	roots  *x509.CertPool
	client *tsa.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	dev, _, err := pki.OpenDev(filepath.Join(dir, "pki"), pki.DevOptions{BaseURL: url + "/pki", RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	store, err := tsa.OpenFileSerialStore(filepath.Join(dir, "serial"), 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tsa.NewServer(tsa.ServerConfig{Certificate: dev.TSA.Certificate, Chain: dev.TSA.Chain, Key: dev.TSA.Key, Serials: store})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/pki/", http.StripPrefix("/pki", dev.CA.Handler(dev.Revocations, pki.HandlerOptions{})))
	mux.Handle("/tsa", srv)
	hs := httptest.NewUnstartedServer(mux)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	roots := x509.NewCertPool()
	roots.AddCert(dev.CA.Certificate)
	return &env{dev: dev, roots: roots, client: &tsa.Client{URL: url + "/tsa", Roots: roots}}
}

// signer issues a signer certificate from the development CA, valid
// from notBefore to notAfter, named for revocation by the CA.
func (e *env) signer(t *testing.T, name string, notBefore, notAfter time.Time) cms.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sc := e.dev.Signer.Certificate
	c, err := e.dev.CA.Issue(&x509.Certificate{Subject: pkix.Name{CommonName: name, Organization: []string{"esign test"}},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		OCSPServer: sc.OCSPServer, CRLDistributionPoints: sc.CRLDistributionPoints}, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	e.dev.Revocations.Add(c)
	return cms.Signer{Certificate: c, Chain: []*x509.Certificate{e.dev.CA.Certificate}, Key: key}
}

// sign signs a sample contract at level.
func (e *env) sign(t *testing.T, s cms.Signer, level pades.Level) []byte {
	t.Helper()
	dir := t.TempDir()
	var in bytes.Buffer
	if err := pdf.WriteSample(&in, "Loan contract", 1); err != nil {
		t.Fatal(err)
	}
	inPath, outPath := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(inPath, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ls := &pades.LocalSigner{Signer: s}
	opt := pades.SignOptions{Level: level, CMS: ls, ExtraCerts: []*x509.Certificate{e.dev.CA.Certificate}}
	if level != pades.LevelBB {
		ls.TSA, opt.TSA = e.client, e.client
	}
	if err := pades.SignFile(context.Background(), inPath, outPath, opt); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// report verifies b and builds its report.
func report(t *testing.T, b []byte, opt pades.VerifyOptions) (*pades.Report, *validation.Report) {
	t.Helper()
	rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opt)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return rep, validation.Build(rep, validation.Input{Name: "contract.pdf", SHA256: hex.EncodeToString(sum[:]), Now: opt.Now(), Online: opt.Online})
}

// appendUpdate appends an incremental update that replaces the first
// page's content: a change after signing that a signed PDF does not allow.
func appendUpdate(t *testing.T, b []byte) []byte {
	t.Helper()
	d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := d.Pages()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := d.ResolveDict(pages[0])
	if err != nil {
		t.Fatal(err)
	}
	u := d.NewUpdate()
	u.Set(pg["Contents"].(pdf.Ref), &pdf.Stream{Dict: pdf.Dict{}, Data: []byte("BT /F1 24 Tf 72 720 Td (Pay 1,000,000 EUR) Tj ET")})
	built, err := u.Build()
	if err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(b), built.Tail...)
}

// tamper flips a byte of the first stream: inside the signed bytes.
func tamper(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte("stream\n"))
	if i < 0 {
		t.Fatal("no stream")
	}
	out := bytes.Clone(b)
	out[i+len("stream\n")+8] ^= 0x01
	return out
}

// TestIndications validates one PDF per case and compares the JSON
// report, its times, serials, digests and offsets normalised, with
// testdata/<case>.json (-update rewrites them); the HTML and PDF forms
// are checked to carry the indication.
func TestIndications(t *testing.T) {
	if testing.Short() {
		t.Skip("signs with RSA and a TSA over HTTP; a few seconds")
	}
	e := newEnv(t)
	now := time.Now().UTC()
	at := func(d time.Duration) func() time.Time { return func() time.Time { return now.Add(d) } }
	seal := cms.Signer(e.dev.Signer)
	good := e.sign(t, seal, pades.LevelBLTA)

	revokedSigner := e.signer(t, "Revoked Signer", now.Add(-2*time.Hour), now.Add(365*24*time.Hour))
	revoked := e.sign(t, revokedSigner, pades.LevelBT)
	e.dev.Revocations.Revoke(revokedSigner.Certificate.SerialNumber, now.Add(-time.Hour), 1)

	shortLived := e.signer(t, "Short-lived Signer", now.Add(-time.Hour), now.Add(time.Hour))
	expiredTimestamped := e.sign(t, shortLived, pades.LevelBLT)
	expiredUntimestamped := e.sign(t, shortLived, pades.LevelBB)

	untrusted := x509.NewCertPool()
	tests := []struct {
		name      string
		pdf       []byte
		opt       pades.VerifyOptions
		want      string // overall indication
		wantSub   string
		wantLevel string // of S1
	}{
		{"good_contract", good, pades.VerifyOptions{Roots: e.roots, Now: at(0)}, validation.TotalPassed, "", "B-LTA"},
		{"modified_bytes", tamper(t, good), pades.VerifyOptions{Roots: e.roots, Now: at(0)}, validation.TotalFailed, validation.HashFailure, ""},
		{"modified_update", appendUpdate(t, good), pades.VerifyOptions{Roots: e.roots, Now: at(0)}, validation.TotalFailed, validation.FormatFailure, "B-LT"},
		{"untrusted_signer", good, pades.VerifyOptions{Roots: untrusted, Now: at(0)}, validation.Indeterminate, validation.NoCertificateChainFound, "B-B"},
		{"revoked_signer", revoked, pades.VerifyOptions{Roots: e.roots, Now: at(0), Online: true}, validation.TotalFailed, validation.Revoked, "B-T"},
		{"revocation_unknown", revoked, pades.VerifyOptions{Roots: e.roots, Now: at(0)}, validation.Indeterminate, validation.TryLater, "B-T"},
		{"expired_timestamped", expiredTimestamped, pades.VerifyOptions{Roots: e.roots, Now: at(48 * time.Hour)}, validation.TotalPassed, "", "B-LT"},
		{"expired_not_timestamped", expiredUntimestamped, pades.VerifyOptions{Roots: e.roots, Now: at(48 * time.Hour)}, validation.Indeterminate, validation.OutOfBoundsNoPOE, "B-B"},
		{"expired_not_timestamped_online", expiredUntimestamped, pades.VerifyOptions{Roots: e.roots, Now: at(48 * time.Hour), Online: true}, validation.Indeterminate, validation.OutOfBoundsNotRevoked, "B-B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, r := report(t, tt.pdf, tt.opt)
			// The verifier's own verdict (esign pdf verify's exit status)
			// is valid exactly when the report does not fail or lack a
			// chain or time; revocation unknown is valid to it.
			wantValid := r.Indication == validation.TotalPassed || r.SubIndication == validation.TryLater
			if rep.Valid() != wantValid {
				t.Errorf("verifier says valid=%v, report %s/%s", rep.Valid(), r.Indication, r.SubIndication)
			}
			if r.Indication != tt.want || r.SubIndication != tt.wantSub {
				j, _ := r.JSON()
				t.Fatalf("indication %s/%s, want %s/%s:\n%s", r.Indication, r.SubIndication, tt.want, tt.wantSub, j)
			}
			if got := r.Signatures[0].Level; got != tt.wantLevel {
				t.Errorf("S1 level %q, want %q", got, tt.wantLevel)
			}
			golden(t, filepath.Join("testdata", tt.name+".json"), normalise(t, r))
			checkHTML(t, r)
			checkPDF(t, r)
		})
	}
}

// normalise is the report's JSON with what changes from run to run
// (times, serials, digests, sizes, offsets) replaced by placeholders.
func normalise(t *testing.T, r *validation.Report) []byte {
	t.Helper()
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "validation_time", "time", "not_before", "not_after", "this_update", "revoked_at":
					x[k] = "<time>"
				case "serial":
					x[k] = "<serial>"
				case "sha256":
					x[k] = "<sha256>"
				case "size", "revision_end":
					x[k] = 0
				case "byte_range":
					x[k] = "<byte range>"
				default:
					x[k] = walk(val)
				}
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case string:
			return volatile.ReplaceAllString(x, "<volatile>")
		}
		return v
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(walk(v)); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// volatile matches times, ports and long hex numbers in sentences.
var volatile = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d| UTC)?|127\.0\.0\.1:\d+|\b[0-9a-f]{16,}\b`)

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", path, got)
	}
}

func checkHTML(t *testing.T, r *validation.Report) {
	t.Helper()
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if !strings.Contains(h, `id="indication"`) || !strings.Contains(h, r.Indication) || (r.SubIndication != "" && !strings.Contains(h, r.SubIndication)) {
		t.Errorf("HTML lacks the indication %s/%s", r.Indication, r.SubIndication)
	}
	for _, bad := range []string{"<script", "src=", "href=\"http"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML is not self-contained: has %q", bad)
		}
	}
}

// checkPDF writes the PDF report and checks it with qpdf --check and
// pdftotext, when they are installed (CI installs both).
func checkPDF(t *testing.T, r *validation.Report) {
	t.Helper()
	var b bytes.Buffer
	if err := r.PDF(&b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Log("qpdf not installed: PDF report not checked")
		return
	}
	if out, err := exec.Command("qpdf", "--check", p).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	want := "Result: " + r.Indication
	if r.SubIndication != "" {
		want += " / " + r.SubIndication
	}
	if !strings.Contains(string(out), want) {
		t.Errorf("pdftotext shows no %q:\n%s", want, out)
	}
	if n := bytes.Count(b.Bytes(), []byte("/Type /Page ")) + bytes.Count(b.Bytes(), []byte("/Type/Page/")); n > 1 {
		t.Errorf("%d pages, want one", n)
	}
}
