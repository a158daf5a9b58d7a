package pades_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pdf"
)

// encFixture is a PDF encrypted by ghostscript or qpdf with an empty user
// password (internal/pdf/testdata/encrypted/make.sh).
func encFixture(name string) string {
	return filepath.Join("..", "pdf", "testdata", "encrypted", name)
}

// TestSignEncrypted signs encrypted PDFs that open without a password and
// checks the result with qpdf (--check, and --decrypt followed by our
// reader), poppler's pdfsig, openssl cms / ts over the signed bytes and our
// verifier.
func TestSignEncrypted(t *testing.T) {
	e := env(t)
	nss := nssDB(t, e)
	tests := []struct {
		file   string
		levels []pades.Level
	}{
		{"aes128.pdf", levels},
		{"aes128-cleartext-metadata.pdf", []pades.Level{pades.LevelBB}},
		{"aes256.pdf", levels},
		{"aes256-objstm.pdf", []pades.Level{pades.LevelBT, pades.LevelBLTA}},
		{"rc4-128.pdf", []pades.Level{pades.LevelBB}},
		{"rc4-40.pdf", []pades.Level{pades.LevelBB}},
		{"gs-rc4-128.pdf", []pades.Level{pades.LevelBLT}},
		{"lo-rc4-128.pdf", []pades.Level{pades.LevelBT}},
	}
	for i, tt := range tests {
		if testing.Short() && i > 2 {
			continue // each case runs pdfsig and qpdf several times
		}
		for _, level := range tt.levels {
			t.Run(strings.TrimSuffix(tt.file, ".pdf")+"/"+string(level), func(t *testing.T) {
				in := encFixture(tt.file)
				out := signFile(t, in, e.signOptions(level))
				orig, _ := os.ReadFile(in)
				signed, _ := os.ReadFile(out)
				if tail := signed[len(orig):]; bytes.Contains(tail, []byte("(D:")) {
					t.Error("the update holds the signing time /M in clear")
				}
				qpdfCheck(t, out)
				pdfsigCheck(t, e, nss, out, level)
				opensslCheck(t, e, out, level)
				rep := verifyOK(t, e, out)
				if rep.Encryption == nil || !rep.Encryption.Signable || !strings.Contains(rep.Summary(), "encrypted: ") {
					t.Errorf("report's encryption %+v", rep.Encryption)
				}
				last := rep.Signatures[len(rep.Signatures)-1]
				if level == pades.LevelBLTA {
					last = rep.Signatures[len(rep.Signatures)-2]
				}
				if last.Level != string(level) {
					t.Fatalf("verifier: level %q, want %q", last.Level, level)
				}
				checkDecrypted(t, out)
			})
		}
	}
}

// checkDecrypted decrypts the signed file with qpdf and reads the
// signature dictionary back in clear.
func checkDecrypted(t *testing.T, path string) {
	t.Helper()
	qpdf := esigntest.Tool(t, "qpdf")
	plain := filepath.Join(t.TempDir(), "decrypted.pdf")
	if out, err := exec.Command(qpdf, "--decrypt", path, plain).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --decrypt: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(plain)
	d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Encryption() != nil {
		t.Fatal("qpdf --decrypt left the file encrypted")
	}
	found := false
	for num := 1; num <= d.MaxObjectNumber(); num++ {
		o, _ := d.Object(num)
		if dict, ok := o.(pdf.Dict); ok && dict["Type"] == pdf.Name("Sig") {
			m, _ := pdf.AsString(dict["M"])
			if !bytes.HasPrefix(m, []byte("D:20")) {
				t.Errorf("decrypted /M %q", m)
			}
			found = true
		}
	}
	if !found {
		t.Error("no /Type /Sig dictionary after qpdf --decrypt")
	}
}

// TestSignEncryptedRefused: permissions that forbid adding a signature
// field, and an open password, are refused with a reason.
func TestSignEncryptedRefused(t *testing.T) {
	e := env(t)
	tests := []struct {
		file, code string
		msg        []string
	}{
		{"aes128-annotate-n.pdf", pades.CodePermissions, []string{"permission bit 6", "Table 22"}},
		{"aes256-modify-none.pdf", pades.CodePermissions, []string{"permission bit 4", "permission bit 6"}},
		{"aes256-modify-annotate.pdf", pades.CodePermissions, []string{"permission bit 4"}},
		{"gs-rc4-128-no-changes.pdf", pades.CodePermissions, []string{"permission bit 4", "permission bit 6"}},
		{"lo-rc4-128-comments-only.pdf", pades.CodePermissions, []string{"permission bit 4"}},
		{"aes128-user-password.pdf", pdf.CodeEncrypted, []string{"encrypted with a password: not supported"}},
		{"aes256-user-password.pdf", pdf.CodeEncrypted, []string{"encrypted with a password: not supported"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".pdf"), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "signed.pdf")
			err := pades.SignFile(context.Background(), encFixture(tt.file), out, e.signOptions(pades.LevelBB))
			if esign.ErrorCode(err) != tt.code {
				t.Fatalf("error %v, want code %s", err, tt.code)
			}
			for _, m := range tt.msg {
				if !strings.Contains(esign.ErrorMessage(err), m) {
					t.Errorf("message %q lacks %q", esign.ErrorMessage(err), m)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("output left behind after a refusal")
			}
			rep, err := pades.VerifyFile(context.Background(), encFixture(tt.file), pades.VerifyOptions{Roots: e.roots})
			if tt.code == pdf.CodeEncrypted {
				if esign.ErrorCode(err) != pdf.CodeEncrypted {
					t.Fatalf("verify: error %v, want code %s", err, pdf.CodeEncrypted)
				}
				return
			}
			// restricted documents are read: unsigned, not signable
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if rep.Signed || rep.Encryption == nil || rep.Encryption.Signable {
				t.Errorf("report: signed %v, encryption %+v", rep.Signed, rep.Encryption)
			}
		})
	}
}

