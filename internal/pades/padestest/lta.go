package padestest

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/crypto/ocsp"

	"esign/internal/cms"
	"esign/internal/pades"
	"esign/internal/pdf"
	"esign/internal/tsa"
)

// CheckLTA checks that a PAdES B-LTA file validates offline: the revision
// its last document time-stamp covers has a DSS that holds, for every
// certificate of every signature and of their signature time-stamp tokens
// (the TSA's chain included), the certificate itself and a good OCSP
// response or a CRL of its issuer not listing it; and the certificates of
// the document time-stamp are covered by the file's last DSS (the same
// one, when one TSA made both time-stamps). Self-signed certificates (trust
// anchors) need neither.
func CheckLTA(tb testing.TB, b []byte) {
	tb.Helper()
	sigs := signatureDicts(tb, b)
	var docTS *sigDict
	for i := range sigs {
		if sigs[i].docTS && (docTS == nil || sigs[i].contentsAt > docTS.contentsAt) {
			docTS = &sigs[i]
		}
	}
	if docTS == nil {
		tb.Fatal("no document time-stamp")
	}
	// the revision before the document time-stamp's update
	prev := bytes.LastIndex(b[:docTS.contentsAt], []byte("%%EOF"))
	if prev < 0 {
		tb.Fatal("no revision before the document time-stamp")
	}
	covered := b[:prev+len("%%EOF")]
	var signed []*x509.Certificate
	n := 0
	for _, s := range signatureDicts(tb, covered) {
		if s.docTS {
			continue
		}
		n++
		signed = append(signed, certsOf(tb, s.contents, true)...)
	}
	if n == 0 {
		tb.Fatal("no signature in the revision the document time-stamp covers")
	}
	checkCovers(tb, "the DSS the document time-stamp covers", covered, signed)
	checkCovers(tb, "the last DSS", b, certsOf(tb, docTS.contents, false))
}

type sigDict struct {
	contents   []byte
	contentsAt int64
	docTS      bool
	signed     []byte
}

// Signature is a signature dictionary of a file: its CMS (/Contents
// without the padding), the bytes its ByteRange covers, and whether it is
// a document time-stamp.
type Signature struct {
	CMS          []byte
	Signed       []byte
	DocTimeStamp bool
}

// Signatures lists the signature dictionaries of the PDF b.
func Signatures(tb testing.TB, b []byte) []Signature {
	tb.Helper()
	var out []Signature
	for _, s := range signatureDicts(tb, b) {
		out = append(out, Signature{CMS: s.contents, Signed: s.signed, DocTimeStamp: s.docTS})
	}
	return out
}

func signatureDicts(tb testing.TB, b []byte) []sigDict {
	tb.Helper()
	d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	var out []sigDict
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
		c, _ := pdf.AsString(dict["Contents"])
		if len(br) != 4 || len(c) == 0 {
			continue
		}
		var r [4]int64
		for i := range r {
			r[i], _ = pdf.AsInt(br[i])
		}
		if r[0] != 0 || r[1] < 0 || r[2] < r[1] || r[3] < 0 || r[2]+r[3] > int64(len(b)) {
			tb.Fatalf("ByteRange %v", r)
		}
		var outer asn1.RawValue
		if _, err := asn1.Unmarshal(c, &outer); err != nil {
			tb.Fatalf("/Contents: %v", err)
		}
		signed := append(append([]byte(nil), b[:r[1]]...), b[r[2]:r[2]+r[3]]...)
		out = append(out, sigDict{contents: outer.FullBytes, contentsAt: r[1], docTS: dict["Type"] == pdf.Name("DocTimeStamp"), signed: signed})
	}
	return out
}

// certsOf returns the certificates of a CMS SignedData and, with
// timestamps, of its signature time-stamp tokens.
func certsOf(tb testing.TB, der []byte, timestamps bool) []*x509.Certificate {
	tb.Helper()
	sd, err := cms.Parse(der)
	if err != nil {
		tb.Fatalf("CMS: %v", err)
	}
	all := append([]*x509.Certificate(nil), sd.Certificates...)
	if !timestamps {
		return all
	}
	for _, si := range sd.SignerInfos {
		a := si.UnsignedAttribute(cms.OIDSignatureTimeStampToken)
		if a == nil || len(a.Values) == 0 {
			tb.Fatal("a signature without a signature time-stamp")
		}
		tok, err := tsa.ParseToken(a.Values[0])
		if err != nil {
			tb.Fatalf("signature time-stamp: %v", err)
		}
		if len(tok.SignedData.Certificates) == 0 {
			tb.Fatal("a signature time-stamp without its TSA's certificates")
		}
		all = append(all, tok.SignedData.Certificates...)
	}
	return all
}

