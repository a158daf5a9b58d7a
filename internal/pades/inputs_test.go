package pades_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/esigntest"
	"esign/internal/pades"
	"esign/internal/pdf"
)

// The input classes of docs/pades.md, as other producers and signers write
// them: testdata/inputs, made by make.sh there with ghostscript,
// LibreOffice, qpdf and openssl.

func inputPath(name string) string { return filepath.Join("testdata", "inputs", name) }

// fixtureRoots trusts the fixtures' CA (and the test PKI's, for what this
// package signs on top) and returns a validation time inside the
// fixtures' certificates, whatever the clock says.
func fixtureRoots(t *testing.T, e *testEnv) (*x509.CertPool, func() time.Time) {
	t.Helper()
	b, err := os.ReadFile(inputPath("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if e != nil {
		roots.AddCert(e.dev.CA.Certificate)
	}
	at := ca.NotBefore.Add(time.Hour)
	return roots, func() time.Time { return at }
}

func TestVerifyInputClasses(t *testing.T) {
	roots, now := fixtureRoots(t, nil)
	type sig struct {
		valid    bool
		level    string
		attack   string // expected in Attacks
		says     string // in Problems (invalid) or Warnings (valid)
		modified bool
	}
	tests := []struct {
		file     string
		sigs     []sig
		warnings []string // in Report.Warnings
	}{
		{"legacy-noattr.pdf", []sig{{valid: true, level: pades.LevelLegacyCMS, says: "no signed attributes"}}, nil},
		{"legacy-attrs.pdf", []sig{{valid: true, level: pades.LevelLegacyCMS, says: "no ESS signing-certificate attribute"}}, nil},
		{"cades-without-ess.pdf", []sig{{valid: true, level: pades.LevelLegacyCMS, says: "claims PAdES, which requires the attribute"}}, nil},
		{"certified-p1.pdf", []sig{{valid: true, level: pades.LevelLegacyCMS, says: "legacy CMS"}}, nil},
		{"certified-p2.pdf", []sig{{valid: true, level: pades.LevelLegacyCMS, says: "legacy CMS"}}, nil},
		{"certified-p3.pdf", []sig{{valid: true, level: pades.LevelLegacyCMS, says: "legacy CMS"}}, nil},
		// P=1 allows no second signature: the certification is broken
		{"certified-p1-signed-after.pdf", []sig{
			{valid: false, level: pades.LevelLegacyCMS, attack: pades.AttackShadow, says: "changed after signing", modified: true},
			{valid: true, level: pades.LevelLegacyCMS, says: "legacy CMS"},
		}, nil},
		// SHA-1: refused, and not called a forgery
		{"legacy-sha1.pdf", []sig{{says: "SHA-1 digest, which is not accepted"}}, nil},
		// substitution of the signer certificate
		{"forged-other-key.pdf", []sig{{attack: pades.AttackUSF, says: "bad signature"}}, nil},
		{"forged-ess-mismatch.pdf", []sig{{attack: pades.AttackUSF, says: "ESSCertID does not match"}}, nil},
		{"forged-ambiguous.pdf", []sig{{attack: pades.AttackUSF, says: "ambiguous"}}, nil},
		// polyglots: read, and said
		{"polyglot-html-before.pdf", nil, []string{"precede the %PDF- header: HTML or script", "offsets count from the header and are read shifted"}},
		{"polyglot-html-after.pdf", nil, []string{"follow the last %%EOF", "HTML or script"}},
		// read offset-shifted as readers do; the ByteRange (counted from
		// byte 0) no longer frames the signature
		{"polyglot-html-before-signed.pdf", []sig{{level: "", attack: pades.AttackSignatureWrapping, says: "ByteRange"}},
			[]string{"precede the %PDF- header: HTML or script", "offsets count from the header and are read shifted"}},
		{"polyglot-zip-after.pdf", nil, []string{"follow the last %%EOF", "ZIP archive"}},
		{"padded-after-eof.pdf", nil, nil},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".pdf"), func(t *testing.T) {
			rep, err := pades.VerifyFile(context.Background(), inputPath(tt.file), pades.VerifyOptions{Roots: roots, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Signatures) != len(tt.sigs) {
				t.Fatalf("%d signatures, want %d:\n%s", len(rep.Signatures), len(tt.sigs), rep.Summary())
			}
			for i, want := range tt.sigs {
				got := rep.Signatures[i]
				if got.Valid != want.valid || got.Modified != want.modified {
					t.Errorf("#%d valid %v modified %v, want %v %v:\n%s", i+1, got.Valid, got.Modified, want.valid, want.modified, rep.Summary())
				}
				if want.valid || want.level != "" {
					if got.Level != want.level || !got.Integrity.OK || !got.Chain.OK || got.Signer == nil || !strings.Contains(got.Signer.Subject, "Legacy Signer") {
						t.Errorf("#%d level %q integrity %v chain %v signer %v:\n%s", i+1, got.Level, got.Integrity, got.Chain, got.Signer, rep.Summary())
					}
				}
				if want.attack != "" && !slices.Contains(got.Attacks, want.attack) {
					t.Errorf("#%d attacks %v, want %s", i+1, got.Attacks, want.attack)
				}
				if want.attack == "" && len(got.Attacks) > 0 {
					t.Errorf("#%d attacks %v", i+1, got.Attacks)
				}
				texts := got.Warnings
				if !want.valid {
					texts = got.Problems
				}
				if !strings.Contains(strings.Join(texts, "\n"), want.says) {
					t.Errorf("#%d says %q, want %q", i+1, texts, want.says)
				}
			}
			all := strings.Join(rep.Warnings, "\n")
			for _, w := range tt.warnings {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q, want %q", rep.Warnings, w)
				}
			}
			for _, w := range rep.Warnings {
				if !strings.Contains(rep.Summary(), "warning: "+w) {
					t.Errorf("summary does not show %q", w)
				}
			}
			if len(tt.warnings) == 0 && len(rep.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", rep.Warnings)
			}
			if len(tt.sigs) > 0 && tt.sigs[0].valid && strings.Contains(tt.file, "legacy") && !strings.Contains(rep.Summary(), "level:      "+pades.LevelLegacyCMS) {
				t.Errorf("summary:\n%s", rep.Summary())
			}
		})
	}
}

