package webhookapi

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"time"

	"esign/internal/offers"
)

// memParseUpload is the in-memory decoder the streaming ReadUpload replaced, kept as the reference of its behaviour: it decodes an upload body of the content type (application/json
// or multipart/form-data).
func memParseUpload(contentType string, body []byte) (offers.Upload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return offers.Upload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
	}
	switch mt {
	case "application/json":
		var req UploadRequest
		if err := decodeJSON(body, &req); err != nil {
			return offers.Upload{}, err
		}
		u := offers.Upload{CustomerRef: req.CustomerRef, ExternalRef: req.ExternalRef, Title: req.Title,
			Description: req.Description, ExpiresAt: req.ExpiresAt, Channel: offers.Channel(req.Channel)}
		for i, d := range req.Documents {
			data, err := base64.StdEncoding.DecodeString(d.Content)
			if err != nil {
				return offers.Upload{}, bad("invalid_base64", "documents["+strconv.Itoa(i)+"].content_base64 is not standard base64")
			}
			u.Files = append(u.Files, offers.File{Name: d.Name, Data: data})
		}
		return u, nil
	case "multipart/form-data":
		return memParseMultipart(body, params["boundary"])
	}
	return offers.Upload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
}

// parseMultipart reads the form fields and the "document" file parts.
func memParseMultipart(body []byte, boundary string) (offers.Upload, error) {
	if boundary == "" {
		return offers.Upload{}, bad("content_type", "the multipart Content-Type has no boundary")
	}
	var u offers.Upload
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return offers.Upload{}, bad("invalid_multipart", "the multipart body is malformed")
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return offers.Upload{}, bad("invalid_multipart", "the multipart body is malformed")
		}
		if p.FileName() != "" || p.FormName() == "document" {
			if p.FormName() != "document" {
				return offers.Upload{}, bad("invalid_multipart", "files must be sent in parts named document")
			}
			u.Files = append(u.Files, offers.File{Name: p.FileName(), Data: data})
			continue
		}
		v := string(data)
		switch p.FormName() {
		case "customer_ref":
			u.CustomerRef = v
		case "external_ref":
			u.ExternalRef = v
		case "title":
			u.Title = v
		case "description":
			u.Description = v
		case "channel":
			u.Channel = offers.Channel(v)
		case "expires_at":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return offers.Upload{}, bad("expires_at", "expires_at must be an RFC 3339 time")
			}
			u.ExpiresAt = t
		default:
			return offers.Upload{}, bad("invalid_multipart", "unknown form field "+p.FormName())
		}
	}
	return u, nil
}

// memParseContract is the in-memory ReadContract of before: it decodes a contract upload (application/json or
// multipart/form-data with exactly one "document" part).
func memParseContract(contentType string, body []byte) (offers.ContractUpload, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return offers.ContractUpload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
	}
	switch mt {
	case "application/json":
		var req contractRequest
		if err := decodeJSON(body, &req); err != nil {
			return offers.ContractUpload{}, err
		}
		data, err := base64.StdEncoding.DecodeString(req.Document.Content)
		if err != nil {
			return offers.ContractUpload{}, bad("invalid_base64", "document.content_base64 is not standard base64")
		}
		return offers.ContractUpload{CustomerRef: req.CustomerRef, ExternalRef: req.ExternalRef, Title: req.Title,
			File: offers.File{Name: req.Document.Name, Data: data}}, nil
	case "multipart/form-data":
		u, err := memParseMultipart(body, params["boundary"])
		if err != nil {
			return offers.ContractUpload{}, err
		}
		if !u.ExpiresAt.IsZero() || u.Channel != "" || u.Description != "" {
			return offers.ContractUpload{}, bad("invalid_multipart", "a contract upload has customer_ref, external_ref, title and one document")
		}
		if len(u.Files) != 1 {
			return offers.ContractUpload{}, bad("invalid_multipart", "a contract upload has exactly one document part")
		}
		return offers.ContractUpload{CustomerRef: u.CustomerRef, ExternalRef: u.ExternalRef, Title: u.Title, File: u.Files[0]}, nil
	}
	return offers.ContractUpload{}, bad("content_type", "Content-Type must be application/json or multipart/form-data")
}

// memSpool is a Spool in memory, for the parser tests.
type memSpool struct {
	bytes.Buffer
	committed, discarded bool
}

func (m *memSpool) Close() error { return nil }
func (m *memSpool) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(m.Bytes()).ReadAt(p, off)
}
func (m *memSpool) Size() int64         { return int64(m.Len()) }
func (m *memSpool) SHA256() string      { return "" }
func (m *memSpool) Commit(string) error { m.committed = true; return nil }
func (m *memSpool) Discard()            { m.discarded = true }

// fileBytes returns a parsed file's content.
func fileBytes(f offers.File) []byte {
	if f.Content == nil {
		return f.Data
	}
	b := make([]byte, f.Content.Size())
	f.Content.ReadAt(b, 0)
	return b
}

// memReadVerify is the in-memory body decoding of POST /signature/verify
// of before.
func memReadVerify(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/pdf":
		return body, nil
	case "application/json":
		var req verifyRequest
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
		data, err := base64.StdEncoding.DecodeString(req.Content)
		if err != nil {
			return nil, bad("invalid_base64", "content_base64 is not standard base64")
		}
		return data, nil
	}
	return nil, bad("content_type", "Content-Type must be application/pdf or application/json")
}
