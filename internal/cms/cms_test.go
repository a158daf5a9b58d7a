package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/esigntest"
)

type testPKI struct {
	root      *x509.Certificate
	rootKey   crypto.Signer
	leaf      *x509.Certificate
	leafKey   crypto.Signer
	ecLeaf    *x509.Certificate
	ecLeafKey crypto.Signer
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	now := time.Now()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cms test root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	p := &testPKI{rootKey: rk}
	p.root = mustCert(t, root, root, rk.Public(), rk)
	lk, _ := rsa.GenerateKey(rand.Reader, 2048)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "cms test signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	p.leafKey = lk
	p.leaf = mustCert(t, leaf, p.root, lk.Public(), rk)
	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	leaf.SerialNumber = big.NewInt(3)
	leaf.Subject.CommonName = "cms test ec signer"
	p.ecLeafKey = ek
	p.ecLeaf = mustCert(t, leaf, p.root, ek.Public(), rk)
	return p
}

func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

func TestSignVerify(t *testing.T) {
	p := newTestPKI(t)
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	content := []byte("the document bytes")
	tests := []struct {
		name   string
		signer Signer
		opt    SignOptions
	}{
		{"rsa-sha256", Signer{p.leaf, []*x509.Certificate{p.root}, p.leafKey}, SignOptions{}},
		{"rsa-sha384-time", Signer{p.leaf, nil, p.leafKey}, SignOptions{Hash: crypto.SHA384, SigningTime: &now}},
		{"rsa-pss-sha512", Signer{p.leaf, []*x509.Certificate{p.root}, p.leafKey}, SignOptions{Hash: crypto.SHA512, RSAPSS: true}},
		{"ecdsa-sha384", Signer{p.ecLeaf, []*x509.Certificate{p.root}, p.ecLeafKey}, SignOptions{Hash: crypto.SHA384}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.opt.Hash
			if h == 0 {
				h = crypto.SHA256
			}
			hh := h.New()
			hh.Write(content)
			digest := hh.Sum(nil)
			der, err := SignDetached(tt.signer, digest, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			if sd.EncapContent != nil || !sd.EncapContentType.Equal(OIDData) {
				t.Fatalf("encap: %v %x", sd.EncapContentType, sd.EncapContent)
			}
			cert, err := sd.Verify(digest, VerifyOptions{Roots: p.pool()})
			if err != nil {
				t.Fatal(err)
			}
			if !cert.Equal(tt.signer.Certificate) {
				t.Fatal("wrong signer certificate")
			}
			st, ok := sd.SignerInfos[0].SigningTime()
			if ok != (tt.opt.SigningTime != nil) || (ok && !st.Equal(now)) {
				t.Fatalf("signing time %v %v", st, ok)
			}
			bad := bytes.Clone(digest)
			bad[0] ^= 1
			if _, err := sd.Verify(bad, VerifyOptions{}); !errors.Is(err, ErrVerify) {
				t.Fatalf("wrong digest accepted: %v", err)
			}
			if _, err := sd.Verify(digest, VerifyOptions{Roots: x509.NewCertPool()}); !errors.Is(err, ErrVerify) {
				t.Fatalf("untrusted chain accepted: %v", err)
			}
		})
	}
}

func TestSignEncapsulated(t *testing.T) {
	p := newTestPKI(t)
	content := []byte("encapsulated")
	der, err := Sign(Signer{Certificate: p.leaf, Key: p.leafKey}, content, SignOptions{ContentType: OIDTSTInfo, OmitCertificates: true})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Version != 3 || !bytes.Equal(sd.EncapContent, content) || len(sd.Certificates) != 0 {
		t.Fatalf("version %d content %q certs %d", sd.Version, sd.EncapContent, len(sd.Certificates))
	}
	if _, err := sd.Verify(nil, VerifyOptions{}); err == nil {
		t.Fatal("verified without the signer certificate")
	}
	if _, err := sd.Verify(nil, VerifyOptions{Certificates: []*x509.Certificate{p.leaf}}); err != nil {
		t.Fatal(err)
	}
}

