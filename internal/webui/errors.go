package webui

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"

	"esign/internal/esign"
	"esign/internal/httpkit"
)

var errCrossOrigin = esign.WithCode("webui.Protect", esign.Forbidden, "cross_origin", "cross-origin request refused")

// ErrorData is what the error page shows: a title and message in the
// visitor's language, and the error id that is also in the log.
type ErrorData struct {
	Status  int
	Kind    string
	Message string
	ID      string
}

// Error logs err with a fresh error id and renders the error page with the
// status of its kind. The page shows a text for the kind (or, when the
// catalogues have one, for its code: "error.code.<code>") in the
// visitor's language and the id; never the error's own (English,
// programmer's) text, nor the internal cause.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = esign.E("webui", esign.Invalid, "the request is too large", err)
	}
	status := httpkit.StatusOf(err)
	id := rand.Text()[:12]
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	r.log.LogAttrs(req.Context(), level, "request failed",
		slog.String("error_id", id),
		slog.String("request_id", httpkit.RequestID(req.Context())),
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("status", status),
		slog.Any("err", err))
	kind := esign.ErrorKind(err).String()
	lang := r.Language(req)
	msg := r.cat.T(lang, "error."+kind)
	if code := esign.ErrorCode(err); code != "" && r.cat.Has("error.code."+code) {
		msg = r.cat.T(lang, "error.code."+code)
	}
	d := ErrorData{Status: status, Kind: kind, Message: msg, ID: id}
	if rerr := r.renderError(w, req, d); rerr != nil {
		r.log.Error("render error page", "err", rerr, "error_id", id)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(http.StatusText(status) + " (error id " + id + ")\n"))
	}
}

func (r *Renderer) renderError(w http.ResponseWriter, req *http.Request, d ErrorData) error {
	page := "error.html"
	if r.pages[page] == nil {
		page = "webui-error.html"
	}
	return r.Render(w, req, d.Status, page, Page{Title: "error.title." + d.Kind, Data: d})
}
