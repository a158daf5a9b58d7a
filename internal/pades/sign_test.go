package pades_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"esign/internal/esigntest"

	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

var levels = []pades.Level{pades.LevelBB, pades.LevelBT, pades.LevelBLT, pades.LevelBLTA}

func signFile(t *testing.T, in string, opt pades.SignOptions) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "signed.pdf")
	if err := pades.SignFile(context.Background(), in, out, opt); err != nil {
		t.Fatalf("SignFile: %v", err)
	}
	orig, _ := os.ReadFile(in)
	signed, _ := os.ReadFile(out)
	if !bytes.HasPrefix(signed, orig) {
		t.Fatal("the input is not a byte-exact prefix of the output")
	}
	return out
}

// TestSignExternalValidators signs varied inputs at every level and checks
// the output with qpdf, poppler's pdfsig (trusting our CA through an NSS
// database) and openssl cms / openssl ts.
func TestSignExternalValidators(t *testing.T) {
	e := env(t)
	dir := t.TempDir()
	vs := pdftest.Variants(t, dir)
	nss := nssDB(t, e)
	// an input already signed by another signer: poppler's pdfsig with a
	// second certificate from our CA, imported into the NSS database.
	vs = append(vs, pdftest.Variant{Name: "signed-by-poppler", Path: popplerSigned(t, e, nss, vs[0].Path)})
	for i, v := range vs {
		if testing.Short() && i > 0 {
			continue // the full matrix takes several seconds
		}
		for _, level := range levels {
			t.Run(v.Name+"/"+string(level), func(t *testing.T) {
				out := signFile(t, v.Path, e.signOptions(level))
				qpdfCheck(t, out)
				pdfsigCheck(t, e, nss, out, level)
				opensslCheck(t, e, out, level)
				rep := verifyOK(t, e, out)
				last := rep.Signatures[len(rep.Signatures)-1]
				if level == pades.LevelBLTA {
					last = rep.Signatures[len(rep.Signatures)-2]
				}
				if last.Level != string(level) {
					t.Fatalf("verifier: level %q, want %q", last.Level, level)
				}
			})
		}
	}
}