// unreadable are files that are not readable PDFs, with the reason both
// the verifier and the signer give.
var unreadable = []struct {
	file   string
	reason pdf.Reason
	says   string
}{
	{"truncated.pdf", pdf.ReasonNoStartXRef, "truncated"},
	{"not-a-pdf.pdf", pdf.ReasonNoHeader, "no %PDF- header"},
	{"broken-xref.pdf", pdf.ReasonBrokenXRef, "cross-reference section at offset"},
	{"prev-loop.pdf", pdf.ReasonPrevLoop, "loops back"},
	{"encrypted-user-password.pdf", pdf.ReasonEncrypted, "encrypted"},
}

func checkUnreadable(t *testing.T, err error, reason pdf.Reason, says string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !esign.IsKind(err, esign.Invalid) || pdf.ReasonOf(err) != reason {
		t.Fatalf("kind %v reason %q, want Invalid %q: %v", esign.ErrorKind(err), pdf.ReasonOf(err), reason, err)
	}
	msg := esign.ErrorMessage(err)
	if !strings.Contains(msg, says) || strings.Contains(msg, "syntax error") {
		t.Errorf("message %q, want one that says %q", msg, says)
	}
}

func TestVerifyUnreadable(t *testing.T) {
	for _, tt := range unreadable {
		t.Run(strings.TrimSuffix(tt.file, ".pdf"), func(t *testing.T) {
			_, err := pades.VerifyFile(context.Background(), inputPath(tt.file), pades.VerifyOptions{})
			checkUnreadable(t, err, tt.reason, tt.says)
		})
	}
}

