package pki

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"
)

// MaxRevocationResponseSize bounds a fetched OCSP response or CRL.
const MaxRevocationResponseSize = 8 << 20

func fetch(ctx context.Context, hc *http.Client, req *http.Request) ([]byte, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", req.URL, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxRevocationResponseSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRevocationResponseSize {
		return nil, fmt.Errorf("%s: response too large", req.URL)
	}
	return b, nil
}

// FetchOCSP asks the OCSP responder named in cert (its AIA) for cert's
// status and verifies the answer: signed by issuer (or a responder it
// delegated to), for this certificate, and current at now. It returns the
// parsed response and its DER (for a PAdES DSS). A revoked status is
// returned as a response, not as an error.
func FetchOCSP(ctx context.Context, hc *http.Client, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, []byte, error) {
	if len(cert.OCSPServer) == 0 {
		return nil, nil, errors.New("pki: fetch OCSP: the certificate names no OCSP responder")
	}
	q, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: fetch OCSP: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, cert.OCSPServer[0], bytes.NewReader(q))
	if err != nil {
		return nil, nil, fmt.Errorf("pki: fetch OCSP: %w", err)
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	der, err := fetch(ctx, hc, req)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: fetch OCSP: %w", err)
	}
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: fetch OCSP: %w", err)
	}
	if now.Before(resp.ThisUpdate.Add(-5*time.Minute)) || !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate) {
		return nil, nil, errors.New("pki: fetch OCSP: the response is not current")
	}
	if resp.ProducedAt.Before(resp.ThisUpdate) {
		// RFC 6960 needs thisUpdate ≤ producedAt; NSS-based validators
		// reject such a response, so it must not go into a DSS
		return nil, nil, errors.New("pki: fetch OCSP: the response was produced before its thisUpdate")
	}
	return resp, der, nil
}

// FetchCRL downloads the CRL named in cert's distribution point and checks
// that issuer signed it and that it is current at now. It returns the parsed
// CRL and its DER.
func FetchCRL(ctx context.Context, hc *http.Client, cert, issuer *x509.Certificate, now time.Time) (*x509.RevocationList, []byte, error) {
	if len(cert.CRLDistributionPoints) == 0 {
		return nil, nil, errors.New("pki: fetch CRL: the certificate names no CRL distribution point")
	}
	req, err := http.NewRequest(http.MethodGet, cert.CRLDistributionPoints[0], nil)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: fetch CRL: %w", err)
	}
	der, err := fetch(ctx, hc, req)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: fetch CRL: %w", err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: fetch CRL: %w", err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, nil, fmt.Errorf("pki: fetch CRL: %w", err)
	}
	if now.Before(crl.ThisUpdate.Add(-5*time.Minute)) || !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
		return nil, nil, errors.New("pki: fetch CRL: the CRL is not current")
	}
	return crl, der, nil
}
