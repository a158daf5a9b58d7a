package customerui

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"esign/internal/bus/amqp/amqptest"
	"esign/internal/pdf/pdftest"
)

// BenchmarkPages measures what css serves per second over RPC (in-process
// bus, SQLite): the offer page (customer.me and offer.get) and a document
// (offer.get, document.get with the bytes, document.mark-as-read), through
// the whole handler with the security middleware, with two callers.
func BenchmarkPages(b *testing.B) {
	b.Run("inproc", func(b *testing.B) { benchmarkPages(b, newRPCEnv(b, nil)) })
	// The production deployment's bus: css and oss as two connections to
	// RabbitMQ ($ESIGN_TEST_AMQP_URL; skipped when unset).
	b.Run("amqp", func(b *testing.B) {
		server, client := amqptest.Pair(b, "esign-bench-css")
		benchmarkPages(b, newRPCEnvOn(b, server, client, nil))
	})
}

func benchmarkPages(b *testing.B, env *rpcEnv) {
	b.Helper()
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

// countingWriter is a ResponseWriter that keeps only the byte count, so
// the benchmark measures css's memory, not the recorder's.
type countingWriter struct {
	h    http.Header
	code int
	n    int64
}

func (w *countingWriter) Header() http.Header         { return w.h }
func (w *countingWriter) WriteHeader(code int)        { w.code = code }
func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkLargeDocument streams 5 and 20 MB PDFs through the document
// handler (offer.get, document.mark-as-read, document.get ranges over the
// in-process bus, with oss's decryption, base64 both ways and the SHA-256
// check in the same process): MB/s, and the peak of the live heap above
// the idle one, sampled every millisecond (oss's side included).
func BenchmarkLargeDocument(b *testing.B) {
	env := newRPCEnv(b, nil)
	c, cookie := env.signIn(b, "Bench")
	for _, tc := range []struct {
		name string
		size int
		rng  string
	}{
		{"whole_5MB", 5 << 20, ""},
		{"whole_20MB", 20 << 20, ""},
		{"range_64KiB_at_10MiB_of_20MB", 20 << 20, "bytes=10485760-10551295"}, // PDF.js's default chunk
	} {
		doc := env.e.Document(b, c.ID, "big.pdf", pdftest.MinimalPadded(3, tc.size))
		o := env.e.Offer(b, c.ID, "Big offer", doc.ID)
		path, rng := "/o/"+o.ID+"/documents/"+doc.ID, tc.rng
		b.Run(tc.name, func(b *testing.B) {
			runtime.GC()
			base := heapLive()
			peak := base
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				t := time.NewTicker(time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						peak = max(peak, heapLive())
					}
				}
			}()
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				r := httptest.NewRequest("GET", path, nil)
				r.AddCookie(cookie)
				if rng != "" {
					r.Header.Set("Range", rng)
				}
				w := &countingWriter{h: http.Header{}}
				env.h.ServeHTTP(w, r)
				if w.code != http.StatusOK && w.code != http.StatusPartialContent {
					b.Fatalf("status %d", w.code)
				}
				n = w.n
			}
			close(stop)
			<-done
			b.SetBytes(n)
			b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MiB")
		})
	}
}

// heapLive reads the bytes of live and not yet swept heap objects.
func heapLive() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
