package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Status is the revocation state of one certificate.
type Status struct {
	State     int // ocsp.Good, ocsp.Revoked or ocsp.Unknown
	RevokedAt time.Time
	Reason    int // RFC 5280 CRLReason, for Revoked
}

// RevocationSource answers for the certificates a CA issued.
type RevocationSource interface {
	Status(ctx context.Context, serial *big.Int) (Status, error)
	Revoked(ctx context.Context) ([]x509.RevocationListEntry, error)
}

// MemoryRevocations is a RevocationSource kept in memory: the serial numbers
// the CA issued are Good unless revoked; all others are Unknown.
type MemoryRevocations struct {
	mu      sync.Mutex
	issued  map[string]bool
	revoked map[string]x509.RevocationListEntry
}

// NewMemoryRevocations returns a source that knows the given certificates.
func NewMemoryRevocations(issued ...*x509.Certificate) *MemoryRevocations {
	m := &MemoryRevocations{issued: map[string]bool{}, revoked: map[string]x509.RevocationListEntry{}}
	for _, c := range issued {
		m.issued[c.SerialNumber.String()] = true
	}
	return m
}

// Add records another certificate the CA issued.
func (m *MemoryRevocations) Add(c *x509.Certificate) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.issued[c.SerialNumber.String()] = true
}

// Revoke marks serial revoked at t for reason.
func (m *MemoryRevocations) Revoke(serial *big.Int, t time.Time, reason int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.issued[serial.String()] = true
	m.revoked[serial.String()] = x509.RevocationListEntry{SerialNumber: new(big.Int).Set(serial), RevocationTime: t.UTC(), ReasonCode: reason}
}

// Status implements RevocationSource.
func (m *MemoryRevocations) Status(_ context.Context, serial *big.Int) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.revoked[serial.String()]; ok {
		return Status{State: ocsp.Revoked, RevokedAt: e.RevocationTime, Reason: e.ReasonCode}, nil
	}
	if m.issued[serial.String()] {
		return Status{State: ocsp.Good}, nil
	}
	return Status{State: ocsp.Unknown}, nil
}

// Revoked implements RevocationSource.
func (m *MemoryRevocations) Revoked(context.Context) ([]x509.RevocationListEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]x509.RevocationListEntry, 0, len(m.revoked))
	for _, e := range m.revoked {
		out = append(out, e)
	}
	return out, nil
}

// CRLValidity is how long a CRL or OCSP response stays fresh.
const CRLValidity = 24 * time.Hour

// CRL returns a DER CRL signed by the CA listing revoked, valid from now for
// CRLValidity. The CRL number is now in Unix milliseconds, so it increases
// without stored state.
func (ca *CA) CRL(revoked []x509.RevocationListEntry, now time.Time) ([]byte, error) {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		RevokedCertificateEntries: revoked,
		Number:                    big.NewInt(now.UnixMilli()),
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.UTC().Add(CRLValidity),
	}, ca.Certificate, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: create CRL: %w", err)
	}
	return der, nil
}

// HandlerOptions tunes Handler.
type HandlerOptions struct {
	Now    func() time.Time
	Logger *slog.Logger
}

// MaxOCSPRequestSize bounds an OCSP request.
const MaxOCSPRequestSize = 16 << 10

