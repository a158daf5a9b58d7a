package adminui

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"esign/internal/esign"
	"esign/internal/offers"
)

// Limits of the upload forms besides the body limit (Config.UploadMaxBytes).
const (
	maxFieldBytes = 4 << 10 // a text field of a form
	maxParts      = offers.MaxFiles + 16
)

// offerUpload is the new-offer form as it was sent.
type offerUpload struct {
	Customer, Reference, Title, Description, Expires, Channel string
	Files                                                     []offers.File
}

// errTooLarge is the answer to a body over the upload limit.
var errTooLarge = esign.WithCode("adminui.upload", esign.Invalid, "too_large", "the files are larger than the upload limit")

// readParts reads a multipart/form-data body part by part: text fields
// (each at most maxFieldBytes) to field, files of the part named fileField
// to file; any other file part, too many parts or a malformed body is
// Invalid. The body's size is limited by the caller (webui's body limit).
func readParts(contentType string, body io.Reader, fileField string, field func(name, value string) error, file func(name string, data []byte)) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return invalidf("form", "the form must be sent as multipart/form-data")
	}
	mr := multipart.NewReader(body, params["boundary"])
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return partError(err)
		}
		if n >= maxParts {
			return invalidf("form", "the form has too many parts")
		}
		if p.FormName() == fileField {
			data, err := io.ReadAll(p)
			if err != nil {
				return partError(err)
			}
			if p.FileName() != "" || len(data) > 0 { // a file input left empty sends an empty, nameless part
				file(p.FileName(), data)
			}
			continue
		}
		if p.FileName() != "" {
			return invalidf("form", "unexpected file field "+strconv.Quote(p.FormName()))
		}
		data, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
		if err != nil {
			return partError(err)
		}
		if len(data) > maxFieldBytes {
			return invalidf(p.FormName(), "the field is too long")
		}
		if err := field(p.FormName(), string(data)); err != nil {
			return err
		}
	}
}

func partError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return invalidf("form", "the form is malformed")
}

// parseOfferUpload reads the new-offer form: customer (the customer's
// reference), reference, title, description, expires (a date: the offer
// expires at the end of that day, UTC), channel and the PDFs (document).
func parseOfferUpload(contentType string, body io.Reader) (offerUpload, error) {
	var f offerUpload
	err := readParts(contentType, body, "document", func(name, v string) error {
		switch name {
		case "customer":
			f.Customer = strings.TrimSpace(v)
		case "reference":
			f.Reference = strings.TrimSpace(v)
		case "title":
			f.Title = strings.TrimSpace(v)
		case "description":
			f.Description = strings.TrimSpace(v)
		case "expires":
			f.Expires = strings.TrimSpace(v)
		case "channel":
			f.Channel = v
		default:
			return invalidf("form", "unknown form field "+strconv.Quote(name))
		}
		return nil
	}, func(name string, data []byte) {
		f.Files = append(f.Files, offers.File{Name: name, Data: data})
	})
	return f, err
}

// upload turns the form into the offers service's upload.
func (f offerUpload) upload() (offers.Upload, error) {
	u := offers.Upload{CustomerRef: f.Customer, ExternalRef: f.Reference, Title: f.Title, Description: f.Description,
		Channel: offers.Channel(f.Channel), Files: f.Files}
	if f.Customer == "" {
		return u, esign.WithCode("adminui.offers", esign.Invalid, "customer_ref", "the customer reference is required")
	}
	day, err := time.Parse("2006-01-02", f.Expires)
	if err != nil {
		return u, esign.WithCode("adminui.offers", esign.Invalid, "expires_at", "the expiry must be a date like 2026-12-31")
	}
	u.ExpiresAt = day.Add(24*time.Hour - time.Second).UTC()
	return u, nil
}

// parseVerifyUpload reads the verify form: one PDF (document).
func parseVerifyUpload(contentType string, body io.Reader) (offers.File, error) {
	var files []offers.File
	err := readParts(contentType, body, "document", func(name, _ string) error {
		return invalidf("form", "unknown form field "+strconv.Quote(name))
	}, func(name string, data []byte) {
		files = append(files, offers.File{Name: name, Data: data})
	})
	if err != nil {
		return offers.File{}, err
	}
	if len(files) != 1 || len(files[0].Data) == 0 {
		return offers.File{}, esign.WithCode("adminui.verify", esign.Invalid, "no_files", "choose one PDF")
	}
	return files[0], nil
}