// TestVerifyEncryptedSignedByPoppler: the verifier reads a signature that
// poppler's pdfsig added to an encrypted PDF, and esign signs after it.
func TestVerifyEncryptedSignedByPoppler(t *testing.T) {
	e := env(t)
	nss := nssDB(t, e)
	for _, f := range []string{"aes128.pdf", "aes256.pdf"} {
		t.Run(strings.TrimSuffix(f, ".pdf"), func(t *testing.T) {
			out := popplerSigned(t, e, nss, encFixture(f))
			rep := verifyOK(t, e, out)
			if len(rep.Signatures) != 1 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			// our signature on top keeps both valid for both verifiers
			out2 := signFile(t, out, e.signOptions(pades.LevelBT))
			qpdfCheck(t, out2)
			pdfsigCheck(t, e, nss, out2, pades.LevelBT)
			if rep := verifyOK(t, e, out2); len(rep.Signatures) != 2 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
		})
	}
}

// TestSealEncrypted signs encrypted PDFs as the bank's seal does (a
// visible signature with an image and an evidence attachment), then adds
// a second signature: qpdf reads the attachment through decryption,
// ghostscript renders the result, pdfsig and our verifier accept both
// signatures.
func TestSealEncrypted(t *testing.T) {
	e := env(t)
	nss := nssDB(t, e)
	for i, f := range []string{"aes256.pdf", "lo-rc4-128.pdf", "aes128.pdf", "rc4-128.pdf"} {
		if testing.Short() && i > 0 {
			continue
		}
		t.Run(strings.TrimSuffix(f, ".pdf"), func(t *testing.T) {
			opt := e.signOptions(pades.LevelBT)
			opt.Prepare = pades.PrepareOptions{
				Name: "Bank Zrt.", Reason: "Contract sealed", Location: "Budapest",
				Appearance: &pades.Appearance{Page: 1, Rect: [4]float64{300, 50, 560, 120},
					Lines: []string{"Digitally signed by Bank Zrt.", "Ügyfél: Kovács Éva"}, JPEG: testJPEG(t)},
				Attachments: []pades.Attachment{{Name: "evidence.json", Description: "customer signature evidence",
					MIMEType: "application/json", Data: []byte(`{"customerSignatureHash":"abc"}`)}},
			}
			out := signFile(t, encFixture(f), opt)
			qpdfCheck(t, out)
			pdfsigCheck(t, e, nss, out, pades.LevelBT)
			rep := verifyOK(t, e, out)
			if s := rep.Signatures[0]; s.Level != "B-T" {
				t.Fatalf("level %q", s.Level)
			}
			qpdf := esigntest.Tool(t, "qpdf")
			got, err := exec.Command(qpdf, "--show-attachment=evidence.json", out).Output()
			if err != nil || string(got) != `{"customerSignatureHash":"abc"}` {
				t.Fatalf("attachment content %q, %v", got, err)
			}
			second := e.signOptions(pades.LevelBB)
			second.CMS = &pades.LocalSigner{Signer: e.other}
			out2 := signFile(t, out, second)
			if rep := verifyOK(t, e, out2); len(rep.Signatures) != 2 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			pdfsigCheck(t, e, nss, out2, pades.LevelBB)
			gs := esigntest.Tool(t, "gs")
			if msg, err := exec.Command(gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=nullpage", out2).CombinedOutput(); err != nil || len(msg) > 0 {
				t.Fatalf("gs: %v\n%s", err, msg)
			}
		})
	}
}

// addEncryptedSeeds adds encrypted PDFs made by qpdf (AES-128, AES-256 with
// object streams, RC4-40) to a fuzz target's corpus.
func addEncryptedSeeds(f *testing.F) {
	for _, n := range []string{"aes128.pdf", "aes256-objstm.pdf", "rc4-40.pdf"} {
		b, err := os.ReadFile(encFixture(n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzVerifyEncrypted feeds mutations of encrypted files, one of them
// signed, to the verifier: an error or a report, never a panic.
func FuzzVerifyEncrypted(f *testing.F) {
	addEncryptedSeeds(f)
	e := env(f)
	out := filepath.Join(f.TempDir(), "signed.pdf")
	if err := pades.SignFile(context.Background(), encFixture("aes256.pdf"), out, e.signOptions(pades.LevelBB)); err != nil {
		f.Fatal(err)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{})
		if err != nil {
			return
		}
		_ = rep.Summary()
		if rep.Valid() {
			t.Fatal("no trust anchor: no signature can be valid")
		}
	})
}

// FuzzPrepareEncrypted prepares a signature on mutations of encrypted
// files: an error or a prepared file, never a panic.
func FuzzPrepareEncrypted(f *testing.F) {
	addEncryptedSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		p, err := pades.Prepare(context.Background(), bytes.NewReader(b), int64(len(b)), &out, pades.PrepareOptions{ContentsSize: 64})
		if err != nil {
			return
		}
		if !bytes.HasPrefix(out.Bytes(), b) || p.ByteRange[2]+p.ByteRange[3] != int64(out.Len()) {
			t.Fatal("prepared output does not extend the input")
		}
	})
}
