package signing_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/cms"
	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/pades"
	"esign/internal/pki"
	"esign/internal/signing"
)

// sealed is a contract of the test flow: its first sealed document, the
// offer document it seals, and the trust anchors (the development CA of
// the TSA and the bank's seal).
type sealed struct {
	e     *env
	pdf   []byte
	offer []byte
	roots *x509.CertPool
}

func sealContract(t *testing.T) *sealed {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t, "sqlite", signing.Config{Sealing: &signing.Sealing{Seal: pades.SignOptions{Level: pades.LevelBT}}})
	d := newDevice(t, signing.ECDSAP256)
	r1, err := e.svc.M1(ctx, e.p, e.m1(t, d, e.offer.ID))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.svc.M2(ctx, e.p, e.m2(t, d, r1.SignatureID, m2opts{}), customers.Meta{})
	if err != nil || r2.ContractID == "" {
		t.Fatalf("M2: %+v %v", r2, err)
	}
	docs, err := e.ce.DB.ListDocuments(ctx, esign.DocumentFilter{ContractID: r2.ContractID})
	if err != nil || len(docs) == 0 {
		t.Fatal(docs, err)
	}
	r, err := e.ce.Docs.Open(ctx, docs[0].StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.tsa.dev.CA.Certificate)
	var offer []byte
	for _, o := range e.docs {
		if bytes.HasPrefix(b, o) {
			offer = o
		}
	}
	if offer == nil {
		t.Fatal("the sealed document is not an update of an offer document")
	}
	return &sealed{e: e, pdf: b, offer: offer, roots: roots}
}