func TestSignInputClasses(t *testing.T) {
	e := env(t)
	roots, now := fixtureRoots(t, e)
	refused := []struct {
		file, code, says string
	}{
		{"certified-p1.pdf", pades.CodeCertifiedNoChanges, "DocMDP permissions 1 (no changes allowed)"},
		{"polyglot-html-before.pdf", pades.CodePolyglot, "bytes precede the %PDF- header (HTML or script"},
		{"polyglot-html-after.pdf", pades.CodePolyglot, "bytes follow the last %%EOF (HTML or script"},
		{"polyglot-zip-after.pdf", pades.CodePolyglot, "(a ZIP archive"},
	}
	for _, tt := range refused {
		t.Run("refuses/"+strings.TrimSuffix(tt.file, ".pdf"), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.pdf")
			err := pades.SignFile(context.Background(), inputPath(tt.file), out, e.signOptions(pades.LevelBB))
			if esign.ErrorCode(err) != tt.code || !esign.IsKind(err, esign.Invalid) {
				t.Fatalf("got %v, want Invalid %s", err, tt.code)
			}
			if msg := esign.ErrorMessage(err); !strings.Contains(msg, tt.says) {
				t.Errorf("message %q, want %q", msg, tt.says)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("output left behind")
			}
			b, _ := os.ReadFile(inputPath(tt.file))
			if err := pades.CheckSignable(bytes.NewReader(b), int64(len(b))); esign.ErrorCode(err) != tt.code {
				t.Errorf("CheckSignable: %v", err)
			}
		})
	}
	for _, tt := range unreadable {
		t.Run("refuses/"+strings.TrimSuffix(tt.file, ".pdf"), func(t *testing.T) {
			err := pades.SignFile(context.Background(), inputPath(tt.file), filepath.Join(t.TempDir(), "out.pdf"), e.signOptions(pades.LevelBB))
			checkUnreadable(t, err, tt.reason, tt.says)
		})
	}
	nss := nssDB(t, e)
	// signed on top: the earlier signature stays valid and unmodified
	// (certification P=2 and P=3 allow a signature), ours is B-T
	for _, file := range []string{"certified-p2.pdf", "certified-p3.pdf", "legacy-noattr.pdf", "legacy-attrs.pdf", "padded-after-eof.pdf"} {
		t.Run("signs/"+strings.TrimSuffix(file, ".pdf"), func(t *testing.T) {
			out := signFile(t, inputPath(file), e.signOptions(pades.LevelBT))
			qpdfCheck(t, out)
			pdfsigCheck(t, e, nss, out, pades.LevelBT) // ours: valid and trusted
			if msg, _ := exec.Command(esigntest.Tool(t, "pdfsig"), "-nssdir", nss, out).CombinedOutput(); strings.Count(string(msg), "Signature is Valid.") != strings.Count(string(msg), "Signature #") {
				t.Errorf("pdfsig: not every signature valid:\n%s", msg)
			}
			rep, err := pades.VerifyFile(context.Background(), out, pades.VerifyOptions{Roots: roots, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Valid() || len(rep.Warnings) > 0 {
				t.Fatalf("not valid:\n%s", rep.Summary())
			}
			last := rep.Signatures[len(rep.Signatures)-1]
			if last.Level != string(pades.LevelBT) {
				t.Errorf("our level %q", last.Level)
			}
			if len(rep.Signatures) == 2 {
				first := rep.Signatures[0]
				if first.Modified || first.Level != pades.LevelLegacyCMS || len(first.Changes) == 0 {
					t.Errorf("earlier signature: modified %v level %q changes %v", first.Modified, first.Level, first.Changes)
				}
			}
		})
	}
}

// TestVerifyByteRangeOverAppendedData: a ByteRange that goes on past the
// signed revision's %%EOF into appended data (however long) does not frame
// a revision.
func TestVerifyByteRangeOverAppendedData(t *testing.T) {
	e := env(t)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, inputsMinimal(t), 0o644)
	signed, err := os.ReadFile(signFile(t, in, e.signOptions(pades.LevelBB)))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{100, 5000} {
		junk := bytes.Repeat([]byte("<p>appended</p>\n"), n/16)
		b := append(append([]byte(nil), signed...), junk...)
		i := bytes.Index(b, []byte("/ByteRange ["))
		j := i + bytes.IndexByte(b[i:], ']')
		var br [4]int64
		if _, err := fmt.Sscan(string(b[i+len("/ByteRange ["):j]), &br[0], &br[1], &br[2], &br[3]); err != nil {
			t.Fatal(err)
		}
		k := j + 1 // the placeholder's padding follows the ']'
		for b[k] == ' ' {
			k++
		}
		repl := fmt.Sprintf("/ByteRange [%d %d %d %d]", br[0], br[1], br[2], br[3]+int64(len(junk)))
		if len(repl) > k-i {
			t.Fatal("no room in the ByteRange")
		}
		copy(b[i:k], repl+strings.Repeat(" ", k-i-len(repl)))
		rep, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{Roots: e.roots})
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Signatures[0]
		if s.Valid || !slices.Contains(s.Attacks, pades.AttackSignatureWrapping) || !strings.Contains(strings.Join(s.Problems, " "), "not a complete PDF revision") {
			t.Errorf("%d bytes appended: %v %v", len(junk), s.Attacks, s.Problems)
		}
	}
}

func inputsMinimal(t *testing.T) []byte {
	b, err := os.ReadFile(inputPath("padded-after-eof.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