// DSS returns the certificates, OCSP responses and CRLs of the PDF b's
// Document Security Store.
func DSS(tb testing.TB, b []byte) (certs []*x509.Certificate, ocsps, crls [][]byte) {
	tb.Helper()
	return readDSS(tb, "the DSS", b)
}

func checkCovers(tb testing.TB, what string, b []byte, certs []*x509.Certificate) {
	tb.Helper()
	dssCerts, ocsps, crls := readDSS(tb, what, b)
	has := func(c *x509.Certificate) bool {
		for _, d := range dssCerts {
			if d.Equal(c) {
				return true
			}
		}
		return false
	}
	for _, c := range certs {
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			continue
		}
		if !has(c) {
			tb.Fatalf("%s lacks the certificate %s", what, c.Subject)
		}
		var issuer *x509.Certificate
		for _, p := range append(dssCerts, certs...) {
			if bytes.Equal(p.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(p) == nil {
				issuer = p
			}
		}
		if issuer == nil || !has(issuer) {
			tb.Fatalf("%s lacks the issuer of %s", what, c.Subject)
		}
		if !goodStatus(c, issuer, ocsps, crls) {
			tb.Fatalf("%s has no revocation data for %s", what, c.Subject)
		}
	}
}

func readDSS(tb testing.TB, what string, b []byte) ([]*x509.Certificate, [][]byte, [][]byte) {
	tb.Helper()
	d, err := pdf.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("%s: open: %v", what, err)
	}
	cat, _, err := d.Catalog()
	if err != nil {
		tb.Fatal(err)
	}
	dss, err := d.ResolveDict(cat["DSS"])
	if err != nil || dss == nil {
		tb.Fatalf("%s: no DSS (%v)", what, err)
	}
	read := func(key pdf.Name) [][]byte {
		o, _ := d.Resolve(dss[key])
		arr, _ := pdf.AsArray(o)
		var out [][]byte
		for _, r := range arr {
			so, err := d.Resolve(r)
			if err != nil {
				tb.Fatalf("%s: %s: %v", what, key, err)
			}
			s, ok := so.(*pdf.Stream)
			if !ok {
				tb.Fatalf("%s: %s holds a %T", what, key, so)
			}
			data, err := d.StreamData(s, 1<<20)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, data)
		}
		return out
	}
	var dssCerts []*x509.Certificate
	for _, der := range read("Certs") {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			tb.Fatalf("%s: certificate: %v", what, err)
		}
		dssCerts = append(dssCerts, c)
	}
	return dssCerts, read("OCSPs"), read("CRLs")
}

func goodStatus(c, issuer *x509.Certificate, ocsps, crls [][]byte) bool {
	for _, der := range ocsps {
		if r, err := pades.ParseOCSPFor(der, c, issuer); err == nil && r.Status == ocsp.Good {
			return true
		}
	}
	for _, der := range crls {
		crl, err := x509.ParseRevocationList(der)
		if err != nil || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		revoked := false
		for _, e := range crl.RevokedCertificateEntries {
			revoked = revoked || e.SerialNumber.Cmp(c.SerialNumber) == 0
		}
		if !revoked {
			return true
		}
	}
	return false
}

// CheckRenewed checks the archive renewals of a PAdES B-LTA file
// (docs/pades.md, "Archive renewal"): it has at least renewals+1 document
// time-stamps, and for each but the newest, the revision the next one
// covers has a DSS that holds every certificate of its TSA chain with its
// issuer and a good status, so that each time-stamp is protected by the
// next while its certificates can still be validated.
func CheckRenewed(tb testing.TB, b []byte, renewals int) {
	tb.Helper()
	var ts []sigDict
	for _, s := range signatureDicts(tb, b) {
		if s.docTS {
			ts = append(ts, s)
		}
	}
	slices.SortFunc(ts, func(x, y sigDict) int { return int(x.contentsAt - y.contentsAt) })
	if len(ts) < renewals+1 {
		tb.Fatalf("%d document time-stamps, want at least %d", len(ts), renewals+1)
	}
	for i := 0; i+1 < len(ts); i++ {
		prev := bytes.LastIndex(b[:ts[i+1].contentsAt], []byte("%%EOF"))
		if prev < 0 || int64(prev) < ts[i].contentsAt {
			tb.Fatalf("no revision between document time-stamps %d and %d", i+1, i+2)
		}
		covered := b[:prev+len("%%EOF")]
		checkCovers(tb, fmt.Sprintf("the DSS document time-stamp %d covers", i+2), covered, certsOf(tb, ts[i].contents, false))
	}
}
