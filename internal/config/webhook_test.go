package config

import (
	"errors"
	"testing"
)

func TestWebhookValidate(t *testing.T) {
	const pw = "0123456789abcdef"
	tests := []struct {
		name string
		edit func(w *Webhook)
		key  string
	}{
		{"default", func(w *Webhook) {}, ""},
		{"enabled", func(w *Webhook) { w.OfferUpload = "bank:" + pw; w.CustomerApprove = "other:" + pw + "x" }, ""},
		{"no_colon", func(w *Webhook) { w.OfferRevoke = "bank" }, "webhook.offer_revoke"},
		{"empty_user", func(w *Webhook) { w.SignatureVerify = ":" + pw }, "webhook.signature_verify"},
		{"short_password", func(w *Webhook) { w.CustomerBootstrap = "bank:short" }, "webhook.customer_bootstrap"},
		{"body_zero", func(w *Webhook) { w.MaxBodyBytes = 0 }, "webhook.max_body_bytes"},
		{"auth_zero", func(w *Webhook) { w.AuthFailuresPerIPPer10m = 0 }, "webhook.auth_failures_per_ip_per_10min"},
		{"events_ok", func(w *Webhook) {
			w.EventURLs = "https://bank.example/hook http://127.0.0.1:9000/e"
			w.EventSecret = pw + pw
		}, ""},
		{"events_no_secret", func(w *Webhook) { w.EventURLs = "https://bank.example/hook" }, "webhook.event_secret"},
		{"events_bad_url", func(w *Webhook) { w.EventURLs = "ftp://bank.example/"; w.EventSecret = pw + pw }, "webhook.event_urls"},
		{"attempts_zero", func(w *Webhook) { w.EventMaxAttempts = 0 }, "webhook.event_max_attempts"},
		{"dev_inbox", func(w *Webhook) { w.DevInbox = "demo:" + pw }, ""},
		{"dev_inbox_short_password", func(w *Webhook) { w.DevInbox = "demo:short" }, "webhook.dev_inbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.fillDerived()
			tt.edit(&c.Webhook)
			err := c.Validate()
			fe, _ := err.(*FieldError)
			switch {
			case tt.key == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.key != "" && (fe == nil || fe.Key != tt.key):
				t.Fatalf("got %v, want an error for %s", err, tt.key)
			}
		})
	}
}

func TestWebhookEndpointCredentials(t *testing.T) {
	w := Webhook{OfferUpload: "bank:pa:ss"}
	eps := w.WebhookEndpoints()
	if len(eps) != 8 {
		t.Fatalf("%d endpoints", len(eps))
	}
	if u, p, ok := eps[0].Credentials(); !ok || u != "bank" || p != "pa:ss" {
		t.Fatalf("got %q %q %v", u, p, ok)
	}
	if _, _, ok := eps[1].Credentials(); ok {
		t.Fatal("an empty setting is enabled")
	}
}

// TestDevInboxNeedsInbox: GET /dev/inbox reads the development inbox, so
// it is refused once no channel goes there (a production sender setup).
func TestDevInboxNeedsInbox(t *testing.T) {
	const cred = "demo:0123456789abcdef"
	tests := []struct {
		name           string
		sms, mail, psh string
		ok             bool
	}{
		{"all_inbox", "inbox", "inbox", "inbox", true},
		{"sms_inbox", "inbox", "smtp", "fcm", true},
		{"no_inbox", "smsapi", "smtp", "fcm", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.fillDerived()
			c.Notify.SMS, c.Notify.Email, c.Notify.Push = tt.sms, tt.mail, tt.psh
			c.Notify.SmsAPIToken, c.Notify.SMTPHost, c.Notify.EmailFrom = "token", "smtp.example", "esign@bank.example"
			c.Notify.FCMServiceAccountFile = "sa.json"
			c.Webhook.DevInbox = cred
			err := c.Validate()
			var fe *FieldError
			switch {
			case tt.ok && err != nil:
				t.Fatalf("Validate() = %v", err)
			case !tt.ok && (!errors.As(err, &fe) || fe.Key != "webhook.dev_inbox"):
				t.Fatalf("Validate() = %v, want an error for webhook.dev_inbox", err)
			}
		})
	}
}
