package customerui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"esign/internal/esign"
	"esign/internal/notify"
	"esign/internal/pades"
	"esign/internal/rpc"
	"esign/internal/webui"
)

// Verification runs in css itself (docs/customer-ui.md, "Verify a PDF"):
// the bytes never cross the bus (whose messages are capped at 4 MiB), the
// CPU it costs grows with the css replicas, and css needs nothing for it
// but public certificates — the system roots and the trust anchors oss
// pushes with the system configuration (VerifyConfig.Roots). Nothing is
// stored: an upload is read into memory, verified and dropped.

// Defaults of the verify page's limits (VerifyConfig).
const (
	DefaultVerifyMaxBytes    = 20 << 20 // an uploaded PDF
	DefaultContractMaxBytes  = 80 << 20 // a contract document read over RPC (64 MiB documents, sealed)
	DefaultVerifyConcurrency = 2        // verifications at once in one css replica
	// DefaultVerifyPer10Min is how many verifications one client address
	// may ask for in 10 minutes.
	DefaultVerifyPer10Min = 10
)

// VerifyConfig is the verify page's part of Config. The zero value has the
// defaults, an in-memory limiter and the system roots.
type VerifyConfig struct {
	// Roots returns the trust anchors (nil: the system roots): the
	// system roots plus what oss pushes (bus.SystemConfig.TrustAnchors).
	Roots            func() *x509.CertPool
	MaxBytes         int64          // an upload (default DefaultVerifyMaxBytes)
	ContractMaxBytes int64          // a contract document (default DefaultContractMaxBytes)
	Limiter          notify.Limiter // per client address; nil: one in memory (per replica)
	Limit            notify.Limit   // default DefaultVerifyPer10Min per 10 minutes
	Concurrency      int            // default DefaultVerifyConcurrency
	Now              func() time.Time
}

// verifier holds the verify page's limits.
type verifier struct {
	cfg   VerifyConfig
	slots chan struct{} // a verification holds one
}

func newVerifier(cfg VerifyConfig) *verifier {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultVerifyMaxBytes
	}
	if cfg.ContractMaxBytes <= 0 {
		cfg.ContractMaxBytes = DefaultContractMaxBytes
	}
	if cfg.Limit == (notify.Limit{}) {
		cfg.Limit = notify.Limit{N: DefaultVerifyPer10Min, Per: 10 * time.Minute}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultVerifyConcurrency
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limiter == nil {
		cfg.Limiter = notify.NewMemoryLimiter(cfg.Now)
	}
	return &verifier{cfg: cfg, slots: make(chan struct{}, cfg.Concurrency)}
}

// Errors of the verify page, each shown as a sentence (verify.error.<code>).
var (
	errVerifyTooLarge = esign.WithCode("customerui.verify", esign.Invalid, "too_large", "the file is larger than the limit")
	errVerifyNoFile   = esign.WithCode("customerui.verify", esign.Invalid, "no_file", "choose one PDF")
	errVerifyNotPDF   = esign.WithCode("customerui.verify", esign.Invalid, "not_pdf", "the file cannot be read as a PDF")
	errVerifyLimited  = esign.WithCode("customerui.verify", esign.TooMany, "rate_limited", "too many verifications")
	errVerifyBusy     = esign.WithCode("customerui.verify", esign.Unavailable, "busy", "too many verifications at once")
)

// allow counts a verification of the client address against the limit.
func (v *verifier) allow(ctx context.Context, ip string) error {
	d, err := v.cfg.Limiter.Allow(ctx, "verify:"+ip, v.cfg.Limit)
	if err != nil {
		return esign.E("customerui.verify", esign.Unavailable, "rate limiter", err)
	}
	if !d.Allowed {
		return errVerifyLimited
	}
	return nil
}

// verify runs the PAdES verifier on data, waiting for a free slot up to
// a few seconds.
func (v *verifier) verify(ctx context.Context, name string, data []byte) (*Report, error) {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case v.slots <- struct{}{}:
	case <-t.C:
		return nil, errVerifyBusy
	case <-ctx.Done():
		return nil, esign.E("customerui.verify", esign.Unavailable, ctx.Err())
	}
	defer func() { <-v.slots }()
	var roots *x509.CertPool
	if v.cfg.Roots != nil {
		roots = v.cfg.Roots()
	}
	rep, err := pades.Verify(ctx, bytes.NewReader(data), int64(len(data)), pades.VerifyOptions{Roots: roots, Now: v.cfg.Now})
	if err != nil {
		if ctx.Err() != nil {
			return nil, esign.E("customerui.verify", esign.Unavailable, ctx.Err())
		}
		return nil, errVerifyNotPDF
	}
	sum := sha256.Sum256(data)
	return newReport(name, int64(len(data)), hex.EncodeToString(sum[:]), rep, v.cfg.Now()), nil
}

type verifyData struct {
	MaxBytes int64
	Error    string // a message key
}

// verifyForm is the public page that takes a PDF to verify.
func (u *UI) verifyForm(w http.ResponseWriter, r *http.Request) error {
	return u.ui.Render(w, r, http.StatusOK, "verify.html", webui.Page{Title: "verify.title",
		Data: verifyData{MaxBytes: u.verify.cfg.MaxBytes}})
}

