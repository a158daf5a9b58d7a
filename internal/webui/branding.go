package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"

	"esign/internal/branding"
)

// brandAssets are the branding's stylesheet and logo as served, with the
// versioned URLs the layout links to.
type brandAssets struct {
	brand   branding.Brand
	css     []byte
	cssETag string
	CSSURL  string
	LogoURL string // "" without a logo
}

func newBrandAssets(b branding.Brand) *brandAssets {
	css := b.CSS()
	sum := sha256.Sum256(css)
	v := hex.EncodeToString(sum[:6])
	a := &brandAssets{brand: b, css: css, cssETag: `"` + v + `"`, CSSURL: "/branding.css?v=" + v}
	if b.Logo != nil {
		a.LogoURL = "/branding/logo?v=" + b.Logo.ETag[1:13]
	}
	return a
}

// BrandView is what templates see of the branding (.Brand): names, the
// logo's URL, support contact and legal footer.
type BrandView struct {
	ProductName, BankName                  string
	LogoURL                                string // "" without a logo
	CSSURL                                 string
	SupportPhone, SupportEmail, SupportURL string
	// SupportTel is the tel: URL of SupportPhone (its digits and +).
	SupportTel  template.URL
	LegalFooter string
}

func (a *brandAssets) view() BrandView {
	b := a.brand
	return BrandView{ProductName: b.ProductName, BankName: b.BankName, LogoURL: a.LogoURL, CSSURL: a.CSSURL,
		SupportPhone: b.SupportPhone, SupportEmail: b.SupportEmail, SupportURL: b.SupportURL, LegalFooter: b.LegalFooter,
		SupportTel: telURL(b.SupportPhone)}
}

// telURL keeps the digits and a leading + of a phone number: the rest
// (spaces, dashes, anything else) never reaches the URL.
func telURL(phone string) template.URL {
	var b strings.Builder
	for i, r := range phone {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return template.URL("tel:" + b.String())
}

// Brand returns the branding the renderer was built with.
func (r *Renderer) Brand() branding.Brand { return r.brand.brand }

// MountBranding adds GET /branding.css (the brand's CSS custom
// properties, served from this origin so the CSP needs no inline style)
// and GET /branding/logo to mux.
func (r *Renderer) MountBranding(mux *http.ServeMux) {
	mux.Handle("GET /branding.css", r.BrandCSS())
	mux.Handle("GET /branding/logo", r.BrandLogo())
}

// BrandCSS serves the brand's stylesheet (GET /branding.css).
func (r *Renderer) BrandCSS() http.Handler { return http.HandlerFunc(r.brandCSS) }

// BrandLogo serves the logo (GET /branding/logo); 404 without one.
func (r *Renderer) BrandLogo() http.Handler { return http.HandlerFunc(r.brandLogo) }

func (r *Renderer) brandCSS(w http.ResponseWriter, req *http.Request) {
	a := r.brand
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("ETag", a.cssETag)
	cacheFor(h, req)
	if req.Header.Get("If-None-Match") == a.cssETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.css)
}

// brandLogo serves the logo under a CSP of its own: an SVG opened
// directly (not through <img>, where scripts never run) can still run
// nothing and load nothing. The SVG was checked at start as well
// (branding.ParseLogo); this is the second wall.
func (r *Renderer) brandLogo(w http.ResponseWriter, req *http.Request) {
	l := r.brand.brand.Logo
	if l == nil {
		http.NotFound(w, req)
		return
	}
	h := w.Header()
	h.Set("Content-Type", l.ContentType)
	h.Set("Content-Security-Policy", branding.LogoCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", l.ETag)
	cacheFor(h, req)
	if req.Header.Get("If-None-Match") == l.ETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(l.Data)
}

// cacheFor caches a versioned URL for a year and revalidates others.
func cacheFor(h http.Header, req *http.Request) {
	if req.URL.Query().Get("v") != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
}