func qpdfCheck(t *testing.T, path string) {
	t.Helper()
	qpdf := esigntest.Tool(t, "qpdf")
	if out, err := exec.Command(qpdf, "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}

func nssDB(t *testing.T, e *testEnv) string {
	certutil := esigntest.Tool(t, "certutil")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-N", "--empty-password", "-d", dir},
		{"-A", "-n", "esign-ca", "-t", "CT,C,C", "-i", e.caPEM, "-d", dir},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func pdfsigCheck(t *testing.T, e *testEnv, nss, path string, level pades.Level) {
	t.Helper()
	pdfsig := esigntest.Tool(t, "pdfsig")
	// OCSP checking is on (no -no-ocsp): the certificates name the test
	// server's responder, which must be asked (docs/pades.md, "pdfsig and
	// OCSP").
	asked := e.ocspRequests.Load()
	out, err := exec.Command(pdfsig, "-nssdir", nss, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	if e.ocspRequests.Load() == asked {
		t.Fatalf("pdfsig did not ask the OCSP responder:\n%s", out)
	}
	blocks := strings.Split(string(out), "Signature #")[1:]
	cades := 0
	for _, b := range blocks {
		if !strings.Contains(b, "Signature Type: ETSI.CAdES.detached") {
			continue // poppler cannot validate document time-stamps (ETSI.RFC3161)
		}
		cades++
		if !strings.Contains(b, "Signature Validation: Signature is Valid.") {
			t.Fatalf("pdfsig does not report a valid signature:\n%s", out)
		}
		if !strings.Contains(b, "Certificate Validation: Certificate is Trusted.") {
			t.Fatalf("pdfsig does not trust the certificate:\n%s", out)
		}
	}
	if cades == 0 {
		t.Fatalf("pdfsig found no CAdES signature:\n%s", out)
	}
}

// signatures returns the ByteRange and CMS of each signature dictionary of
// the file, as our PDF reader sees them.
func signatures(t *testing.T, path string) []sigInfo {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var sigs []sigInfo
	for num := 1; num <= d.MaxObjectNumber(); num++ {
		o, err := d.Object(num)
		if err != nil {
			continue
		}
		dict, ok := o.(pdf.Dict)
		if !ok || (dict["Type"] != pdf.Name("Sig") && dict["Type"] != pdf.Name("DocTimeStamp")) {
			continue
		}
		br, _ := pdf.AsArray(dict["ByteRange"])
		var s sigInfo
		for i := range 4 {
			s.br[i], _ = pdf.AsInt(br[i])
		}
		s.contents, _ = pdf.AsString(dict["Contents"])
		s.contents = trimDER(s.contents)
		s.docTS = dict["Type"] == pdf.Name("DocTimeStamp")
		s.subFilter, _ = pdf.AsName(dict["SubFilter"])
		s.signed = append(append([]byte(nil), b[s.br[0]:s.br[0]+s.br[1]]...), b[s.br[2]:s.br[2]+s.br[3]]...)
		sigs = append(sigs, s)
	}
	return sigs
}

type sigInfo struct {
	br        [4]int64
	contents  []byte
	signed    []byte
	docTS     bool
	subFilter pdf.Name
}

// trimDER cuts the zero padding after a DER SEQUENCE.
func trimDER(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	n, hdr := int(b[1]), 2
	if b[1]&0x80 != 0 {
		k := int(b[1] & 0x7f)
		n = 0
		for i := 0; i < k && 2+i < len(b); i++ {
			n = n<<8 | int(b[2+i])
		}
		hdr = 2 + k
	}
	if hdr+n <= len(b) {
		return b[:hdr+n]
	}
	return b
}

func opensslCheck(t *testing.T, e *testEnv, path string, level pades.Level) {
	t.Helper()
	openssl := esigntest.Tool(t, "openssl")
	dir := t.TempDir()
	sigs := signatures(t, path)
	nDocTS := 0
	for i, s := range sigs {
		if s.subFilter != "ETSI.CAdES.detached" && s.subFilter != "ETSI.RFC3161" {
			continue // another signer's signature (checked by pdfsig)
		}
		data := filepath.Join(dir, "data"+strconv.Itoa(i))
		der := filepath.Join(dir, "sig"+strconv.Itoa(i)+".der")
		os.WriteFile(data, s.signed, 0o644)
		os.WriteFile(der, s.contents, 0o644)
		if s.docTS {
			nDocTS++
			// the document time-stamp is a TimeStampToken over the ByteRange
			run(t, openssl, "ts", "-verify", "-data", data, "-in", der, "-token_in", "-CAfile", e.caPEM)
			continue
		}
		run(t, openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", der, "-content", data,
			"-CAfile", e.caPEM, "-purpose", "any", "-out", os.DevNull)
		if level == pades.LevelBB {
			continue
		}
		// the signature time-stamp: extract the token and verify it over
		// the signature value with openssl ts
		tok, sigValue := signatureTimestamp(t, s.contents)
		if tok == nil {
			t.Fatal("no signature time-stamp in the CMS")
		}
		tokPath := filepath.Join(dir, "tok"+strconv.Itoa(i)+".der")
		sv := filepath.Join(dir, "sigvalue"+strconv.Itoa(i))
		os.WriteFile(tokPath, tok, 0o644)
		os.WriteFile(sv, sigValue, 0o644)
		run(t, openssl, "ts", "-verify", "-data", sv, "-in", tokPath, "-token_in", "-CAfile", e.caPEM)
	}
	if want := map[bool]int{true: 1, false: 0}[level == pades.LevelBLTA]; nDocTS != want {
		t.Fatalf("%d document time-stamps, want %d", nDocTS, want)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func popplerSigned(t *testing.T, e *testEnv, nss, in string) string {
	t.Helper()
	pk12util := esigntest.Tool(t, "pk12util")
	pdfsig := esigntest.Tool(t, "pdfsig")
	p12, err := pkcs12.Modern.Encode(e.other.Key, e.other.Certificate, e.other.Chain, "pw")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p12Path := filepath.Join(dir, "other.p12")
	os.WriteFile(p12Path, p12, 0o600)
	run(t, pk12util, "-i", p12Path, "-d", nss, "-W", "pw", "-K", "")
	// pk12util derives the nickname; take the one NSS lists for the key
	nicks, _ := exec.Command(pdfsig, "-nssdir", nss, "-list-nicks", in).Output()
	var nick string
	for _, l := range strings.Split(string(nicks), "\n") {
		if strings.HasPrefix(l, e.other.Certificate.Subject.CommonName) {
			nick = strings.TrimSpace(l)
		}
	}
	if nick == "" {
		t.Fatalf("imported key not listed by pdfsig:\n%s", nicks)
	}
	out := filepath.Join(dir, "poppler-signed.pdf")
	run(t, pdfsig, "-nssdir", nss, "-add-signature", "-nick", nick,
		"-new-signature-field-name", "PopplerSig", "-reason", "test", in, out)
	return out
}

func verifyOK(t *testing.T, e *testEnv, path string) *pades.Report {
	t.Helper()
	rep, err := pades.VerifyFile(context.Background(), path, pades.VerifyOptions{Roots: e.roots})
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	if !rep.Valid() {
		t.Fatalf("not valid:\n%s", rep.Summary())
	}
	return rep
}
