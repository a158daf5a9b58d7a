package customerui

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"esign/internal/bus/inproc"
	"esign/internal/notify"
	"esign/internal/pades/padestest"
	"esign/internal/pdf/pdftest"
	"esign/internal/validation"
)

// upload is a multipart form with the file as the part named field.
func upload(t testing.TB, field, name string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if field != "" {
		w, err := mw.CreateFormFile(field, name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return &body, mw.FormDataContentType()
}

// newVerifyEnv is css over real RPC with the verify page trusting root
// and allowing limit verifications per address.
func newVerifyEnv(t *testing.T, root *x509.Certificate, limit notify.Limit, maxBytes int64) *rpcEnv {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(root)
	ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { ib.Close() })
	return newRPCEnvConfig(t, ib, ib, nil, Config{Verify: VerifyConfig{Roots: func() *x509.CertPool { return roots },
		Limit: limit, MaxBytes: maxBytes}})
}

// TestVerifyUpload: the public verify page takes a PDF and answers the
// report (valid, tampered, unsigned) in the customer's language; a file
// over the limit, no file, not a PDF, a cross-site post and a client past
// its rate limit are refused with a sentence, and nothing reaches the
// verifier then.
func TestVerifyUpload(t *testing.T) {
	good, root := padestest.Issued(t, "Test Bank seal")
	env := newVerifyEnv(t, root, notify.Limit{N: 100, Per: time.Hour}, 64<<10)
	tests := []struct {
		name, field, file string
		data              []byte
		site, lang        string
		code              int
		want              []string
	}{
		{"valid", "document", "contract.pdf", good, "same-origin", "en", 200,
			[]string{`data-indication="valid"`, `data-etsi="INDETERMINATE" data-etsi-sub="TRY_LATER"`, "could not be fully confirmed",
				"the file carries no revocation data", "Test Bank seal", "contract.pdf"}},
		{"valid_hu", "document", "szerződés.pdf", good, "same-origin", "hu", 200,
			[]string{`data-indication="valid"`, `data-etsi="INDETERMINATE"`, "nem lehetett teljesen megerősíteni", "szerződés.pdf"}},
		{"tampered", "document", "contract.pdf", padestest.Tamper(t, good), "same-origin", "en", 200,
			[]string{`data-indication="invalid"`, `data-etsi="TOTAL-FAILED" data-etsi-sub="HASH_FAILURE"`, "Do not rely on this PDF",
				"the signed content was changed after signing", `class="check-integrity" data-ok="false"`}},
		{"unsigned", "document", "plain.pdf", pdftest.Minimal(1), "same-origin", "en", 200,
			[]string{`data-indication="unsigned"`, `data-etsi="NO_SIGNATURE"`, "has no electronic signature"}},
		{"untrusted", "document", "self.pdf", padestest.SelfSigned(t, "Somebody"), "same-origin", "en", 200,
			[]string{`data-indication="invalid"`, `data-etsi="INDETERMINATE" data-etsi-sub="NO_CERTIFICATE_CHAIN_FOUND"`, `class="check-trust" data-ok="false"`}},
		{"not_pdf", "document", "x.pdf", []byte("hello, not a PDF"), "same-origin", "en", 422, []string{"cannot be read as a PDF"}},
		{"no_file", "", "", nil, "same-origin", "en", 422, []string{"Choose a PDF file"}},
		{"too_large", "document", "big.pdf", pdftest.MinimalPadded(1, 200<<10), "same-origin", "en", 413, []string{"too large to verify here"}},
		{"too_large_hu", "document", "big.pdf", pdftest.MinimalPadded(1, 70<<10), "same-origin", "hu", 413, []string{"túl nagy"}},
		{"cross_site", "document", "contract.pdf", good, "cross-site", "en", 403, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := upload(t, tc.field, tc.file, tc.data)
			w := do(env.h, "POST", "/verify", body, map[string]string{"Content-Type": ct, "Sec-Fetch-Site": tc.site,
				"Accept-Language": tc.lang})
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %.400s", w.Code, tc.code, w.Body.String())
			}
			for _, s := range tc.want {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("the page lacks %q:\n%s", s, w.Body.String())
				}
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
	// The form itself.
	w := do(env.h, "GET", "/verify", nil, map[string]string{"Accept-Language": "hu"})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `enctype="multipart/form-data"`) || !strings.Contains(w.Body.String(), "Legfeljebb 64 KB") {
		t.Errorf("the form: %d %s", w.Code, w.Body.String())
	}
}

// TestVerifyRateLimit: one client address gets Limit verifications, then
// 429 with a sentence; another address is not held back.
func TestVerifyRateLimit(t *testing.T) {
	good, root := padestest.Issued(t, "Test Bank seal")
	env := newVerifyEnv(t, root, notify.Limit{N: 2, Per: time.Hour}, 0)
	post := func(addr string) *httptest.ResponseRecorder {
		body, ct := upload(t, "document", "c.pdf", good)
		r := httptest.NewRequest("POST", "/verify", body)
		r.RemoteAddr = addr + ":40000"
		r.Header.Set("Content-Type", ct)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.Header.Set("Accept-Language", "en")
		w := httptest.NewRecorder()
		env.h.ServeHTTP(w, r)
		return w
	}
	for i, want := range []int{200, 200, 429, 429} {
		if w := post("192.0.2.1"); w.Code != want {
			t.Fatalf("verification %d: %d, want %d", i+1, w.Code, want)
		} else if want == 429 && !strings.Contains(w.Body.String(), "try again in a few minutes") {
			t.Errorf("rate limited: %s", w.Body.String())
		}
	}
	if w := post("192.0.2.2"); w.Code != 200 {
		t.Errorf("another address: %d", w.Code)
	}
}

// TestVerifyContract: "Verify this PDF" of a sealed contract verifies the
// customer's own stored document (read over RPC; no upload) and shows the
// same report; another customer's contract, a document not in the
// contract and no session are refused; verifying records no download.
func TestVerifyContract(t *testing.T) {
	good, root := padestest.Issued(t, "Test Bank seal")
	env := newVerifyEnv(t, root, notify.Limit{N: 100, Per: time.Hour}, 0)
	alice, aliceCookie := env.signIn(t, "Alice")
	_, bobCookie := env.signIn(t, "Bob")
	doc := env.e.Document(t, alice.ID, "contract.pdf", good)
	k := env.e.Contract(t, alice.ID, "Loan", doc.ID)
	bad := env.e.Document(t, alice.ID, "changed.pdf", padestest.Tamper(t, good))
	kBad := env.e.Contract(t, alice.ID, "Changed", bad.ID)
	other := env.e.Document(t, alice.ID, "other.pdf", good)
	env.e.Contract(t, alice.ID, "Other", other.ID)
	before := downloads(t, env, alice.ID)
	tests := []struct {
		name, path string
		cookie     *http.Cookie
		code       int
		want       string
	}{
		{"own_valid", "/c/" + k.ID + "/documents/" + doc.ID + "/verify", aliceCookie, 200, `data-indication="valid"`},
		{"own_tampered", "/c/" + kBad.ID + "/documents/" + bad.ID + "/verify", aliceCookie, 200, `data-indication="invalid"`},
		{"other_customer", "/c/" + k.ID + "/documents/" + doc.ID + "/verify", bobCookie, 404, ""},
		{"document_of_another_contract", "/c/" + k.ID + "/documents/" + other.ID + "/verify", aliceCookie, 404, ""},
		{"no_session", "/c/" + k.ID + "/documents/" + doc.ID + "/verify", nil, 303, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.path, nil)
			if tc.cookie != nil {
				r.AddCookie(tc.cookie)
			}
			w := httptest.NewRecorder()
			env.h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %.300s", w.Code, tc.code, w.Body.String())
			}
			if !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("the page lacks %q:\n%s", tc.want, w.Body.String())
			}
			if tc.code == 200 && !strings.Contains(w.Body.String(), `href="/c/`+strings.Split(tc.path, "/")[2]+`"`) {
				t.Errorf("no link back to the contract:\n%s", w.Body.String())
			}
		})
	}
	if n := downloads(t, env, alice.ID); n != before {
		t.Errorf("verifying recorded %d downloads", n-before)
	}
	// The contract page links each document's verification.
	r := httptest.NewRequest("GET", "/c/"+k.ID, nil)
	r.AddCookie(aliceCookie)
	w := httptest.NewRecorder()
	env.h.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `href="/c/`+k.ID+`/documents/`+doc.ID+`/verify"`) {
		t.Errorf("the contract page has no verify link:\n%s", w.Body.String())
	}
}