// verifyUpload verifies the uploaded PDF (the multipart part "document")
// and shows the report; nothing is stored. Anyone may use it, at most
// VerifyConfig.Limit times per client address.
func (u *UI) verifyUpload(w http.ResponseWriter, r *http.Request) error {
	// The limit first: a client past it costs no reading of its upload.
	err := u.verify.allow(r.Context(), u.caller(r).IP)
	var name string
	var data []byte
	if err == nil {
		name, data, err = u.readVerifyUpload(r)
	}
	var rep *Report
	if err == nil {
		rep, err = u.verify.verify(r.Context(), name, data)
	}
	if err != nil {
		return u.verifyFailed(w, r, err)
	}
	rep.Back = "/verify"
	return u.ui.Render(w, r, http.StatusOK, "verify_report.html", webui.Page{Title: "verify.report.title", TitleArgs: []any{name}, Data: rep})
}

// verifyFailed shows the form again with the error in words, for the
// errors of the page; others go to the error page.
func (u *UI) verifyFailed(w http.ResponseWriter, r *http.Request, err error) error {
	status := 0
	switch err {
	case errVerifyTooLarge:
		status = http.StatusRequestEntityTooLarge
	case errVerifyNoFile, errVerifyNotPDF:
		status = http.StatusUnprocessableEntity
	case errVerifyLimited:
		status = http.StatusTooManyRequests
	case errVerifyBusy:
		w.Header().Set("Retry-After", "10")
		status = http.StatusServiceUnavailable
	default:
		return err
	}
	return u.ui.Render(w, r, status, "verify.html", webui.Page{Title: "verify.title",
		Data: verifyData{MaxBytes: u.verify.cfg.MaxBytes, Error: "verify.error." + esign.ErrorCode(err)}})
}

// readVerifyUpload reads the one file of the form into memory, at most
// MaxBytes of it (the body is capped a little above, bodyLimit).
func (u *UI) readVerifyUpload(r *http.Request) (string, []byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", nil, errVerifyNoFile
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var name string
	var data []byte
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, partError(err)
		}
		if n >= 4 {
			return "", nil, errVerifyNoFile
		}
		if p.FormName() != "document" || data != nil {
			if _, err := io.Copy(io.Discard, io.LimitReader(p, 4<<10)); err != nil {
				return "", nil, partError(err)
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, u.verify.cfg.MaxBytes+1))
		if err != nil {
			return "", nil, partError(err)
		}
		if int64(len(b)) > u.verify.cfg.MaxBytes {
			return "", nil, errVerifyTooLarge
		}
		name, data = p.FileName(), b
	}
	if len(data) == 0 {
		return "", nil, errVerifyNoFile
	}
	if name == "" {
		name = "document.pdf"
	}
	return name, data, nil
}

func partError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return errVerifyTooLarge
	}
	return errVerifyNoFile
}

// verifyContract verifies a document of the customer's own contract, read
// over RPC (the contract must be the customer's: contract.get, else 404),
// and shows the same report as an upload.
func (u *UI) verifyContract(w http.ResponseWriter, r *http.Request, c rpc.Caller) error {
	k, err := u.api.GetContract(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	id, err := documentID(r, k.Documents)
	if err != nil {
		return err
	}
	if err := u.verify.allow(r.Context(), c.IP); err != nil {
		return u.verifyFailed(w, r, err)
	}
	name, data, err := u.readDocument(r.Context(), c, id, u.verify.cfg.ContractMaxBytes)
	if esign.ErrorCode(err) == "too_large" {
		return u.verifyFailed(w, r, errVerifyTooLarge)
	}
	if err != nil {
		return err
	}
	rep, err := u.verify.verify(r.Context(), name, data)
	if err != nil {
		return u.verifyFailed(w, r, err)
	}
	rep.Back, rep.Contract = "/c/"+k.ID, true
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return err
	}
	return u.ui.Render(w, r, http.StatusOK, "verify_report.html", webui.Page{Title: "verify.report.title", TitleArgs: []any{name},
		Data: rep, Principal: me})
}

// readDocument reads a whole document over RPC in ranges, checked against
// the SHA-256 oss stores. Every range is asked as a continued one: a
// verification is not a download (no document.downloaded activity).
func (u *UI) readDocument(ctx context.Context, c rpc.Caller, id string, limit int64) (string, []byte, error) {
	const op = "customerui.readDocument"
	var buf []byte
	var name, sum string
	size := int64(-1)
	for size < 0 || int64(len(buf)) < size {
		d, err := u.api.GetDocumentRange(ctx, c, id, int64(len(buf)), rpc.MaxInlineDocument, true)
		if err != nil {
			return "", nil, err
		}
		if size < 0 {
			if d.Size > limit {
				return "", nil, esign.WithCode(op, esign.Invalid, "too_large", fmt.Sprintf("the document has %d bytes, more than %d", d.Size, limit))
			}
			size, name, sum = d.Size, d.Name, d.SHA256
			buf = make([]byte, 0, size)
		}
		if d.Offset != int64(len(buf)) || d.Size != size || (len(d.Content) == 0 && int64(len(buf)) < size) {
			return "", nil, esign.E(op, esign.Internal, fmt.Sprintf("oss answered %d bytes at %d of %d, want bytes from %d of %d",
				len(d.Content), d.Offset, d.Size, len(buf), size))
		}
		buf = append(buf, d.Content[:min(int64(len(d.Content)), size-int64(len(buf)))]...)
	}
	if s := sha256.Sum256(buf); sum != "" && hex.EncodeToString(s[:]) != sum {
		return "", nil, esign.E(op, esign.Internal, "the document's SHA-256 differs from the one oss stores")
	}
	return name, buf, nil
}
