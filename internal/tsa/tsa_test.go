package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/cms"
	"esign/internal/esign"
)

type testPKI struct {
	root    *x509.Certificate
	rootKey crypto.Signer
	tsa     *x509.Certificate
	tsaKey  crypto.Signer
}

func ekuExtension(t testing.TB, critical bool) pkix.Extension {
	v, err := asn1.Marshal([]asn1.ObjectIdentifier{oidKPTimeStamp})
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: critical, Value: v}
}

func newTestPKI(t testing.TB, tsaKey crypto.Signer, criticalEKU bool) *testPKI {
	t.Helper()
	now := time.Now()
	rk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{rootKey: rk, tsaKey: tsaKey}
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tsa test root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, rt, rt, rk.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	p.root, _ = x509.ParseCertificate(der)
	tt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "tsa test unit", Organization: []string{"esign"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{ekuExtension(t, criticalEKU)}}
	der, err = x509.CreateCertificate(rand.Reader, tt, p.root, tsaKey.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	p.tsa, _ = x509.ParseCertificate(der)
	return p
}

var (
	rsaKeyOnce atomic.Pointer[rsa.PrivateKey]
)

func rsaKey(t testing.TB) *rsa.PrivateKey {
	if k := rsaKeyOnce.Load(); k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKeyOnce.Store(k)
	return k
}

func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

func newTestServer(t testing.TB, p *testPKI, now func() time.Time) (*Server, *FileSerialStore) {
	return newTestServerBlock(t, p, now, 10)
}

func newTestServerBlock(t testing.TB, p *testPKI, now func() time.Time, block int) (*Server, *FileSerialStore) {
	t.Helper()
	store, err := OpenFileSerialStore(filepath.Join(t.TempDir(), "serial"), block)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := NewServer(ServerConfig{Certificate: p.tsa, Chain: []*x509.Certificate{p.root}, Key: p.tsaKey,
		Serials: store, Now: now, Accuracy: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

func TestClientServerRoundTrip(t *testing.T) {
	p := newTestPKI(t, rsaKey(t), true)
	srv, _ := newTestServer(t, p, nil)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := &Client{URL: hs.URL, Roots: p.pool(), Policy: DefaultPolicy}
	data := []byte("M1 rawData")
	s256 := sha256.Sum256(data)
	s384 := sha512.Sum384(data)
	s512 := sha512.Sum512(data)
	tests := []struct {
		name   string
		h      crypto.Hash
		digest []byte
	}{
		{"sha256", crypto.SHA256, s256[:]},
		{"sha384", crypto.SHA384, s384[:]},
		{"sha512", crypto.SHA512, s512[:]},
	}
	var last *big.Int
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := c.Timestamp(context.Background(), tt.digest, tt.h)
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Signer.Equal(p.tsa) || !tok.Info.Policy.Equal(DefaultPolicy) || tok.Info.Accuracy != 1500*time.Millisecond {
				t.Fatalf("token info %+v", tok.Info)
			}
			if last != nil && tok.Info.SerialNumber.Cmp(last) <= 0 {
				t.Fatalf("serial %v after %v", tok.Info.SerialNumber, last)
			}
			last = tok.Info.SerialNumber
			if time.Since(tok.Info.GenTime) > time.Minute {
				t.Fatalf("genTime %v", tok.Info.GenTime)
			}
			// The stored token verifies later on its own.
			if _, err := VerifyToken(tok.DER, tt.digest, tt.h, VerifyOptions{Roots: p.pool()}); err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(tt.digest)
			bad[3] ^= 0x10
			if _, err := VerifyToken(tok.DER, bad, tt.h, VerifyOptions{Roots: p.pool()}); !errors.Is(err, ErrVerify) {
				t.Fatalf("other data accepted: %v", err)
			}
			if _, err := VerifyToken(tok.DER, tt.digest, tt.h, VerifyOptions{}); !errors.Is(err, ErrVerify) {
				t.Fatalf("untrusted TSA accepted: %v", err)
			}
		})
	}
}

func TestNoCertReq(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(t, k, true)
	srv, _ := newTestServer(t, p, nil)
	digest := sha256.Sum256([]byte("x"))
	tok, err := srv.Issue(context.Background(), &Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(42)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(tok, digest[:], crypto.SHA256, VerifyOptions{Roots: p.pool()}); err == nil {
		t.Fatal("verified without any TSA certificate")
	}
	got, err := VerifyToken(tok, digest[:], crypto.SHA256, VerifyOptions{Roots: p.pool(), Certificates: []*x509.Certificate{p.tsa}, Nonce: big.NewInt(42)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(tok, digest[:], crypto.SHA256, VerifyOptions{Roots: p.pool(), Certificates: []*x509.Certificate{p.tsa}, Nonce: big.NewInt(43)}); err == nil {
		t.Fatal("wrong nonce accepted")
	}
	if len(got.SignedData.Certificates) != 0 {
		t.Fatal("certificates embedded without certReq")
	}
}

func TestNonCriticalEKURefused(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(t, k, false)
	store, _ := OpenFileSerialStore(filepath.Join(t.TempDir(), "serial"), 0)
	defer store.Close()
	if _, err := NewServer(ServerConfig{Certificate: p.tsa, Key: k, Serials: store}); err == nil {
		t.Fatal("server accepted a TSA certificate with non-critical EKU")
	}
	// A token signed with such a certificate does not verify.
	digest := sha256.Sum256([]byte("x"))
	ti := TSTInfo{Policy: DefaultPolicy, HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], SerialNumber: big.NewInt(1), GenTime: time.Now()}
	content, _ := ti.Marshal()
	der, err := cms.Sign(cms.Signer{Certificate: p.tsa, Key: k}, content, cms.SignOptions{ContentType: cms.OIDTSTInfo})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(der, digest[:], crypto.SHA256, VerifyOptions{Roots: p.pool()}); err == nil {
		t.Fatal("token from a certificate with non-critical EKU accepted")
	}
}

func postQuery(t *testing.T, url, ctype string, body []byte) (*http.Response, *Response) {
	t.Helper()
	resp, err := http.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != ReplyMediaType {
		return resp, nil
	}
	r, err := ParseResponse(data)
	if err != nil {
		t.Fatal(err)
	}
	return resp, r
}

func TestServerRejections(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(t, k, true)
	srv, _ := newTestServer(t, p, nil)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	digest := sha256.Sum256([]byte("x"))
	good, _ := (&Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:]}).Marshal()
	otherPolicy, _ := (&Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Policy: asn1.ObjectIdentifier{1, 2, 3}}).Marshal()
	sha1Req, _ := asn1.Marshal(struct {
		V  int
		MI struct {
			A pkix.AlgorithmIdentifier
			M []byte
		}
	}{V: 1, MI: struct {
		A pkix.AlgorithmIdentifier
		M []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}}, make([]byte, 20)}})
	withExt := append(bytes.Clone(good[:len(good)]), 0xa0, 0x00)
	withExt[1] += 2
	v2 := bytes.Clone(good)
	v2[4] = 2
	tests := []struct {
		name  string
		ctype string
		body  []byte
		fail  FailureInfo
	}{
		{"garbage", QueryMediaType, []byte("hello"), FailBadDataFormat},
		{"empty", QueryMediaType, nil, FailBadDataFormat},
		{"trailing", QueryMediaType, append(bytes.Clone(good), 0), FailBadDataFormat},
		{"sha1", QueryMediaType, sha1Req, FailBadAlg},
		{"policy", QueryMediaType, otherPolicy, FailUnacceptedPolicy},
		{"extensions", QueryMediaType, withExt, FailUnacceptedExtension},
		{"version2", QueryMediaType, v2, FailBadRequest},
		{"content-type", "application/octet-stream", good, FailBadRequest},
		{"too-large", QueryMediaType, make([]byte, MaxRequestSize+1), FailBadDataFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, r := postQuery(t, hs.URL, tt.ctype, tt.body)
			if resp.StatusCode != http.StatusOK || r == nil {
				t.Fatalf("HTTP %d, reply %v", resp.StatusCode, r)
			}
			if r.Status != StatusRejection || r.FailInfo != tt.fail || r.Token != nil {
				t.Fatalf("status %d fail %v, want rejection %v", r.Status, r.FailInfo, tt.fail)
			}
		})
	}
	t.Run("get", func(t *testing.T) {
		resp, err := http.Get(hs.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	})
	t.Run("granted", func(t *testing.T) {
		_, r := postQuery(t, hs.URL, QueryMediaType, good)
		if r.Status != StatusGranted || r.Token == nil {
			t.Fatalf("status %d", r.Status)
		}
	})
}

