package webui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

type ctxKey int

const (
	nonceKey ctxKey = iota
	principalKey
)

// Nonce returns the request's CSP nonce ("" outside Protect).
func Nonce(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey).(string)
	return n
}

// CSP returns the Content-Security-Policy of a page with the nonce: only
// same-origin scripts and styles and those carrying the nonce, no inline
// handlers, no eval, no framing, forms posting only to the same origin.
func CSP(nonce string) string { return cspWith(nonce, "") }

// cspWith is CSP with further connect-src sources (the realtime origin).
func cspWith(nonce, connect string) string {
	n := "'nonce-" + nonce + "'"
	if connect != "" {
		connect = " " + connect
	}
	return "default-src 'none'; script-src 'self' " + n + "; style-src 'self' " + n +
		"; img-src 'self' data:; font-src 'self'; connect-src 'self'" + connect + "; manifest-src 'self'" +
		"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
}

// Protect wraps a surface's handler with what every browser-facing
// request gets: a fresh CSP nonce and the security headers, cross-origin
// request protection on every state-changing request
// (http.CrossOriginProtection: Sec-Fetch-Site / Origin checks), and the
// body size limit. Refused cross-origin requests get the 403 error page.
func (r *Renderer) Protect(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.Error(w, req, errCrossOrigin)
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b := make([]byte, 18)
		rand.Read(b)
		nonce := base64.RawURLEncoding.EncodeToString(b)
		h := w.Header()
		connect := ""
		if r.opt.ConnectSrc != nil {
			connect = r.opt.ConnectSrc(req)
		}
		h.Set("Content-Security-Policy", cspWith(nonce, connect))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), geolocation=(), microphone=(), payment=()")
		if r.secure(req) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if req.Body != nil {
			limit := r.opt.MaxBodyBytes
			if r.opt.BodyLimit != nil {
				if n := r.opt.BodyLimit(req); n > 0 {
					limit = n
				}
			}
			req.Body = http.MaxBytesReader(w, req.Body, limit)
		}
		inner.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), nonceKey, nonce)))
	})
}

// secure reports whether cookies are Secure and HSTS is sent.
func (r *Renderer) secure(req *http.Request) bool { return r.opt.Secure || req.TLS != nil }
