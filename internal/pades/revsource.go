package pades

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Revocation data supplied from outside: a bank's internal PKI often names
// no OCSP responder or CRL distribution point in its certificates, so the
// CRLs and OCSP responses its operators publish come in as files (esign pdf
// sign --crl/--ocsp-response, the seal.crl_files/seal.ocsp_files settings).
// Each is checked before it goes into a DSS: signed by the certificate's
// issuer (an OCSP response also by a responder the issuer delegated to),
// about that certificate (the issuer's CRL; a response for its serial
// number), and current at the injected clock's time (an expired CRL or
// response is not used, and said so).

// SuppliedCRL is a CRL read from a file.
type SuppliedCRL struct {
	Name string // where it came from, for messages
	DER  []byte
	CRL  *x509.RevocationList
}

// SuppliedOCSP is an OCSP response read from a file.
type SuppliedOCSP struct {
	Name string
	DER  []byte
}

// maxSuppliedSize bounds one supplied CRL or OCSP response.
const maxSuppliedSize = maxRevocationSize

// ParseCRL reads a CRL in DER or PEM ("X509 CRL"); name says where it came
// from in messages.
func ParseCRL(name string, data []byte) (SuppliedCRL, error) {
	if len(data) > maxSuppliedSize {
		return SuppliedCRL{}, fmt.Errorf("CRL %s: larger than %d bytes", name, maxSuppliedSize)
	}
	der := data
	if b, rest := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return SuppliedCRL{}, fmt.Errorf("CRL %s: a PEM %q block, want \"X509 CRL\"", name, b.Type)
		}
		if next, _ := pem.Decode(rest); next != nil {
			return SuppliedCRL{}, fmt.Errorf("CRL %s: more than one PEM block: give one CRL per file", name)
		}
		der = b.Bytes
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return SuppliedCRL{}, fmt.Errorf("CRL %s: not a CRL in DER or PEM: %w", name, err)
	}
	return SuppliedCRL{Name: name, DER: der, CRL: crl}, nil
}

// ParseOCSPResponse reads a DER OCSP response (as openssl ocsp -respout
// writes it): it must be a successful basic response.
func ParseOCSPResponse(name string, data []byte) (SuppliedOCSP, error) {
	if len(data) > maxSuppliedSize {
		return SuppliedOCSP{}, fmt.Errorf("OCSP response %s: larger than %d bytes", name, maxSuppliedSize)
	}
	if b, _ := pem.Decode(data); b != nil {
		return SuppliedOCSP{}, fmt.Errorf("OCSP response %s: PEM; give the DER response (openssl ocsp -respout)", name)
	}
	// nil certificate: a response about several certificates is fine
	// here; the one matching is picked when it is used
	if _, err := ocsp.ParseResponseForCert(data, nil, nil); err != nil &&
		!strings.Contains(err.Error(), "bad number of responses") {
		return SuppliedOCSP{}, fmt.Errorf("OCSP response %s: %w", name, err)
	}
	return SuppliedOCSP{Name: name, DER: data}, nil
}

// RevocationSet is revocation data supplied from outside; it implements
// RevocationFetcher over what it holds, without the network.
type RevocationSet struct {
	CRLs  []SuppliedCRL
	OCSPs []SuppliedOCSP
	Now   func() time.Time // the clock expiry is judged by; default time.Now
}

