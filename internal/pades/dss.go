package pades

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"esign/internal/cms"
	"esign/internal/pdf"
	"esign/internal/tsa"
)

// RevocationFetcher obtains revocation data for cert, issued by issuer:
// a DER OCSP response or a DER CRL (either may be nil, not both).
type RevocationFetcher interface {
	Fetch(ctx context.Context, cert, issuer *x509.Certificate) (ocspDER, crlDER []byte, err error)
}

// HTTPRevocation fetches revocation data over HTTP from the URLs in the
// certificate: OCSP first (POST to the AIA responder), the CRL
// distribution point otherwise.
type HTTPRevocation struct {
	Client *http.Client // default: a client with a 10 s timeout
}

const maxRevocationSize = 8 << 20

// Fetch implements RevocationFetcher.
func (h HTTPRevocation) Fetch(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, []byte, error) {
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	var errs []error
	for _, u := range cert.OCSPServer {
		req, err := ocsp.CreateRequest(cert, issuer, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("pades: OCSP request: %w", err)
		}
		body, err := httpDo(ctx, c, http.MethodPost, u, "application/ocsp-request", req)
		if err == nil {
			var resp *ocsp.Response
			if resp, err = ParseOCSPFor(body, cert, issuer); err == nil {
				if resp.Status == ocsp.Good {
					return body, nil, nil
				}
				if resp.Status == ocsp.Revoked {
					return nil, nil, fmt.Errorf("pades: certificate %q is revoked", cert.Subject)
				}
				err = fmt.Errorf("certificate status %d", resp.Status)
			}
		}
		errs = append(errs, fmt.Errorf("OCSP %s: %w", u, err))
	}
	for _, u := range cert.CRLDistributionPoints {
		body, err := httpDo(ctx, c, http.MethodGet, u, "", nil)
		if err == nil {
			var crl *x509.RevocationList
			if crl, err = x509.ParseRevocationList(body); err == nil {
				if err = crl.CheckSignatureFrom(issuer); err == nil {
					if slices.ContainsFunc(crl.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
						return e.SerialNumber.Cmp(cert.SerialNumber) == 0
					}) {
						return nil, nil, fmt.Errorf("pades: certificate %q is revoked", cert.Subject)
					}
					return nil, body, nil
				}
			}
		}
		errs = append(errs, fmt.Errorf("CRL %s: %w", u, err))
	}
	if len(errs) == 0 {
		return nil, nil, fmt.Errorf("%w: certificate %q names no OCSP responder or CRL", ErrNoRevocation, cert.Subject)
	}
	return nil, nil, fmt.Errorf("%w for %q: %w", ErrNoRevocation, cert.Subject, errors.Join(errs...))
}

// ErrNoRevocation is wrapped by a RevocationFetcher's error when the chain
// offers no revocation data or its responders cannot be reached (a revoked
// certificate is a different error): the signature can still be made at
// B-T, which is what "B-LT when the chain allows" falls back to.
var ErrNoRevocation = errors.New("pades: no revocation data")

func httpDo(ctx context.Context, c *http.Client, method, url, ctype string, body []byte) ([]byte, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("unsupported URL")
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRevocationSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRevocationSize {
		return nil, errors.New("response too large")
	}
	return b, nil
}

// validationData collects the certificates of the CMS signatures (and of
// their signature time-stamps) and revocation data for each certificate
// that has an issuer among them.
type validationData struct {
	certs []*x509.Certificate
	ocsps [][]byte
	crls  [][]byte
	vri   map[string][3][]int // per signature: indexes into certs, ocsps, crls
}

func collectValidationData(ctx context.Context, sigs [][]byte, opt SignOptions) (*validationData, error) {
	fetch := opt.Revocation
	if fetch == nil {
		fetch = HTTPRevocation{}
	}
	vd := &validationData{vri: map[string][3][]int{}}
	certIdx := map[string]int{}
	addCert := func(c *x509.Certificate) int {
		k := string(c.Raw)
		if i, ok := certIdx[k]; ok {
			return i
		}
		vd.certs = append(vd.certs, c)
		certIdx[k] = len(vd.certs) - 1
		return len(vd.certs) - 1
	}
	revDone := map[int][2]int{} // cert index -> ocsp/crl index+1
	var missing []error
	for _, der := range sigs {
		sd, err := cms.Parse(der)
		if err != nil {
			return nil, fmt.Errorf("pades: DSS: %w", err)
		}
		all := append([]*x509.Certificate(nil), sd.Certificates...)
		for _, si := range sd.SignerInfos {
			if a := si.UnsignedAttribute(cms.OIDSignatureTimeStampToken); a != nil && len(a.Values) > 0 {
				if tok, err := tsa.ParseToken(a.Values[0]); err == nil {
					all = append(all, tok.SignedData.Certificates...)
				}
			}
		}
		all = append(all, opt.ExtraCerts...)
		var entry [3][]int
		for _, c := range all {
			i := addCert(c)
			entry[0] = append(entry[0], i)
			if isSelfSigned(c) {
				continue
			}
			issuer := findIssuer(c, all)
			if issuer == nil {
				continue
			}
			r, done := revDone[i]
			if !done {
				o, crl, err := fetch.Fetch(ctx, c, issuer)
				if errors.Is(err, ErrNoRevocation) {
					missing = append(missing, err) // name every certificate that lacks data
					continue
				}
				if err != nil {
					return nil, err
				}
				if o != nil {
					r[0] = addOnce(&vd.ocsps, o)
				}
				if crl != nil {
					r[1] = addOnce(&vd.crls, crl) // one CRL serves all its issuer's certificates
				}
				revDone[i] = r
			}
			if r[0] > 0 {
				entry[1] = append(entry[1], r[0]-1)
			}
			if r[1] > 0 {
				entry[2] = append(entry[2], r[1]-1)
			}
		}
		sum := sha1.Sum(der)
		vd.vri[strings.ToUpper(hex.EncodeToString(sum[:]))] = entry
	}
	if len(missing) > 0 {
		return nil, missingRevocation(missing)
	}
	return vd, nil
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && signedBy(c, c)
}

