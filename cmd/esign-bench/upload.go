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
	BodyBytes   int64   `json:"body_bytes"`
	// With --pid: the process's resident memory before the run and its
	// peak during it (VmRSS and VmHWM of /proc/PID/status; the peak was
	// reset before the run when PeakReset, else it is since the start).
	PID        int     `json:"pid,omitempty"`
	RSSBeforeM float64 `json:"rss_before_mb,omitempty"`
	PeakRSSM   float64 `json:"peak_rss_mb,omitempty"`
	PeakReset  bool    `json:"peak_reset,omitempty"`
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
	uploads := fs.Int("uploads", 0, "uploads per client, all measured, instead of --duration and --warmup (0: use --duration)")
	pid := fs.Int("pid", 0, "process id of the oss (or esign all) under test, to report its peak resident memory (Linux /proc)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "json" && *format != "multipart" {
		return fmt.Errorf("upload: unknown --format %q (json or multipart)", *format)
	}
	if *concurrency < 1 || *duration <= 0 || *size < 1024 || *size > 256<<20 || *uploads < 0 {
		return fmt.Errorf("upload: --concurrency must be ≥ 1, --duration > 0, --size 1 KiB to 256 MiB, --uploads ≥ 0")
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
	b64 := []byte(base64.StdEncoding.EncodeToString(pdf))
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	// Bodies are streamed from the one PDF (and its base64), so that the
	// load generator's memory does not grow with the clients.
	body := func(i int) (string, []io.Reader) {
		title := fmt.Sprintf("bench offer %d", i)
		if *format == "json" {
			head, tail, _ := bytes.Cut(mustJSON(map[string]any{"customer_ref": *customerRef, "title": title, "expires_at": expires,
				"channel": "sms", "documents": []map[string]string{{"name": "offer.pdf", "content_base64": "@"}}}), []byte("@"))
			return "application/json", []io.Reader{bytes.NewReader(head), bytes.NewReader(b64), bytes.NewReader(tail)}
		}
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range map[string]string{"customer_ref": *customerRef, "title": title, "expires_at": expires, "channel": "sms"} {
			mw.WriteField(k, v)
		}
		mw.CreateFormFile("document", "offer.pdf")
		head := bytes.Clone(b.Bytes())
		b.Reset()
		mw.Close()
		return mw.FormDataContentType(), []io.Reader{bytes.NewReader(head), bytes.NewReader(pdf), bytes.NewReader(b.Bytes())}
	}
	length := func(rs []io.Reader) int64 {
		var n int64
		for _, r := range rs {
			n += r.(*bytes.Reader).Size()
		}
		return n
	}
	_, first := body(0)
	bodySize := length(first)
	sum := uploadSummary{Scenario: "upload", URL: c.base, Format: *format, PDFBytes: len(pdf), Concurrency: *concurrency,
		BodyBytes: bodySize, PID: *pid}
	if *pid > 0 {
		st, err := procMemory(*pid)
		if err != nil {
			return fmt.Errorf("upload: --pid: %w", err)
		}
		sum.RSSBeforeM = st.rssMB
		// Writing 5 to clear_refs resets the peak (Linux ≥ 4.0, the
		// process's owner or root).
		sum.PeakReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", *pid), []byte("5"), 0) == nil
	}
	res, err := runLoad(ctx, loadOptions{Concurrency: *concurrency, Warmup: *warmup, Duration: *duration, Calls: *uploads},
		func(ctx context.Context, w, i int) error {
			ct, parts := body(w*1_000_000 + i)
			return c.postReader(ctx, "/offer/upload", ct, io.MultiReader(parts...), length(parts), http.StatusCreated)
		})
	if err != nil {
		return err
	}
	if *pid > 0 {
		st, err := procMemory(*pid)
		if err != nil {
			return fmt.Errorf("upload: --pid after the run: %w", err)
		}
		sum.PeakRSSM = st.hwmMB
	}
	sum.DurationS, sum.Uploads, sum.UploadsPS = res.Seconds, res.OK, res.PerS
	sum.MBPS = round(res.PerS*float64(len(pdf))/(1<<20), 1)
	sum.P50Ms, sum.P99Ms, sum.MaxMs, sum.Errors, sum.FirstError = res.P50Ms, res.P99Ms, res.MaxMs, res.Errors, res.FirstError
	return json.NewEncoder(stdout).Encode(sum)
}

// memStatus is what /proc/PID/status says of a process's memory.
type memStatus struct{ rssMB, hwmMB float64 }

// procMemory reads VmRSS and VmHWM (the peak resident set) of a process.
func procMemory(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	var st memStatus
	found := 0
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		var kb float64
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g kB", &kb); err != nil {
			return memStatus{}, fmt.Errorf("parse %s %q: %w", k, v, err)
		}
		if k == "VmRSS" {
			st.rssMB = round(kb/1024, 1)
		} else {
			st.hwmMB = round(kb/1024, 1)
		}
		found++
	}
	if found != 2 {
		return memStatus{}, fmt.Errorf("no VmRSS and VmHWM in /proc/%d/status", pid)
	}
	return st, nil
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
	return c.postReader(ctx, path, ctype, bytes.NewReader(body), int64(len(body)), want)
}

func (c *webhookClient) postReader(ctx context.Context, path, ctype string, body io.Reader, size int64, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
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
