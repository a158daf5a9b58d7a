package adminui

import (
	"io"
	"net/http"
	"strings"

	"esign/internal/esign"
	"esign/internal/operators"
	"esign/internal/webui"
)

type certListData struct {
	Certs    []operators.CertStatus
	Imported *operators.ImportedCert // the import just made, with its warnings
	MaxKiB   int64
}

// maxP12Bytes bounds the uploaded .p12 (the request body is capped by
// http.max_body_bytes as well).
const maxP12Bytes = operators.MaxP12Bytes

func (u *UI) certList(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	return u.certPage(w, r, p, http.StatusOK, nil)
}

func (u *UI) certPage(w http.ResponseWriter, r *http.Request, p *operators.Principal, status int, imp *operators.ImportedCert) error {
	cs, err := u.svc.Certs(r.Context())
	if err != nil {
		return err
	}
	return u.ui.Render(w, r, status, "certs.html", pageOf(p, "certs.title", "certs",
		certListData{Certs: cs, Imported: imp, MaxKiB: maxP12Bytes >> 10}))
}

// certImport imports an uploaded .p12 with its password (stored
// encrypted, as `esign cert import` does) and shows the list with the
// import's warnings.
func (u *UI) certImport(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	if err := r.ParseMultipartForm(64 << 10); err != nil {
		return esign.WithCode("adminui.certImport", esign.Invalid, "p12_format", "send the form with a .p12 file")
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("p12")
	if err != nil {
		return esign.WithCode("adminui.certImport", esign.Invalid, "p12_missing", "choose the .p12 file")
	}
	defer f.Close()
	p12, err := io.ReadAll(io.LimitReader(f, maxP12Bytes+1))
	if err != nil {
		return esign.E("adminui.certImport", esign.Invalid, "read the uploaded file", err)
	}
	if len(p12) > maxP12Bytes {
		return esign.WithCode("adminui.certImport", esign.Invalid, "p12_format", "the .p12 file is too large")
	}
	imp, err := u.svc.ImportCert(r.Context(), p, p12, r.PostFormValue("password"), strings.TrimSpace(r.PostFormValue("name")),
		r.PostFormValue("activate") == "on")
	if err != nil {
		return err
	}
	noteAudit(r, imp.Cert.ID, "subject", imp.Cert.Subject, "fingerprint", imp.Cert.FingerprintSHA256, "active", imp.Cert.Active)
	// Render rather than redirect: the warnings belong to this import.
	return u.certPage(w, r, p, http.StatusOK, imp)
}

// certActivate makes the certificate the one contracts are sealed with.
func (u *UI) certActivate(w http.ResponseWriter, r *http.Request, p *operators.Principal) error {
	c, err := u.svc.ActivateCert(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	noteAudit(r, "", "subject", c.Subject)
	u.ui.Redirect(w, r, "/certs", &webui.Flash{Kind: webui.FlashSuccess, Key: "certs.activated"})
	return nil
}
