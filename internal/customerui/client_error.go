package customerui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"esign/internal/esign"
)

// clientErrorRequest is what static/errors.js posts about an uncaught
// error in the page.
type clientErrorRequest struct {
	Message string `json:"message"`
	Stack   string `json:"stack"`
	URL     string `json:"url"`
}

// maxClientError bounds the body of a client error report.
const maxClientError = 16 << 10

// clientError passes an uncaught error of the page to oss
// (app.client-error: a ClientErrorLog row, source "css", at most
// mobile.client_errors_per_app_per_10min per customer). It always answers 204: a report
// that cannot be stored (no session, too many, too large) is dropped, and
// the page never retries. The URL is reduced to its path (no query).
func (u *UI) clientError(w http.ResponseWriter, r *http.Request) {
	defer w.WriteHeader(http.StatusNoContent)
	c := u.caller(r)
	if c.Token == "" {
		return
	}
	var in clientErrorRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxClientError)).Decode(&in); err != nil || in.Message == "" {
		return
	}
	path := ""
	if p, err := url.Parse(in.URL); err == nil {
		path = p.Path
	}
	if err := u.api.ReportClientError(r.Context(), c, esign.Clip(in.Message, 1000), esign.Clip(in.Stack, 8000), esign.Clip(path, 500)); err != nil {
		u.log.Info("client error not stored", "err", err)
	}
}
