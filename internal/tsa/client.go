package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
)

// MaxResponseSize bounds the body of a time-stamp reply.
const MaxResponseSize = 1 << 20

// Client requests time-stamps from an RFC 3161 TSA over HTTP and verifies
// every response before returning it.
type Client struct {
	URL        string
	HTTPClient *http.Client // default http.DefaultClient
	// Credentials: HTTP Basic when Username is set, and any extra headers
	// (e.g. an API key) from Header.
	Username, Password string
	Header             http.Header
	Timeout            time.Duration  // per attempt; default 10s
	Retries            int            // extra attempts after a transport failure, 5xx or 429; capped at 10
	Roots              *x509.CertPool // trust for the TSA certificate; nil: system roots
	Intermediates      *x509.CertPool
	Certificates       []*x509.Certificate   // TSA certificates, if the TSA does not embed them
	Policy             asn1.ObjectIdentifier // optional reqPolicy, required in the reply when set
	// Backoff is the wait before the first retry, doubled each time (default 200ms, at most 5s).
	Backoff time.Duration
}

const opTimestamp = "tsa.Timestamp"

// Timestamp requests a time-stamp over digest (computed with h), with a
// random nonce and certReq, and verifies the reply: status, nonce, imprint,
// policy, signature, ESS binding, TSA certificate EKU and chain.
func (c *Client) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) (*Token, error) {
	nonceBytes := make([]byte, 16)
	if _, err := rand.Read(nonceBytes); err != nil {
		return nil, esign.E(opTimestamp, fmt.Errorf("nonce: %w", err))
	}
	nonceBytes[0] &= 0x7f
	nonceBytes[0] |= 0x40 // positive and of fixed length
	nonce := new(big.Int).SetBytes(nonceBytes)
	req := &Request{HashAlgorithm: h, HashedMessage: digest, Policy: c.Policy, Nonce: nonce, CertReq: true}
	body, err := req.Marshal()
	if err != nil {
		return nil, esign.E(opTimestamp, esign.Invalid, "invalid time-stamp request", err)
	}
	retries := min(max(c.Retries, 0), 10)
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		resp, retryAfter, err := c.post(ctx, body)
		if err == nil {
			return c.check(resp, digest, h, nonce)
		}
		lastErr = err
		var perm *permanentError
		if errors.As(err, &perm) || attempt >= retries || ctx.Err() != nil {
			break
		}
		wait := max(retryAfter, backoff)
		backoff = min(backoff*2, 5*time.Second)
		t := time.NewTimer(min(wait, 30*time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, esign.E(opTimestamp, esign.Timeout, "time-stamp request timed out", ctx.Err())
		case <-t.C:
		}
	}
	var perm *permanentError
	if errors.As(lastErr, &perm) {
		return nil, esign.E(opTimestamp, perm.kind, perm.msg, lastErr)
	}
	if ctx.Err() != nil {
		return nil, esign.E(opTimestamp, esign.Timeout, "time-stamp request timed out", lastErr)
	}
	return nil, esign.E(opTimestamp, esign.Unavailable, "the time-stamping authority is not reachable", lastErr)
}

type permanentError struct {
	kind esign.Kind
	msg  string
	err  error
}

func (e *permanentError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// post sends one attempt. Errors not wrapped in *permanentError may be retried.
func (c *Client) post(ctx context.Context, body []byte) (*Response, time.Duration, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, 0, &permanentError{esign.Invalid, "bad TSA URL", err}
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	hreq.Header.Set("Content-Type", QueryMediaType)
	hreq.Header.Set("Accept", ReplyMediaType)
	if c.Username != "" {
		hreq.SetBasicAuth(c.Username, c.Password)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	hresp, err := hc.Do(hreq)
	if err != nil {
		return nil, 0, fmt.Errorf("post: %w", err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read reply: %w", err)
	}
	switch code := hresp.StatusCode; {
	case code == http.StatusTooManyRequests || code >= 500:
		var ra time.Duration
		if s, err := strconv.Atoi(hresp.Header.Get("Retry-After")); err == nil && s > 0 {
			ra = time.Duration(s) * time.Second
		}
		return nil, ra, fmt.Errorf("TSA answered HTTP %d", code)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, 0, &permanentError{esign.Unauthorized, "the TSA refused our credentials", fmt.Errorf("HTTP %d", code)}
	case code != http.StatusOK:
		return nil, 0, &permanentError{esign.Internal, "the TSA refused the request", fmt.Errorf("HTTP %d", code)}
	}
	if len(data) > MaxResponseSize {
		return nil, 0, &permanentError{esign.Internal, "TSA reply too large", errors.New("reply exceeds limit")}
	}
	if ct := hresp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != ReplyMediaType {
			return nil, 0, &permanentError{esign.Internal, "unexpected TSA reply", fmt.Errorf("content type %q", ct)}
		}
	}
	resp, err := ParseResponse(data)
	if err != nil {
		return nil, 0, &permanentError{esign.Internal, "malformed TSA reply", err}
	}
	if resp.Status == StatusWaiting || resp.Status == StatusRejection && (resp.FailInfo == FailSystemFailure || resp.FailInfo == FailTimeNotAvailable) {
		return nil, 0, fmt.Errorf("TSA status %d (%v): %s", resp.Status, resp.FailInfo, strings.Join(resp.StatusString, "; "))
	}
	return resp, 0, nil
}

func (c *Client) check(resp *Response, digest []byte, h crypto.Hash, nonce *big.Int) (*Token, error) {
	if resp.Status != StatusGranted && resp.Status != StatusGrantedWithMods {
		return nil, esign.E(opTimestamp, "the TSA rejected the request",
			fmt.Errorf("status %d (%v): %s", resp.Status, resp.FailInfo, strings.Join(resp.StatusString, "; ")))
	}
	tok, err := VerifyToken(resp.Token, digest, h, VerifyOptions{
		Roots: c.Roots, Intermediates: c.Intermediates, Certificates: c.Certificates, Nonce: nonce, Policy: c.Policy,
	})
	if err != nil {
		return nil, esign.E(opTimestamp, "the TSA returned an invalid time-stamp", err)
	}
	return tok, nil
}
