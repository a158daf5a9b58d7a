package tsa

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"esign/internal/cms"
)

// MaxRequestSize bounds the body of a time-stamp query.
const MaxRequestSize = 16 << 10

// ServerConfig configures a TSA server.
type ServerConfig struct {
	Certificate *x509.Certificate   // TSA certificate: critical EKU timeStamping only
	Chain       []*x509.Certificate // issuers to embed when the request sets certReq
	Key         crypto.Signer       // RSA or ECDSA
	Policy      asn1.ObjectIdentifier
	Accuracy    time.Duration // default 1s; negative: no accuracy field
	Hash        crypto.Hash   // digest of the CMS signature; default SHA-256
	Serials     SerialStore   // required
	Now         func() time.Time
	Logger      *slog.Logger
	// OmitTSAName leaves the tsa field (the certificate subject) out of TSTInfo.
	OmitTSAName bool
}

// Server is an RFC 3161 TSA as an http.Handler.
type Server struct {
	cfg     ServerConfig
	signer  cms.Signer
	tsaName []byte
}

// NewServer checks cfg and returns a Server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Certificate == nil || cfg.Key == nil {
		return nil, errors.New("tsa: new server: certificate and key are required")
	}
	if err := CheckTSACertificate(cfg.Certificate); err != nil {
		return nil, fmt.Errorf("tsa: new server: %w", err)
	}
	if pub, ok := cfg.Key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cfg.Certificate.PublicKey) {
		return nil, errors.New("tsa: new server: key does not match the certificate")
	}
	if cfg.Serials == nil {
		return nil, errors.New("tsa: new server: a serial store is required")
	}
	if cfg.Policy == nil {
		cfg.Policy = DefaultPolicy
	}
	if cfg.Accuracy == 0 {
		cfg.Accuracy = time.Second
	}
	if cfg.Hash == 0 {
		cfg.Hash = crypto.SHA256
	}
	if _, ok := cms.HashOID(cfg.Hash); !ok {
		return nil, fmt.Errorf("tsa: new server: unsupported hash %v", cfg.Hash)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, signer: cms.Signer{Certificate: cfg.Certificate, Chain: cfg.Chain, Key: cfg.Key}}
	if !cfg.OmitTSAName {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(cfg.Certificate.RawSubject) })
		s.tsaName = b.BytesOrPanic()
	}
	return s, nil
}

// ServeHTTP answers POSTed application/timestamp-query bodies. Protocol
// errors are answered with HTTP 200 and a PKIStatus rejection carrying the
// failure reason; only a failure of the TSA itself (serial store, signing)
// gets HTTP 503, still with a timestamp-reply body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "time-stamp queries are POSTed", http.StatusMethodNotAllowed)
		return
	}
	reply := func(code int, body []byte) {
		w.Header().Set("Content-Type", ReplyMediaType)
		w.WriteHeader(code)
		w.Write(body)
	}
	reject := func(f FailureInfo, msg string) {
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "tsa: request rejected", slog.String("fail", f.String()), slog.String("reason", msg))
		reply(http.StatusOK, marshalResponse(StatusRejection, f, msg, nil))
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != QueryMediaType {
		reject(FailBadRequest, "content type must be "+QueryMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			reject(FailBadDataFormat, "request too large")
			return
		}
		http.Error(w, "reading the request failed", http.StatusBadRequest)
		return
	}
	req, err := ParseRequest(body)
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) {
			reject(re.Fail, re.Msg)
		} else {
			reject(FailBadDataFormat, "malformed request")
		}
		return
	}
	if req.Policy != nil && !req.Policy.Equal(s.cfg.Policy) {
		reject(FailUnacceptedPolicy, "policy "+req.Policy.String()+" is not offered")
		return
	}
	token, err := s.Issue(r.Context(), req)
	if err != nil {
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "tsa: issuing a token failed", slog.String("err", err.Error()))
		reply(http.StatusServiceUnavailable, marshalResponse(StatusRejection, FailSystemFailure, "the time-stamping service failed", nil))
		return
	}
	reply(http.StatusOK, marshalResponse(StatusGranted, failNone, "", token))
}

// Issue creates and signs a time-stamp token for a parsed request.
func (s *Server) Issue(ctx context.Context, req *Request) ([]byte, error) {
	serial, err := s.cfg.Serials.NextSerial(ctx)
	if err != nil {
		return nil, fmt.Errorf("tsa: issue: serial: %w", err)
	}
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	ti := TSTInfo{
		Policy:        s.cfg.Policy,
		HashAlgorithm: req.HashAlgorithm,
		HashedMessage: req.HashedMessage,
		SerialNumber:  serial,
		GenTime:       now,
		Nonce:         req.Nonce,
		TSAName:       s.tsaName,
	}
	if s.cfg.Accuracy > 0 {
		ti.Accuracy = s.cfg.Accuracy
	}
	content, err := ti.Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsa: issue: %w", err)
	}
	token, err := cms.Sign(s.signer, content, cms.SignOptions{
		Hash:             s.cfg.Hash,
		ContentType:      cms.OIDTSTInfo,
		SigningTime:      &now,
		OmitCertificates: !req.CertReq,
	})
	if err != nil {
		return nil, fmt.Errorf("tsa: issue: %w", err)
	}
	return token, nil
}
