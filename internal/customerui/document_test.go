package customerui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"esign/internal/esign"
	"esign/internal/pdf/pdftest"
	"esign/internal/rpc"
)

// TestDocumentDownload fetches a 5 MB PDF (three ranges of oss's cap)
// through the handler over real RPC: whole, inline, in byte ranges, HEAD;
// refuses another customer's documents; and records the download once per
// opening, not once per range.
func TestDocumentDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 5 MB documents over the bus (-short)")
	}
	env := newRPCEnv(t, nil)
	alice, aliceCookie := env.signIn(t, "Alice")
	_, bobCookie := env.signIn(t, "Bob")
	data := pdftest.MinimalPadded(3, 5<<20)
	size := len(data)
	doc := env.e.Document(t, alice.ID, "big offer.pdf", data)
	o := env.e.Offer(t, alice.ID, "Big offer", doc.ID)
	cdoc := env.e.Document(t, alice.ID, "contract.pdf", data)
	k := env.e.Contract(t, alice.ID, "Contract", cdoc.ID)
	other := env.e.Document(t, alice.ID, "other.pdf", []byte("%PDF-1.7 other"))
	env.e.Offer(t, alice.ID, "Other offer", other.ID)
	offerDoc := "/o/" + o.ID + "/documents/" + doc.ID

	get := func(t *testing.T, method, path string, cookie *http.Cookie, rng string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, path, nil)
		r.AddCookie(cookie)
		if rng != "" {
			r.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		env.h.ServeHTTP(w, r)
		return w
	}
	before := downloads(t, env, alice.ID)
	tests := []struct {
		name, method, path, rng string
		cookie                  *http.Cookie
		code                    int
		body                    []byte
		contentRange            string
		disposition             string
	}{
		{"whole", "GET", offerDoc, "", aliceCookie, 200, data, "", `attachment; filename="big offer.pdf"`},
		{"inline", "GET", offerDoc + "?inline=1", "", aliceCookie, 200, data, "", `inline; filename="big offer.pdf"`},
		{"contract", "GET", "/c/" + k.ID + "/documents/" + cdoc.ID, "", aliceCookie, 200, data, "", `attachment; filename=contract.pdf`},
		{"head", "HEAD", offerDoc, "", aliceCookie, 200, nil, "", `attachment; filename="big offer.pdf"`},
		{"range_small", "GET", offerDoc, "bytes=100-199", aliceCookie, 206, data[100:200], fmt.Sprintf("bytes 100-199/%d", size), ""},
		{"range_across_ranges", "GET", offerDoc, "bytes=1048576-", aliceCookie, 206, data[1<<20:], fmt.Sprintf("bytes 1048576-%d/%d", size-1, size), ""},
		{"range_suffix", "GET", offerDoc, "bytes=-500", aliceCookie, 206, data[size-500:], fmt.Sprintf("bytes %d-%d/%d", size-500, size-1, size), ""},
		{"range_last_past_end", "GET", offerDoc, fmt.Sprintf("bytes=%d-%d", size-10, size+1000), aliceCookie, 206, data[size-10:], fmt.Sprintf("bytes %d-%d/%d", size-10, size-1, size), ""},
		{"range_unsatisfiable", "GET", offerDoc, fmt.Sprintf("bytes=%d-", size), aliceCookie, 416, nil, fmt.Sprintf("bytes */%d", size), ""},
		{"ranges_several_whole", "GET", offerDoc, "bytes=0-10,20-30", aliceCookie, 200, data, "", ""},
		{"other_customer_offer", "GET", offerDoc, "", bobCookie, 404, nil, "", ""},
		{"other_customer_range", "GET", offerDoc, "bytes=0-99", bobCookie, 404, nil, "", ""},
		{"other_customer_contract", "GET", "/c/" + k.ID + "/documents/" + cdoc.ID, "", bobCookie, 404, nil, "", ""},
		{"document_of_another_offer", "GET", "/o/" + o.ID + "/documents/" + other.ID, "", aliceCookie, 404, nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, tc.method, tc.path, tc.cookie, tc.rng)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %.200s", w.Code, tc.code, w.Body.String())
			}
			if tc.code == 404 {
				if bytes.Contains(w.Body.Bytes(), []byte("%PDF")) {
					t.Fatal("the refusal carries the document")
				}
				return
			}
			if tc.body != nil && !bytes.Equal(w.Body.Bytes(), tc.body) {
				t.Fatalf("body of %d bytes differs from the %d wanted", w.Body.Len(), len(tc.body))
			}
			hd := w.Result().Header
			wantLen := fmt.Sprint(len(tc.body))
			if tc.method == "HEAD" {
				wantLen = fmt.Sprint(size)
				if w.Body.Len() != 0 {
					t.Fatalf("HEAD sent %d bytes", w.Body.Len())
				}
			}
			if tc.code == 416 {
				wantLen = hd.Get("Content-Length") // http.Error's text
			}
			if got := hd.Get("Content-Length"); got != wantLen {
				t.Errorf("Content-Length %s, want %s", got, wantLen)
			}
			if got := hd.Get("Content-Range"); got != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
			}
			if tc.code == 416 {
				return
			}
			if hd.Get("Content-Type") != "application/pdf" || hd.Get("Accept-Ranges") != "bytes" ||
				hd.Get("X-Document-SHA256") != doc.SHA256 || hd.Get("ETag") != "" {
				t.Errorf("headers %v", hd)
			}
			if tc.disposition != "" && hd.Get("Content-Disposition") != tc.disposition {
				t.Errorf("Content-Disposition %q, want %q", hd.Get("Content-Disposition"), tc.disposition)
			}
		})
	}
	// whole, inline, contract, several ranges (a whole download): four
	// openings; HEAD, the ranges and the refusals record nothing.
	if n := downloads(t, env, alice.ID) - before; n != 4 {
		t.Errorf("%d document.downloaded activities, want 4 (one per GET without Range)", n)
	}
	d, err := env.e.DB.GetDocument(t.Context(), doc.ID)
	if err != nil || d.ReadAt.IsZero() {
		t.Errorf("the offer's document is not marked read: %+v, %v", d, err)
	}
}

