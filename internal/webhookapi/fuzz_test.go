package webhookapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"

	"esign/internal/pdf/pdftest"
)

// FuzzParseUpload: the upload decoder never panics, and whatever it
// accepts from JSON carries exactly the documents' decoded bytes.
func FuzzParseUpload(f *testing.F) {
	f.Add("application/json", []byte(`{"customer_ref":"C","title":"t","expires_at":"2030-01-01T00:00:00Z","documents":[{"name":"a.pdf","content_base64":"`+
		base64.StdEncoding.EncodeToString(pdftest.Minimal(1))+`"}]}`))
	f.Add("application/json", []byte(`{"documents":[{"name":"a","content_base64":"!!"}]}`))
	f.Add("application/json", []byte(`{} {}`))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nt\r\n--xx--\r\n"))
	f.Add("multipart/form-data", []byte("--xx--"))
	f.Add("text/plain", []byte("x"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		u, err := ParseUpload(ctype, body)
		if err != nil {
			return
		}
		if ctype != "application/json" {
			return
		}
		var req UploadRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted a body json.Unmarshal refuses: %v", err)
		}
		if len(u.Files) != len(req.Documents) || u.CustomerRef != req.CustomerRef || u.Title != req.Title {
			t.Fatalf("decoded %+v from %+v", u, req)
		}
		for i, d := range req.Documents {
			want, err := base64.StdEncoding.DecodeString(d.Content)
			if err != nil || !bytes.Equal(u.Files[i].Data, want) || u.Files[i].Name != d.Name {
				t.Fatalf("document %d changed in decoding", i)
			}
		}
	})
}

// FuzzParseContract: the contract decoder never panics, and an accepted
// JSON body carries exactly the document's decoded bytes.
func FuzzParseContract(f *testing.F) {
	f.Add("application/json", []byte(`{"customer_ref":"C","title":"t","document":{"name":"a.pdf","content_base64":"JVBERi0="}}`))
	f.Add("multipart/form-data; boundary=xx", []byte("--xx\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.pdf\"\r\n\r\n%PDF-\r\n--xx--\r\n"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		u, err := ParseContract(ctype, body)
		if err != nil || ctype != "application/json" {
			return
		}
		var req contractRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted a body json.Unmarshal refuses: %v", err)
		}
		want, err := base64.StdEncoding.DecodeString(req.Document.Content)
		if err != nil || !bytes.Equal(want, u.File.Data) || u.File.Name != req.Document.Name || u.Title != req.Title {
			t.Fatalf("decoded %+v from %+v", u, req)
		}
	})
}
