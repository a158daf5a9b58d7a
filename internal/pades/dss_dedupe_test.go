package pades_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// TestDSSOneEntryPerObject signs twice at B-LT (the CA certificate is in
// the signer's chain, in the TSA's chain and in ExtraCerts): every /VRI
// array names an object once, and /Certs, /OCSPs and /CRLs hold one object
// per distinct content across both DSS updates.
func TestDSSOneEntryPerObject(t *testing.T) {
	e := env(t)
	in := filepath.Join(t.TempDir(), "in.pdf")
	os.WriteFile(in, pdftest.Minimal(1), 0o644)
	once := signFile(t, in, e.signOptions(pades.LevelBLT))
	opt := e.signOptions(pades.LevelBLT)
	opt.CMS = &pades.LocalSigner{Signer: e.other, TSA: e.client}
	twice := signFile(t, once, opt)
	rep := verifyOK(t, e, twice)
	if len(rep.Signatures) != 2 || rep.Signatures[0].Level != "B-LT" || rep.Signatures[1].Level != "B-LT" {
		t.Fatalf("levels:\n%s", rep.Summary())
	}
	b, _ := os.ReadFile(twice)
	doc, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	cat, _, _ := doc.Catalog()
	dss, _ := doc.ResolveDict(cat["DSS"])
	for _, k := range []pdf.Name{"Certs", "OCSPs", "CRLs"} {
		arr, _ := pdf.AsArray(dss[k])
		seen := map[[32]byte]bool{}
		for _, o := range arr {
			so, _ := doc.Resolve(o)
			st, ok := so.(*pdf.Stream)
			if !ok {
				t.Fatalf("/%s holds %v", k, so)
			}
			data, _ := doc.StreamData(st, 1<<20)
			sum := sha256.Sum256(data)
			if seen[sum] {
				t.Errorf("/%s holds the same content twice", k)
			}
			seen[sum] = true
		}
	}
	vri, _ := doc.ResolveDict(dss["VRI"])
	if len(vri) != 2 {
		t.Fatalf("VRI has %d entries, want 2", len(vri))
	}
	for key, o := range vri {
		entry, _ := doc.ResolveDict(o)
		for _, k := range []pdf.Name{"Cert", "OCSP", "CRL"} {
			arr, _ := pdf.AsArray(entry[k])
			seen := map[pdf.Ref]bool{}
			for _, r := range arr {
				if seen[r.(pdf.Ref)] {
					t.Errorf("VRI %s /%s lists %v twice", key, k, r)
				}
				seen[r.(pdf.Ref)] = true
			}
			if k == "Cert" && len(arr) < 3 { // signer, CA, TSA
				t.Errorf("VRI %s /Cert has %d entries", key, len(arr))
			}
		}
	}
}