func verifyEvidence(t *testing.T, b []byte, roots *x509.CertPool) *signing.EvidenceReport {
	t.Helper()
	rep, err := signing.VerifyEvidence(context.Background(), bytes.NewReader(b), int64(len(b)), signing.EvidenceOptions{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// evidenceOf reads the evidence bundle of a sealed PDF.
func evidenceOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	atts, err := pades.EmbeddedFiles(bytes.NewReader(b), int64(len(b)), signing.MaxEvidenceSize)
	if err != nil || len(atts) != 1 || atts[0].Name != "evidence.json" {
		t.Fatalf("attachments %v, %v", atts, err)
	}
	var m map[string]any
	if err := json.Unmarshal(atts[0].Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// reseal seals the offer document again with the bundle, as someone
// without the bank's key would: with a signer of another PKI (the TSA is
// the trusted one).
func (s *sealed) reseal(t *testing.T, bundle []byte) []byte {
	t.Helper()
	other, _, err := pki.OpenDev(filepath.Join(t.TempDir(), "pki"), pki.DevOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.CreateTemp(t.TempDir(), "sealed-*.pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	err = pades.Sign(context.Background(), bytes.NewReader(s.offer), int64(len(s.offer)), out, pades.SignOptions{Level: pades.LevelBT,
		CMS: &pades.LocalSigner{Signer: cms.Signer{Certificate: other.Signer.Certificate, Chain: other.Signer.Chain,
			Key: other.Signer.Key}, TSA: s.e.tsa.client},
		Prepare: pades.PrepareOptions{Attachments: []pades.Attachment{{Name: "evidence.json", MIMEType: "application/json", Data: bundle}}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantChecks(t *testing.T, rep *signing.EvidenceReport, failing ...string) {
	t.Helper()
	for _, c := range rep.Checks {
		want := signing.CheckPass
		for _, f := range failing {
			if c.Name == f {
				want = signing.CheckFail
			}
		}
		if c.Result != want && !(want == signing.CheckPass && c.Result == signing.CheckNotRun && len(failing) > 1) {
			t.Errorf("%s: %s (%s), want %s", c.Name, c.Result, c.Detail, want)
		}
	}
	for _, f := range failing {
		if rep.Check(f) == nil {
			t.Errorf("no check %s in %+v", f, rep.Checks)
		}
	}
	if rep.OK != (len(failing) == 0) {
		t.Errorf("OK = %v with failing %v", rep.OK, failing)
	}
}

// TestVerifyEvidence: the sealed contract passes every check offline; a
// copy with a field of its evidence changed (sealed again by someone
// without the bank's key) fails the check that field feeds, and the seal;
// a copy with one byte of the document or of the evidence changed in
// place fails the document or evidence check and the seal.
func TestVerifyEvidence(t *testing.T) {
	s := sealContract(t)
	rep := verifyEvidence(t, s.pdf, s.roots)
	wantChecks(t, rep)
	names := []string{"evidence_format", "evidence_consistency", "version", "public_key", "algorithm", "username", "offer_hashes",
		"offer_changed", "signature1", "ts1", "ts2", "signature_hash", "signature2", "ts3", "ts_order", "ts_window", "document", "seal"}
	for _, n := range names {
		if c := rep.Check(n); c == nil || c.Result != signing.CheckPass {
			t.Errorf("check %s: %+v", n, c)
		}
	}
	if rep.Version != signing.EvidenceVersion || rep.SignatureID == "" {
		t.Errorf("report %+v", rep)
	}

	// Untrusted roots: the time-stamps and the seal fail.
	t.Run("untrusted_roots", func(t *testing.T) {
		rep := verifyEvidence(t, s.pdf, x509.NewCertPool())
		if rep.OK || rep.Check("ts1").Result != signing.CheckFail || rep.Check("seal").Result != signing.CheckFail {
			t.Fatalf("%+v", rep.Checks)
		}
	})

	flip := func(v any) any { // one byte of a base64 field, or one character of a string
		s := v.(string)
		c := byte('A')
		if s[len(s)/2] == 'A' {
			c = 'B'
		}
		return s[:len(s)/2] + string(c) + s[len(s)/2+1:]
	}
	m2field := func(key string, val any) func(m map[string]any) {
		return func(m map[string]any) {
			raw, _ := json.Marshal(m["m2"]) // the M2 message is embedded JSON
			var msg map[string]any
			_ = json.Unmarshal(raw, &msg)
			msg[key] = val
			m["m2"] = msg
		}
	}
	cases := []struct {
		name   string
		change func(m map[string]any)
		fails  []string // besides the seal
	}{
		{"unchanged", func(map[string]any) {}, nil},
		{"version", func(m map[string]any) { m["version"] = 99 }, []string{"evidence_format"}},
		{"signatureId", func(m map[string]any) { m["signatureId"] = esign.NewID() }, []string{"evidence_consistency"}},
		{"offerId", func(m map[string]any) { m["offerId"] = esign.NewID() }, []string{"evidence_consistency"}},
		{"userName", func(m map[string]any) { m["userName"] = "someone.else" }, []string{"username"}},
		{"publicKey", func(m map[string]any) { m["publicKey"] = flip(m["publicKey"]) }, []string{"public_key"}},
		{"algorithm", func(m map[string]any) { m["algorithm"] = "RSA-PSS-SHA256" }, []string{"evidence_consistency"}},
		{"m1Raw", func(m map[string]any) { m["m1Raw"] = flip(m["m1Raw"]) }, []string{"signature1"}},
		{"m1SignedData", func(m map[string]any) { m["m1SignedData"] = flip(m["m1SignedData"]) }, []string{"signature1"}},
		{"m1Hashes", func(m map[string]any) { m["m1Hashes"] = flip(m["m1Hashes"]) }, []string{"offer_changed"}},
		{"m2_deviceInfo", m2field("deviceInfo", "another device"), []string{"ts2", "evidence_consistency"}},
		{"m2_smsToken", m2field("smsToken", "000000"), []string{"ts2", "evidence_consistency"}},
		{"customerSignature", func(m map[string]any) { m["customerSignature"] = flip(m["customerSignature"]) }, []string{"evidence_consistency"}},
		{"customerSignatureHash", func(m map[string]any) { m["customerSignatureHash"] = strings.Repeat("0", 64) }, []string{"evidence_consistency"}},
		{"signedTs3", func(m map[string]any) { m["signedTs3"] = flip(m["signedTs3"]) }, []string{"evidence_consistency"}},
		{"timestamps_ts1", func(m map[string]any) {
			m["timestamps"].(map[string]any)["ts1"] = flip(m["timestamps"].(map[string]any)["ts1"])
		}, []string{"ts1"}},
		{"timestamps_ts2", func(m map[string]any) {
			m["timestamps"].(map[string]any)["ts2"] = flip(m["timestamps"].(map[string]any)["ts2"])
		}, []string{"evidence_consistency"}},
		{"timestamps_ts3", func(m map[string]any) {
			m["timestamps"].(map[string]any)["ts3"] = flip(m["timestamps"].(map[string]any)["ts3"])
		}, []string{"evidence_consistency"}},
		{"documents_sha256", func(m map[string]any) {
			m["documents"].([]any)[0].(map[string]any)["sha256"] = strings.Repeat("ab", 32)
		}, []string{"offer_hashes"}},
		// Bound by the bank's seal only: the customer's signatures do
		// not cover them (docs/evidence.md).
		{"customerId", func(m map[string]any) { m["customerId"] = esign.NewID() }, nil},
		{"documents_name", func(m map[string]any) { m["documents"].([]any)[0].(map[string]any)["name"] = "other.pdf" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := evidenceOf(t, s.pdf)
			c.change(m)
			bundle, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			rep := verifyEvidence(t, s.reseal(t, bundle), s.roots)
			want := append([]string{"seal"}, c.fails...)
			if c.name == "documents_sha256" {
				want = append(want, "document") // the sealed document is no longer named
			}
			for _, f := range want {
				if ch := rep.Check(f); ch == nil || ch.Result != signing.CheckFail {
					t.Errorf("check %s: %+v, want FAIL; %+v", f, ch, rep.Checks)
				}
			}
			if rep.OK {
				t.Error("report OK")
			}
			if len(want) == 1 { // only the seal: every other check passes
				wantChecks(t, rep, "seal")
			}
		})
	}

	// In place: one byte of the copy.
	inPlace := []struct {
		name  string
		at    func(b []byte) int
		fails []string
	}{
		{"document_byte", func(b []byte) int { return bytes.Index(b, []byte("stream")) + 10 }, []string{"document", "seal"}},
		{"evidence_stream_byte", func(b []byte) int {
			i := bytes.Index(b, []byte("/EmbeddedFile>>"))
			return i + bytes.Index(b[i:], []byte("stream")) + 20
		}, []string{"evidence_format", "seal"}},
	}
	for _, c := range inPlace {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(s.pdf)
			i := c.at(b)
			if i <= 20 || i >= len(b) {
				t.Fatalf("offset %d", i)
			}
			b[i] ^= 0x01
			rep := verifyEvidence(t, b, s.roots)
			for _, f := range c.fails {
				if ch := rep.Check(f); ch == nil || ch.Result != signing.CheckFail {
					t.Errorf("check %s: %+v, want FAIL", f, ch)
				}
			}
		})
	}
}