func TestClientCredentialsAndRetries(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(t, k, true)
	srv, _ := newTestServer(t, p, nil)
	var calls, failFirst atomic.Int32
	var replay atomic.Pointer[[]byte]
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		u, pw, ok := r.BasicAuth()
		if !ok || u != "bank" || pw != "s3cret" || r.Header.Get("X-Api-Key") != "key-1" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if failFirst.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if b := replay.Load(); b != nil {
			w.Header().Set("Content-Type", ReplyMediaType)
			w.Write(*b)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	digest := sha256.Sum256([]byte("doc"))
	client := func() *Client {
		return &Client{URL: hs.URL, Roots: p.pool(), Username: "bank", Password: "s3cret",
			Header: http.Header{"X-Api-Key": {"key-1"}}, Retries: 2, Backoff: time.Millisecond, Timeout: 5 * time.Second}
	}
	t.Run("retry-then-ok", func(t *testing.T) {
		calls.Store(0)
		failFirst.Store(2)
		if _, err := client().Timestamp(context.Background(), digest[:], crypto.SHA256); err != nil {
			t.Fatal(err)
		}
		if calls.Load() != 3 {
			t.Fatalf("%d calls", calls.Load())
		}
	})
	t.Run("retries-exhausted", func(t *testing.T) {
		calls.Store(0)
		failFirst.Store(5)
		_, err := client().Timestamp(context.Background(), digest[:], crypto.SHA256)
		if !esign.IsKind(err, esign.Unavailable) || calls.Load() != 3 {
			t.Fatalf("err %v after %d calls", err, calls.Load())
		}
	})
	t.Run("bad-credentials-not-retried", func(t *testing.T) {
		calls.Store(0)
		failFirst.Store(0)
		c := client()
		c.Password = "wrong"
		_, err := c.Timestamp(context.Background(), digest[:], crypto.SHA256)
		if !esign.IsKind(err, esign.Unauthorized) || calls.Load() != 1 {
			t.Fatalf("err %v after %d calls", err, calls.Load())
		}
	})
	t.Run("replayed-reply-rejected", func(t *testing.T) {
		failFirst.Store(0)
		// Capture a genuine reply for the same digest, then replay it.
		req, _ := (&Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(7), CertReq: true}).Marshal()
		rec := httptest.NewRecorder()
		hr := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(req))
		hr.Header.Set("Content-Type", QueryMediaType)
		srv.ServeHTTP(rec, hr)
		b := rec.Body.Bytes()
		replay.Store(&b)
		defer replay.Store(nil)
		_, err := client().Timestamp(context.Background(), digest[:], crypto.SHA256)
		if !errors.Is(err, ErrVerify) {
			t.Fatalf("replayed reply accepted: %v", err)
		}
	})
	t.Run("untrusted-tsa", func(t *testing.T) {
		failFirst.Store(0)
		c := client()
		c.Roots = x509.NewCertPool()
		if _, err := c.Timestamp(context.Background(), digest[:], crypto.SHA256); !errors.Is(err, ErrVerify) {
			t.Fatalf("untrusted TSA accepted: %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		failFirst.Store(100)
		c := client()
		c.Retries = 10
		c.Backoff = time.Second
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := c.Timestamp(ctx, digest[:], crypto.SHA256); !esign.IsKind(err, esign.Timeout) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestFileSerialStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "serial")
	ctx := context.Background()
	var last uint64
	for round := range 3 {
		s, err := OpenFileSerialStore(path, 4)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := OpenFileSerialStore(path, 4); err == nil {
			t.Fatal("second open of a locked store succeeded")
		}
		for range 6 + round {
			n, err := s.NextSerial(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n.Uint64() <= last {
				t.Fatalf("serial %v after %d", n, last)
			}
			last = n.Uint64()
		}
		s.Close()
	}
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileSerialStore(path, 4); err == nil {
		t.Fatal("corrupt store opened")
	}
}

func TestGenTimeAndAccuracy(t *testing.T) {
	gt := time.Date(2026, 11, 27, 3, 45, 1, 120_000_000, time.UTC)
	for _, acc := range []time.Duration{0, time.Second, 1500 * time.Millisecond, 2*time.Millisecond + 3*time.Microsecond} {
		ti := TSTInfo{Policy: DefaultPolicy, HashAlgorithm: crypto.SHA256, HashedMessage: make([]byte, 32),
			SerialNumber: big.NewInt(9), GenTime: gt, Accuracy: acc, Nonce: big.NewInt(-5)}
		der, err := ti.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseTSTInfo(der)
		if err != nil {
			t.Fatal(err)
		}
		if !got.GenTime.Equal(gt) || got.Accuracy != acc || got.Nonce.Int64() != -5 {
			t.Fatalf("got %v %v %v", got.GenTime, got.Accuracy, got.Nonce)
		}
	}
	for _, bad := range []string{"20261127034501.120Z", "20261127034501.Z", "20261127034501", "2026112703450Z", "20261127034501+0100"} {
		if _, err := parseGenTime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	digest := sha256.Sum256([]byte("x"))
	good, _ := (&Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(1), CertReq: true, Policy: DefaultPolicy}).Marshal()
	f.Add(good)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *RequestError", err)
			}
			return
		}
		if _, err := r.Marshal(); err != nil {
			t.Fatalf("parsed request does not marshal: %v", err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(f, k, true)
	srv, _ := newTestServer(f, p, nil)
	digest := sha256.Sum256([]byte("x"))
	tok, err := srv.Issue(context.Background(), &Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Nonce: big.NewInt(5), CertReq: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(marshalResponse(StatusGranted, failNone, "", tok))
	f.Add(marshalResponse(StatusRejection, FailBadAlg, "no", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil || r.Token == nil {
			return
		}
		VerifyToken(r.Token, digest[:], crypto.SHA256, VerifyOptions{Roots: p.pool()})
	})
}

func TestAddSignatureTimestamp(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := newTestPKI(t, k, true)
	srv, _ := newTestServer(t, p, nil)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	digest := sha256.Sum256([]byte("pdf byte ranges"))
	// The TSA key doubles as a CMS signer here; only the time-stamp matters.
	sig, err := cms.SignDetached(cms.Signer{Certificate: p.tsa, Key: k}, digest[:], cms.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, tok, err := AddSignatureTimestamp(context.Background(), &Client{URL: hs.URL, Roots: p.pool()}, sig)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	a := sd.SignerInfos[0].UnsignedAttribute(cms.OIDSignatureTimeStampToken)
	if a == nil || !bytes.Equal(a.Values[0], tok.DER) {
		t.Fatal("token not embedded")
	}
	sigDigest := sha256.Sum256(sd.SignerInfos[0].Signature)
	if _, err := VerifyToken(a.Values[0], sigDigest[:], crypto.SHA256, VerifyOptions{Roots: p.pool()}); err != nil {
		t.Fatal(err)
	}
	if _, err := sd.Verify(digest[:], cms.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