// Handler serves the CA's public material and revocation data, relative to
// where it is mounted (the lead mounts it at /pki/ of the tsa process, which
// is what the certificates' URLs name):
//
//	GET  /ca.crt          the CA certificate (DER, application/pkix-cert)
//	GET  /ca.pem          the CA bundle (PEM)
//	GET  /ca.crl          a fresh CRL (DER, application/pkix-crl)
//	POST /ocsp            OCSP (RFC 6960), application/ocsp-request
//	GET  /ocsp/{request}  OCSP, base64 request in the path
func (ca *CA) Handler(src RevocationSource, opt HandlerOptions) http.Handler {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ca.crt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(ca.Certificate.Raw)
	})
	mux.HandleFunc("GET /ca.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pem-file")
		pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate.Raw})
	})
	mux.HandleFunc("GET /ca.crl", func(w http.ResponseWriter, r *http.Request) {
		revoked, err := src.Revoked(r.Context())
		var der []byte
		if err == nil {
			der, err = ca.CRL(revoked, opt.Now())
		}
		if err != nil {
			opt.Logger.ErrorContext(r.Context(), "pki: CRL", "err", err)
			http.Error(w, "CRL unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(der)
	})
	ocspHandler := func(w http.ResponseWriter, r *http.Request, req []byte) {
		w.Header().Set("Content-Type", "application/ocsp-response")
		resp, err := ca.ocspResponse(r.Context(), src, req, opt.Now())
		if err != nil {
			opt.Logger.InfoContext(r.Context(), "pki: OCSP request refused", "err", err)
		}
		w.Write(resp)
	}
	mux.HandleFunc("POST /ocsp", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxOCSPRequestSize))
		if err != nil {
			w.Header().Set("Content-Type", "application/ocsp-response")
			w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		ocspHandler(w, r, body)
	})
	mux.HandleFunc("GET /ocsp/{req...}", func(w http.ResponseWriter, r *http.Request) {
		raw := r.PathValue("req")
		if u, err := url.PathUnescape(raw); err == nil {
			raw = u
		}
		req, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
		if err != nil || len(req) > MaxOCSPRequestSize {
			w.Header().Set("Content-Type", "application/ocsp-response")
			w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		ocspHandler(w, r, req)
	})
	return mux
}

// ocspResponse answers one DER OCSP request. It always returns a response
// to send; err explains a refusal.
func (ca *CA) ocspResponse(ctx context.Context, src RevocationSource, der []byte, now time.Time) ([]byte, error) {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, err
	}
	if !ca.issued(req) {
		return ocsp.UnauthorizedErrorResponse, fmt.Errorf("request for another issuer")
	}
	st, err := src.Status(ctx, req.SerialNumber)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, err
	}
	this := ocspThisUpdate(now, time.Now())
	tmpl := ocsp.Response{
		Status:           st.State,
		SerialNumber:     req.SerialNumber,
		ThisUpdate:       this,
		NextUpdate:       this.Add(CRLValidity),
		RevokedAt:        st.RevokedAt,
		RevocationReason: st.Reason,
		IssuerHash:       req.HashAlgorithm,
	}
	resp, err := ocsp.CreateResponse(ca.Certificate, ca.Certificate, tmpl, ca.Key)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, err
	}
	return resp, nil
}

// ocspThisUpdate is the thisUpdate of a response answered at now (the
// handler's clock) and signed at wall (the real clock).
//
// RFC 6960 §4.2.1: thisUpdate is when the status was known to be correct
// and producedAt when the responder signed, so thisUpdate ≤ producedAt.
// NSS (poppler's pdfsig, Firefox, Thunderbird) enforces it: a response
// whose producedAt precedes thisUpdate fails with
// SEC_ERROR_OCSP_FUTURE_RESPONSE (ocsp_VerifySingleResponse).
// x/crypto/ocsp stamps producedAt with the wall clock truncated to the
// minute, so thisUpdate is truncated to the minute as well, and never
// later than the wall clock's minute.
func ocspThisUpdate(now, wall time.Time) time.Time {
	t := now.UTC().Truncate(time.Minute)
	if w := wall.UTC().Truncate(time.Minute); t.After(w) {
		t = w
	}
	return t
}

// issued reports whether an OCSP request names this CA as issuer.
func (ca *CA) issued(req *ocsp.Request) bool {
	h := req.HashAlgorithm
	if h != crypto.SHA1 && h != crypto.SHA256 && h != crypto.SHA384 && h != crypto.SHA512 {
		return false
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.Certificate.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	nh := h.New()
	nh.Write(ca.Certificate.RawSubject)
	kh := h.New()
	kh.Write(spki.PublicKey.RightAlign())
	return bytes.Equal(nh.Sum(nil), req.IssuerNameHash) && bytes.Equal(kh.Sum(nil), req.IssuerKeyHash)
}
