package customerui

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/customers"
	"esign/internal/customers/customerstest"
	"esign/internal/esign"
	"esign/internal/password"
	"esign/internal/pdf/pdftest"
	"esign/internal/rpc"
)

// BenchmarkPages measures what css serves per second over RPC (in-process
// bus, SQLite): the offer page (customer.me and offer.get) and a document
// (offer.get, document.get with the bytes, document.mark-as-read), through
// the whole handler with the security middleware, with two callers.
func BenchmarkPages(b *testing.B) {
	ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	b.Cleanup(func() { ib.Close() })
	e := customerstest.New(b, customerstest.OpenDB(b, "sqlite"), nil, customers.Config{}, nil)
	id := bus.NewID()[:8]
	q := rpc.Queues{App: "bench:" + id + ":app", Customer: "bench:" + id + ":customer", Offer: "bench:" + id + ":offer",
		Contract: "bench:" + id + ":contract", Document: "bench:" + id + ":document", Timestamp: "bench:" + id + ":timestamp"}
	if err := rpc.NewServer(e.Svc, rpc.ServerOptions{}).Serve(b.Context(), ib, q); err != nil {
		b.Fatal(err)
	}
	c := e.Customer(b, "Bench")
	hash, err := password.Hash("Bench-Passw0rd")
	if err != nil {
		b.Fatal(err)
	}
	user := "bench-" + id
	if _, err := e.DB.UpdateCustomer(context.Background(), c.ID, esign.CustomerUpdate{Username: &user, PasswordHash: &hash}); err != nil {
		b.Fatal(err)
	}
	e.Approve(b, c)
	doc := e.Document(b, c.ID, "offer.pdf", pdftest.MinimalPadded(2, 200<<10)) // a 200 KiB PDF
	o := e.Offer(b, c.ID, "Bench offer", doc.ID)

	u, err := New(rpc.NewClient(ib, q), slog.New(slog.DiscardHandler), Config{})
	if err != nil {
		b.Fatal(err)
	}
	h := u.Handler()
	form := url.Values{"username": {user}, "password": {"Bench-Passw0rd"}}
	r := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		b.Fatalf("sign-in: %d %s", w.Code, w.Body.String())
	}
	cookie := w.Result().Cookies()[0]

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
