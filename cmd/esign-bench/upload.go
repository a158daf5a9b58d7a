package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"

	"esign/internal/pdf/pdftest"
)

// uploadSummary is the one JSON line the upload scenario prints.
type uploadSummary struct {
	Scenario    string  `json:"scenario"`
	URL         string  `json:"url"`
	Format      string  `json:"format"`
	PDFBytes    int     `json:"pdf_bytes"`
	Concurrency int     `json:"concurrency"`
	DurationS   float64 `json:"duration_s"`
	Uploads     int     `json:"uploads"`
	UploadsPS   float64 `json:"uploads_per_s"`
	MBPS        float64 `json:"pdf_mb_per_s"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
}

// runUpload measures POST /offer/upload of a running oss: offers of one
// PDF of --size bytes per second. The webhook credentials come from
// ESIGN_BENCH_WEBHOOK_AUTH (user:password; the same for
// /customer/bootstrap and /offer/upload), so that they stay out of the
// process list. Unless --customer-ref names an existing customer, the
// scenario creates one through POST /customer/bootstrap.
func runUpload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseURL := fs.String("url", "http://127.0.0.1:10182", "base URL of the webhook API")
	format := fs.String("format", "json", "request body: json (base64) or multipart")
	size := fs.Int("size", 1<<20, "PDF size in bytes")
	customerRef := fs.String("customer-ref", "", "existing customer reference (default: bootstrap a new one)")
	concurrency := fs.Int("concurrency", 4, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "measured duration")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up before the measurement")
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of each request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "json" && *format != "multipart" {
		return fmt.Errorf("upload: unknown --format %q (json or multipart)", *format)
	}
	if *concurrency < 1 || *duration <= 0 || *size < 1024 || *size > 256<<20 {
		return fmt.Errorf("upload: --concurrency must be ≥ 1, --duration > 0, --size 1 KiB to 256 MiB")
	}
	auth := os.Getenv("ESIGN_BENCH_WEBHOOK_AUTH")
	user, pass, ok := strings.Cut(auth, ":")
	if !ok || user == "" {
		return fmt.Errorf("upload: set ESIGN_BENCH_WEBHOOK_AUTH=user:password (the webhook endpoint's credentials)")
	}
	hc := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency * 2}}
	defer hc.CloseIdleConnections()
	c := &webhookClient{base: strings.TrimRight(*baseURL, "/"), hc: hc, user: user, pass: pass}
	if *customerRef == "" {
		ref := "bench-" + rand.Text()[:16]
		if err := c.post(ctx, "/customer/bootstrap", "application/json", mustJSON(map[string]string{"customer_ref": ref,
			"name": "Bench Customer", "phone": "+3670" + digits(7)}), http.StatusCreated); err != nil {
			return fmt.Errorf("upload: bootstrap the test customer: %w", err)
		}
		*customerRef = ref
	}
	pdf := pdftest.MinimalPadded(1, max(*size-700, 0))
	b64 := base64.StdEncoding.EncodeToString(pdf)
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	body := func(i int) (string, []byte) {
		title := fmt.Sprintf("bench offer %d", i)
		if *format == "json" {
			return "application/json", mustJSON(map[string]any{"customer_ref": *customerRef, "title": title, "expires_at": expires,
				"channel": "sms", "documents": []map[string]string{{"name": "offer.pdf", "content_base64": b64}}})
		}
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range map[string]string{"customer_ref": *customerRef, "title": title, "expires_at": expires, "channel": "sms"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("document", "offer.pdf")
		fw.Write(pdf)
		mw.Close()
		return mw.FormDataContentType(), b.Bytes()
	}
	res, err := runLoad(ctx, loadOptions{Concurrency: *concurrency, Warmup: *warmup, Duration: *duration},
		func(ctx context.Context, w, i int) error {
			ct, b := body(w*1_000_000 + i)
			return c.post(ctx, "/offer/upload", ct, b, http.StatusCreated)
		})
	if err != nil {
		return err
	}
	sum := uploadSummary{Scenario: "upload", URL: c.base, Format: *format, PDFBytes: len(pdf), Concurrency: *concurrency,
		DurationS: duration.Seconds(), Uploads: res.OK, UploadsPS: res.PerS, MBPS: res.PerS * float64(len(pdf)) / (1 << 20),
		P50Ms: res.P50Ms, P99Ms: res.P99Ms, MaxMs: res.MaxMs, Errors: res.Errors, FirstError: res.FirstError}
	return json.NewEncoder(stdout).Encode(sum)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// digits returns n random decimal digits.
func digits(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// webhookClient speaks the webhook API with Basic auth.
type webhookClient struct {
	base, user, pass string
	hc               *http.Client
}

func (c *webhookClient) post(ctx context.Context, path, ctype string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	req.SetBasicAuth(c.user, c.pass)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(data))
	}
	return nil
}
