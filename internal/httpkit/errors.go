package httpkit

import (
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"esign/internal/esign"
)

// StatusOf maps an error's kind to its HTTP status. It is the one table for
// every HTTP surface.
func StatusOf(err error) int {
	switch esign.ErrorKind(err) {
	case esign.Invalid:
		return http.StatusBadRequest
	case esign.NotFound:
		return http.StatusNotFound
	case esign.Forbidden:
		return http.StatusForbidden
	case esign.Unauthorized:
		return http.StatusUnauthorized
	case esign.Conflict:
		return http.StatusConflict
	case esign.Unavailable:
		return http.StatusServiceUnavailable
	case esign.TooMany:
		return http.StatusTooManyRequests
	case esign.Timeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong in terms the client can act on. ID is
// also in the server log, so support can find the cause. AttemptsLeft is
// there only on an error the client may correct and retry under an
// attempt limit (esign.Error.AttemptsLeft).
type ErrorDetail struct {
	Kind         string `json:"kind"`
	Code         string `json:"code,omitempty"`
	Message      string `json:"message"`
	AttemptsLeft *int   `json:"attemptsLeft,omitempty"`
	ID           string `json:"id"`
}

// WriteError logs err with an error id and writes the JSON error body. The
// user sees the kind, code and safe message, never the internal cause.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := StatusOf(err)
	id := rand.Text()[:12]
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	log.LogAttrs(r.Context(), level, "request failed",
		slog.String("error_id", id),
		slog.String("request_id", RequestID(r.Context())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Any("err", err))
	d := ErrorDetail{
		Kind:    esign.ErrorKind(err).String(),
		Code:    esign.ErrorCode(err),
		Message: esign.ErrorMessage(err),
		ID:      id,
	}
	if n, ok := esign.ErrorAttemptsLeft(err); ok {
		d.AttemptsLeft = &n
	}
	if s := retryAfter(status, err); s > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(s))
	}
	WriteJSON(w, status, ErrorBody{Error: d})
}

// DefaultRetryAfter is what a 503 or 429 answer tells the client to wait
// when the error does not know (an outage of the database, broker or
// Redis; a limit without a known window).
const DefaultRetryAfter = 5 * time.Second

// retryAfter returns the Retry-After seconds of a 503 or 429 answer (the
// error's esign.ErrorRetryAfter rounded up, else DefaultRetryAfter), or 0
// for any other status.
func retryAfter(status int, err error) int {
	if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
		return 0
	}
	d := esign.ErrorRetryAfter(err)
	if d <= 0 {
		d = DefaultRetryAfter
	}
	return int((d + time.Second - 1) / time.Second)
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// HandlerFunc is an HTTP handler that returns its error instead of writing
// it; Handle turns it into an http.Handler.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts fn: a returned error is written with WriteError.
func Handle(log *slog.Logger, fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recordRoute(r)
		if err := fn(w, r); err != nil {
			WriteError(w, r, log, err)
		}
	})
}
