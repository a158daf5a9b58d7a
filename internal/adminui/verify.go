package adminui

import (
	"encoding/base64"
	"html/template"
	"net/http"

	"esign/internal/operators"
	"esign/internal/pades"
)

type verifyData struct {
	Error    string
	MaxBytes int64
}

// verifyForm shows the form that uploads a signed PDF for verification.
func (u *UI) verifyForm(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	return u.page(w, r, p, "verify.html", "verify.title", "verify", verifyData{MaxBytes: u.cfg.UploadMaxBytes})
}

// verifyUpload verifies the uploaded PDF as `esign pdf verify` does and
// shows the report; the PDF is not stored.
func (u *UI) verifyUpload(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	f, err := parseVerifyUpload(r.Header.Get("Content-Type"), r.Body)
	var rep *pades.Report
	if err == nil {
		rep, err = u.svc.VerifyPDF(r.Context(), f.Data)
	}
	if err != nil {
		if rerr := u.ui.Render(w, r, http.StatusUnprocessableEntity, "verify.html",
			pageOf(p, "verify.title", "verify", verifyData{Error: u.errorText(r, err), MaxBytes: u.cfg.UploadMaxBytes})); rerr != nil {
			return rerr
		}
		return &answered{err}
	}
	return u.report(w, r, p, f.Name, rep, "/verify")
}

type reportData struct {
	Name   string
	Report *pades.Report
	Valid  bool
	// JSON is the report as `esign pdf verify --json` prints it, as a
	// data: URL for the download link (the uploaded PDF is not kept, so
	// there is nothing to fetch it from later).
	JSON     template.URL
	JSONName string
	Back     string
}

// report renders the verification report of a PDF.
func (u *UI) report(w http.ResponseWriter, r *http.Request, p *operators.Principal, name string, rep *pades.Report, back string) error {
	b, err := rep.JSON()
	if err != nil {
		return err
	}
	d := reportData{Name: name, Report: rep, Valid: rep.Valid(), Back: back, JSONName: name + ".verification.json",
		// A data: URL built here from base64 (no text of the PDF in it
		// unescaped): safe to mark as a URL.
		JSON: template.URL("data:application/json;base64," + base64.StdEncoding.EncodeToString(b))}
	return u.ui.Render(w, r, http.StatusOK, "verify_report.html", pageOf(p, "verify.report.title", "verify", d, name))
}