// Fetch implements RevocationFetcher: an OCSP response about cert signed
// by issuer (or its delegated responder) and not expired, else a CRL of
// issuer signed by it and not expired. A certificate they list as revoked
// is an error; without usable data the error wraps ErrNoRevocation and
// says what was there and why it was not used.
func (s *RevocationSet) Fetch(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, []byte, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	var notes []string
	for _, o := range s.OCSPs {
		resp, err := ParseOCSPFor(o.DER, cert, issuer)
		if err != nil {
			if !strings.Contains(err.Error(), "no response matching") {
				notes = append(notes, fmt.Sprintf("OCSP response %s: %v", o.Name, err))
			}
			continue
		}
		if c := resp.Certificate; c != nil && !c.Equal(issuer) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			notes = append(notes, fmt.Sprintf("OCSP response %s: signed by %q, which the issuer did not make an OCSP responder", o.Name, c.Subject))
			continue
		}
		switch {
		case resp.Status == ocsp.Revoked:
			return nil, nil, fmt.Errorf("pades: certificate %q is revoked (OCSP response %s)", cert.Subject, o.Name)
		case resp.Status != ocsp.Good:
			notes = append(notes, fmt.Sprintf("OCSP response %s: status unknown", o.Name))
		case !resp.NextUpdate.IsZero() && !now.Before(resp.NextUpdate):
			notes = append(notes, fmt.Sprintf("OCSP response %s expired at %s", o.Name, resp.NextUpdate.UTC().Format(time.RFC3339)))
		case resp.ThisUpdate.After(now.Add(5 * time.Minute)):
			notes = append(notes, fmt.Sprintf("OCSP response %s is dated in the future (%s)", o.Name, resp.ThisUpdate.UTC().Format(time.RFC3339)))
		default:
			return o.DER, nil, nil
		}
	}
	for _, c := range s.CRLs {
		if !bytes.Equal(c.CRL.RawIssuer, cert.RawIssuer) {
			continue
		}
		if err := c.CRL.CheckSignatureFrom(issuer); err != nil {
			notes = append(notes, fmt.Sprintf("CRL %s: not signed by the issuer %q: %v", c.Name, issuer.Subject, err))
			continue
		}
		if slices.ContainsFunc(c.CRL.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
			return e.SerialNumber.Cmp(cert.SerialNumber) == 0
		}) {
			return nil, nil, fmt.Errorf("pades: certificate %q is revoked (CRL %s)", cert.Subject, c.Name)
		}
		switch {
		case !c.CRL.NextUpdate.IsZero() && !now.Before(c.CRL.NextUpdate):
			notes = append(notes, fmt.Sprintf("CRL %s expired at %s (nextUpdate)", c.Name, c.CRL.NextUpdate.UTC().Format(time.RFC3339)))
		case c.CRL.ThisUpdate.After(now.Add(5 * time.Minute)):
			notes = append(notes, fmt.Sprintf("CRL %s is dated in the future (%s)", c.Name, c.CRL.ThisUpdate.UTC().Format(time.RFC3339)))
		default:
			return nil, c.DER, nil
		}
	}
	switch {
	case len(s.CRLs)+len(s.OCSPs) == 0:
		return nil, nil, fmt.Errorf("%w for %q: no CRL or OCSP response was supplied", ErrNoRevocation, cert.Subject)
	case len(notes) == 0:
		return nil, nil, fmt.Errorf("%w for %q: none of the supplied CRLs and OCSP responses is about it", ErrNoRevocation, cert.Subject)
	}
	return nil, nil, fmt.Errorf("%w for %q: %s", ErrNoRevocation, cert.Subject, strings.Join(notes, "; "))
}

// Expired lists the supplied CRLs and OCSP responses that are past their
// nextUpdate at the set's clock, one message each ("CRL x expired at …"),
// for the caller to warn about.
func (s *RevocationSet) Expired() []string {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	var out []string
	for _, c := range s.CRLs {
		if !c.CRL.NextUpdate.IsZero() && !now.Before(c.CRL.NextUpdate) {
			out = append(out, fmt.Sprintf("CRL %s expired at %s (nextUpdate): not used", c.Name, c.CRL.NextUpdate.UTC().Format(time.RFC3339)))
		}
	}
	for _, o := range s.OCSPs {
		if resp, err := ocsp.ParseResponse(o.DER, nil); err == nil && !resp.NextUpdate.IsZero() && !now.Before(resp.NextUpdate) {
			out = append(out, fmt.Sprintf("OCSP response %s expired at %s (nextUpdate): not used", o.Name, resp.NextUpdate.UTC().Format(time.RFC3339)))
		}
	}
	return out
}

// RevocationSources asks each source in turn for a certificate and takes
// the first that has data (typically a RevocationSet, then
// HTTPRevocation). A revoked certificate ends the search; when none has
// data, the error wraps ErrNoRevocation, names the certificate and says
// what each source lacked.
type RevocationSources []RevocationFetcher

