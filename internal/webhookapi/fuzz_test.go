package webhookapi

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"esign/internal/esign"
	"esign/internal/offers"
	"esign/internal/pdf/pdftest"
)

// spools returns a spool function of memSpools and the spools it made.
func spools() (spoolFunc, *[]*memSpool) {
	var made []*memSpool
	return func() (Spool, error) {
		m := &memSpool{}
		made = append(made, m)
		return m, nil
	}, &made
}

// sameOutcome fails unless the streaming and the in-memory decoders agree:
// both refuse with the same code, or both accept the same fields and files.
func sameOutcome(t *testing.T, got offers.Upload, gerr error, want offers.Upload, werr error) {
	t.Helper()
	if (gerr == nil) != (werr == nil) || esign.ErrorCode(gerr) != esign.ErrorCode(werr) {
		t.Fatalf("streaming: %v (code %q); in memory: %v (code %q)", gerr, esign.ErrorCode(gerr), werr, esign.ErrorCode(werr))
	}
	if gerr != nil {
		return
	}
	if got.CustomerRef != want.CustomerRef || got.ExternalRef != want.ExternalRef || got.Title != want.Title ||
		got.Description != want.Description || !got.ExpiresAt.Equal(want.ExpiresAt) || got.Channel != want.Channel ||
		len(got.Files) != len(want.Files) {
		t.Fatalf("streaming decoded %+v, in memory %+v", got, want)
	}
	for i := range min(len(got.Files), offers.MaxFiles) {
		if got.Files[i].Name != want.Files[i].Name || !bytes.Equal(fileBytes(got.Files[i]), want.Files[i].Data) {
			t.Fatalf("file %d: streaming %q %q, in memory %q %q", i, got.Files[i].Name, fileBytes(got.Files[i]),
				want.Files[i].Name, want.Files[i].Data)
		}
	}
}

func uploadSeeds(f *testing.F) {
	f.Add("application/json", []byte(`{"customer_ref":"C","title":"t","expires_at":"2030-01-01T00:00:00Z","documents":[{"name":"a.pdf","content_base64":"`+
		base64.StdEncoding.EncodeToString(pdftest.Minimal(1))+`"}]}`))
	f.Add("application/json", []byte(`{"documents":[{"name":"a","content_base64":"!!"}]}`))
	f.Add("application/json", []byte(`{"Documents":[{"name":"a","Content_Base64":"QUJD\n"}, {"content_base64":"QQ=="}],"documents":[{}]}`))
	f.Add("application/json", []byte(`{"documents":[{"content_base64":"QU\/J\u0044\r\n"},{"content_base64":"QQ==QQ=="},{"content_base64":"\u00e9"}]}`))
	f.Add("application/json", []byte(`{"documents":[{"content_base64":null},{"content_base64":1},{"content_base64":"QQ=", "x":1}]}`))
	f.Add("application/json", []byte(`{"title":"a\"b","documents":[] } `))
	f.Add("application/json", []byte(`{"documents":[{"content_base64":"QQ\x01"}]}`))
	f.Add("application/json", []byte(`{"documents":[{"content_base64":"QQ\q"}]}`))
	f.Add("application/json", []byte(`{"a" : tr ue}`))
	f.Add("application/json", []byte(`{} {}`))
	f.Add("application/json", []byte(`[{"content_base64":"QQ=="}]`))
	f.Add("application/json", []byte(` `))
	f.Add("application/json", []byte(`{"documents":[{"content_base64":"QQ==`))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nt\r\n--xx--\r\n"))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\n\r\n%PDF-\r\n"+
		"--xx\r\nContent-Disposition: form-data; name=\"other\"; filename=\"b.pdf\"\r\n\r\nx\r\n--xx--\r\n"))
	f.Add("multipart/form-data", []byte("--xx--"))
	f.Add("text/plain", []byte("x"))
}

// FuzzReadUpload: the streaming upload decoder never panics and answers
// every body exactly as the in-memory decoder it replaced.
func FuzzReadUpload(f *testing.F) {
	uploadSeeds(f)
	many := `{"documents":[` + strings.Repeat(`{"content_base64":"QQ=="},`, offers.MaxFiles+2) + `{"content_base64":"!"}]}`
	f.Add("application/json", []byte(many))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		spool, made := spools()
		got, gerr := ReadUpload(ctype, bytes.NewReader(body), spool)
		want, werr := memParseUpload(ctype, body)
		sameOutcome(t, got, gerr, want, werr)
		if len(*made) > offers.MaxFiles {
			t.Fatalf("%d files spooled, at most %d", len(*made), offers.MaxFiles)
		}
	})
}

// FuzzReadContract: likewise for the contract upload decoder.
func FuzzReadContract(f *testing.F) {
	f.Add("application/json", []byte(`{"customer_ref":"C","title":"t","document":{"name":"a.pdf","content_base64":"JVBERi0="}}`))
	f.Add("application/json", []byte(`{"document":{"content_base64":"JVBERi0="},"document":{"name":"b"}}`))
	f.Add("application/json", []byte(`{"document":[{"content_base64":"JVBERi0="}]}`))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\n\r\n%PDF-\r\n--xx--\r\n"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		spool, _ := spools()
		got, gerr := ReadContract(ctype, bytes.NewReader(body), spool)
		want, werr := memParseContract(ctype, body)
		sameOutcome(t, offers.Upload{CustomerRef: got.CustomerRef, ExternalRef: got.ExternalRef, Title: got.Title, Files: []offers.File{got.File}}, gerr,
			offers.Upload{CustomerRef: want.CustomerRef, ExternalRef: want.ExternalRef, Title: want.Title, Files: []offers.File{want.File}}, werr)
	})
}

// FuzzReadVerify: the verify body decoder matches the in-memory one.
func FuzzReadVerify(f *testing.F) {
	f.Add("application/json", []byte(`{"content_base64":"JVBERi0="}`))
	f.Add("application/json", []byte(`{"content_base64":"JVBERi0=", "x": 1}`))
	f.Add("application/pdf", []byte(`%PDF-1.7`))
	f.Add("text/plain", []byte(`%PDF-1.7`))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		spool, _ := spools()
		got, gerr := readVerify(ctype, bytes.NewReader(body), spool)
		want, werr := memReadVerify(ctype, body)
		sameOutcome(t, offers.Upload{Files: []offers.File{got}}, gerr, offers.Upload{Files: []offers.File{{Data: want}}}, werr)
	})
}