// TestTamper flips every byte of a signature's DER: each result must fail
// to parse or to verify, never panic or pass.
func TestTamper(t *testing.T) {
	p := newTestPKI(t)
	digest := sha256.Sum256([]byte("x"))
	der, err := SignDetached(Signer{p.ecLeaf, nil, p.ecLeafKey}, digest[:], SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range der {
		mod := bytes.Clone(der)
		mod[i] ^= 0x01
		sd, err := Parse(mod)
		if err != nil {
			continue
		}
		if _, err := sd.Verify(digest[:], VerifyOptions{Roots: p.pool()}); err == nil {
			t.Fatalf("byte %d flipped and still verifies", i)
		}
	}
}

func TestAddUnsignedAttribute(t *testing.T) {
	p := newTestPKI(t)
	digest := sha256.Sum256([]byte("doc"))
	der, err := SignDetached(Signer{p.leaf, []*x509.Certificate{p.root}, p.leafKey}, digest[:], SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	sig := bytes.Clone(sd.SignerInfos[0].Signature)
	token, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: []byte{0x02, 0x01, 0x07}})
	out, err := sd.AddUnsignedAttribute(0, OIDSignatureTimeStampToken, token)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, sd.Raw) {
		t.Fatal("sd not updated")
	}
	a := sd.SignerInfos[0].UnsignedAttribute(OIDSignatureTimeStampToken)
	if a == nil || !bytes.Equal(a.Values[0], token) {
		t.Fatal("attribute not found after re-encoding")
	}
	if !bytes.Equal(sd.SignerInfos[0].Signature, sig) {
		t.Fatal("signature changed")
	}
	if _, err := sd.Verify(digest[:], VerifyOptions{Roots: p.pool()}); err != nil {
		t.Fatal(err)
	}
	if _, err := sd.AddUnsignedAttribute(0, OIDSignatureTimeStampToken, []byte{0x30}); err == nil {
		t.Fatal("malformed value accepted")
	}
	if _, err := sd.AddUnsignedAttribute(1, OIDSignatureTimeStampToken, token); err == nil {
		t.Fatal("bad index accepted")
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSLInterop checks both directions with openssl cms: our detached
// signature verifies in OpenSSL, and OpenSSL's verifies in Parse/Verify.
func TestOpenSSLInterop(t *testing.T) {
	openssl := esigntest.Tool(t, "openssl")
	p := newTestPKI(t)
	dir := t.TempDir()
	content := []byte("content signed for the interop test\n")
	contentPath := filepath.Join(dir, "content.bin")
	os.WriteFile(contentPath, content, 0o600)
	writePEM(t, filepath.Join(dir, "root.pem"), "CERTIFICATE", p.root.Raw)
	writePEM(t, filepath.Join(dir, "leaf.pem"), "CERTIFICATE", p.leaf.Raw)
	kd, _ := x509.MarshalPKCS8PrivateKey(p.leafKey)
	writePEM(t, filepath.Join(dir, "leaf.key"), "PRIVATE KEY", kd)
	run := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
		return out
	}
	for _, pss := range []bool{false, true} {
		digest := sha256.Sum256(content)
		der, err := SignDetached(Signer{p.leaf, []*x509.Certificate{p.root}, p.leafKey}, digest[:], SignOptions{RSAPSS: pss})
		if err != nil {
			t.Fatal(err)
		}
		sigPath := filepath.Join(dir, "ours.p7s")
		os.WriteFile(sigPath, der, 0o600)
		run("cms", "-verify", "-binary", "-inform", "DER", "-in", sigPath, "-content", contentPath,
			"-CAfile", filepath.Join(dir, "root.pem"), "-purpose", "any", "-out", os.DevNull)
	}
	theirs := filepath.Join(dir, "theirs.p7s")
	run("cms", "-sign", "-binary", "-outform", "DER", "-in", contentPath, "-signer", filepath.Join(dir, "leaf.pem"),
		"-inkey", filepath.Join(dir, "leaf.key"), "-md", "sha256", "-cades", "-out", theirs)
	der, _ := os.ReadFile(theirs)
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(content)
	if _, err := sd.Verify(digest[:], VerifyOptions{Roots: p.pool()}); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	p := newTestPKI(f)
	digest := sha256.Sum256([]byte("seed"))
	der, err := SignDetached(Signer{p.ecLeaf, []*x509.Certificate{p.root}, p.ecLeafKey}, digest[:], SignOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Parse(b)
		if err != nil {
			return
		}
		sd.Verify(digest[:], VerifyOptions{})
		sd.Verify(digest[:], VerifyOptions{Legacy: true})
		if len(sd.SignerInfos) > 0 {
			sd.AddUnsignedAttribute(0, OIDSignatureTimeStampToken, []byte{0x05, 0x00})
		}
	})
}

// BenchmarkParse reads a signature with its chain (leaf and root), as a
// time-stamp token or a seal is read: the certificates are the same each
// time.
func BenchmarkParse(b *testing.B) {
	p := newTestPKI(b)
	digest := make([]byte, 32)
	der, err := SignDetached(Signer{p.ecLeaf, []*x509.Certificate{p.root}, p.ecLeafKey}, digest, SignOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sd, err := Parse(der)
		if err != nil || len(sd.Certificates) != 2 {
			b.Fatal(err)
		}
	}
}

// TestParseSharedCertificates: a certificate read from the cache is the
// one parsing gives, and changing the caller's buffer afterwards does not
// change it.
func TestParseSharedCertificates(t *testing.T) {
	p := newTestPKI(t)
	der, err := SignDetached(Signer{p.ecLeaf, []*x509.Certificate{p.root}, p.ecLeafKey}, make([]byte, 32), SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	buf := bytes.Clone(der)
	a, err := Parse(buf)
	if err != nil {
		t.Fatal(err)
	}
	clear(buf)
	b, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range b.Certificates {
		if !c.Equal(a.Certificates[i]) || !c.Equal(p.ecLeaf) && !c.Equal(p.root) {
			t.Fatalf("certificate %d differs", i)
		}
	}
	if !b.Certificates[0].Equal(p.ecLeaf) && !b.Certificates[1].Equal(p.ecLeaf) {
		t.Fatal("signer certificate lost")
	}
}