func TestPDFDate(t *testing.T) {
	for in, want := range map[string]string{
		"D:20261205000605Z":       "2026-12-05 00:06:05 UTC",
		"D:20261205020605+02'00'": "2026-12-05 00:06:05 UTC",
		"D:20261204220605-02'00":  "2026-12-05 00:06:05 UTC",
		"yesterday":               "yesterday",
		"":                        "",
	} {
		if got := pdfDate(in); got != want {
			t.Errorf("pdfDate(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzVerifyUpload posts arbitrary bodies as the verify form: the page
// answers with the report or a sentence, never a server error.
func FuzzVerifyUpload(f *testing.F) {
	good, _ := padestest.Issued(f, "Fuzz seal")
	body, ct := upload(f, "document", "a.pdf", pdftest.Minimal(1))
	boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
	f.Add(body.Bytes(), boundary)
	b2, ct2 := upload(f, "document", "good.pdf", good)
	f.Add(b2.Bytes(), strings.TrimPrefix(ct2, "multipart/form-data; boundary="))
	f.Add([]byte("--x\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\r\n--x--\r\n"), "x")
	u, err := New(&fakeAPI{}, slog.New(slog.DiscardHandler), Config{Verify: VerifyConfig{MaxBytes: 1 << 20,
		Limit: notify.Limit{N: 1 << 30, Per: time.Hour}}})
	if err != nil {
		f.Fatal(err)
	}
	h := u.Handler()
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		w := do(h, "POST", "/verify", bytes.NewReader(body), map[string]string{
			"Content-Type": "multipart/form-data; boundary=" + boundary, "Sec-Fetch-Site": "same-origin"})
		if w.Code >= 500 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
	})
}

// TestVerifyContractTooLarge: a contract document over the limit is not
// read into css; the page says so (413).
func TestVerifyContractTooLarge(t *testing.T) {
	good, _ := padestest.Issued(t, "Test Bank seal")
	ib := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { ib.Close() })
	env := newRPCEnvConfig(t, ib, ib, nil, Config{Verify: VerifyConfig{ContractMaxBytes: int64(len(good)) - 1}})
	alice, cookie := env.signIn(t, "Alice")
	doc := env.e.Document(t, alice.ID, "contract.pdf", good)
	k := env.e.Contract(t, alice.ID, "Loan", doc.ID)
	r := httptest.NewRequest("GET", "/c/"+k.ID+"/documents/"+doc.ID+"/verify", nil)
	r.AddCookie(cookie)
	r.Header.Set("Accept-Language", "en")
	w := httptest.NewRecorder()
	env.h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "too large to verify here") {
		t.Errorf("%d %s", w.Code, w.Body.String())
	}
}

// TestVerifyMessagesCoverIndications: every sub-indication a validation
// report can carry has its sentence in both languages.
func TestVerifyMessagesCoverIndications(t *testing.T) {
	subs := []string{validation.FormatFailure, validation.HashFailure, validation.SigCryptoFailure, validation.Revoked,
		validation.Expired, validation.NotYetValid, validation.NoSigningCertificateFound, validation.NoCertificateChainFound,
		validation.CertificateChainGeneralFailure, validation.RevokedNoPOE, validation.RevokedCANoPOE, validation.OutOfBoundsNoPOE,
		validation.OutOfBoundsNotRevoked, validation.CryptoConstraintsFailureNoPOE, validation.NoPOE, validation.TryLater,
		validation.SignedDataNotFound}
	for _, lang := range []string{"en", "hu"} {
		b, err := messageFS.ReadFile("messages/" + lang + ".verify.json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage // a text, or plural forms
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if v := m["verify.sub."+s]; len(v) == 0 || string(v) == `""` {
				t.Errorf("%s: no verify.sub.%s", lang, s)
			}
		}
	}
}
