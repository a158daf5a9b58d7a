package cli

import (
	"encoding/base64"
	"net/http"

	"esign/internal/config"
	"esign/internal/envelope"
	"esign/internal/httpkit"
	"esign/internal/mobileapi"
	"esign/internal/signing"
)

// mobileAPI is the mobile-app REST API of oss, on the process's customer
// service (the one the css-facing RPC queues use too, so both share
// sessions and rate limits). Its M1 and M2 also take the combined forms
// (signing.OneShot: the server obtains TS1 and TS3 through the customer
// service's TSA client, under the app's /api/timestamp limit), and its
// signature status waits for the end of a seal (?wait=) on the ends the
// live feed's bus events announce.
func (a *app) mobileAPI() http.Handler {
	opts := []mobileapi.Option{mobileapi.WithSigning(signing.NewOneShot(a.signing, a.customers))}
	if a.endsHub != nil {
		opts = append(opts, mobileapi.WithStatusWait(a.endsHub)) // ?wait= on the signature status
	}
	return httpkit.Chain(mobileapi.New(a.customers, a.log, opts...), httpkit.LimitBody(a.cfg.HTTP.MaxBodyBytes))
}

// mobileCodeKey returns mobile.code_key, or a key derived from the envelope
// keyring's primary key, so that every replica with the same keys derives
// the same.
func mobileCodeKey(cfg config.Config, keys *envelope.Keyring) ([]byte, error) {
	if cfg.Mobile.CodeKey != "" {
		k, err := base64.StdEncoding.DecodeString(cfg.Mobile.CodeKey)
		if err != nil || len(k) < 32 {
			return nil, &config.FieldError{Key: "mobile.code_key", Reason: "must be base64 of at least 32 bytes"}
		}
		return k, nil
	}
	return keys.DeriveKey("esign/mobile/sms-code-hash/v1"), nil
}
