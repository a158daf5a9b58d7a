package customerui

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"esign/internal/pdf/pdftest"
)

// BenchmarkPages measures what css serves per second over RPC (in-process
// bus, SQLite): the offer page (customer.me and offer.get) and a document
// (offer.get, document.get with the bytes, document.mark-as-read), through
// the whole handler with the security middleware, with two callers.
func BenchmarkPages(b *testing.B) {
	env := newRPCEnv(b, nil)
	c, cookie := env.signIn(b, "Bench")
	doc := env.e.Document(b, c.ID, "offer.pdf", pdftest.MinimalPadded(2, 200<<10)) // a 200 KiB PDF
	o := env.e.Offer(b, c.ID, "Bench offer", doc.ID)
	h := env.h

	for _, page := range []struct{ name, path, want string }{
		{"offer_page", "/o/" + o.ID, "Bench offer"},
		{"document", "/o/" + o.ID + "/documents/" + doc.ID, "%PDF-"},
	} {
		b.Run(page.name, func(b *testing.B) {
			b.SetParallelism(1) // GOMAXPROCS callers: two on the 2-core host
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("GET", page.path, nil)
					r.AddCookie(cookie)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(page.want)) {
						b.Errorf("%s: %d", page.path, w.Code)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
