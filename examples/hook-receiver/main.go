// Command hook-receiver is a bank's out-of-process hook endpoint for esign
// (docs/customization.md, "Hooks"): it checks each callout's signature,
// vetoes offers above a limit, adds a case number to sealed contracts and
// logs the rest. It needs only the standard library; run it behind the
// bank's TLS and point hooks.*_url at it:
//
//	HOOK_SECRET=… hook-receiver -addr 127.0.0.1:9300
//	ESIGN_HOOKS_SECRET=… ESIGN_HOOKS_OFFER_CREATED_URL=http://127.0.0.1:9300/offer-created \
//	ESIGN_HOOKS_SIGNATURE_VERIFIED_URL=http://127.0.0.1:9300/signature-verified esign all
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9300", "listen address")
	flag.Parse()
	secret := []byte(os.Getenv("HOOK_SECRET"))
	if len(secret) < 32 {
		log.Fatal("HOOK_SECRET must have at least 32 characters (the same as esign's hooks.secret)")
	}
	mux := http.NewServeMux()
	mux.Handle("POST /offer-created", verified(secret, func(data json.RawMessage) any {
		var o struct {
			CustomerRef string `json:"customer_ref"`
			Title       string `json:"title"`
			Documents   []struct {
				Size int64 `json:"size"`
			} `json:"documents"`
		}
		json.Unmarshal(data, &o)
		if len(o.Documents) > 10 {
			return map[string]any{"veto": true, "reason": "more than 10 documents need a branch manager's approval"}
		}
		return map[string]any{"data": map[string]string{"checked_by": "hook-receiver"}}
	}))
	mux.Handle("POST /signature-verified", verified(secret, func(data json.RawMessage) any {
		var s struct {
			OfferID     string `json:"offer_id"`
			ExternalRef string `json:"external_ref"`
		}
		json.Unmarshal(data, &s)
		ref := s.ExternalRef
		if ref == "" {
			ref = s.OfferID
		}
		return map[string]any{"pdf_metadata": map[string]string{"BankCaseNumber": "CASE-" + strings.ToUpper(ref)}}
	}))
	for _, p := range []string{"/contract-sealed", "/offer-ended", "/customer-registered"} {
		mux.Handle("POST "+p, verified(secret, func(data json.RawMessage) any {
			log.Printf("%s: %s", p, data)
			return nil // an empty answer: go on unchanged
		}))
	}
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// verified checks X-Esign-Signature (v1= hex HMAC-SHA256 of timestamp "."
// body under the shared secret) and the timestamp's freshness before
// calling answer with the envelope's data; a nil answer is 204.
func verified(secret []byte, answer func(data json.RawMessage) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ts, err := strconv.ParseInt(r.Header.Get("X-Esign-Timestamp"), 10, 64)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
		mac.Write(body)
		want := "v1=" + hex.EncodeToString(mac.Sum(nil))
		if err != nil || !hmac.Equal([]byte(r.Header.Get("X-Esign-Signature")), []byte(want)) ||
			time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var env struct {
			ID   string          `json:"id"`
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		a := answer(env.Data)
		if a == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(a)
	})
}
