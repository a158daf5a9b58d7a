package webui

import (
	"net/http"
	"strings"
	"time"
)

// SessionCookie names the cookie of a session: "__Host-<base>" when
// cookies are Secure (bound to the exact origin, never set by a
// subdomain), "<base>" over plain HTTP in development.
func (r *Renderer) SessionCookie(base string) string {
	if r.opt.Secure {
		return "__Host-" + base
	}
	return base
}

// SetSession sets the session cookie: HttpOnly, SameSite=Lax, Path=/,
// Secure under TLS, lasting maxAge (0: until the browser closes).
func (r *Renderer) SetSession(w http.ResponseWriter, req *http.Request, base, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: r.SessionCookie(base), Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.secure(req)}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// Session returns the session cookie's value, or "".
func (r *Renderer) Session(req *http.Request, base string) string {
	c, err := req.Cookie(r.SessionCookie(base))
	if err != nil {
		return ""
	}
	return c.Value
}

// ClearSession deletes the session cookie.
func (r *Renderer) ClearSession(w http.ResponseWriter, req *http.Request, base string) {
	http.SetCookie(w, &http.Cookie{Name: r.SessionCookie(base), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.secure(req)})
}

// FlashKind is the style of a flash message.
type FlashKind string

// The flash kinds.
const (
	FlashInfo    FlashKind = "info"
	FlashSuccess FlashKind = "success"
	FlashError   FlashKind = "error"
)

// Flash is a one-time message shown on the next page rendered (after a
// post/redirect/get). Key is a message key; the cookie carries only the
// kind and the key, so it cannot inject text.
type Flash struct {
	Kind FlashKind
	Key  string
}

const flashCookie = "flash"

// SetFlash stores the message for the next page.
func (r *Renderer) SetFlash(w http.ResponseWriter, req *http.Request, f Flash) {
	if !r.cat.Has(f.Key) {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: string(f.Kind) + "." + f.Key, Path: "/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.secure(req)})
}

// takeFlash returns the pending message and deletes it.
func (r *Renderer) takeFlash(w http.ResponseWriter, req *http.Request) *Flash {
	c, err := req.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.secure(req)})
	kind, key, _ := strings.Cut(c.Value, ".")
	switch FlashKind(kind) {
	case FlashInfo, FlashSuccess, FlashError:
	default:
		return nil
	}
	if !r.cat.Has(key) {
		return nil
	}
	return &Flash{Kind: FlashKind(kind), Key: key}
}