// Fetch implements RevocationFetcher.
func (rs RevocationSources) Fetch(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, []byte, error) {
	var errs []error
	for _, src := range rs {
		o, crl, err := src.Fetch(ctx, cert, issuer)
		switch {
		case err == nil && (o != nil || crl != nil):
			return o, crl, nil
		case err == nil:
			continue
		case !errors.Is(err, ErrNoRevocation):
			return nil, nil, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, nil, fmt.Errorf("%w for %q: no revocation source configured", ErrNoRevocation, cert.Subject)
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		m := strings.TrimPrefix(e.Error(), ErrNoRevocation.Error())
		m = strings.TrimPrefix(m, fmt.Sprintf(" for %q", cert.Subject))
		msgs[i] = strings.TrimLeft(m, ": ")
	}
	return nil, nil, fmt.Errorf("%w for %q (no source has any): %s", ErrNoRevocation, cert.Subject, strings.Join(msgs, "; "))
}

// RevocationFiles is a RevocationSet read from files an operator refreshes
// (pdfservice's seal.crl_files and seal.ocsp_files): each Fetch looks at
// the files' modification times and sizes and reads again those that
// changed, so a new CRL is used from the next seal on, without a restart.
// A file that cannot be read or parsed is left out and logged (the last
// good version is not kept: data that is no longer published must not be
// embedded), an expired one is logged once per version.
type RevocationFiles struct {
	CRLFiles  []string
	OCSPFiles []string
	Now       func() time.Time
	Log       *slog.Logger // default: discard

	mu    sync.Mutex
	files map[string]*suppliedFile
}

type suppliedFile struct {
	mod    time.Time
	size   int64
	crl    *SuppliedCRL
	ocsp   *SuppliedOCSP
	err    error
	warned bool
}

// readSupplied reads and parses one file whose stat is st.
func readSupplied(path string, st os.FileInfo, isCRL bool) *suppliedFile {
	sf := &suppliedFile{mod: st.ModTime(), size: st.Size()}
	data, err := os.ReadFile(path)
	switch {
	case err != nil:
		sf.err = err
	case isCRL:
		var c SuppliedCRL
		if c, sf.err = ParseCRL(path, data); sf.err == nil {
			sf.crl = &c
		}
	default:
		var o SuppliedOCSP
		if o, sf.err = ParseOCSPResponse(path, data); sf.err == nil {
			sf.ocsp = &o
		}
	}
	return sf
}

// Fetch implements RevocationFetcher.
func (f *RevocationFiles) Fetch(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, []byte, error) {
	set, problems := f.Set()
	o, crl, err := set.Fetch(ctx, cert, issuer)
	if err != nil && errors.Is(err, ErrNoRevocation) && len(problems) > 0 {
		err = fmt.Errorf("%w; unreadable: %s", err, strings.Join(problems, "; "))
	}
	return o, crl, err
}

// Set returns what the files hold now, reading again those that changed,
// and a message for each file that could not be read.
func (f *RevocationFiles) Set() (*RevocationSet, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if f.files == nil {
		f.files = map[string]*suppliedFile{}
	}
	set := &RevocationSet{Now: f.Now}
	var problems []string
	load := func(path string, isCRL bool) {
		cur := f.files[path]
		next := cur
		st, err := os.Stat(path)
		switch {
		case err != nil:
			next = &suppliedFile{err: err}
		case cur == nil || !cur.mod.Equal(st.ModTime()) || cur.size != st.Size():
			next = readSupplied(path, st, isCRL) // a new version (or a file that was missing)
		}
		if next != cur {
			// logged when the file is read, or refused for a new reason
			switch {
			case next.err == nil:
				log.Info("read revocation data file", "file", path)
			case cur == nil || cur.err == nil || cur.err.Error() != next.err.Error():
				log.Warn("revocation data file not used", "file", path, "err", next.err)
			}
			f.files[path] = next
			cur = next
		}
		switch {
		case cur.err != nil:
			problems = append(problems, cur.err.Error())
		case cur.crl != nil:
			set.CRLs = append(set.CRLs, *cur.crl)
		case cur.ocsp != nil:
			set.OCSPs = append(set.OCSPs, *cur.ocsp)
		}
	}
	for _, p := range f.CRLFiles {
		load(p, true)
	}
	for _, p := range f.OCSPFiles {
		load(p, false)
	}
	for _, msg := range set.Expired() {
		// once per version of the file (the message names its path)
		for path, sf := range f.files {
			if strings.Contains(msg, " "+path+" ") && !sf.warned {
				sf.warned = true
				log.Warn("revocation data expired: refresh the file", "detail", msg)
			}
		}
	}
	return set, problems
}

// addOnce appends b to *list unless an equal entry is there, and returns
// its index + 1.
func addOnce(list *[][]byte, b []byte) int {
	for i, x := range *list {
		if bytes.Equal(x, b) {
			return i + 1
		}
	}
	*list = append(*list, b)
	return len(*list)
}

// ParseOCSPFor parses a DER OCSP response about cert and checks that issuer
// signed it, directly or through a responder certificate it issued. It is
// ocsp.ParseResponseForCert, which also accepts a response signed by the
// issuer that carries the issuer's own certificate (as openssl ocsp
// -rsigner CA writes it, and many CAs' responders answer): x/crypto/ocsp
// then wants that certificate to be signed by the issuer, which only a
// self-signed issuer's is.
func ParseOCSPFor(der []byte, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err == nil || issuer == nil {
		return resp, err
	}
	r, err2 := ocsp.ParseResponseForCert(der, cert, nil) // signed by the embedded certificate
	if err2 == nil && r.Certificate != nil && r.Certificate.Equal(issuer) {
		return r, nil
	}
	return nil, err
}

// missingRevocation is the error of several certificates without
// revocation data, one message each, "; "-separated on one line; it
// wraps each (and so ErrNoRevocation).
type missingRevocation []error

func (m missingRevocation) Error() string {
	msgs := make([]string, len(m))
	for i, e := range m {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (m missingRevocation) Unwrap() []error { return m }
