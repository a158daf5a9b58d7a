package customerui

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"esign/internal/esign"
	"esign/internal/httpkit"
	"esign/internal/rpc"
	"esign/internal/signing"
	"esign/internal/tsa"
)

// The JSON calls of the signing script (static/sign.js). Each answers a
// JSON body; errors are {"error": {kind, code, message, attemptsLeft, id}}
// with the message in the customer's language.

// maxSignBody bounds a JSON call's body (an M2 without photo is a few KiB).
const maxSignBody = 256 << 10

// jsonAPI serves a JSON call of a signed-in customer.
func (u *UI) jsonAPI(h func(r *http.Request, c rpc.Caller) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := u.caller(r)
		var out any
		err := esign.E("customerui", esign.Unauthorized, "please sign in again")
		if c.Token != "" {
			out, err = h(r, c)
		}
		if err != nil {
			u.writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		httpkit.WriteJSON(w, http.StatusOK, out)
	})
}

// writeError logs err and answers it with a message the customer
// understands: "sign.error.<code>", else "sign.error.<kind>".
func (u *UI) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := httpkit.StatusOf(err)
	id := rand.Text()[:12]
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	u.log.LogAttrs(r.Context(), level, "request failed", slog.String("error_id", id), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Any("err", err))
	cat, lang := u.ui.Catalogue(), u.ui.Language(r)
	kind, code := esign.ErrorKind(err).String(), esign.ErrorCode(err)
	key := "sign.error." + code
	if code == "" || !cat.Has(key) {
		key = "sign.error." + kind
	}
	if !cat.Has(key) {
		key = "sign.error.internal"
	}
	d := httpkit.ErrorDetail{Kind: kind, Code: code, Message: cat.T(lang, key), ID: id}
	if n, ok := esign.ErrorAttemptsLeft(err); ok {
		d.AttemptsLeft = &n
		if n > 0 {
			d.Message += " " + cat.T(lang, "sign.attempts_left", n)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	httpkit.WriteJSON(w, status, httpkit.ErrorBody{Error: d})
}

// decodeJSON reads one JSON object of at most maxSignBody bytes into v.
func decodeJSON(r *http.Request, v any) error {
	const op = "customerui.decodeJSON"
	dec := json.NewDecoder(io.LimitReader(r.Body, maxSignBody))
	if err := dec.Decode(v); err != nil {
		return esign.WithCode(op, esign.Invalid, "malformed_json", "the request is not valid JSON")
	}
	return nil
}

type timestampRequest struct {
	Digest   []byte `json:"digest"`
	DataSize int64  `json:"dataSize"`
}

type timestampAnswer struct {
	Token []byte `json:"token"`
	// WaitMS is how long the script waits before its next step: twice
	// the token's accuracy, so the next token's time interval cannot
	// overlap this one's (the ordering check of docs/protocol.md).
	WaitMS int64 `json:"waitMs"`
}

// timestamp obtains an RFC 3161 token over the script's SHA-256 digest
// (timestamp.create over RPC, the same limits as the app's).
func (u *UI) timestamp(r *http.Request, c rpc.Caller) (any, error) {
	var in timestampRequest
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	st, err := u.api.Timestamp(r.Context(), c, in.Digest, "SHA-256", in.DataSize)
	if err != nil {
		return nil, err
	}
	tok, err := tsa.ParseToken(st.Token)
	if err != nil {
		return nil, esign.E("customerui.timestamp", esign.Internal, "the time-stamp token cannot be read", err)
	}
	wait := 2*tok.Info.Accuracy + 5*time.Millisecond
	return timestampAnswer{Token: st.Token, WaitMS: wait.Milliseconds()}, nil
}

// m1 sends the script's M1; oss refuses it (not_read) until every
// document of the offer was read to the end, else sends the SMS code.
func (u *UI) m1(r *http.Request, c rpc.Caller) (any, error) {
	var m signing.M1
	if err := decodeJSON(r, &m); err != nil {
		return nil, err
	}
	m.OfferID = r.PathValue("id")
	return u.api.SignatureM1(r.Context(), c, m)
}

type codeRequest struct {
	SignatureID string `json:"signatureId"`
	Password    string `json:"password"`
	SMSToken    string `json:"smsToken"`
}

// checkCode confirms the password and SMS code (customer.2f-auth) before
// the script builds M2: a mistyped code costs one attempt and says how
// many are left, without spending the code.
func (u *UI) checkCode(r *http.Request, c rpc.Caller) (any, error) {
	var in codeRequest
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	me, err := u.api.Me(r.Context(), c)
	if err != nil {
		return nil, err
	}
	if err := u.api.TwoFactorAuth(r.Context(), c, in.SignatureID, me.Username, in.Password, in.SMSToken); err != nil {
		return nil, err
	}
	return rpc.OK{OK: true}, nil
}

// m2 sends the script's M2; the answer leads to the waiting page.
func (u *UI) m2(r *http.Request, c rpc.Caller) (any, error) {
	var m signing.M2
	if err := decodeJSON(r, &m); err != nil {
		return nil, err
	}
	m.OfferID = r.PathValue("id")
	return u.api.SignatureM2(r.Context(), c, m)
}

// signatureStatus answers the state of the customer's signature for the
// waiting page's polling.
func (u *UI) signatureStatus(r *http.Request, c rpc.Caller) (any, error) {
	return u.api.SignatureCheck(r.Context(), c, r.PathValue("id"))
}
