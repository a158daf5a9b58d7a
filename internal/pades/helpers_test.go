package pades_test

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"esign/internal/cms"
)

func signatureTimestamp(t *testing.T, der []byte) (token, sigValue []byte) {
	t.Helper()
	sd, err := cms.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	a := si.UnsignedAttribute(cms.OIDSignatureTimeStampToken)
	if a == nil || len(a.Values) == 0 {
		return nil, si.Signature
	}
	return a.Values[0], si.Signature
}

func x509Pool() *x509.CertPool { return x509.NewCertPool() }

func dec(b []byte, delta int) string {
	n, _ := strconv.Atoi(string(b))
	return strconv.Itoa(n + delta)
}

// zeroContents overwrites the hex digits of the first /Contents with zeros.
func zeroContents(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte("/Contents <"))
	if i < 0 {
		t.Fatal("no /Contents")
	}
	out := append([]byte(nil), b...)
	for j := i + len("/Contents <"); out[j] != '>'; j++ {
		out[j] = '0'
	}
	return out
}

// fixXref rewrites the classic xref table of a single-revision file after
// an edit that shifted offsets.
func fixXref(t *testing.T, b []byte) []byte {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(\d+) 0 obj`)
	var offs []int
	for _, m := range re.FindAllSubmatchIndex(b, -1) {
		offs = append(offs, m[0])
	}
	x := bytes.Index(b, []byte("xref\n"))
	tr := bytes.Index(b, []byte("trailer"))
	var tab bytes.Buffer
	fmt.Fprintf(&tab, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&tab, "%010d 00000 n\r\n", o)
	}
	trailer := b[tr:]
	trailer = trailer[:bytes.Index(trailer, []byte("startxref"))]
	var out bytes.Buffer
	out.Write(b[:x])
	out.Write(tab.Bytes())
	out.Write(trailer)
	fmt.Fprintf(&out, "startxref\n%d\n%%%%EOF\n", x)
	return out.Bytes()
}
