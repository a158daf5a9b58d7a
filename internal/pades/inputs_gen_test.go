package pades

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/pdf"
)

// generateInputs is set by testdata/inputs/make.sh to the directory holding
// the fixture PKI and the base PDFs it made with openssl, ghostscript,
// LibreOffice and qpdf.
var generateInputs = flag.String("generate-inputs", "", "regenerate testdata/inputs from the keys and base PDFs in this directory (run testdata/inputs/make.sh instead)")

// fixtureSig is a signature by another signer: made by openssl cms over
// the ByteRange of an update written by this package.
type fixtureSig struct {
	out, in   string   // file names: out in testdata/inputs, in in the make.sh directory or testdata/inputs
	subFilter pdf.Name // default adbe.pkcs7.detached
	docMDP    int      // a certification signature with these permissions
	name      string   // /Name
	args      []string // openssl cms -sign arguments besides -in/-out (paths relative to the make.sh directory)
	unchecked bool     // sign even what Prepare refuses (to show what the verifier says)
}

// TestGenerateInputs regenerates the signed fixtures of testdata/inputs;
// see make.sh there.
func TestGenerateInputs(t *testing.T) {
	if *generateInputs == "" {
		t.Skip("regenerates testdata/inputs: run testdata/inputs/make.sh")
	}
	dir := *generateInputs
	signer := []string{"-signer", "signer.pem", "-inkey", "signer.key", "-certfile", "ca.pem"}
	legacy := append([]string{"-noattr"}, signer...)
	sigs := []fixtureSig{
		// PKCS #7 as older signers write it: no signed attributes at all
		{out: "legacy-noattr.pdf", in: "base-gs.pdf", name: "Legacy Signer", args: legacy},
		// as Acrobat wrote it for years: contentType, messageDigest and
		// signingTime, no ESS signing-certificate
		{out: "legacy-attrs.pdf", in: "base-lo.pdf", name: "Legacy Signer", args: signer},
		// SHA-1, as signers used before about 2010
		{out: "legacy-sha1.pdf", in: "base-gs.pdf", name: "Legacy Signer", args: append([]string{"-md", "sha1"}, signer...)},
		// the PAdES SubFilter over a CMS without the attribute PAdES requires
		{out: "cades-without-ess.pdf", in: "base-objstm.pdf", subFilter: "ETSI.CAdES.detached", name: "Legacy Signer", args: signer},
		// certification signatures (DocMDP) by such a signer
		{out: "certified-p1.pdf", in: "base-gs.pdf", docMDP: 1, name: "Legacy Signer", args: signer},
		{out: "certified-p2.pdf", in: "base-objstm.pdf", docMDP: 2, name: "Legacy Signer", args: legacy},
		{out: "certified-p3.pdf", in: "base-lo.pdf", docMDP: 3, name: "Legacy Signer", args: signer},
		// a second signature where P=1 allows none
		{out: "certified-p1-signed-after.pdf", in: "certified-p1.pdf", name: "Legacy Signer", args: signer, unchecked: true},
		// substitution: the certificate set holds another certificate with
		// the signer's issuer and serial number but another key
		{out: "forged-other-key.pdf", in: "base-gs.pdf", name: "Legacy Signer",
			args: []string{"-noattr", "-signer", "signer.pem", "-inkey", "signer.key", "-nocerts", "-certfile", "rogue-otherkey.pem"}},
		// substitution with the ESS attribute: the set holds a certificate
		// with the same key, issuer and serial but another subject
		{out: "forged-ess-mismatch.pdf", in: "base-gs.pdf", subFilter: "ETSI.CAdES.detached", name: "Legacy Signer",
			args: []string{"-cades", "-signer", "signer.pem", "-inkey", "signer.key", "-nocerts", "-certfile", "rogue-samekey.pem"}},
		// without the attribute, both certificates in the set verify: the
		// signer is ambiguous
		{out: "forged-ambiguous.pdf", in: "base-gs.pdf", name: "Legacy Signer",
			args: []string{"-noattr", "-signer", "signer.pem", "-inkey", "signer.key", "-certfile", "ca-and-rogue.pem"}},
	}
	when := time.Now().UTC().Truncate(time.Second)
	for _, s := range sigs {
		in := filepath.Join(dir, s.in)
		if _, err := os.Stat(in); err != nil {
			in = filepath.Join("testdata", "inputs", s.in)
		}
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := fixtureSign(t.Context(), dir, b, s, when)
		if err != nil {
			t.Fatalf("%s: %v", s.out, err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "inputs", s.out), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fixtureSign(ctx context.Context, dir string, in []byte, s fixtureSig, when time.Time) ([]byte, error) {
	doc, err := pdf.Open(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		return nil, err
	}
	if !s.unchecked {
		if err := checkSignable(doc); err != nil {
			return nil, err
		}
	}
	sf := s.subFilter
	if sf == "" {
		sf = "adbe.pkcs7.detached"
	}
	var buf bytes.Buffer
	p, err := prepareDoc(ctx, doc, bytes.NewReader(in), int64(len(in)), &buf,
		PrepareOptions{Time: when, Name: s.name, subFilter: sf, docMDP: s.docMDP, ContentsSize: 8 << 10})
	if err != nil {
		return nil, err
	}
	out := buf.Bytes()
	br := p.ByteRange
	signed := append(append([]byte(nil), out[br[0]:br[1]]...), out[br[2]:br[2]+br[3]]...)
	data := filepath.Join(dir, "ranges.bin")
	if err := os.WriteFile(data, signed, 0o600); err != nil {
		return nil, err
	}
	args := append([]string{"cms", "-sign", "-binary", "-nosmimecap", "-outform", "DER", "-in", "ranges.bin", "-out", "sig.der"}, s.args...)
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("openssl %v: %w\n%s", args, err, msg)
	}
	der, err := os.ReadFile(filepath.Join(dir, "sig.der"))
	if err != nil {
		return nil, err
	}
	w := &sliceWriterAt{b: out}
	if err := p.Embed(w, der); err != nil {
		return nil, err
	}
	return w.b, nil
}

type sliceWriterAt struct{ b []byte }

func (w *sliceWriterAt) WriteAt(p []byte, off int64) (int, error) {
	return copy(w.b[off:], p), nil
}
