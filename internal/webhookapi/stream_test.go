package webhookapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/esign"
	"esign/internal/pdf/pdftest"
)

// storeFiles lists the files under the document store's directory.
func storeFiles(t *testing.T, e *env) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(e.Docs.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(e.Docs.Dir(), p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestUploadStreamed: uploads go to the document store as they are read;
// the stored documents are the uploaded bytes, and a refused upload leaves
// no file behind, not even a temporary one.
func TestUploadStreamed(t *testing.T) {
	e := newEnv(t, "sqlite")
	c := e.Customer(t, "Kovács Anna")
	exp := e.Clock.Now().Add(time.Hour)
	good := pdftest.MinimalPadded(1, 300<<10)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("customer_ref", c.ExternalRef)
	mw.WriteField("title", "t")
	mw.WriteField("expires_at", exp.Format(time.RFC3339))
	fw, _ := mw.CreateFormFile("document", "good.pdf")
	fw.Write(good)
	fw, _ = mw.CreateFormFile("document", "broken.pdf")
	fw.Write(good[:len(good)/2])
	mw.Close()
	if r := e.do(t, "/offer/upload", mw.FormDataContentType(), mp.Bytes(), true, nil); r.status != 400 || r.code() != "invalid_pdf" {
		t.Fatalf("broken second PDF: %d %s", r.status, r.body)
	}
	b, _ := json.Marshal(uploadBody(c.ExternalRef, "t", exp, good, []byte("not a PDF")))
	if r := e.do(t, "/offer/upload", "application/json", b, true, nil); r.status != 400 || r.code() != "invalid_pdf" {
		t.Fatalf("second not a PDF: %d %s", r.status, r.body)
	}
	if files := storeFiles(t, e); len(files) != 0 {
		t.Fatalf("refused uploads left %v", files)
	}

	b, _ = json.Marshal(uploadBody(c.ExternalRef, "t", exp, good, pdftest.Minimal(2)))
	r := e.do(t, "/offer/upload", "application/json", b, true, nil)
	if r.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	var o OfferJSON
	json.Unmarshal(r.body, &o)
	for i, want := range [][]byte{good, pdftest.Minimal(2)} {
		sum := sha256.Sum256(want)
		d := o.Documents[i]
		if d.Size != int64(len(want)) || d.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("document %d: size %d sha256 %s, want %d %x", i, d.Size, d.SHA256, len(want), sum)
		}
		doc, err := e.DB.GetDocument(t.Context(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := e.Docs.Open(t.Context(), doc.StorageKey)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("document %d stored differently (%v)", i, err)
		}
	}
	files := storeFiles(t, e)
	if len(files) != 2 || strings.HasPrefix(files[0], ".tmp") || strings.HasPrefix(files[1], ".tmp") {
		t.Fatalf("store holds %v, want the two documents", files)
	}
}

// TestUploadsCapped: beyond webhook.max_concurrent_uploads an upload is
// answered 503 busy with Retry-After; the other endpoints are not capped.
func TestUploadsCapped(t *testing.T) {
	e := newEnvWith(t, "sqlite", func(c *Config) { c.MaxConcurrentUploads = 1 })
	c := e.Customer(t, "Szabó Éva")
	b, _ := json.Marshal(uploadBody(c.ExternalRef, "t", e.Clock.Now().Add(time.Hour), pdftest.Minimal(1)))

	// The first upload holds the only slot while its body arrives.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/offer/upload", pr)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(user, pass)
	done := make(chan int)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	pw.Write(b[:10])
	var busy resp
	for range 1000 {
		if busy = e.do(t, "/signature/verify", "application/pdf", pdftest.Minimal(1), true, nil); busy.status == http.StatusServiceUnavailable {
			break
		}
	}
	if busy.status != http.StatusServiceUnavailable || busy.code() != "busy" || busy.header.Get("Retry-After") == "" {
		t.Fatalf("second upload while the first runs: %d %s (Retry-After %q)", busy.status, busy.body, busy.header.Get("Retry-After"))
	}
	if r := e.json(t, "/customer/approve", map[string]string{"customer_ref": "nobody"}, nil); r.status != http.StatusNotFound {
		t.Fatalf("a small endpoint while the upload runs: %d %s", r.status, r.body)
	}
	pw.Write(b[10:])
	pw.Close()
	if st := <-done; st != http.StatusCreated {
		t.Fatalf("first upload: %d", st)
	}
	// The slot is free again (it is released just after the answer).
	var r resp
	for range 1000 {
		if r = e.do(t, "/signature/verify", "application/pdf", pdftest.Minimal(1), true, nil); r.status != http.StatusServiceUnavailable {
			break
		}
	}
	if r.status != http.StatusOK {
		t.Fatalf("upload after the first ended: %d %s", r.status, r.body)
	}
}

// TestSmallEndpointBodyLimit: the endpoints without files take at most
// 1 MiB.
func TestSmallEndpointBodyLimit(t *testing.T) {
	e := newEnv(t, "sqlite")
	big := append([]byte(`{"customer_ref":"`), bytes.Repeat([]byte("a"), maxSmallBody)...)
	big = append(big, `"}`...)
	if r := e.do(t, "/customer/approve", "application/json", big, true, nil); r.status != 400 || r.code() != "body_too_large" {
		t.Fatalf("2 MiB approve: %d %s", r.status, r.body)
	}
}

// TestUploadFieldsLimited: what an upload holds besides its files is kept
// in memory and limited to 1 MiB; the files themselves are not.
func TestUploadFieldsLimited(t *testing.T) {
	big := strings.Repeat("a", maxFields+1)
	spool, made := spools()
	if _, err := ReadUpload("application/json", strings.NewReader(`{"title":"`+big+`"}`), spool); esign.ErrorCode(err) != "invalid_json" {
		t.Fatalf("JSON title over 1 MiB: %v", err)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("description", big)
	mw.Close()
	if _, err := ReadUpload(mw.FormDataContentType(), &mp, spool); esign.ErrorCode(err) != "invalid_multipart" {
		t.Fatalf("multipart description over 1 MiB: %v", err)
	}
	// A file of twice the limit passes, as base64 and as a part.
	content := bytes.Repeat([]byte{0xA5}, 2*maxFields)
	body := `{"title":"t","documents":[{"name":"a.pdf","content_base64":"` + base64.StdEncoding.EncodeToString(content) + `"}]}`
	u, err := ReadUpload("application/json", strings.NewReader(body), spool)
	if err != nil || len(u.Files) != 1 || !bytes.Equal(fileBytes(u.Files[0]), content) {
		t.Fatalf("JSON file of 2 MiB: %v", err)
	}
	mp.Reset()
	mw = multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("document", "a.pdf")
	fw.Write(content)
	mw.Close()
	u, err = ReadUpload(mw.FormDataContentType(), &mp, spool)
	if err != nil || len(u.Files) != 1 || !bytes.Equal(fileBytes(u.Files[0]), content) {
		t.Fatalf("multipart file of 2 MiB: %v", err)
	}
	if len(*made) != 2 {
		t.Fatalf("%d spools for 2 files", len(*made))
	}
}