// corrupting changes one byte of the range of oss's answer that holds at,
// as if the stored document no longer matched its SHA-256.
type corrupting struct {
	API
	at int64
}

func (c corrupting) GetDocumentRange(ctx context.Context, cl rpc.Caller, id string, offset, length int64, continued bool) (*rpc.DocumentContent, error) {
	d, err := c.API.GetDocumentRange(ctx, cl, id, offset, length, continued)
	if err == nil && c.at >= d.Offset && c.at < d.Offset+int64(len(d.Content)) {
		d.Content[c.at-d.Offset] ^= 0xff
	}
	return d, err
}

// TestDocumentIntegrity cuts a whole download whose bytes differ from the
// SHA-256 oss stores before its last byte: the browser sees a failed
// download, never a complete wrong one. A range is not checked (it cannot
// be) and still arrives.
func TestDocumentIntegrity(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a 3 MB document over the bus (-short)")
	}
	data := pdftest.MinimalPadded(1, 3<<20)
	env := newRPCEnv(t, func(a API) API { return corrupting{API: a, at: int64(len(data) - 1)} })
	c, cookie := env.signIn(t, "Carol")
	doc := env.e.Document(t, c.ID, "offer.pdf", data)
	o := env.e.Offer(t, c.ID, "Offer", doc.ID)
	srv := httptest.NewServer(env.h)
	t.Cleanup(srv.Close)

	fetch := func(rng string) (*http.Response, []byte, error) {
		r, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/o/"+o.ID+"/documents/"+doc.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.AddCookie(cookie)
		if rng != "" {
			r.Header.Set("Range", rng)
		}
		res, err := srv.Client().Do(r)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}
	res, body, err := fetch("")
	if err == nil {
		t.Fatalf("a corrupted whole download completed: %d, %d bytes", res.StatusCode, len(body))
	}
	if len(body) >= len(data) {
		t.Fatalf("got %d bytes of %d", len(body), len(data))
	}
	res, body, err = fetch("bytes=0-99")
	if err != nil || res.StatusCode != 206 || !bytes.Equal(body, data[:100]) {
		t.Fatalf("range: %v, %v", res, err)
	}
}

// downloads counts the customer's document.downloaded activities.
func downloads(t *testing.T, env *rpcEnv, customerID string) int {
	t.Helper()
	as, err := env.e.DB.ListActivities(context.Background(), esign.ActivityFilter{CustomerID: customerID, Kind: "document.downloaded"})
	if err != nil {
		t.Fatal(err)
	}
	return len(as)
}