func findIssuer(c *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, p := range pool {
		if bytes.Equal(p.RawSubject, c.RawIssuer) && signedBy(c, p) {
			return p
		}
	}
	return nil
}

// addDSS appends an incremental update with a Document Security Store to f
// (size bytes) and returns the new size. sigs are the DER CMS of the
// signatures to collect validation data for.
//
// h, if not nil, is a hash of the file's size bytes; the DSS update is
// written to it too.
func addDSS(ctx context.Context, f ReadWriterAt, size int64, sigs [][]byte, opt SignOptions, h hash.Hash) (int64, error) {
	vd, err := collectValidationData(ctx, sigs, opt)
	if err != nil {
		return 0, err
	}
	doc, err := pdf.Open(f, size)
	if err != nil {
		return 0, err
	}
	cat, catRef, err := doc.Catalog()
	if err != nil {
		return 0, err
	}
	u := doc.NewUpdate()
	old, err := doc.ResolveDict(cat["DSS"])
	if err != nil {
		return 0, err
	}
	dss := old.Clone()
	dss["Type"] = pdf.Name("DSS")
	arr := func(key pdf.Name) pdf.Array {
		a, _ := resolveArray(doc, dss[key])
		return a
	}
	certs, ocsps, crls := arr("Certs"), arr("OCSPs"), arr("CRLs")
	// one object per distinct certificate, response or CRL: reuse those
	// an earlier DSS update holds
	have := dssStreams(doc, certs, ocsps, crls)
	stream := func(b []byte, into *pdf.Array) pdf.Ref {
		if r, ok := have[string(b)]; ok {
			return r
		}
		r := u.Add(&pdf.Stream{Dict: pdf.Dict{}, Data: b})
		have[string(b)] = r
		*into = append(*into, r)
		return r
	}
	var certRefs, ocspRefs, crlRefs []pdf.Ref
	for _, c := range vd.certs {
		certRefs = append(certRefs, stream(c.Raw, &certs))
	}
	for _, o := range vd.ocsps {
		ocspRefs = append(ocspRefs, stream(o, &ocsps))
	}
	for _, c := range vd.crls {
		crlRefs = append(crlRefs, stream(c, &crls))
	}
	dss["Certs"] = certs
	if len(ocsps) > 0 {
		dss["OCSPs"] = ocsps
	}
	if len(crls) > 0 {
		dss["CRLs"] = crls
	}
	vri, _ := doc.ResolveDict(dss["VRI"])
	vri = vri.Clone()
	pick := func(refs []pdf.Ref, idx []int) pdf.Array {
		var a pdf.Array
		for _, i := range idx {
			if !slices.Contains(a, pdf.Object(refs[i])) {
				a = append(a, refs[i])
			}
		}
		return a
	}
	for key, e := range vd.vri {
		entry := pdf.Dict{"Cert": pick(certRefs, e[0])}
		if len(e[1]) > 0 {
			entry["OCSP"] = pick(ocspRefs, e[1])
		}
		if len(e[2]) > 0 {
			entry["CRL"] = pick(crlRefs, e[2])
		}
		vri[pdf.Name(key)] = u.Add(entry)
	}
	dss["VRI"] = vri
	if r, ok := cat["DSS"].(pdf.Ref); ok {
		u.Set(r, dss)
	} else {
		cat = cat.Clone()
		cat["DSS"] = u.Add(dss)
		u.Set(catRef, cat)
	}
	built, err := u.Build()
	if err != nil {
		return 0, err
	}
	if _, err := f.WriteAt(built.Tail, size); err != nil {
		return 0, fmt.Errorf("pades: write DSS: %w", err)
	}
	if h != nil {
		h.Write(built.Tail)
	}
	return built.TotalSize(), nil
}

// dssStreams maps the decoded content of the DSS's existing /Certs,
// /OCSPs and /CRLs streams to their references.
func dssStreams(doc *pdf.Document, arrs ...pdf.Array) map[string]pdf.Ref {
	m := map[string]pdf.Ref{}
	for _, a := range arrs {
		for _, o := range a {
			r, ok := o.(pdf.Ref)
			if !ok {
				continue
			}
			so, err := doc.Resolve(r)
			if err != nil {
				continue
			}
			if st, ok := so.(*pdf.Stream); ok {
				if b, err := doc.StreamData(st, maxRevocationSize); err == nil {
					if _, dup := m[string(b)]; !dup {
						m[string(b)] = r
					}
				}
			}
		}
	}
	return m
}
